// Proves the cleanup-blocking bundle against a real Redis and a real systemd in the sandbox: stale
// coordinators go with their companion keys, live ones stay, --dry-run deletes nothing, failures
// end the run with a non-zero status, and the Redis password reaches neither argv nor the journal.
// Also checks that every unit of the bundle and of the lifecycle fixtures passes systemd-analyze.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../../src/system/paths.js';
import { describeInSandbox, type RunResult, type Sandbox } from '../helpers/sandbox.js';

const bundleDir = path.join(packageRoot, 'units', 'cleanup-blocking');
const fixturesDir = path.join(packageRoot, 'test', 'fixtures', 'lifecycle');

const service = 'cleanup-blocking-coordination.service';
const timer = 'cleanup-blocking-coordination.timer';
const script = '/usr/local/bin/cleanup-blocking-coordination.sh';
const secretsFile = '/etc/svcctl/cleanup-blocking/secrets.env';

interface CleanupManifest {
  units: string[];
  payload: { source: string; destination: string; mode: string }[];
  user: { name: string; home: string; shell: string };
  directories: { path: string; owner?: string; group?: string; mode?: string }[];
  settings: { key: string; default?: string; directive?: string }[];
  secrets: { key: string; required?: boolean }[];
}

const manifest = parse(readFileSync(path.join(bundleDir, 'bundle.yaml'), 'utf8')) as CleanupManifest;
const settingDefaults = Object.fromEntries(manifest.settings.map((s) => [s.key, s.default ?? '']));
const logDir = settingDefaults.LOG_DIR!;

// Distinctive values, so that any leak is found by a plain text search.
const redisPassword = `redis-pw-${randomBytes(12).toString('hex')}`;
const wrongPassword = `wrong-pw-${randomBytes(12).toString('hex')}`;
const coordinationSecret = randomBytes(32).toString('hex');

function sq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function ok(sandbox: Sandbox, shell: string): Promise<RunResult> {
  const result = await sandbox.sh(`set -e\n${shell}`);
  if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}: ${shell}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Runs redis-cli inside as root; the test's own password goes through REDISCLI_AUTH too. */
