// svcctl check and doctor against real timers, real failures and a real daemon in the sandbox.
import { writeFiles } from '../helpers/sandbox-files.js';
import { describeInSandbox } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const lifecycle = `${process.cwd()}/test/fixtures/lifecycle`;
const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

/** A daemon with a health URL (HTTP on 127.0.0.1:18092), written into the sandbox's private /tmp. */
const web = {
  '/tmp/bundles/web/bundle.yaml': `name: web
description: Test - an HTTP daemon with a health URL.
units: [web.service]
enable: [web.service]
health: { url: "http://127.0.0.1:18092/" }
`,
  '/tmp/bundles/web/web.service': `[Service]
Type=simple
ExecStart=/usr/bin/python3 -m http.server 18092 --bind 127.0.0.1 --directory /usr/share
[Install]
WantedBy=multi-user.target
`,
};


interface Finding {
  check: string;
  ok: boolean;
  message: string;
  fix?: string;
}

/** The check's status for a last success `age` seconds old (as perfdata prints it: rounded) against a max age of `limit` s. */
function statusesForAge(age: number, limit: number): string[] {
  // The check compares the unrounded age: a printed age half a second either way could be it.
  const status = (exact: number) => (exact > 2 * limit ? 'CRITICAL' : exact > limit ? 'WARNING' : 'OK');
  return [...new Set([status(age - 0.5), status(age), status(age + 0.5)])];
}

const ageOf = (stdout: string) => Number(stdout.match(/last_success_age=(\d+)s/)?.[1]);

