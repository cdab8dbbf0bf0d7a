// The cleanup-blocking bundle as an operator gets it: installed by `svcctl install` (settings with --set,
// secrets from files and SVCCTL_SECRET_*), run through systemd, against a real password-protected Redis in
// the sandbox, and uninstalled with --purge leaving nothing. Covers claude-flow-novice's key layout (every
// idempotency shape, ids as whole fields, heartbeats gone by TTL), failures and their exit statuses,
// secrets kept off argv and out of the journal, and 70,000 keys within the time budget. The lifecycle
// fixture bundles (tick, failing, daemon) are installed by svcctl the same way at the end.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import fc from 'fast-check';
import { packageRoot } from '../../src/system/paths.js';
import { describeInSandbox, type RunResult, type Sandbox } from '../helpers/sandbox.js';

const bundle = 'cleanup-blocking';
const service = 'cleanup-blocking-coordination.service';
const timer = 'cleanup-blocking-coordination.timer';
const script = '/usr/local/bin/cleanup-blocking-coordination.sh';
const secretsFile = '/etc/svcctl/cleanup-blocking/secrets.env';
const logFile = '/home/claude-flow/.claude-flow/logs/blocking-cleanup.log';

// The test's own files: tmpfs, private to the sandbox. The Redis password and the secrets are in files
// that only root reads; svcctl gets them with --secret KEY=@FILE, never on a command line.
const work = '/run/cleanup-test';
const passwordFile = `${work}/redis.pass`;
const wrongPasswordFile = `${work}/wrong.pass`;
const coordinationSecretFile = `${work}/coordination.secret`;
// Non-default settings, so that a run which ignored them would fail the tests.
const redisPort = '6390';
const redisDb = '2';
const threshold = 900;

// Distinctive values, so that any leak is found by a plain text search; the password has what systemd's
// and Redis's parsers treat specially.
const redisPassword = `pw-${randomBytes(9).toString('hex')} $HOME %i "q" \\ 'x'`;
const wrongPassword = `wrong-${randomBytes(9).toString('hex')}`;
const coordinationSecret = randomBytes(32).toString('hex');
const everySecret = [redisPassword, wrongPassword, coordinationSecret];

