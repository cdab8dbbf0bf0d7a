// svcctl logs and svcctl run against a real systemd: tick (fires every second), failing (exit 3), and a small daemon.
import { describeInSandbox } from '../helpers/sandbox.js';

const lifecycle = `${process.cwd()}/test/fixtures/lifecycle`;
const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stackTrace = /\n\s+at /;

// A daemon that prints two lines and runs until stopped; CRASH=1 in its environment file makes it exit 4 at once.
const daemonBundle = `mkdir -p /root/echod
cat > /root/echod/bundle.yaml <<'EOF'
name: echod
description: Test daemon - prints two lines and sleeps.
units: [echod.service]
enable: [echod.service]
EOF
cat > /root/echod/echod.service <<'EOF'
[Unit]
Description=svcctl test daemon

[Service]
Type=exec
EnvironmentFile=-/run/echod.env
ExecStart=/bin/sh -c 'echo "echod starting as $$$$"; [ -z "$$CRASH" ] || exit 4; echo echod ready; exec sleep infinity'

[Install]
WantedBy=multi-user.target
EOF
`;

describeInSandbox('svcctl logs and run', (sandbox) => {
  beforeAll(async () => {
    const made = await sandbox.sh(daemonBundle);
    expect(made.stderr).toBe('');
    const install = await sandbox.svcctl(['install', `${lifecycle}/tick`, `${lifecycle}/failing`, `${lifecycle}/daemon`, '/root/echod', '--yes']);
    expect(install.exitCode).toBe(0);
    await sleep(3000);
  }, 90_000);

  describe('logs', () => {
    test('-n: the newest entries of the bundle\'s units', async () => {
      const result = await sandbox.svcctl(['logs', 'tick', '-n', '3', '--output', 'cat']);
      expect(result.exitCode).toBe(0);
      expect(result.stdout.trim().split('\n')).toEqual(Array(3).fill(expect.stringMatching(/^tick: hello \(token set, sha256 [0-9a-f]{12}\)$/)));
    });

    test('--since and --unit narrow it; a bad --since or a foreign unit is a usage error (exit 2)', async () => {
      const since = await sandbox.svcctl(['logs', 'tick', '--since', '-2s', '--unit', 'tick', '-o', 'short-iso']);
      expect(since.exitCode).toBe(0);
      const lines = since.stdout.trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(4);
      expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} \S+ sh\[\d+\]: tick: hello/);
      const bad = await sandbox.svcctl(['logs', 'tick', '--since', 'the day after tomorrow-ish']);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toContain('is not a time systemd understands');
      expect(bad.stdout).toBe('');
      const foreign = await sandbox.svcctl(['logs', 'tick', '--unit', 'failing.service']);
      expect(foreign.exitCode).toBe(2);
      expect(foreign.stderr).toContain('failing.service is not a unit of bundle tick');
      expect(foreign.stderr).toContain('tick.service, tick.timer');
    });

    test('--json: one document with the newest entries', async () => {
      const result = await sandbox.svcctl(['logs', 'failing', '--json']);
      expect(result.exitCode).toBe(0);
      const data = JSON.parse(result.stdout);
      expect(data.bundle).toBe('failing');
      expect(data.units).toEqual(['failing.service', 'failing.timer']);
      expect(Array.isArray(data.entries)).toBe(true);
      const followJson = await sandbox.svcctl(['logs', 'tick', '--json', '-f']);
      expect(followJson.exitCode).toBe(2);
      expect(JSON.parse(followJson.stdout).error.message).toContain('cannot follow');
    });

    test('-f follows until Ctrl-C (SIGINT to the process group), then exits 0 without a stack trace', async () => {
      // timeout sends the signal to svcctl and journalctl alike, as a terminal's Ctrl-C does.
      const result = await sandbox.sh('timeout --preserve-status -s INT 3 svcctl logs tick -f -n 0 -o cat; echo "exit=$?"');
      expect(result.stdout).toMatch(/tick: hello/);
      expect(result.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2); // new entries arrived while following
      expect(result.stdout).toMatch(/exit=0\s*$/);
      expect(result.stderr).not.toMatch(stackTrace);
      expect(result.stderr).toBe('');
    });

    test('-f stops on SIGINT to svcctl alone too, and leaves no journalctl behind', async () => {
      const result = await sandbox.sh('svcctl logs tick -f >/dev/null 2>/root/logs.err & p=$!; sleep 2; kill -INT $p; wait $p; echo "exit=$?"; sleep 0.3; cat /root/logs.err; pgrep -x journalctl || echo "no journalctl"');
      expect(result.stdout).toMatch(/exit=0/);
      expect(result.stdout).toContain('no journalctl');
      expect(result.stdout).not.toMatch(stackTrace);
    });

    test('on a pipe: `| head -1` ends it quietly, exit 0, once the reader is gone', async () => {
      const started = Date.now();
      const result = await sandbox.run(['bash', '-c', 'svcctl logs tick -f 2>/root/pipe.err | head -1; echo "--- rc=${PIPESTATUS[0]}"; cat /root/pipe.err']);
      expect(Date.now() - started).toBeLessThan(15_000);
      const [first, marker, ...rest] = result.stdout.split('\n');
      expect(first).toMatch(/tick: hello/);
      expect(marker).toBe('--- rc=0');
      expect(rest.join('\n').trim()).toBe('');
    });

    test('not installed: exit 2 with a hint; without root: exit 77', async () => {
      const missing = await sandbox.svcctl(['logs', 'nope']);
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toContain('svcctl status');
      const denied = await sandbox.run([...nobody, 'svcctl', 'logs', 'tick']);
      expect(denied.exitCode).toBe(77);
    });
  });

  describe('run', () => {
    test('a failing oneshot: its output, and svcctl exits with its exit status 3', async () => {
      const result = await sandbox.svcctl(['run', 'failing']);
      expect(result.exitCode).toBe(3);
      expect(result.stdout).toBe('failing: simulated failure, exiting with status 3');
      expect(result.stderr).toMatch(/failing\.service failed: exit 3/);
      expect(result.stderr).not.toMatch(stackTrace);
    });

    test('tick (its timer fires every second): only the output of this run, exit 0', async () => {
      for (let i = 0; i < 3; i++) {
        const result = await sandbox.svcctl(['run', 'tick']);
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toMatch(/^tick: hello \(token set, sha256 [0-9a-f]{12}\)$/);
        expect(result.stderr).toMatch(/tick\.service succeeded/);
      }
    });

    test('--json: the run, its exit status and its output lines in one document', async () => {
      const result = await sandbox.svcctl(['run', 'failing', '--json']);
      expect(result.exitCode).toBe(3);
      const data = JSON.parse(result.stdout);
      expect(data).toMatchObject({ bundle: 'failing', service: 'failing.service', type: 'oneshot', action: 'started', exitCode: 3, lines: 1 });
      expect(data.invocationId).toMatch(/^[0-9a-f]{32}$/);
      expect(data.run).toMatchObject({ state: 'failed', result: 'exit-code', exitStatus: 3 });
      expect(data.output).toEqual(['failing: simulated failure, exiting with status 3']);
      // The invocation id selects exactly this run in the journal; journald leaves the id off some lines of a
      // process that exits within milliseconds, so (as svcctl run does) the run's main PID selects them too.
      const mainPid = Number((await sandbox.run(['systemctl', 'show', '-p', 'ExecMainPID', '--value', 'failing.service'])).stdout.trim());
      expect(mainPid).toBeGreaterThan(0);
      const journal = await sandbox.run(['journalctl', `_SYSTEMD_INVOCATION_ID=${data.invocationId}`, '+', `_PID=${mainPid}`, '-o', 'cat', '--no-pager']);
      expect(journal.stdout).toBe('failing: simulated failure, exiting with status 3');
    });

    test('--no-follow: no output, still the exit status', async () => {
      const result = await sandbox.svcctl(['run', 'failing', '--no-follow']);
      expect(result.exitCode).toBe(3);
      expect(result.stdout).toBe('');
    });

    test('a daemon: started or restarted, its first lines shown, exit 0 once it is up', async () => {
      const first = await sandbox.svcctl(['run', 'echod']);
      expect(first.exitCode).toBe(0);
      expect(first.stdout).toMatch(/^echod starting as \d+\nechod ready$/);
      expect(first.stderr).toMatch(/echod\.service restarted: active \(running\), main PID \d+/);
      const pid = first.stdout.match(/as (\d+)/)![1];
      const second = await sandbox.svcctl(['run', 'echod', '--json']);
      expect(second.exitCode).toBe(0);
      const data = JSON.parse(second.stdout);
      expect(data).toMatchObject({ type: 'exec', action: 'restarted', activeState: 'active', subState: 'running', exitCode: 0 });
      expect(data.output).toEqual([expect.stringMatching(/^echod starting as \d+$/), 'echod ready']);
      expect(data.output[0]).not.toContain(`as ${pid}`);
    });

    test('the daemon fixture (python http.server): restarted, "Serving HTTP" shown, status says running with its PID', async () => {
      const result = await sandbox.svcctl(['run', 'daemon']);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe('Serving HTTP on 127.0.0.1 port 18080 (http://127.0.0.1:18080/) ...');
      const pid = result.stderr.match(/daemon\.service restarted: active \(running\), main PID (\d+)/)?.[1];
      expect(pid).toBeDefined();
      const status = await sandbox.svcctl(['status', 'daemon']);
      expect(status.stdout).toContain(`state:      running (active/running), main PID ${pid}`);
      // status asked the health URL, which http.server logs as a request line after "Serving HTTP".
      const logs = await sandbox.svcctl(['logs', 'daemon', '-n', '5']);
      expect(logs.stdout).toMatch(new RegExp(`python3\\[${pid}\\]: Serving HTTP on 127\\.0\\.0\\.1 port 18080`));
    });

    test('a daemon that dies at start: exit with its status', async () => {
      await sandbox.sh('echo CRASH=1 > /run/echod.env');
      try {
        const result = await sandbox.svcctl(['run', 'echod']);
        expect(result.exitCode).toBe(4);
        expect(result.stdout).toMatch(/^echod starting as \d+$/);
        expect(result.stderr).toMatch(/echod\.service restarted but is failed/);
      } finally {
        await sandbox.sh('rm -f /run/echod.env && systemctl reset-failed echod.service; systemctl start echod.service');
      }
    });

    test('on a pipe whose reader leaves, the run still ends with its exit status', async () => {
      const result = await sandbox.run(['bash', '-c', 'svcctl run failing 2>/root/run.err | head -c 0; echo "rc=${PIPESTATUS[0]}"; cat /root/run.err']);
      expect(result.stdout).toMatch(/^rc=3\n/);
      expect(result.stdout).not.toMatch(stackTrace);
      expect(result.stdout).not.toContain('EPIPE');
    });

    test('not installed: exit 2; without root: exit 77', async () => {
      const missing = await sandbox.svcctl(['run', 'nope']);
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toContain('bundle nope is not installed');
      const denied = await sandbox.run([...nobody, 'svcctl', 'run', 'tick']);
      expect(denied.exitCode).toBe(77);
      expect(denied.stderr).toMatch(/svcctl run needs root/);
    });

    test('--help of logs and run have examples', async () => {
      for (const command of ['logs', 'run']) {
        const help = await sandbox.svcctl([command, '--help']);
        expect(help.exitCode).toBe(0);
        expect(help.stdout).toContain('EXAMPLES');
      }
    });
  });
});