async function redis(sandbox: Sandbox, args: string[], input?: string): Promise<string> {
  const result = await sandbox.run(['redis-cli', ...args], { env: { REDISCLI_AUTH: redisPassword }, input });
  if (result.exitCode !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function allKeys(sandbox: Sandbox): Promise<string[]> {
  return (await redis(sandbox, ['--scan']))
    .split('\n')
    .filter(Boolean)
    .sort();
}

interface ServiceRun {
  start: RunResult;
  /** Result, ExecMainStatus and ExecMainCode from `systemctl show` after the run. */
  show: Record<string, string>;
  /** What this run (and only this run: its invocation ID) wrote to the journal. */
  journal: string;
}

/**
 * `systemctl start`s the cleanup service and waits for it like an operator would. reset-failed first: the
 * tests start it more often than systemd's default start rate limit (5 in 10 s) allows.
 */
async function startService(sandbox: Sandbox): Promise<ServiceRun> {
  await sandbox.run(['systemctl', 'reset-failed', service]);
  const start = await sandbox.run(['systemctl', 'start', service]);
  const out = (await sandbox.run(['systemctl', 'show', service, '-p', 'Result', '-p', 'ExecMainStatus', '-p', 'ExecMainCode', '-p', 'InvocationID', '-p', 'ExecMainPID'])).stdout;
  const show = Object.fromEntries(out.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
  const invocation = show.InvocationID ?? '';
  const mainPid = show.ExecMainPID ?? '0';
  delete show.InvocationID;
  delete show.ExecMainPID;
  return { start, show, journal: await journalOfInvocation(sandbox, invocation, mainPid) };
}

/**
 * The run's messages; journald may still be reading the service's stream, so wait for its last line. The
 * run's main PID selects lines too: journald leaves the invocation id off the last lines of a process
 * that exits right after writing them.
 */
async function journalOfInvocation(sandbox: Sandbox, invocation: string, mainPid: string): Promise<string> {
  let text = '';
  for (let attempt = 0; attempt < 50; attempt++) {
    text = (await sandbox.run(['journalctl', `_SYSTEMD_INVOCATION_ID=${invocation}`, '+', `_PID=${mainPid}`, '-o', 'cat', '--no-pager'])).stdout;
    if (/^(cleanup finished|error: )/m.test(text)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return text;
}

function secretsEnv(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}=${value}\n`)
    .join('');
}

async function writeSecrets(sandbox: Sandbox, values: Record<string, string>): Promise<void> {
  await ok(sandbox, `umask 077 && printf %s ${sq(secretsEnv(values))} > ${secretsFile}`);
}

/** svcctl's drop-in as the manifest asks for it: settings as Environment=, secrets by EnvironmentFile=. */
function overrideConf(): string {
  const lines = Object.entries(settingDefaults).map(([key, value]) => {
    // Plain values only: this stand-in for svcctl does no systemd escaping.
    if (/["\\%$\s]/.test(value)) throw new Error(`setting ${key} default needs escaping: ${value}`);
    return `Environment="${key}=${value}"`;
  });
  return ['[Service]', ...lines, `EnvironmentFile=${secretsFile}`, ''].join('\n');
}

// ---- the Redis data: what a deployment of blocking coordinators leaves behind ----

const nowMs = Date.now();
const ago = (seconds: number) => nowMs - seconds * 1000;
const heartbeatJson = (id: string, ms: number) => JSON.stringify({ coordinatorId: id, timestamp: ms, status: 'waiting', pid: 4242 });

/** Keys of coordinator `id` with a heartbeat value, its signal, two ACKs and its activity record. */
function coordinator(id: string, heartbeat: string): Record<string, string> {
  return {
    [`blocking:heartbeat:${id}`]: heartbeat,
    [`blocking:signal:${id}`]: '{"signal":"pending"}',
    [`blocking:ack:${id}:agent-1`]: '{"ack":true}',
    [`blocking:ack:${id}:agent-2`]: '{"ack":true}',
    [`coordinator:activity:${id}`]: '{"activity":"waiting"}',
  };
}

const staleKeys: Record<string, string> = {
  // an hour old, JSON with a millisecond timestamp: what the coordinators write
  ...coordinator('stale-json', heartbeatJson('stale-json', ago(3600))),
  'blocking:idempotency:stale-json:live-json:signal:1:1731000000000': '1',
  'blocking:idempotency:live-json:stale-json:ack:2:1731000000001': '1',
  // just past the threshold, a bare unix time in seconds
  ...coordinator('stale.secs_1', String(Math.floor(ago(700) / 1000))),
  // "c1" is stale, "c10" is not: a prefix must not drag c10's keys along
  ...coordinator('c1', heartbeatJson('c1', ago(1200))),
};

const keptKeys: Record<string, string> = {
  ...coordinator('live-json', heartbeatJson('live-json', ago(5))),
  ...coordinator('c10', heartbeatJson('c10', ago(30))),
  'blocking:idempotency:c10:live-json:signal:3:1731000000002': '1',
  // just inside the threshold
  'blocking:heartbeat:recent-secs': String(Math.floor(ago(500) / 1000)),
  // undatable heartbeats are left alone: no timestamp, a counter, a timestamp as text
  'blocking:heartbeat:no-timestamp': '{"seq":1}',
  'blocking:signal:no-timestamp': '{"signal":"pending"}',
  'blocking:heartbeat:counter': '42',
  'blocking:heartbeat:iso-text': '{"timestamp":"2020-01-01T00:00:00Z"}',
  // an id with a glob character is skipped, however old
  'blocking:heartbeat:bad*id': String(Math.floor(ago(86400) / 1000)),
  // state without a heartbeat, and keys of other applications
  'blocking:signal:orphan': '{"signal":"pending"}',
  'session:42': 'unrelated',
  'blocking:heartbeats-total': '17',
};

function redisCommands(keys: Record<string, string>): string {
  const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return `${Object.entries(keys)
    .map(([key, value]) => `SET ${quote(key)} ${quote(value)}`)
    .join('\n')}\nHSET blocking:heartbeat:hash-typed timestamp ${ago(86400)}\n`;
}

async function seedRedis(sandbox: Sandbox): Promise<void> {
  await redis(sandbox, ['FLUSHALL']);
  await redis(sandbox, [], redisCommands({ ...staleKeys, ...keptKeys }));
}

const keptAfterCleanup = [...Object.keys(keptKeys), 'blocking:heartbeat:hash-typed'].sort();
const everySeededKey = [...Object.keys(staleKeys), ...keptAfterCleanup].sort();

describeInSandbox('cleanup-blocking bundle: the script and its units against a real Redis and systemd', (sandbox) => {
  beforeAll(async () => {
    const units = manifest.units.map((u) => sq(path.join(bundleDir, u))).join(' ');
    const payload = manifest.payload.map((p) => `install -D -m ${p.mode} ${sq(path.join(bundleDir, p.source))} ${sq(p.destination)}`).join('\n');
    const directories = manifest.directories
      .map((d) => `install -d -o ${d.owner ?? 'root'} -g ${d.group ?? d.owner ?? 'root'} -m ${d.mode ?? '0755'} ${sq(d.path)}`)
      .join('\n');
    await ok(
      sandbox,
      [
        // a Redis with a password, on loopback inside the sandbox; the password is in a root-only file
        'install -d -m 0700 /etc/test-redis',
        `printf '%s\\n' 'port 6379' 'bind 127.0.0.1' ${sq(`requirepass ${redisPassword}`)} 'save ""' 'appendonly no' 'dir /run' > /etc/test-redis/redis.conf`,
        `printf '[Service]\\nExecStart=/usr/bin/redis-server /etc/test-redis/redis.conf\\n' > /etc/systemd/system/test-redis.service`,
        // what `svcctl install cleanup-blocking` will do, step by step, from the manifest
        `useradd --system --no-create-home --home-dir ${sq(manifest.user.home)} --shell ${sq(manifest.user.shell)} --user-group ${sq(manifest.user.name)}`,
        directories,
        payload,
        `install -m 0644 ${units} /etc/systemd/system/`,
        `install -d -m 0755 /etc/systemd/system/${service}.d`,
        `(umask 077 && printf %s ${sq(overrideConf())} > /etc/systemd/system/${service}.d/override.conf)`,
        'install -d -m 0700 /etc/svcctl/cleanup-blocking',
        'systemctl daemon-reload',
        'systemctl start test-redis.service',
        'for i in $(seq 50); do redis-cli -p 6379 PING 2>/dev/null | grep -q NOAUTH && break; sleep 0.1; done',
      ].join('\n'),
    );
    await writeSecrets(sandbox, { BLOCKING_COORDINATION_SECRET: coordinationSecret, REDIS_PASSWORD: redisPassword });
  }, 60_000);

  test('the units pass systemd-analyze verify without a single warning', async () => {
    const verify = await sandbox.run(['systemd-analyze', 'verify', ...manifest.units.map((u) => `/etc/systemd/system/${u}`)]);
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
  });

  test('the timer, once started, schedules a first run about 5 minutes later although the service never ran', async () => {
    await ok(sandbox, `systemctl enable --now ${timer}`);
    const timers = JSON.parse((await sandbox.run(['systemctl', 'list-timers', '--all', '-o', 'json', timer])).stdout) as { next: number; last: number }[];
    const nowUs = Number((await sandbox.run(['date', '+%s%6N'])).stdout.trim());
    expect(timers).toHaveLength(1);
    const leftSeconds = (timers[0]!.next - nowUs) / 1e6;
    expect(leftSeconds).toBeGreaterThan(4 * 60);
    expect(leftSeconds).toBeLessThan(5 * 60 + 30);
    expect((await sandbox.run(['systemctl', 'is-enabled', timer])).stdout.trim()).toBe('enabled');
    await ok(sandbox, `systemctl stop ${timer}`);
  });

  test('a run deletes the stale coordinators with their companion keys and keeps everything else', async () => {
    await seedRedis(sandbox);
    expect(await allKeys(sandbox)).toEqual(everySeededKey);
    const { start, show, journal } = await startService(sandbox);
    expect(start.stderr).toBe('');
    expect(start.exitCode).toBe(0);
    expect(show).toEqual({ Result: 'success', ExecMainStatus: '0', ExecMainCode: '1' });

    expect(await allKeys(sandbox)).toEqual(keptAfterCleanup);

    expect(journal).toContain('cleanup started: Redis 127.0.0.1:6379 database 0, stale after 600s');
    expect(journal).toMatch(/deleted stale coordinator stale-json \(heartbeat 36\d\ds old > 600s\): 7 keys: blocking:heartbeat:stale-json /);
    expect(journal).toContain('blocking:idempotency:live-json:stale-json:ack:2:1731000000001');
    expect(journal).toMatch(/deleted stale coordinator stale\.secs_1 \(heartbeat 70\ds old > 600s\): 5 keys/);
    expect(journal).toMatch(/deleted stale coordinator c1 \(heartbeat 120\ds old > 600s\): 5 keys/);
    expect(journal).toContain('skipped blocking:heartbeat:bad\\*id');
    expect(journal).toContain('kept coordinator hash-typed: its heartbeat is a Redis hash');
    expect(journal).toContain('kept coordinator counter: its heartbeat holds no unix time');
    // checked: 3 stale + live-json, c10, recent-secs + 4 undated (no-timestamp, counter, iso-text, hash-typed)
    expect(journal).toContain('cleanup finished: 10 coordinators checked, 3 stale (deleted), 3 active, 4 undated, 1 skipped, 17 keys deleted, 0 failed');

    // warnings carry the journal priority "warning"
    const warnings = (await sandbox.run(['journalctl', '-u', service, '-p', 'warning', '-o', 'cat', '--no-pager', '-n', '20'])).stdout;
    expect(warnings).toContain('skipped blocking:heartbeat:bad\\*id');
    expect(warnings).not.toContain('deleted stale coordinator');

    // and the log file of the guide, written by the service user through ReadWritePaths=
    const log = await ok(sandbox, `stat -c '%U %a' ${sq(`${logDir}/blocking-cleanup.log`)} && cat ${sq(`${logDir}/blocking-cleanup.log`)}`);
    expect(log.stdout).toMatch(/^claude-flow 640\n/);
    expect(log.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ info deleted stale coordinator c1 /m);
  });

  test('a second run finds nothing stale and deletes nothing', async () => {
    const { show, journal } = await startService(sandbox);
    expect(show.ExecMainStatus).toBe('0');
    expect(await allKeys(sandbox)).toEqual(keptAfterCleanup);
    expect(journal).toContain('0 stale (deleted), 3 active, 4 undated, 1 skipped, 0 keys deleted, 0 failed');
  });

  test('hundreds of coordinators are handled in several deletion batches, each coordinator exactly once', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 450; i++) Object.assign(many, coordinator(`bulk-stale-${i}`, heartbeatJson(`bulk-stale-${i}`, ago(900 + i))));
    for (let i = 0; i < 50; i++) Object.assign(many, coordinator(`bulk-live-${i}`, heartbeatJson(`bulk-live-${i}`, ago(i))));
    await redis(sandbox, ['FLUSHALL']);
    await redis(sandbox, [], redisCommands(many));
    const { show, journal } = await startService(sandbox);
    expect(show.ExecMainStatus).toBe('0');
    expect(journal).toContain('cleanup finished: 501 coordinators checked, 450 stale (deleted), 50 active, 1 undated, 0 skipped, 2250 keys deleted, 0 failed');
    const deleted = journal.split('\n').filter((line) => line.startsWith('deleted stale coordinator bulk-stale-'));
    expect(new Set(deleted.map((line) => line.split(' ')[3])).size).toBe(450);
    const left = await allKeys(sandbox);
    expect(left.filter((key) => key.includes('bulk-stale-'))).toEqual([]);
    expect(left.filter((key) => key.includes('bulk-live-'))).toHaveLength(250);
  });

  test('--dry-run, run the way docs/cleanup-blocking.md says, lists what it would delete and deletes nothing', async () => {
    await seedRedis(sandbox);
    const environment = Object.entries(settingDefaults).flatMap(([key, value]) => ['-E', `${key}=${value}`]);
    const run = await sandbox.run([
      'systemd-run', '--wait', '--pipe', '--collect', '--quiet',
      '-p', 'User=claude-flow', '-p', `EnvironmentFile=${secretsFile}`,
      ...environment,
      script, '--dry-run',
    ]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/would delete stale coordinator stale-json \(heartbeat 36\d\ds old > 600s\): 7 keys: /);
    expect(run.stdout).toMatch(/would delete stale coordinator c1 .*: 5 keys: blocking:heartbeat:c1 /);
    expect(run.stdout).toContain('cleanup finished (dry run: nothing will be deleted): 10 coordinators checked, 3 stale (would delete)');
    expect(run.stdout).toContain('0 keys deleted');
    expect(await allKeys(sandbox)).toEqual(everySeededKey);
  });

  test('redis-cli never gets the password on its command line, and never the coordination secret at all', async () => {
    await seedRedis(sandbox);
    await ok(
      sandbox,
      [
        'install -d -m 0700 /run/argv-spy',
        // a redis-cli in front of the real one that records its argv and which secrets its environment holds
        `cat > /run/argv-spy/redis-cli <<'EOF'
#!/bin/sh
printf 'argv: %s\\n' "$*" >> /run/argv-spy/calls.log
[ -n "\${REDISCLI_AUTH:-}" ] && echo 'env: REDISCLI_AUTH set' >> /run/argv-spy/calls.log
env | grep -q '^BLOCKING_COORDINATION_SECRET=' && echo 'env: BLOCKING_COORDINATION_SECRET set' >> /run/argv-spy/calls.log
env | grep -q '^REDIS_PASSWORD=' && echo 'env: REDIS_PASSWORD set' >> /run/argv-spy/calls.log
exec /usr/bin/redis-cli "$@"
EOF`,
        'chmod 0755 /run/argv-spy/redis-cli',
      ].join('\n'),
    );
    const run = await sandbox.run([
      'systemd-run', '--wait', '--pipe', '--collect', '--quiet',
      '-p', `EnvironmentFile=${secretsFile}`, '-E', 'PATH=/run/argv-spy:/usr/bin:/bin',
      script,
    ]);
    expect(run.exitCode).toBe(0);
    const calls = (await sandbox.run(['cat', '/run/argv-spy/calls.log'])).stdout;
    const argvLines = calls.split('\n').filter((line) => line.startsWith('argv: '));
    expect(calls).toContain('argv: -h 127.0.0.1 -p 6379 -n 0 PING');
    expect(calls).toMatch(/argv: .* SCAN 0 MATCH blocking:heartbeat:\* COUNT 1000/);
    expect(calls).toMatch(/argv: .* EVAL /);
    expect(calls).toContain('env: REDISCLI_AUTH set');
    expect(calls).not.toContain('BLOCKING_COORDINATION_SECRET set');
    expect(calls).not.toContain('REDIS_PASSWORD set');
    expect(calls).not.toContain(redisPassword);
    expect(calls).not.toContain(coordinationSecret);
    for (const line of argvLines) expect(line).not.toMatch(/ (-a|--pass|--user|-u) /);
    expect(await allKeys(sandbox)).toEqual(keptAfterCleanup);
  });

  test('a wrong password fails the run with status 2 and a message that names the cause, not the password', async () => {
    await writeSecrets(sandbox, { BLOCKING_COORDINATION_SECRET: coordinationSecret, REDIS_PASSWORD: wrongPassword });
    const { start, show, journal } = await startService(sandbox);
    expect(start.exitCode).not.toBe(0);
    expect(show).toMatchObject({ Result: 'exit-code', ExecMainStatus: '2' });
    expect(journal).toContain('error: authentication to Redis at 127.0.0.1:6379 failed: REDIS_PASSWORD is wrong');
    expect(journal).not.toContain(wrongPassword);
  });

  test('no password for a Redis that requires one fails with status 2 and says which secret to set', async () => {
    await writeSecrets(sandbox, { BLOCKING_COORDINATION_SECRET: coordinationSecret });
    const { show, journal } = await startService(sandbox);
    expect(show).toMatchObject({ Result: 'exit-code', ExecMainStatus: '2' });
    expect(journal).toContain('requires a password and REDIS_PASSWORD is not set');
  });

  test('a missing BLOCKING_COORDINATION_SECRET stops the run before it touches Redis, with status 78', async () => {
    await writeSecrets(sandbox, { REDIS_PASSWORD: redisPassword });
    await seedRedis(sandbox);
    const { show, journal } = await startService(sandbox);
    expect(show).toMatchObject({ Result: 'exit-code', ExecMainStatus: '78' });
    expect(journal).toContain('error: BLOCKING_COORDINATION_SECRET is not set');
    expect(await allKeys(sandbox)).toEqual(everySeededKey);
    await writeSecrets(sandbox, { BLOCKING_COORDINATION_SECRET: coordinationSecret, REDIS_PASSWORD: redisPassword });
  });

  test('with Redis stopped the service fails with status 2 and says it cannot reach Redis', async () => {
    await ok(sandbox, 'systemctl stop test-redis.service');
    try {
      const { start, show, journal } = await startService(sandbox);
      expect(start.exitCode).not.toBe(0);
      expect(show).toMatchObject({ Result: 'exit-code', ExecMainStatus: '2' });
      expect(journal).toContain('error: cannot reach Redis at 127.0.0.1:6379 (database 0): Could not connect to Redis at 127.0.0.1:6379: Connection refused');
    } finally {
      await ok(sandbox, 'systemctl start test-redis.service && for i in $(seq 50); do redis-cli PING 2>/dev/null | grep -q NOAUTH && break; sleep 0.1; done');
    }
  });

  test('invalid settings and arguments are refused with a message naming them', async () => {
    const base = { BLOCKING_COORDINATION_SECRET: coordinationSecret };
    const threshold = await sandbox.run([script], { env: { ...base, STALE_THRESHOLD_SECONDS: '10m' } });
    expect(threshold.exitCode).toBe(78);
    expect(threshold.stderr).toContain('invalid STALE_THRESHOLD_SECONDS="10m": must be a whole number of seconds');
    const port = await sandbox.run([script], { env: { ...base, REDIS_PORT: '70000' } });
    expect(port.exitCode).toBe(78);
    expect(port.stderr).toContain('invalid REDIS_PORT="70000"');
    const host = await sandbox.run([script], { env: { ...base, REDIS_HOST: '-a secret' } });
    expect(host.exitCode).toBe(78);
    const shortSecret = await sandbox.run([script], { env: { BLOCKING_COORDINATION_SECRET: 'abc' } });
    expect(shortSecret.exitCode).toBe(78);
    expect(shortSecret.stderr).toContain('BLOCKING_COORDINATION_SECRET is too short (3 characters, at least 32)');
    const usage = await sandbox.run([script, '--bogus']);
    expect(usage.exitCode).toBe(64);
    expect(usage.stderr).toContain('unknown argument: --bogus');
    const help = await sandbox.run([script, '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: cleanup-blocking-coordination.sh [--dry-run] [--help]');
  });

  test('started by its timer, the service runs and cleans up (timer shortened by a drop-in)', async () => {
    await seedRedis(sandbox);
    await ok(
      sandbox,
      [
        `install -d /etc/systemd/system/${timer}.d`,
        // An empty OnActiveSec= clears every trigger of the timer (OnUnitActiveSec= too), as a schedule drop-in must.
        `printf '[Timer]\\nOnActiveSec=\\nOnActiveSec=1s\\nOnUnitActiveSec=1h\\nRandomizedDelaySec=0\\nAccuracySec=100ms\\n' > /etc/systemd/system/${timer}.d/zz-test.conf`,
        'systemctl daemon-reload',
        `systemctl reset-failed ${service}`,
        `systemctl start ${timer}`,
      ].join('\n'),
    );
    try {
      let keys: string[] = [];
      for (let i = 0; i < 100; i++) {
        keys = await allKeys(sandbox);
        if (keys.length === keptAfterCleanup.length) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(keys).toEqual(keptAfterCleanup);
      const last = JSON.parse((await sandbox.run(['systemctl', 'list-timers', '--all', '-o', 'json', timer])).stdout) as { last: number }[];
      expect(last[0]!.last).toBeGreaterThan(0);
    } finally {
      await ok(sandbox, `systemctl stop ${timer} && rm -r /etc/systemd/system/${timer}.d && systemctl daemon-reload`);
    }
  });

  test('no secret value is in the journal, the log file, or what systemctl show tells every user', async () => {
    const everything = (await sandbox.run(['journalctl', '-o', 'verbose', '--no-pager'])).stdout;
    expect(everything.length).toBeGreaterThan(1000);
    expect(everything).toContain('cleanup finished');
    for (const secret of [redisPassword, wrongPassword, coordinationSecret]) {
      expect(everything).not.toContain(secret);
    }
    const log = (await sandbox.run(['cat', `${logDir}/blocking-cleanup.log`])).stdout;
    const show = (await sandbox.run(['systemctl', 'show', service])).stdout;
    expect(show).toContain(`EnvironmentFiles=${secretsFile}`);
    for (const secret of [redisPassword, wrongPassword, coordinationSecret]) {
      expect(log).not.toContain(secret);
      expect(show).not.toContain(secret);
    }
  });
});

describeInSandbox('lifecycle fixture bundles: valid units that behave as their manifests say', (sandbox) => {
  const fixtures: Record<string, string[]> = {
    tick: ['tick.service', 'tick.timer'],
    failing: ['failing.service', 'failing.timer'],
    daemon: ['daemon.service'],
  };

  beforeAll(async () => {
    const copies = Object.entries(fixtures).flatMap(([bundle, units]) => units.map((u) => `install -m 0644 ${sq(path.join(fixturesDir, bundle, u))} /etc/systemd/system/`));
    await ok(
      sandbox,
      [...copies, 'install -d -m 0755 /srv/svcctl-daemon', `install -m 0644 ${sq(path.join(fixturesDir, 'daemon', 'index.html'))} /srv/svcctl-daemon/`, 'systemctl daemon-reload'].join('\n'),
    );
  });

  test('every unit passes systemd-analyze verify without a single warning', async () => {
    const units = Object.values(fixtures).flatMap((list) => list.map((u) => `/etc/systemd/system/${u}`));
    const verify = await sandbox.run(['systemd-analyze', 'verify', ...units]);
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
  });

  test('tick: the timer fires every second, past systemd\'s start rate limit, and the service prints its setting and only a fingerprint of its token', async () => {
    const token = randomBytes(32).toString('hex');
    await ok(
      sandbox,
      [
        'install -d /etc/systemd/system/tick.service.d',
        `printf '[Service]\\nEnvironment="TICK_MESSAGE=hello there"\\nEnvironmentFile=/run/tick.env\\n' > /etc/systemd/system/tick.service.d/override.conf`,
        `umask 077 && printf 'TICK_TOKEN=%s\\n' ${token} > /run/tick.env`,
        'systemctl daemon-reload',
        'systemctl start tick.timer',
      ].join('\n'),
    );
    await new Promise((resolve) => setTimeout(resolve, 7500));
    await ok(sandbox, 'systemctl stop tick.timer');
    const lines = (await sandbox.run(['journalctl', '-u', 'tick.service', '-o', 'cat', '--no-pager', '--grep', '^tick: '])).stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(6);
    const fingerprint = (await sandbox.sh(`printf %s ${token} | sha256sum | cut -c1-12`)).stdout.trim();
    expect(lines[lines.length - 1]).toBe(`tick: hello there (token set, sha256 ${fingerprint})`);
    expect((await sandbox.run(['systemctl', 'is-failed', 'tick.service'])).stdout.trim()).not.toBe('failed');
    expect((await sandbox.run(['journalctl', '-o', 'verbose', '--no-pager'])).stdout).not.toContain(token);
  });

  test('failing: the service exits with status 3 after a line on stderr, and its timer does not fire by itself', async () => {
    await ok(sandbox, 'systemctl start failing.timer');
    const timers = JSON.parse((await sandbox.run(['systemctl', 'list-timers', '--all', '-o', 'json', 'failing.timer'])).stdout) as { next: number; last: number }[];
    const nowUs = Number((await sandbox.run(['date', '+%s%6N'])).stdout.trim());
    expect((timers[0]!.next - nowUs) / 1e6).toBeGreaterThan(3500);
    const start = await sandbox.run(['systemctl', 'start', 'failing.service']);
    expect(start.exitCode).not.toBe(0);
    const show = (await sandbox.run(['systemctl', 'show', 'failing.service', '-p', 'ExecMainStatus', '-p', 'Result'])).stdout;
    expect(show).toContain('ExecMainStatus=3');
    expect(show).toContain('Result=exit-code');
    const journal = (await sandbox.run(['journalctl', '-u', 'failing.service', '-o', 'cat', '--no-pager'])).stdout;
    expect(journal).toContain('failing: simulated failure, exiting with status 3');
    await ok(sandbox, 'systemctl stop failing.timer && systemctl reset-failed failing.service');
  });

  test('daemon: it serves its directory on 127.0.0.1:18080, from the WorkingDirectory= a drop-in sets', async () => {
    await ok(
      sandbox,
      [
        'install -d /srv/other-root && echo other-root-ok > /srv/other-root/index.html',
        'install -d /etc/systemd/system/daemon.service.d',
        `printf '[Service]\\nWorkingDirectory=/srv/other-root\\n' > /etc/systemd/system/daemon.service.d/override.conf`,
        'systemctl daemon-reload',
        'systemctl enable --now daemon.service',
      ].join('\n'),
    );
    let body = '';
    for (let i = 0; i < 50 && !body.includes('other-root-ok'); i++) {
      body = (await sandbox.run(['curl', '-fsS', '--max-time', '2', 'http://127.0.0.1:18080/'])).stdout;
      if (!body) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(body).toBe('other-root-ok');
    await ok(sandbox, 'rm -r /etc/systemd/system/daemon.service.d && systemctl daemon-reload && systemctl restart daemon.service');
    for (let i = 0; i < 50 && !body.includes('svcctl-daemon-fixture-ok'); i++) {
      body = (await sandbox.run(['curl', '-fsS', '--max-time', '2', 'http://127.0.0.1:18080/'])).stdout;
      if (!body.includes('svcctl-daemon-fixture-ok')) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(body).toContain('svcctl-daemon-fixture-ok');
    expect((await sandbox.run(['systemctl', 'is-enabled', 'daemon.service'])).stdout.trim()).toBe('enabled');
    await ok(sandbox, 'systemctl disable --now daemon.service');
  });
});
