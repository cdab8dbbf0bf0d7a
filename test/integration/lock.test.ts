// The transaction lock against the built CLI in a sandbox: one holder at a time, whatever the lock file says or whoever was killed.
import { describeInSandbox, type RunResult } from '../helpers/sandbox.js';

const lockFile = '/run/svcctl.lock';
const trace = '/run/lock-test/trace';
/** A transaction that takes the lock and does nothing else: uninstalling a bundle that is not installed. */
const transaction = ['uninstall', 'lock-probe', '--yes'];

/** Polls `check` until it holds or `deadlineMs` passes (CI is a loaded 2-core machine: no fixed sleeps). */
async function eventually(check: () => Promise<boolean>, deadlineMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

/** Checks a trace of enter/leave lines: every "enter" is followed by the "leave" of the same process, never by another "enter". */
function overlaps(lines: string[]): string[] {
  const problems: string[] = [];
  let holder: string | undefined;
  for (const [index, line] of lines.entries()) {
    const [event, pid] = line.split(' ');
    if (event === 'enter') {
      if (holder !== undefined) problems.push(`line ${index + 1}: ${pid} entered while ${holder} held the lock`);
      holder = pid;
    } else if (event === 'leave') {
      if (holder !== pid) problems.push(`line ${index + 1}: ${pid} left, but ${holder ?? 'nobody'} held the lock`);
      holder = undefined;
    } else {
      problems.push(`line ${index + 1}: unexpected "${line}"`);
    }
  }
  return problems;
}

describeInSandbox('the transaction lock (flock)', (sandbox) => {
  const holders: { pid: string; done: Promise<RunResult> }[] = [];

  /** Starts a test-build transaction that holds the lock for long, and waits until it does; returns its PID and its end. */
  async function startHolder(): Promise<{ pid: string; done: Promise<RunResult> }> {
    await sandbox.sh(`mkdir -p /run/lock-test && : > ${trace}`);
    const done = sandbox.svcctlTest(transaction, { env: { SVCCTL_TEST_LOCK_TRACE: trace, SVCCTL_TEST_LOCK_HOLD_MS: '600000' }, timeoutMs: 600_000 });
    let pid = '';
    const entered = await eventually(async () => {
      pid = /^enter (\d+)$/m.exec((await sandbox.run(['cat', trace])).stdout)?.[1] ?? '';
      return pid !== '';
    });
    expect(entered).toBe(true);
    holders.push({ pid, done });
    return { pid, done };
  }

  // A holder left running by a failed test is ended here, by its PID: a process still inside when the sandbox
  // powers off is stopped (SIGSTOP) by systemd's shutdown, and the nsenter waiting for it on the host then never returns.
  afterEach(async () => {
    for (const holder of holders.splice(0)) {
      await sandbox.run(['kill', '-KILL', holder.pid]);
      await holder.done;
    }
  });

  test('20 rounds of 8 concurrent transactions, each round after a stale lock file: never two holders at once', async () => {
    await sandbox.sh(`mkdir -p /run/lock-test && : > ${trace} && : > /run/lock-test/stderr`);
    // 8 at once after a stale file showed two holders in 3 of 20 rounds with the PID-file lock this replaced.
    const rounds = 20;
    const concurrent = 8;
    for (let round = 0; round < rounds; round++) {
      const result = await sandbox.sh(
        [
          // What a SIGKILLed holder of the old lock left behind: a file naming a dead PID.
          `echo 999999 > ${lockFile}`,
          'pids=""',
          `for i in $(seq ${concurrent}); do svcctl-test ${transaction.join(' ')} > /dev/null 2>> /run/lock-test/stderr & pids="$pids $!"; done`,
          'rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc',
        ].join('\n'),
        { env: { SVCCTL_TEST_LOCK_TRACE: trace, SVCCTL_TEST_LOCK_HOLD_MS: '20', SVCCTL_LOCK_WAIT_MS: '120000' } },
      );
      // Each says "✔ lock-probe is not installed: nothing to do" on stderr; anything else is an error.
      const errors = (await sandbox.run(['cat', '/run/lock-test/stderr'])).stdout.split('\n').filter((line) => line !== '' && !line.startsWith('✔ '));
      expect({ round, exitCode: result.exitCode, errors }).toEqual({ round, exitCode: 0, errors: [] });
    }
    const lines = (await sandbox.run(['cat', trace])).stdout.trim().split('\n');
    expect(lines).toHaveLength(rounds * concurrent * 2);
    expect(overlaps(lines)).toEqual([]);
  }, 600_000);

  test('a second transaction waits, then fails naming the holder; doctor says a transaction is running; the file is 0600', async () => {
    const holder = await startHolder();
    const second = await sandbox.svcctl(transaction, { env: { SVCCTL_LOCK_WAIT_MS: '500' } });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`another svcctl transaction is running (pid ${holder.pid}, lock ${lockFile})`);
    const doctor = await sandbox.svcctl(['doctor', '--json']);
    const lock = (JSON.parse(doctor.stdout) as { host: { check: string; ok: boolean; message: string }[] }).host.find((f) => f.check === 'lock');
    expect(lock).toEqual({ check: 'lock', ok: true, message: `a transaction is running (pid ${holder.pid}, ${lockFile})` });
    expect((await sandbox.run(['stat', '-c', '%a %U %F', lockFile])).stdout.trim()).toBe('600 root regular file');
  }, 120_000);

  test('a SIGKILLed holder never blocks the next transaction, not even for a moment', async () => {
    const holder = await startHolder();
    holders.splice(holders.indexOf(holder), 1);
    await sandbox.run(['kill', '-KILL', holder.pid]);
    expect((await holder.done).exitCode).not.toBe(0);
    // The killed holder's file is still there, naming it: the kernel let go of its lock when it died.
    expect((await sandbox.run(['cat', lockFile])).stdout.trim()).toBe(holder.pid);
    const next = await sandbox.svcctl(transaction, { env: { SVCCTL_LOCK_WAIT_MS: '0' } });
    expect(next.stderr).not.toContain('another svcctl transaction');
    expect(next.exitCode).toBe(0);
  }, 120_000);

  test('a lock file naming an unrelated live process, or empty, blocks nothing, and doctor finds nothing wrong', async () => {
    for (const content of ['echo 1', ':']) {
      await sandbox.sh(`${content} > ${lockFile}`);
      const result = await sandbox.svcctl(transaction, { env: { SVCCTL_LOCK_WAIT_MS: '0' } });
      expect({ content, exitCode: result.exitCode, stderr: result.stderr }).toEqual({ content, exitCode: 0, stderr: expect.not.stringContaining('another svcctl transaction') });
      await sandbox.sh(`${content} > ${lockFile}`);
      const doctor = await sandbox.svcctl(['doctor', '--json']);
      const lock = (JSON.parse(doctor.stdout) as { host: { check: string; ok: boolean; message: string }[] }).host.find((f) => f.check === 'lock');
      expect(lock).toEqual({ check: 'lock', ok: true, message: `no transaction is running (${lockFile})` });
    }
    await sandbox.run(['rm', '-f', lockFile]);
  }, 120_000);

  test('a symbolic link at the lock path, or a lock directory others can write, is refused and followed nowhere', async () => {
    await sandbox.sh(`ln -s /etc/hostname ${lockFile}`);
    const hostname = (await sandbox.run(['cat', '/etc/hostname'])).stdout;
    const linked = await sandbox.svcctl(transaction, { env: { SVCCTL_LOCK_WAIT_MS: '0' } });
    expect(linked.exitCode).toBe(2);
    expect(linked.stderr).toContain(`refusing the transaction lock ${lockFile}: it is a symbolic link`);
    expect((await sandbox.run(['cat', '/etc/hostname'])).stdout).toBe(hostname);
    await sandbox.run(['rm', '-f', lockFile]);
    // A --root tree has its lock in DIR/var/lib/svcctl.
    await sandbox.sh('mkdir -p /srv/lock-root/var/lib/svcctl && chmod 0777 /srv/lock-root/var/lib/svcctl');
    const open = await sandbox.svcctl([...transaction, '--root', '/srv/lock-root']);
    expect(open.exitCode).toBe(2);
    expect(open.stderr).toContain('refusing the transaction lock /srv/lock-root/var/lib/svcctl/.lock: its directory is mode 0777, owned by uid 0');
    await sandbox.sh('chmod 0700 /srv/lock-root/var/lib/svcctl && chown 65534 /srv/lock-root/var/lib/svcctl');
    const foreign = await sandbox.svcctl([...transaction, '--root', '/srv/lock-root']);
    expect(foreign.exitCode).toBe(2);
    expect(foreign.stderr).toContain('its directory is mode 0700, owned by uid 65534');
    await sandbox.sh('chown 0 /srv/lock-root/var/lib/svcctl');
    const fine = await sandbox.svcctl([...transaction, '--root', '/srv/lock-root']);
    expect(fine.exitCode).toBe(0);
    // A transaction that ended well leaves no lock file in the tree.
    expect((await sandbox.run(['find', '/srv/lock-root', '-type', 'f'])).stdout).toBe('');
    await sandbox.run(['rm', '-rf', '/srv/lock-root']);
    expect(await sandbox.changes()).toEqual([]);
  }, 120_000);
});