async function ok(sandbox: Sandbox, shell: string, options: { input?: string } = {}): Promise<RunResult> {
  const result = await sandbox.sh(`set -e\n${shell}`, options);
  if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}: ${shell}\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function svcctl(sandbox: Sandbox, args: string[]): Promise<RunResult> {
  const result = await sandbox.svcctl(args);
  if (result.exitCode !== 0) throw new Error(`svcctl ${args.join(' ')}: exit ${result.exitCode}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** The test's redis-cli, as root, with the password from its file (through REDISCLI_AUTH, as the job does). */
async function redis(sandbox: Sandbox, args: string[], input?: string): Promise<string> {
  const result = await sandbox.run(['sh', '-c', `REDISCLI_AUTH="$(cat ${passwordFile})" exec redis-cli -p ${redisPort} -n ${redisDb} "$@"`, 'redis', ...args], input === undefined ? {} : { input });
  if (result.exitCode !== 0 || /^(ERR|WRONGPASS|NOAUTH|NOPERM)/m.test(result.stdout)) throw new Error(`redis-cli ${args.join(' ')}: ${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** Redis's wire protocol for commands, for redis-cli --pipe: 70,000 keys load in a second or two. */
function resp(commands: string[][]): string {
  return commands.map((words) => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`).join('');
}

async function seed(sandbox: Sandbox, keys: Record<string, string>, more: string[][] = []): Promise<void> {
  await redis(sandbox, ['FLUSHDB']);
  const commands = [...Object.entries(keys).map(([key, value]) => ['SET', key, value]), ...more];
  const reply = await redis(sandbox, ['--pipe'], resp(commands));
  expect(reply).toContain(`errors: 0, replies: ${commands.length}`);
}

async function allKeys(sandbox: Sandbox): Promise<string[]> {
  return (await redis(sandbox, ['--scan'])).split('\n').filter(Boolean).sort();
}

interface ServiceRun {
  exitCode: number;
  /** This run's lines in the journal (by its invocation id), as `svcctl run` shows them. */
  output: string[];
  /** The job's own time: ExecMainStartTimestampMonotonic to ExecMainExitTimestampMonotonic. */
  durationMs: number;
  invocationId: string;
}

/**
 * `svcctl run cleanup-blocking`: systemctl start, this run's journal, the service's exit status. reset-failed
 * first: the tests start the service more often than systemd's start rate limit (5 in 10 s) allows.
 */
async function runService(sandbox: Sandbox): Promise<ServiceRun> {
  await sandbox.run(['systemctl', 'reset-failed', service]);
  const result = await sandbox.svcctl(['run', bundle, '--json']);
  const document = JSON.parse(result.stdout) as { exitCode: number; output: string[]; invocationId: string; run: { durationMs: number } };
  expect(document.exitCode).toBe(result.exitCode);
  return { exitCode: result.exitCode, output: document.output, durationMs: document.run.durationMs, invocationId: document.invocationId };
}

const summaryOf = (run: ServiceRun) => run.output.find((line) => /^cleanup (finished|stopped)/.test(line)) ?? `(no summary in: ${run.output.join(' | ')})`;

// ---- the Redis data: what a deployment of claude-flow-novice's coordinators leaves behind ----

const json = (id: string, ms: number) => JSON.stringify({ coordinatorId: id, timestamp: ms, status: 'waiting', pid: 4242 });
// HeartbeatWarningSystem's heartbeat record: lastHeartbeat, no timestamp.
const warningSystemJson = (id: string, ms: number) => JSON.stringify({ coordinatorId: id, lastHeartbeat: ms, sequence: 7, iteration: 2 });

/** A coordinator's heartbeat, signal, two ACKs and activity record, as the coordinators write them. */
function coordinator(id: string, heartbeat: string): Record<string, string> {
  return {
    [`blocking:heartbeat:${id}`]: heartbeat,
    [`blocking:signal:${id}`]: '{"signal":"pending"}',
    [`blocking:ack:${id}:agent-1`]: '{"ack":true}',
    [`blocking:ack:${id}:agent-2`]: '{"ack":true}',
    [`coordinator:activity:${id}`]: '{"activity":"waiting"}',
  };
}

/** The mixed deployment most tests run against: what a run must delete, and what it must keep. */
function deployment(nowMs: number): { stale: Record<string, string>; kept: Record<string, string> } {
  const ago = (seconds: number) => nowMs - seconds * 1000;
  const agoSeconds = (seconds: number) => String(Math.floor(ago(seconds) / 1000));
  const stale = {
    // an hour old, JSON with a millisecond timestamp, with every idempotency shape claude-flow-novice writes:
    // BlockingCoordinationSignals' message ids (sender:receiver:type:iteration:ms) and its tests' op1:<id>
    ...coordinator('stale-json', json('stale-json', ago(3600))),
    [`blocking:idempotency:stale-json:live-json:completion:1:${ago(3600)}`]: '1',
    [`blocking:idempotency:live-json:stale-json:retry_request:2:${ago(3500)}`]: '1',
    'blocking:idempotency:op1:stale-json': '1',
    'blocking:idempotency:stale-json:op1': '1',
    'blocking:idempotency:op1:stale-json:op2': '1',
    // past the threshold, a bare unix time in seconds
    ...coordinator('stale.secs_1', agoSeconds(threshold + 100)),
    // HeartbeatWarningSystem's record: a signal and one ACK, no activity key
    'blocking:heartbeat:hws-stale': warningSystemJson('hws-stale', ago(1200)),
    'blocking:signal:hws-stale': '{"signal":"pending"}',
    'blocking:ack:hws-stale:signal-9': '{"ack":true}',
    // "c-1" is stale, "c-10" is not: an id is a whole field, never a prefix
    ...coordinator('c-1', json('c-1', ago(1800))),
    [`blocking:idempotency:c-1:c-10:completion:1:${ago(1800)}`]: '1',
    // a coordinator named by a number
    ...coordinator('3', json('3', ago(2000))),
  };
  const kept = {
    ...coordinator('live-json', json('live-json', ago(5))),
    ...coordinator('c-10', json('c-10', ago(30))),
    // "3" here is an iteration, not a coordinator: a message id names coordinators in its first two fields only
    [`blocking:idempotency:c-10:live-json:completion:3:${ago(30)}`]: '1',
    'blocking:idempotency:op1:c-10': '1',
    'blocking:idempotency:c-10:op1': '1',
    // "c-1" inside a field, and as the signal id of c-10's ACK: neither is c-1's
    'blocking:idempotency:msg-c-1-abc': '1',
    'blocking:ack:c-10:c-1': '{"ack":true}',
    // stale at the default threshold (600 s), not at the one installed (900 s)
    'blocking:heartbeat:recent-secs': agoSeconds(800),
    'blocking:heartbeat:hws-live': warningSystemJson('hws-live', ago(60)),
    // undatable heartbeats are left alone: no timestamp, a counter, a timestamp as text
    'blocking:heartbeat:no-timestamp': '{"seq":1}',
    'blocking:signal:no-timestamp': '{"signal":"pending"}',
    'blocking:heartbeat:counter': '42',
    'blocking:heartbeat:iso-text': '{"timestamp":"2020-01-01T00:00:00Z"}',
    // an id with a glob character is skipped, however old
    'blocking:heartbeat:bad*id': agoSeconds(86400),
    // state without a heartbeat, and keys of other applications
    'blocking:signal:orphan': '{"signal":"pending"}',
    'blocking:ack:orphan:s1': '{"ack":true}',
    'blocking:idempotency:orphan:op1': '1',
    'session:42': 'unrelated',
    'blocking:heartbeats-total': '17',
  };
  return { stale, kept };
}

// A heartbeat of another Redis type: kept, with a warning.
const hashHeartbeat = (nowMs: number) => [['HSET', 'blocking:heartbeat:hash-typed', 'timestamp', String(nowMs - 86400_000)]];

async function seedDeployment(sandbox: Sandbox): Promise<{ stale: string[]; kept: string[]; all: string[] }> {
  const nowMs = Date.now();
  const { stale, kept } = deployment(nowMs);
  await seed(sandbox, { ...stale, ...kept }, hashHeartbeat(nowMs));
  const keptKeys = [...Object.keys(kept), 'blocking:heartbeat:hash-typed'].sort();
  return { stale: Object.keys(stale).sort(), kept: keptKeys, all: [...Object.keys(stale), ...keptKeys].sort() };
}

// 13 checked: 5 stale (stale-json, stale.secs_1, hws-stale, c-1, 3), 4 active (live-json, c-10, recent-secs,
// hws-live), 4 undated (no-timestamp, counter, iso-text, hash-typed); bad*id skipped. 29 keys deleted.
const deploymentSummary = `13 coordinators checked, 5 stale (deleted), 4 active, 4 undated, 1 skipped; 29 keys deleted (heartbeats 5, signals 5, activity 4, ACKs 9, idempotency 6)`;

describeInSandbox('cleanup-blocking installed by svcctl, run through systemd against a real Redis', (sandbox) => {
  beforeAll(async () => {
    await sandbox.run(['sh', '-c', `umask 077 && mkdir -p ${work} && cat > ${passwordFile}`], { input: redisPassword });
    await sandbox.run(['sh', '-c', `umask 077 && cat > ${wrongPasswordFile}`], { input: `${wrongPassword}\n` });
    await sandbox.run(['sh', '-c', `umask 077 && cat > ${coordinationSecretFile}`], { input: `${coordinationSecret}\n` });
    await ok(
      sandbox,
      [
        'umask 077',
        // requirepass in double quotes, with the quote and backslash characters escaped for Redis's parser
        `printf 'port ${redisPort}\\nbind 127.0.0.1\\nsave ""\\nappendonly no\\ndir ${work}\\nrequirepass "%s"\\n' "$(sed 's/["\\\\]/\\\\&/g' ${passwordFile})" > ${work}/redis.conf`,
        `systemd-run --quiet --unit=cleanup-test-redis /usr/bin/redis-server ${work}/redis.conf`,
        `for i in $(seq 100); do redis-cli -p ${redisPort} PING 2>/dev/null | grep -q NOAUTH && break; sleep 0.1; done`,
      ].join('\n'),
    );
    expect((await redis(sandbox, ['PING'])).trim()).toBe('PONG');
  }, 60_000);

  test('install with --set and --secret @FILE: verified units, an enabled timer whose first run is about 5 minutes out', async () => {
    const install = await svcctl(sandbox, [
      'install', bundle, '--yes',
      '--set', `REDIS_PORT=${redisPort}`, '--set', `REDIS_DB=${redisDb}`, '--set', `STALE_THRESHOLD_SECONDS=${threshold}`,
      '--secret', `BLOCKING_COORDINATION_SECRET=@${coordinationSecretFile}`,
    ]);
    for (const secret of everySecret) expect(install.stdout + install.stderr).not.toContain(secret);
    const verify = await sandbox.run(['systemd-analyze', 'verify', `/etc/systemd/system/${service}`, `/etc/systemd/system/${timer}`]);
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
    expect((await sandbox.run(['systemctl', 'is-enabled', timer])).stdout.trim()).toBe('enabled');
    const timers = JSON.parse((await sandbox.run(['systemctl', 'list-timers', '--all', '-o', 'json', timer])).stdout) as { next: number }[];
    const nowUs = Number((await sandbox.run(['date', '+%s%6N'])).stdout.trim());
    expect(timers).toHaveLength(1);
    const leftSeconds = (timers[0]!.next - nowUs) / 1e6;
    expect(leftSeconds).toBeGreaterThan(4 * 60);
    expect(leftSeconds).toBeLessThan(5 * 60 + 30);
    // The sandboxing every run below works under: no W^X memory, a system-call allow-list, a read-only system.
    const hardening = (await sandbox.run(['systemctl', 'show', service, '-p', 'MemoryDenyWriteExecute', '-p', 'NoNewPrivileges', '-p', 'ProtectSystem', '-p', 'SystemCallFilter', '-p', 'RestrictAddressFamilies'])).stdout;
    expect(hardening).toMatch(/^MemoryDenyWriteExecute=yes$/m);
    expect(hardening).toMatch(/^NoNewPrivileges=yes$/m);
    expect(hardening).toMatch(/^ProtectSystem=strict$/m);
    expect(hardening).toMatch(/^SystemCallFilter=\S+ \S+/m);
    expect(hardening).toMatch(/^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$/m);
    const files = await ok(sandbox, `stat -c '%n %U %a' ${script} ${secretsFile} /etc/systemd/system/${service}.d/override.conf`);
    expect(files.stdout.trim().split('\n')).toEqual([`${script} root 755`, `${secretsFile} root 600`, `/etc/systemd/system/${service}.d/override.conf root 600`]);
    // Parked for the length of these tests, so that the timer never runs the job in the middle of one.
    await svcctl(sandbox, ['schedule', bundle, '1h']);
  });

  test('without REDIS_PASSWORD, against a Redis that requires one, the run fails with status 2 and names the secret to set', async () => {
    const run = await runService(sandbox);
    expect(run.exitCode).toBe(2);
    expect(run.output).toContain('error: Redis at 127.0.0.1:6390 requires a password and REDIS_PASSWORD is not set: set it with `svcctl secret set cleanup-blocking REDIS_PASSWORD`');
  });

  test('a wrong REDIS_PASSWORD (svcctl secret set --from-file) fails the run with status 2, and the message does not hold it', async () => {
    await svcctl(sandbox, ['secret', 'set', bundle, 'REDIS_PASSWORD', '--from-file', wrongPasswordFile]);
    const run = await runService(sandbox);
    expect(run.exitCode).toBe(2);
    expect(run.output.join('\n')).toContain('error: authentication to Redis at 127.0.0.1:6390 failed: REDIS_PASSWORD is wrong');
    expect(run.output.join('\n')).not.toContain(wrongPassword);
  });

  test('with the password from SVCCTL_SECRET_REDIS_PASSWORD, a run deletes the stale coordinators and every companion, and keeps the rest', async () => {
    // The value goes from its file into the environment inside a shell: never on a command line.
    await ok(sandbox, `SVCCTL_SECRET_REDIS_PASSWORD="$(cat ${passwordFile})" svcctl install ${bundle} --yes`);
    const data = await seedDeployment(sandbox);
    expect(await allKeys(sandbox)).toEqual(data.all);

    const run = await runService(sandbox);
    expect(run.exitCode).toBe(0);
    expect(await allKeys(sandbox)).toEqual(data.kept);

    expect(run.output[0]).toBe(`cleanup started: Redis 127.0.0.1:${redisPort} database ${redisDb}, stale after ${threshold}s`);
    expect(run.output).toContainEqual(expect.stringMatching(/^deleted stale coordinator stale-json \(heartbeat 36\d\ds old > 900s\): blocking:heartbeat:stale-json blocking:signal:stale-json coordinator:activity:stale-json$/));
    expect(run.output).toContainEqual(expect.stringMatching(/^deleted stale coordinator hws-stale \(heartbeat 12\d\ds old > 900s\): blocking:heartbeat:hws-stale blocking:signal:hws-stale$/));
    expect(run.output).toContainEqual(expect.stringMatching(/^deleted stale coordinator c-1 \(heartbeat 18\d\ds old > 900s\): /));
    expect(run.output).toContain('warning: skipped blocking:heartbeat:bad*id: coordinator id is not made of letters, digits, _ . -');
    expect(run.output).toContain('warning: kept coordinator hash-typed: its heartbeat is a Redis hash, not a string holding a time');
    expect(run.output).toContainEqual(expect.stringMatching(/^warning: kept coordinator counter: its heartbeat holds no unix time/));
    expect(summaryOf(run)).toMatch(new RegExp(`^cleanup finished: ${deploymentSummary.replace(/[()]/g, '\\$&')}; run \\d+\\.\\d ms, Redis busy \\d+\\.\\d ms in \\d+ scripts, the longest \\d+\\.\\d ms$`));

    // warnings carry the journal priority "warning", the rest "info"
    const warnings = (await sandbox.run(['journalctl', `_SYSTEMD_INVOCATION_ID=${run.invocationId}`, '-p', 'warning', '-o', 'cat', '--no-pager'])).stdout;
    expect(warnings).toContain('skipped blocking:heartbeat:bad*id');
    expect(warnings).not.toContain('deleted stale coordinator');

    // and the log file of the guide, written by the service user through ReadWritePaths=
    const log = await ok(sandbox, `stat -c '%U %a' ${logFile} && cat ${logFile}`);
    expect(log.stdout).toMatch(/^claude-flow 640\n/);
    expect(log.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ info deleted stale coordinator c-1 /m);
  });

  test('a second run finds nothing stale and deletes nothing', async () => {
    const before = await allKeys(sandbox);
    const run = await runService(sandbox);
    expect(run.exitCode).toBe(0);
    expect(await allKeys(sandbox)).toEqual(before);
    expect(summaryOf(run)).toContain('cleanup finished: 8 coordinators checked, 0 stale (deleted), 4 active, 4 undated, 1 skipped; 0 keys deleted');
  });

  test('every idempotency shape goes with its stale coordinator: <id>:<x>, <x>:<id>, <x>:<id>:<y> and message ids, as sender or receiver', async () => {
    const nowMs = Date.now();
    const old = String(nowMs - 7200_000);
    const shapes = (id: string, peer: string) => [
      `blocking:idempotency:${id}:op1`,
      `blocking:idempotency:op1:${id}`,
      `blocking:idempotency:op1:${id}:op2`,
      `blocking:idempotency:op1:op2:op3:${id}`,
      `blocking:idempotency:${id}:${peer}:completion:4:${old}`,
      `blocking:idempotency:${peer}:${id}:status_update:0:${old}`,
    ];
    const staleKeys = ['blocking:heartbeat:old-coord', ...shapes('old-coord', 'old-peer')];
    const liveKeys = ['blocking:heartbeat:new-coord', ...shapes('new-coord', 'new-peer'), 'blocking:idempotency:op1:old-coord-2', 'blocking:idempotency:old-coord.x:op1'];
    await seed(sandbox, {
      ...Object.fromEntries(staleKeys.map((key) => [key, '1'])),
      ...Object.fromEntries(liveKeys.map((key) => [key, '1'])),
      'blocking:heartbeat:old-coord': json('old-coord', nowMs - 7200_000),
      'blocking:heartbeat:new-coord': json('new-coord', nowMs),
    });
    const run = await runService(sandbox);
    expect(run.exitCode).toBe(0);
    expect(await allKeys(sandbox)).toEqual([...liveKeys].sort());
    expect(summaryOf(run)).toContain('2 coordinators checked, 1 stale (deleted), 1 active, 0 undated, 0 skipped; 7 keys deleted (heartbeats 1, signals 0, activity 0, ACKs 0, idempotency 6)');
  });

  test('ids are whole fields: for arbitrary ids, cleaning a stale one never touches a live one that contains it or that it contains', async () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/);
    // A stale and a live id, one inside the other (c-1 and c-10, x.1 and 2x.1y, ...), which of the two is longer at random.
    const pair = fc.tuple(id, fc.stringMatching(/^[A-Za-z0-9_.-]{0,3}$/), fc.stringMatching(/^[A-Za-z0-9_.-]{0,3}$/), fc.boolean()).filter(([, before, after]) => before.length + after.length > 0);
    await fc.assert(
      fc.asyncProperty(fc.array(pair, { minLength: 1, maxLength: 12 }), async (pairs) => {
        const staleIds = new Set<string>();
        const liveIds = new Set<string>();
        for (const [base, before, after, staleIsShort] of pairs) {
          const long = `${before}${base}${after}`;
          staleIds.add(staleIsShort ? base : long);
          liveIds.add(staleIsShort ? long : base);
        }
        for (const both of [...staleIds].filter((x) => liveIds.has(x))) {
          staleIds.delete(both);
          liveIds.delete(both);
        }
        const nowMs = Date.now();
        // "op~1" has a character no id has: a field that is never a coordinator.
        const keysOf = (coordinatorId: string, peer: string, heartbeatMs: number) => ({
          ...coordinator(coordinatorId, json(coordinatorId, heartbeatMs)),
          [`blocking:idempotency:${coordinatorId}:op~1`]: '1',
          [`blocking:idempotency:op~1:${coordinatorId}`]: '1',
          [`blocking:idempotency:op~1:${coordinatorId}:op~2`]: '1',
          [`blocking:idempotency:${coordinatorId}:${peer}:completion:1:${heartbeatMs}`]: '1',
        });
        const group = (ids: Set<string>, heartbeatMs: number) => {
          const list = [...ids];
          return Object.assign({}, ...list.map((x, i) => keysOf(x, list[(i + 1) % list.length]!, heartbeatMs))) as Record<string, string>;
        };
        const live = group(liveIds, nowMs - 10_000);
        await seed(sandbox, { ...group(staleIds, nowMs - 3600_000), ...live });
        const run = await runService(sandbox);
        expect(run.exitCode).toBe(0);
        expect(await allKeys(sandbox)).toEqual(Object.keys(live).sort());
      }),
      // Each case is a real run through systemd: a few, and the first counterexample reported as it is.
      { numRuns: 5, endOnFailure: true },
    );
  }, 300_000);

  test('a coordinator whose heartbeat expired through its TTL keeps its companions: they are left to their own TTLs', async () => {
    const nowMs = Date.now();
    await seed(
      sandbox,
      { ...coordinator('ttl-stale', json('ttl-stale', nowMs - 3600_000)) },
      [
        // claude-flow-novice writes its keys with SETEX; this heartbeat is about to expire
        ['SET', 'blocking:heartbeat:ttl-gone', json('ttl-gone', nowMs), 'PX', '1500'],
        ['SET', 'blocking:signal:ttl-gone', '{"signal":"pending"}', 'EX', '86400'],
        ['SET', 'blocking:ack:ttl-gone:agent-1', '{"ack":true}', 'EX', '3600'],
        ['SET', 'blocking:idempotency:op1:ttl-gone', '1', 'EX', '86400'],
        // and one written without a TTL: kept too, as upstream's own cleanups keep it
        ['SET', 'coordinator:activity:ttl-gone', '{"activity":"waiting"}'],
      ],
    );
    for (let i = 0; i < 300 && (await redis(sandbox, ['EXISTS', 'blocking:heartbeat:ttl-gone'])).trim() !== '0'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await redis(sandbox, ['EXISTS', 'blocking:heartbeat:ttl-gone'])).trim()).toBe('0');

    const run = await runService(sandbox);
    expect(run.exitCode).toBe(0);
    expect(summaryOf(run)).toContain('cleanup finished: 1 coordinators checked, 1 stale (deleted), 0 active, 0 undated, 0 skipped; 5 keys deleted');
    const companions = ['blocking:ack:ttl-gone:agent-1', 'blocking:idempotency:op1:ttl-gone', 'blocking:signal:ttl-gone', 'coordinator:activity:ttl-gone'];
    expect(await allKeys(sandbox)).toEqual(companions);
    const ttls = await Promise.all(companions.map(async (key) => Number((await redis(sandbox, ['TTL', key])).trim())));
    expect(ttls.slice(0, 3).every((ttl) => ttl > 3000)).toBe(true);
    expect(ttls[3]).toBe(-1);
  });

  test('--dry-run, run the way docs/cleanup-blocking.md says, lists every key it would delete and deletes nothing', async () => {
    const data = await seedDeployment(sandbox);
    const run = await sandbox.run([
      'systemd-run', '--wait', '--pipe', '--collect', '--quiet',
      '-p', 'User=claude-flow', '-p', `EnvironmentFile=${secretsFile}`,
      '-E', `STALE_THRESHOLD_SECONDS=${threshold}`, '-E', 'REDIS_HOST=127.0.0.1', '-E', `REDIS_PORT=${redisPort}`, '-E', `REDIS_DB=${redisDb}`,
      script, '--dry-run',
    ]);
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(`cleanup started (dry run: nothing will be deleted): Redis 127.0.0.1:${redisPort} database ${redisDb}, stale after ${threshold}s`);
    // every key to delete is named once: the companions one by one, each heartbeat with its signal and activity
    const named = lines.flatMap((line) => {
      const companion = /^would delete (\S+) \(with stale coordinator \S+\)$/.exec(line);
      if (companion) return [companion[1]!];
      const heartbeat = /^would delete stale coordinator \S+ \(heartbeat \d+s old > 900s\): (.*)$/.exec(line);
      return heartbeat ? heartbeat[1]!.split(' ') : [];
    });
    expect(named.sort()).toEqual(data.stale);
    expect(lines).toContain('would delete blocking:idempotency:op1:stale-json (with stale coordinator stale-json)');
    expect(lines.at(-1)).toMatch(new RegExp(`^cleanup finished \\(dry run: nothing will be deleted\\): ${deploymentSummary.replace('(deleted)', '(would delete)').replace('keys deleted', 'keys to delete').replace(/[()]/g, '\\$&')};`));
    expect(await allKeys(sandbox)).toEqual(data.all);
  });

  test('redis-cli never gets the password on its command line, nor the secrets in its environment, and no script on argv', async () => {
    const data = await seedDeployment(sandbox);
    const dropIn = `/etc/systemd/system/${service}.d/zz-argv-spy.conf`;
    await ok(
      sandbox,
      [
        'install -d -m 0755 /run/argv-spy',
        'install -m 0640 -o claude-flow -g claude-flow /dev/null /run/argv-spy/calls.log',
        // a redis-cli in front of the real one: records its argv and which secrets its environment holds
        `cat > /run/argv-spy/redis-cli <<'EOF'
#!/bin/sh
printf 'argv: %s\\n' "$*" >> /run/argv-spy/calls.log
[ -n "\${REDISCLI_AUTH:-}" ] && echo 'env: REDISCLI_AUTH set' >> /run/argv-spy/calls.log
env | grep -q '^BLOCKING_COORDINATION_SECRET=' && echo 'env: BLOCKING_COORDINATION_SECRET set' >> /run/argv-spy/calls.log
env | grep -q '^REDIS_PASSWORD=' && echo 'env: REDIS_PASSWORD set' >> /run/argv-spy/calls.log
exec /usr/bin/redis-cli "$@"
EOF`,
        'chmod 0755 /run/argv-spy/redis-cli',
        // the installed service, with the spy first on its PATH
        `printf '[Service]\\nEnvironment=PATH=/run/argv-spy:/usr/local/bin:/usr/bin:/bin\\nReadWritePaths=/run/argv-spy\\n' > ${dropIn}`,
        'systemctl daemon-reload',
      ].join('\n'),
    );
    try {
      const run = await runService(sandbox);
      expect(run.exitCode).toBe(0);
      expect(await allKeys(sandbox)).toEqual(data.kept);
      const calls = (await sandbox.run(['cat', '/run/argv-spy/calls.log'])).stdout;
      const argvLines = calls.split('\n').filter((line) => line.startsWith('argv: '));
      // one PING, then one redis-cli session that gets every script on its stdin
      expect(argvLines).toEqual([`argv: -h 127.0.0.1 -p ${redisPort} -n ${redisDb} PING`, `argv: -h 127.0.0.1 -p ${redisPort} -n ${redisDb}`]);
      expect(calls.match(/env: REDISCLI_AUTH set/g)).toHaveLength(2);
      expect(calls).not.toContain('BLOCKING_COORDINATION_SECRET set');
      expect(calls).not.toContain('REDIS_PASSWORD set');
      for (const secret of everySecret) expect(calls).not.toContain(secret);
    } finally {
      await ok(sandbox, `rm -f ${dropIn} && systemctl daemon-reload && rm -r /run/argv-spy`);
    }
  });

  test('a secrets file that lost BLOCKING_COORDINATION_SECRET stops the run before it touches Redis, with status 78', async () => {
    const data = await seedDeployment(sandbox);
    await ok(sandbox, `sed -i '/^BLOCKING_COORDINATION_SECRET=/d' ${secretsFile}`);
    const run = await runService(sandbox);
    expect(run.exitCode).toBe(78);
    expect(run.output).toContainEqual(expect.stringMatching(/^error: BLOCKING_COORDINATION_SECRET is not set: /));
    expect(await allKeys(sandbox)).toEqual(data.all);
    await svcctl(sandbox, ['secret', 'set', bundle, 'BLOCKING_COORDINATION_SECRET', '--from-file', coordinationSecretFile]);
    expect((await runService(sandbox)).exitCode).toBe(0);
    expect(await allKeys(sandbox)).toEqual(data.kept);
  });

  test('a Redis that refuses scripts (an ACL without EVAL) fails the run with status 1, naming why, with nothing deleted', async () => {
    const data = await seedDeployment(sandbox);
    await redis(sandbox, ['ACL', 'SETUSER', 'default', '-eval']);
    try {
      const run = await runService(sandbox);
      expect(run.exitCode).toBe(1);
      expect(run.output).toContainEqual(expect.stringMatching(/^error: Redis at 127\.0\.0\.1:6390 failed a script while deleting ACK and idempotency keys \(no heartbeat deleted yet; the next run carries on\): NOPERM /));
      expect(summaryOf(run)).toMatch(/^cleanup stopped: 0 coordinators checked, .* 0 keys deleted/);
    } finally {
      await redis(sandbox, ['ACL', 'SETUSER', 'default', '+@all']);
    }
    expect(await allKeys(sandbox)).toEqual(data.all);
  });

  test('with Redis stopped the run fails with status 2 and says it cannot reach Redis', async () => {
    await ok(sandbox, 'systemctl stop cleanup-test-redis');
    try {
      const run = await runService(sandbox);
      expect(run.exitCode).toBe(2);
      expect(run.output).toContain(`error: cannot reach Redis at 127.0.0.1:${redisPort} (database ${redisDb}): Could not connect to Redis at 127.0.0.1:${redisPort}: Connection refused`);
    } finally {
      await ok(
        sandbox,
        `systemctl reset-failed cleanup-test-redis 2>/dev/null || true; systemd-run --quiet --unit=cleanup-test-redis /usr/bin/redis-server ${work}/redis.conf
for i in $(seq 100); do redis-cli -p ${redisPort} PING 2>/dev/null | grep -q NOAUTH && break; sleep 0.1; done`,
      );
    }
  });

  test('invalid settings are refused by svcctl before anything changes, and by the installed script itself', async () => {
    const override = `/etc/systemd/system/${service}.d/override.conf`;
    const before = (await sandbox.run(['cat', override])).stdout;
    for (const setting of ['REDIS_PORT=70000', 'STALE_THRESHOLD_SECONDS=10m', 'REDIS_HOST=-a secret']) {
      const install = await sandbox.svcctl(['install', bundle, '--yes', '--set', setting]);
      expect(install.exitCode).toBe(2);
      expect(install.stderr).toContain(setting.split('=')[0]);
    }
    expect((await sandbox.run(['cat', override])).stdout).toBe(before);

    // The installed script, run by hand (no systemd): its own checks, for a drop-in that bypassed svcctl.
    const direct = (environment: string, ...args: string[]) =>
      sandbox.run(['sh', '-c', `BLOCKING_COORDINATION_SECRET="$(cat ${coordinationSecretFile})" ${environment} exec ${script} "$@"`, 'cleanup', ...args]);
    const threshold10m = await direct('STALE_THRESHOLD_SECONDS=10m');
    expect(threshold10m.exitCode).toBe(78);
    expect(threshold10m.stderr).toContain('invalid STALE_THRESHOLD_SECONDS="10m": must be a whole number of seconds');
    const port = await direct('REDIS_PORT=70000');
    expect(port.exitCode).toBe(78);
    expect(port.stderr).toContain('invalid REDIS_PORT="70000"');
    const host = await direct("REDIS_HOST='-a secret'");
    expect(host.exitCode).toBe(78);
    const shortSecret = await sandbox.run(['sh', '-c', `BLOCKING_COORDINATION_SECRET=abc exec ${script}`]);
    expect(shortSecret.exitCode).toBe(78);
    expect(shortSecret.stderr).toContain('BLOCKING_COORDINATION_SECRET is too short (3 characters, at least 32)');
    const usage = await direct('', '--bogus');
    expect(usage.exitCode).toBe(64);
    expect(usage.stderr).toContain('unknown argument: --bogus');
    const help = await direct('', '--help');
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: cleanup-blocking-coordination.sh [--dry-run] [--help]');
  });

  test('started by its timer (svcctl schedule 2s), the service runs and cleans up', async () => {
    const data = await seedDeployment(sandbox);
    await sandbox.run(['systemctl', 'reset-failed', service]);
    await svcctl(sandbox, ['schedule', bundle, '2s']);
    try {
      // The timer's AccuracySec=10s and RandomizedDelaySec=15s apply: allow for both, and a loaded machine.
      let keys: string[] = [];
      for (let i = 0; i < 900; i++) {
        keys = await allKeys(sandbox);
        if (keys.length === data.kept.length) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(keys).toEqual(data.kept);
      const last = JSON.parse((await sandbox.run(['systemctl', 'list-timers', '--all', '-o', 'json', timer])).stdout) as { last: number }[];
      expect(last[0]!.last).toBeGreaterThan(0);
    } finally {
      await svcctl(sandbox, ['schedule', bundle, '1h']);
      // A run the timer started just before must not overlap the next test's data.
      for (let i = 0; i < 300 && ['activating', 'deactivating'].includes((await sandbox.run(['systemctl', 'is-active', service])).stdout.trim()); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }, 120_000);

  test('10,000 coordinators (9,900 stale, 100 live, 70,000 keys) are cleaned in one run within the time budget', async () => {
    const nowMs = Date.now();
    const keys: Record<string, string> = {};
    const liveKeys: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const live = i < 100;
      const id = live ? `live-${i}` : `stale-${i}`;
      const peer = live ? `live-${(i + 1) % 100}` : `stale-${i === 9_999 ? 100 : i + 1}`;
      const heartbeatMs = live ? nowMs - 5_000 : nowMs - 3600_000;
      const own = {
        ...coordinator(id, json(id, heartbeatMs)),
        [`blocking:idempotency:${peer}:${id}:completion:1:${heartbeatMs}`]: '1',
        [`blocking:idempotency:op1:${id}`]: '1',
      };
      Object.assign(keys, own);
      if (live) liveKeys.push(...Object.keys(own));
    }
    expect(Object.keys(keys)).toHaveLength(70_000);
    await seed(sandbox, keys);

    const run = await runService(sandbox);
    expect(run.exitCode).toBe(0);
    expect(await allKeys(sandbox)).toEqual(liveKeys.sort());
    expect(summaryOf(run)).toContain(
      'cleanup finished: 10000 coordinators checked, 9900 stale (deleted), 100 active, 0 undated, 0 skipped; 69300 keys deleted (heartbeats 9900, signals 9900, activity 9900, ACKs 19800, idempotency 19800)',
    );
    // 100 coordinators named, one line for the other 9,800: journald's rate limit is never in reach
    expect(run.output.filter((line) => line.startsWith('deleted stale coordinator '))).toHaveLength(100);
    expect(run.output).toContain('9800 more stale coordinators deleted, not named one by one (the first 100 are above)');
    expect(run.output.length).toBeLessThan(110);
    // The target is 1 s of job time, which `npm run bench` measures (median of several runs): this loaded,
    // shared CI machine gets a looser bound, still a quarter of the 11 s the previous script took.
    expect(run.durationMs).toBeLessThan(3000);
  }, 120_000);

  test('no secret value is in the journal, the log file, the receipt, or what systemctl show tells every user', async () => {
    const everything = (await sandbox.run(['journalctl', '-o', 'verbose', '--no-pager'])).stdout;
    expect(everything).toContain('cleanup finished');
    const log = (await sandbox.run(['cat', logFile])).stdout;
    const receipt = (await sandbox.run(['cat', '/var/lib/svcctl/cleanup-blocking.json'])).stdout;
    const show = (await sandbox.run(['systemctl', 'show', service])).stdout;
    expect(show).toContain(`EnvironmentFiles=${secretsFile}`);
    for (const secret of everySecret) {
      for (const text of [everything, log, receipt, show]) expect(text).not.toContain(secret);
    }
  });

  test('uninstall --purge leaves nothing behind', async () => {
    await svcctl(sandbox, ['uninstall', bundle, '--purge', '--yes']);
    await ok(sandbox, `systemctl stop cleanup-test-redis; systemctl reset-failed cleanup-test-redis 2>/dev/null || true; rm -rf ${work}`);
    expect(await sandbox.changes()).toEqual([]);
  });
});

