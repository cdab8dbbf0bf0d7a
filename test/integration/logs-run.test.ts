// svcctl logs and svcctl run against a real systemd: tick (fires every second), failing (exit 3), and a small daemon.
import { describeInSandbox, type Sandbox } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const lifecycle = `${process.cwd()}/test/fixtures/lifecycle`;
const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
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

/** A journal entry as `journalctl -o json` prints it (the fields the tests read). */
interface Entry {
  __CURSOR: string;
  __REALTIME_TIMESTAMP: string;
  MESSAGE: string;
  /** The unit a line of systemd (PID 1) is about. */
  UNIT?: string;
  /** The unit whose process wrote the line. */
  _SYSTEMD_UNIT?: string;
}

const entriesOf = (jsonLines: string): Entry[] => jsonLines.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Entry);
/** The unit an entry belongs to: the service's own output, or systemd's line about the unit. */
const unitOf = (entry: Entry): string | undefined => (entry._SYSTEMD_UNIT === 'init.scope' ? entry.UNIT : entry._SYSTEMD_UNIT);
const usec = (entry: Entry): bigint => BigInt(entry.__REALTIME_TIMESTAMP);

async function journal(sandbox: Sandbox, match: string[]): Promise<Entry[]> {
  await sandbox.run(['journalctl', '--sync']);
  return entriesOf((await sandbox.run(['journalctl', ...match, '-o', 'json', '--no-pager'])).stdout);
}

/** What tick.service itself printed (not systemd's lines about it). */
const tickOutput = (sandbox: Sandbox) => journal(sandbox, ['_SYSTEMD_UNIT=tick.service']);