describeInSandbox('svcctl check and doctor', (sandbox) => {
  const check = (...args: string[]) => sandbox.svcctl(['check', ...args]);
  /** The sockets listening on 127.0.0.1:PORT, as `ss` shows them (with the owning process). */
  const listeners = async (port: number) => (await sandbox.run(['ss', '-ltnpH', `sport = :${port}`])).stdout.trim();

  test('not installed: UNKNOWN, exit 3', async () => {
    const result = await check('tick');
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('SVCCTL UNKNOWN - tick: not installed');
  });

  test('usage errors are UNKNOWN with exit 3 too (a monitoring check always exits 0-3)', async () => {
    for (const args of [[], ['tick', '--bogus'], ['tick', '--max-age', 'a while'], ['Not A Name']]) {
      const result = await check(...args);
      expect(result.exitCode).toBe(3);
      expect(result.stdout).toMatch(/^SVCCTL UNKNOWN - /);
    }
  });

  test('failing: WARNING before its first run, CRITICAL with exit 2 once it has failed', async () => {
    expect((await sandbox.svcctl(['install', `${lifecycle}/failing`, '--yes'])).exitCode).toBe(0);
    const before = await check('failing');
    expect(before.exitCode).toBe(1);
    expect(before.stdout).toMatch(/^SVCCTL WARNING - failing: never ran yet, next run in 59min \d+s \| next_run_in=\d+s;;;0 max_age=7200s;;;0$/);
    await sandbox.run(['systemctl', 'start', 'failing.service']);
    const after = await check('failing');
    expect(after.exitCode).toBe(2);
    expect(after.stdout).toMatch(/^SVCCTL CRITICAL - failing: last run failed \(exit status 3, \d+m?s ago\); see journalctl -u failing.service/);
    expect(after.stdout).toContain('exit_status=3;;;0');
  });

  test('tick: OK once it has fired, with perfdata; one systemctl show call', async () => {
    expect((await sandbox.svcctl(['install', `${lifecycle}/tick`, '--yes'])).exitCode).toBe(0);
    const lastExit = async () => Number((await sandbox.run(['systemctl', 'show', '-p', 'ExecMainExitTimestampMonotonic', '--value', 'tick.service'])).stdout.trim());
    await waitFor('a first run of tick.service to have ended', lastExit, (usec) => usec > 0);
    const result = await sandbox.svcctl(['check', 'tick'], { env: { DEBUG: 'svcctl' } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^SVCCTL OK - tick: (last run succeeded \S+ ago \(max age 10s\)|running now \(started \S+ ago\)), next run /);
    expect(result.stdout).toMatch(/\| .*max_age=10s;;;0$/);
    expect(result.stdout.split('\n')).toHaveLength(1);
    // DEBUG=svcctl traces every process started through the exec seam: "svcctl [+Nms ]exec [argv]".
    const calls = result.stderr.split('\n').filter((line) => /^svcctl .*\bexec \[/.test(line) && line.includes('/systemctl"'));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain('"show"');
  });

  test('--json: one document with status, exit code and metrics; the exit code follows the status', async () => {
    const result = await check('failing', '--json');
    expect(result.exitCode).toBe(2);
    const data = JSON.parse(result.stdout);
    expect(data).toMatchObject({ bundle: 'failing', status: 'CRITICAL', exitCode: 2, metrics: { up: false, lastExitStatus: 3 } });
    expect(data.problems[0]).toMatchObject({ status: 'CRITICAL', topic: 'service' });
  });

  test('--textfile writes node_exporter metrics atomically, mode 0644', async () => {
    const textfiles = '/run/svcctl-textfiles';
    // A root-owned directory: svcctl refuses to write under a world-writable one such as /tmp (and /run is the
    // sandbox's own tmpfs, so nothing is left behind).
    await sandbox.run(['mkdir', '-p', '-m', '0755', textfiles]);
    // While tick.service runs (every second, as long as a loaded machine makes it) its timer has no next
    // elapse, and the file rightly has no next-run line: check again until it was written while the timer waited.
    const written = async () => {
      const result = await check('tick', '--textfile', textfiles);
      return { exitCode: result.exitCode, stderr: result.stderr, text: (await sandbox.run(['cat', `${textfiles}/svcctl_tick.prom`])).stdout };
    };
    const { exitCode, stderr, text } = await waitFor('a textfile written while tick.timer waited', written, (w) => w.exitCode !== 0 || w.stderr !== '' || w.text.includes('svcctl_next_run_timestamp_seconds'));
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(text).toContain('# TYPE svcctl_up gauge\nsvcctl_up{bundle="tick"} 1\n');
    expect(text).toContain('svcctl_check_status{bundle="tick"} 0\n');
    expect(text).toMatch(/^svcctl_last_run_timestamp_seconds\{bundle="tick"\} \d{10}$/m);
    expect(text).toMatch(/^svcctl_next_run_timestamp_seconds\{bundle="tick"\} \d{10}$/m);
    expect((await sandbox.run(['stat', '-c', '%a', `${textfiles}/svcctl_tick.prom`])).stdout.trim()).toBe('644');
    const failing = await check('failing', '--textfile', textfiles);
    expect(failing.exitCode).toBe(2);
    expect((await sandbox.run(['cat', `${textfiles}/svcctl_failing.prom`])).stdout).toContain('svcctl_up{bundle="failing"} 0');
    expect((await sandbox.run(['ls', '-A', textfiles])).stdout.trim().split('\n').sort()).toEqual(['svcctl_failing.prom', 'svcctl_tick.prom']);
  });

  test('without root: the public index stands in for the unreadable receipt, and without an index the manifest', async () => {
    const fromIndex = await sandbox.run([...nobody, 'svcctl', 'check', `${lifecycle}/tick`]);
    expect(fromIndex.exitCode).toBe(0);
    expect(fromIndex.stdout).toMatch(/^SVCCTL OK - tick: /);
    expect(fromIndex.stdout).not.toContain('receipt unreadable');
    await sandbox.sh('mv /var/lib/svcctl/.installed.json /var/lib/svcctl/.installed.json.away');
    try {
      const byPath = await sandbox.run([...nobody, 'svcctl', 'check', `${lifecycle}/tick`]);
      expect(byPath.exitCode).toBe(0);
      expect(byPath.stdout).toMatch(/^SVCCTL OK - tick: .*\[receipt unreadable without root: defaults from the manifest\]/);
      const failing = await sandbox.run([...nobody, 'svcctl', 'check', `${lifecycle}/failing`]);
      expect(failing.exitCode).toBe(2);
    } finally {
      await sandbox.sh('mv /var/lib/svcctl/.installed.json.away /var/lib/svcctl/.installed.json');
    }
  });

  test('the max age: late is WARNING, more than twice late is CRITICAL', async () => {
    // One hour between runs from now on; the last run stays where it was, and its age grows.
    expect((await sandbox.svcctl(['schedule', 'tick', '1h'])).exitCode).toBe(0);
    // Every check below must give the status its own printed age calls for, whatever time has passed; the
    // limits are chosen from the latest age so that WARNING and CRITICAL are each seen, which on a slow run may
    // take another check (the age keeps growing, so a limit can always be found).
    const exitCodes: Record<string, number> = { OK: 0, WARNING: 1, CRITICAL: 2 };
    let age = 0;
    const checkAge = async (limitSeconds: number) => {
      const result = await check('tick', '--max-age', limitSeconds === 60 ? '1min' : `${limitSeconds}s`);
      age = ageOf(result.stdout);
      const status = result.stdout.match(/^SVCCTL (\w+) - /)?.[1] ?? '';
      const fitsAge = Number.isInteger(age) && statusesForAge(age, limitSeconds).includes(status);
      expect({ output: result.stdout, fitsAge, exitCode: result.exitCode }).toEqual({ output: result.stdout, fitsAge: true, exitCode: exitCodes[status] });
      return { result, status };
    };
    const ok = await waitFor('the last success of tick to be 6 s old', () => checkAge(60), () => age >= 6, { timeoutMs: 60_000 });
    expect(ok.status).toBe('OK');
    expect(ok.result.stdout).toMatch(/^SVCCTL OK - tick: last run succeeded \d+s ago \(max age 1min\)/);
    // Late: a limit of two thirds of the latest age puts the age in the middle of (limit, 2 x limit].
    const late = await waitFor('a WARNING', () => checkAge(Math.floor((age * 2) / 3)), (c) => c.status === 'WARNING', { timeoutMs: 60_000 });
    expect(late.result.stdout).toMatch(/^SVCCTL WARNING - tick: late: last success \d+s ago \(max age \d+s\)/);
    // More than twice late: a limit of a third of the age stays exceeded twice over as the age grows.
    const staleLimit = Math.floor(age / 3);
    const stale = await checkAge(staleLimit);
    expect(stale.status).toBe('CRITICAL');
    expect(stale.result.stdout).toMatch(new RegExp(`more than twice the max age ${staleLimit}s`));
    expect((await sandbox.svcctl(['schedule', 'tick', '--reset'])).exitCode).toBe(0);
  }, 120_000);

  test('a timer stopped by hand is CRITICAL', async () => {
    await sandbox.run(['systemctl', 'stop', 'tick.timer']);
    const result = await check('tick');
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toContain('timer tick.timer is inactive');
    await sandbox.run(['systemctl', 'start', 'tick.timer']);
  });

  test('a daemon: OK while it answers on its URL, CRITICAL when stopped', async () => {
    await writeFiles(sandbox, web);
    expect((await sandbox.svcctl(['install', '/tmp/bundles/web', '--yes'])).exitCode).toBe(0);
    const ok = await waitFor('web to answer on its URL', () => check('web'), (result) => result.exitCode === 0);
    expect(ok.stdout).toMatch(/^SVCCTL OK - web: web.service active for \S+, http:\/\/127.0.0.1:18092\/ answered 200 in \d+ ms \| uptime=\d+s;;;0 restarts=0;;;0 response_time=[\d.]+s;;;0$/);
    await sandbox.run(['systemctl', 'stop', 'web.service']);
    const down = await check('web');
    expect(down.exitCode).toBe(2);
    expect(down.stdout).toMatch(/^SVCCTL CRITICAL - web: web.service is not running \(inactive\), http:\/\/127.0.0.1:18092\/ is down \(connection refused\)/);
  });

  test('doctor: a port held by another process is found, with the command that frees it', async () => {
    await sandbox.run(['systemd-run', '--unit=intruder', '/usr/bin/python3', '-m', 'http.server', '18092', '--bind', '127.0.0.1']);
    const intruder = (await sandbox.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'intruder.service'])).stdout.trim();
    await waitFor('the intruder to listen on 18092', () => listeners(18092), (ss) => ss.includes(`pid=${intruder},`));
    const result = await sandbox.svcctl(['doctor', 'web']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/✖ port 18092 is held by python3 \(pid (\d+)\), not by web.service\n\s+fix: kill \1 && systemctl restart web.service/);
    expect(result.stdout).toContain('✖ web.service is inactive');
    await sandbox.run(['systemctl', 'stop', 'intruder']);
    await sandbox.run(['systemctl', 'start', 'web.service']);
    const web = (await sandbox.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'web.service'])).stdout.trim();
    await waitFor('web.service to listen on 18092', () => listeners(18092), (ss) => ss.includes(`pid=${web},`));
    const fine = await sandbox.svcctl(['doctor', 'web']);
    expect(fine.stdout).toMatch(/✔ port 18092 is held by web.service \(pid \d+\)/);
    expect(fine.exitCode).toBe(0);
  });

  test('doctor: a failed job is reported with the tail of its journal', async () => {
    const result = await sandbox.svcctl(['doctor', 'failing']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/✖ the last run of failing.service failed \(exit status 3/);
    expect(result.stdout).toContain('failing: simulated failure, exiting with status 3');
    expect(result.stdout).toContain('fix: journalctl -u failing.service -n 50 --no-pager');
  });

  test('doctor: all is well for tick, exit 0', async () => {
    const result = await sandbox.svcctl(['doctor', 'tick']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('✔ tick.timer is enabled and active');
    expect(result.stdout).toContain('✔ /etc/svcctl/tick/secrets.env: 0600 root:root in a 0700 directory');
    expect(result.stdout).toContain('✔ systemd has read the current unit files');
    expect(result.stdout).toMatch(/all is well$/);
  });

  test('doctor: each problem comes with a command, and running those commands fixes them', async () => {
    await sandbox.sh(
      [
        'systemctl disable tick.timer',
        'chmod 0644 /etc/svcctl/tick/secrets.env',
        'echo 999999 > /run/svcctl.lock',
        'touch /etc/svcctl/tick/.secrets.env.svcctl-0123456789ab',
        "echo '# edited by hand' >> /etc/systemd/system/tick.timer",
      ].join(' && '),
    );
    const broken = await sandbox.svcctl(['doctor', 'tick', '--json']);
    expect(broken.exitCode).toBe(1);
    const report = JSON.parse(broken.stdout) as { ok: boolean; host: Finding[]; bundles: { findings: Finding[] }[] };
    expect(report.ok).toBe(false);
    const problems = [...report.host, ...report.bundles.flatMap((b) => b.findings)].filter((f) => !f.ok);
    // The lock file naming a dead PID is no problem: whether a transaction runs is the kernel's answer (flock).
    expect(problems.map((p) => p.check).sort()).toEqual(['daemon-reload', 'enabled', 'files', 'secrets file', 'temp files']);
    expect(problems.every((p) => typeof p.fix === 'string' && p.fix.length > 0)).toBe(true);
    for (const problem of problems) {
      const fixed = await sandbox.sh(problem.fix!);
      expect({ fix: problem.fix, exitCode: fixed.exitCode, stderr: fixed.exitCode === 0 ? '' : fixed.stderr }).toMatchObject({ exitCode: 0 });
    }
    const after = await sandbox.svcctl(['doctor', 'tick']);
    expect(after.stdout).toMatch(/all is well$/);
    expect(after.exitCode).toBe(0);
  });

  test('doctor: a payload that lost its execute bit and a deleted service user, each with its fix', async () => {
    await sandbox.sh('printf pw > /tmp/redis.pass');
    expect((await sandbox.svcctl(['install', 'cleanup-blocking', '--yes', '--secret', 'REDIS_PASSWORD=@/tmp/redis.pass'])).exitCode).toBe(0);
    expect((await sandbox.svcctl(['doctor', 'cleanup-blocking'])).exitCode).toBe(0);
    await sandbox.sh('chmod 0644 /usr/local/bin/cleanup-blocking-coordination.sh && userdel claude-flow');
    const broken = await sandbox.svcctl(['doctor', 'cleanup-blocking', '--json']);
    expect(broken.exitCode).toBe(1);
    const problems = (JSON.parse(broken.stdout) as { bundles: { findings: Finding[] }[] }).bundles[0]!.findings.filter((f) => !f.ok);
    expect(problems).toEqual([
      {
        check: 'payload',
        ok: false,
        message: '/usr/local/bin/cleanup-blocking-coordination.sh has mode 0644, installed as 0755 (not executable)',
        fix: 'chmod 0755 /usr/local/bin/cleanup-blocking-coordination.sh',
      },
      {
        check: 'user',
        ok: false,
        message: 'cleanup-blocking-coordination.service runs as claude-flow, which does not exist: it fails to start (status 217/USER)',
        fix: 'systemd-sysusers /etc/sysusers.d/svcctl-cleanup-blocking.conf',
      },
    ]);
    for (const problem of problems) expect((await sandbox.sh(problem.fix!)).exitCode).toBe(0);
    const fixed = await sandbox.svcctl(['doctor', 'cleanup-blocking']);
    expect(fixed.stdout).toContain('✔ user claude-flow (cleanup-blocking-coordination.service) exists');
    expect(fixed.stdout).toContain('✔ cleanup-blocking-coordination.service runs /usr/local/bin/cleanup-blocking-coordination.sh (present, executable)');
    expect(fixed.exitCode).toBe(0);
  });

  test('doctor without root: exit 77', async () => {
    const result = await sandbox.run([...nobody, 'svcctl', 'doctor']);
    expect(result.exitCode).toBe(77);
  });

  test('uninstall --purge of everything leaves nothing behind', async () => {
    const result = await sandbox.svcctl(['uninstall', 'tick', 'failing', 'web', 'cleanup-blocking', '--purge', '--yes']);
    expect(result.exitCode).toBe(0);
    expect(await sandbox.changes()).toEqual([]);
    const gone = await check('tick');
    expect(gone.exitCode).toBe(3);
  });
});