describeInSandbox('lifecycle fixture bundles installed by svcctl: valid units that behave as their manifests say', (sandbox) => {
  const fixture = (name: string) => path.join(packageRoot, 'test', 'fixtures', 'lifecycle', name);
  const token = randomBytes(32).toString('hex');
  const tokenFile = '/run/fixture-test/tick.token';

  beforeAll(async () => {
    await sandbox.run(['sh', '-c', `umask 077 && mkdir -p /run/fixture-test && cat > ${tokenFile}`], { input: token });
    await ok(sandbox, 'install -d -m 0755 /srv/other-root && echo other-root-ok > /srv/other-root/index.html');
    await svcctl(sandbox, ['install', fixture('failing'), '--yes']);
    await svcctl(sandbox, ['install', fixture('daemon'), '--yes', '--set', 'DAEMON_ROOT=/srv/other-root']);
    // Last: a daemon-reload (each install does one) resets systemd's start rate limit, which the tick test counts on.
    await svcctl(sandbox, ['install', fixture('tick'), '--yes', '--set', 'TICK_MESSAGE=hello there', '--secret', `TICK_TOKEN=@${tokenFile}`]);
  }, 60_000);

  test('every installed unit passes systemd-analyze verify without a single warning', async () => {
    const units = ['tick.service', 'tick.timer', 'failing.service', 'failing.timer', 'daemon.service'].map((u) => `/etc/systemd/system/${u}`);
    const verify = await sandbox.run(['systemd-analyze', 'verify', ...units]);
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
  });

  test("tick: the timer fires every second, past systemd's start rate limit, and the service prints its setting and only a fingerprint of its token", async () => {
    const ticks = async () =>
      (await sandbox.run(['journalctl', '-u', 'tick.service', '-o', 'json', '--no-pager', '--grep', '^tick: '])).stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { MESSAGE: string; __REALTIME_TIMESTAMP: string });
    // Six runs within 10 s: more than systemd's default start rate limit (5 starts in 10 s) lets through.
    let lines: { MESSAGE: string; __REALTIME_TIMESTAMP: string }[] = [];
    let fastestSixUs = Infinity;
    for (const deadline = Date.now() + 45_000; fastestSixUs >= 10e6 && Date.now() < deadline; ) {
      lines = await ticks();
      for (let k = 0; k + 5 < lines.length; k++) fastestSixUs = Math.min(fastestSixUs, Number(lines[k + 5]!.__REALTIME_TIMESTAMP) - Number(lines[k]!.__REALTIME_TIMESTAMP));
      if (fastestSixUs >= 10e6) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await ok(sandbox, 'systemctl stop tick.timer');
    expect(fastestSixUs).toBeLessThan(10e6);
    const fingerprint = (await sandbox.sh(`printf %s ${token} | sha256sum | cut -c1-12`)).stdout.trim();
    expect(lines.at(-1)!.MESSAGE).toBe(`tick: hello there (token set, sha256 ${fingerprint})`);
    expect((await sandbox.run(['systemctl', 'is-failed', 'tick.service'])).stdout.trim()).not.toBe('failed');
    expect((await sandbox.run(['journalctl', '-o', 'verbose', '--no-pager'])).stdout).not.toContain(token);
  }, 90_000);

  test('failing: the service exits with status 3 after a line on stderr, and its timer does not fire by itself', async () => {
    const timers = JSON.parse((await sandbox.run(['systemctl', 'list-timers', '--all', '-o', 'json', 'failing.timer'])).stdout) as { next: number }[];
    const nowUs = Number((await sandbox.run(['date', '+%s%6N'])).stdout.trim());
    expect((timers[0]!.next - nowUs) / 1e6).toBeGreaterThan(3500);
    const run = await sandbox.svcctl(['run', fixture('failing')]);
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toContain('failing: simulated failure, exiting with status 3');
    const show = (await sandbox.run(['systemctl', 'show', 'failing.service', '-p', 'ExecMainStatus', '-p', 'Result'])).stdout;
    expect(show).toContain('ExecMainStatus=3');
    expect(show).toContain('Result=exit-code');
  });

  test('daemon: it serves the directory its DAEMON_ROOT setting names (WorkingDirectory=) on 127.0.0.1:18080', async () => {
    const serves = async (text: string) => {
      let body = '';
      for (let i = 0; i < 100 && !body.includes(text); i++) {
        body = (await sandbox.run(['curl', '-fsS', '--max-time', '2', 'http://127.0.0.1:18080/'])).stdout;
        if (!body.includes(text)) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return body;
    };
    expect(await serves('other-root-ok')).toBe('other-root-ok');
    // Back to the default: install converges and restarts the daemon with the new working directory.
    await svcctl(sandbox, ['install', fixture('daemon'), '--yes', '--set', 'DAEMON_ROOT=/srv/svcctl-daemon']);
    expect(await serves('svcctl-daemon-fixture-ok')).toContain('svcctl-daemon-fixture-ok');
    expect((await sandbox.run(['systemctl', 'is-enabled', 'daemon.service'])).stdout.trim()).toBe('enabled');
  });

  test('uninstall --purge of the three leaves nothing behind', async () => {
    await svcctl(sandbox, ['uninstall', 'tick', 'failing', 'daemon', '--purge', '--yes']);
    await ok(sandbox, 'rm -r /srv/other-root /run/fixture-test');
    expect(await sandbox.changes()).toEqual([]);
  });
});