describeInSandbox('svcctl logs and run', (sandbox) => {
  beforeAll(async () => {
    const made = await sandbox.sh(daemonBundle);
    expect(made.stderr).toBe('');
    const install = await sandbox.svcctl(['install', `${lifecycle}/tick`, `${lifecycle}/failing`, `${lifecycle}/daemon`, '/root/echod', '--yes']);
    expect(install.exitCode).toBe(0);
    await waitFor('tick.service to have run three times', () => tickOutput(sandbox), (entries) => entries.length >= 3, { timeoutMs: 60_000 });
  }, 90_000);

  describe('logs', () => {
    test('-n: the newest entries of the bundle\'s units', async () => {
      const newestBefore = (await journal(sandbox, ['--unit', 'tick.service', '--unit', 'tick.timer', '-n', '1'])).at(-1)!;
      const result = await sandbox.svcctl(['logs', 'tick', '-n', '3', '--output', 'json']);
      expect(result.exitCode).toBe(0);
      const entries = entriesOf(result.stdout);
      expect(entries).toHaveLength(3);
      expect(entries.map(unitOf).filter((u) => u !== 'tick.service' && u !== 'tick.timer')).toEqual([]);
      // The newest: oldest first, the last no older than the newest entry before the call.
      expect([...entries].sort((x, y) => Number(usec(x) - usec(y)))).toEqual(entries);
      expect(usec(entries[2]!) >= usec(newestBefore)).toBe(true);
    });

    test('--since and --unit narrow it; a bad --since or a foreign unit is a usage error (exit 2)', async () => {
      // --since the exact time of one of tick's lines (systemd takes "@SECONDS.MICROSECONDS"): that line comes first.
      const pivot = (await tickOutput(sandbox)).at(-1)!;
      const since = `@${usec(pivot) / 1_000_000n}.${String(usec(pivot) % 1_000_000n).padStart(6, '0')}`;
      const narrowed = await sandbox.svcctl(['logs', 'tick', '--since', since, '--unit', 'tick', '-o', 'json']);
      expect(narrowed.exitCode).toBe(0);
      const entries = entriesOf(narrowed.stdout);
      expect(entries[0]?.__CURSOR).toBe(pivot.__CURSOR);
      expect(entries.filter((e) => usec(e) < usec(pivot))).toEqual([]);
      expect(entries.filter((e) => unitOf(e) !== 'tick.service')).toEqual([]);
      // Without them: older lines, and systemd's line about the timer starting.
      const everything = entriesOf((await sandbox.svcctl(['logs', 'tick', '-o', 'json'])).stdout);
      expect(everything.some((e) => usec(e) < usec(pivot))).toBe(true);
      expect(everything.some((e) => unitOf(e) === 'tick.timer')).toBe(true);
      const text = await sandbox.svcctl(['logs', 'tick', '--since', since, '--unit', 'tick', '-o', 'short-iso']);
      expect(text.stdout.split('\n')[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} \S+ sh\[\d+\]: tick: hello/);
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
      // failing has not run: its journal is what systemd said about its units, and stays as it is.
      const expected = await journal(sandbox, ['--unit', 'failing.service', '--unit', 'failing.timer']);
      expect(expected.map(unitOf)).toContain('failing.timer');
      const result = await sandbox.svcctl(['logs', 'failing', '--json']);
      expect(result.exitCode).toBe(0);
      const data = JSON.parse(result.stdout) as { bundle: string; units: string[]; entries: Entry[] };
      expect(data.bundle).toBe('failing');
      expect(data.units).toEqual(['failing.service', 'failing.timer']);
      expect(data.entries.map((e) => e.__CURSOR)).toEqual(expected.map((e) => e.__CURSOR));
      const newest = JSON.parse((await sandbox.svcctl(['logs', 'tick', '--json', '-n', '2'])).stdout) as { entries: Entry[] };
      expect(newest.entries.map(unitOf)).toEqual([expect.stringMatching(/^tick\.(service|timer)$/), expect.stringMatching(/^tick\.(service|timer)$/)]);
      const followJson = await sandbox.svcctl(['logs', 'tick', '--json', '-f']);
      expect(followJson.exitCode).toBe(2);
      expect(JSON.parse(followJson.stdout).error.message).toContain('cannot follow');
    });

    test('-f follows until Ctrl-C (SIGINT to the process group), then exits 0 without a stack trace', async () => {
      // A session of its own, so that `kill -INT -PGID` reaches svcctl and journalctl alike, as a terminal's
      // Ctrl-C does; it is sent once two new runs of tick were followed (-n 0: nothing older is shown).
      const result = await sandbox.run([
        'bash',
        '-c',
        // The files exist before the poll reads them: the background shell opens its redirections when it
        // is scheduled, which on a loaded machine can be after the first grep.
        `: >/root/follow.out; : >/root/follow.err
        setsid svcctl logs tick -f -n 0 -o cat >>/root/follow.out 2>>/root/follow.err & pid=$!
        for i in $(seq 300); do [ "$(grep -c '^tick: hello' /root/follow.out)" -ge 2 ] && break; sleep 0.1; done
        kill -INT -- -$pid; wait $pid; echo "exit=$?"; echo "--- out"; cat /root/follow.out; echo "--- err"; cat /root/follow.err`,
      ]);
      const [status, out, err] = result.stdout.split(/^--- (?:out|err)$/m);
      expect(status!.trim()).toBe('exit=0');
      expect(out!.split('\n').filter((line) => /^tick: hello/.test(line)).length).toBeGreaterThanOrEqual(2);
      expect(err!.trim()).toBe('');
      expect(result.stderr).toBe('');
    }, 120_000);

    test('-f stops on SIGINT to svcctl alone too, and leaves no journalctl behind', async () => {
      const result = await sandbox.run([
        'bash',
        '-c',
        `svcctl logs tick -f >/dev/null 2>/root/logs.err & p=$!
        for i in $(seq 300); do pgrep -x journalctl >/dev/null && break; sleep 0.1; done
        pgrep -x journalctl >/dev/null && echo "following"
        kill -INT $p; wait $p; echo "exit=$?"
        for i in $(seq 200); do pgrep -x journalctl >/dev/null || break; sleep 0.1; done
        cat /root/logs.err; pgrep -x journalctl || echo "no journalctl"`,
      ]);
      expect(result.stdout).toMatch(/^following\nexit=0\n/);
      expect(result.stdout).toContain('no journalctl');
      expect(result.stdout).not.toMatch(stackTrace);
    }, 120_000);

    test('on a pipe: `| head -1` ends it quietly, exit 0, once the reader is gone', async () => {
      const started = Date.now();
      const result = await sandbox.run(['bash', '-c', 'svcctl logs tick -f 2>/root/pipe.err | head -1; echo "--- rc=${PIPESTATUS[0]}"; cat /root/pipe.err']);
      expect(Date.now() - started).toBeLessThan(60_000);
      const [first, marker, ...rest] = result.stdout.split('\n');
      // The oldest of the last ten entries: tick's output, or systemd's line about tick.service.
      expect(first).toMatch(/^\w{3} \d\d \d\d:\d\d:\d\d \S+ (sh\[\d+\]: tick: hello|systemd\[1\]: .*tick\.service)/);
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

    test("issue 9 item 28: the job's exit status and svcctl's own exit codes are told apart by --json (run or error)", async () => {
      const job = JSON.parse((await sandbox.svcctl(['run', 'failing', '--json'])).stdout);
      expect(job.error).toBeUndefined();
      expect(job.run.exitStatus).toBe(3);
      const own = await sandbox.svcctl(['run', 'not-installed-here', '--json']);
      expect(own.exitCode).toBe(2);
      const data = JSON.parse(own.stdout);
      expect(data.run).toBeUndefined();
      expect(data.error).toMatchObject({ exitCode: 2, message: expect.stringContaining('not-installed-here') });
    });

    test('--no-follow: no output, still the exit status', async () => {
      const result = await sandbox.svcctl(['run', 'failing', '--no-follow']);
      expect(result.exitCode).toBe(3);
      expect(result.stdout).toBe('');
    });

    /**
     * `svcctl run BUNDLE --json` of a daemon: exit 0, restarted, and what it shows is the start of this run's
     * own lines, in order. svcctl shows a daemon's first lines for up to two seconds, which a loaded machine
     * may not fill: it is run again (three runs at most) until one showed all of `expected`.
     */
    async function runDaemonUntilShown(bundle: string, expected: (mainPid: number) => string[]) {
      let data: { mainPid: number; output: string[] } & Record<string, unknown> = { mainPid: 0, output: [] };
      for (let attempt = 1; attempt <= 3; attempt++) {
        if (attempt > 1) await sandbox.run(['systemctl', 'reset-failed', `${bundle}.service`]); // its start rate limit
        const result = await sandbox.svcctl(['run', bundle, '--json']);
        expect({ exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ exitCode: 0 });
        data = JSON.parse(result.stdout);
        expect(data).toMatchObject({ action: 'restarted', activeState: 'active', subState: 'running', exitCode: 0, lines: data.output.length });
        expect(data.output).toEqual(expected(data.mainPid).slice(0, data.output.length));
        if (data.output.length === expected(data.mainPid).length) break;
      }
      expect(data.output).toEqual(expected(data.mainPid));
      return data;
    }
    const echodLines = (mainPid: number) => [`echod starting as ${mainPid}`, 'echod ready'];

    test('a daemon: started or restarted, its first lines shown, exit 0 once it is up', async () => {
      const first = await sandbox.svcctl(['run', 'echod']);
      expect(first.exitCode).toBe(0);
      const pid = Number(first.stderr.match(/echod\.service restarted: active \(running\), main PID (\d+)/)?.[1]);
      expect(pid).toBeGreaterThan(0);
      const shown = first.stdout.split('\n').filter(Boolean);
      expect(shown).toEqual(echodLines(pid).slice(0, shown.length));
      const data = await runDaemonUntilShown('echod', echodLines);
      expect(data).toMatchObject({ type: 'exec' });
      expect(data.mainPid).not.toBe(pid);
    });

    test('the daemon fixture (python http.server): restarted, "Serving HTTP" shown, status says running with its PID', async () => {
      const data = await runDaemonUntilShown('daemon', () => ['Serving HTTP on 127.0.0.1 port 18080 (http://127.0.0.1:18080/) ...']);
      const status = await sandbox.svcctl(['status', 'daemon']);
      expect(status.stdout).toContain(`state:      running (active/running), main PID ${data.mainPid}`);
      // Not only the newest line: status asked the health URL, which http.server logs as a request line after
      // "Serving HTTP", and systemd's own lines about the unit are in the journal too.
      const logs = await sandbox.svcctl(['logs', 'daemon', '-n', '20']);
      expect(logs.stdout).toMatch(new RegExp(`python3\\[${data.mainPid}\\]: Serving HTTP on 127\\.0\\.0\\.1 port 18080`));
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
