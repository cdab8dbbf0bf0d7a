// Proves the harness: a real systemd runs units and timers inside, and nothing reaches the host.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { describeInSandbox } from '../helpers/sandbox.js';
import { sandboxStateRoot } from '../../src/system/sandbox.js';

const bin = `${process.cwd()}/bin/run.js`;
/** The built CLI on the host, as a user runs `svcctl sandbox ...`. */
const hostSvcctl = async (args: string[], env: Record<string, string> = {}) => {
  const result = await execa(process.execPath, [bin, ...args], { reject: false, env: { NO_COLOR: '1', ...env }, stdin: 'ignore', timeout: 60_000 });
  return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 128 };
};

/** Polls `check` until it holds or `deadlineMs` passes (CI is a loaded 2-core machine: no fixed sleeps). */
async function eventually(check: () => Promise<boolean>, deadlineMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return check();
}

describeInSandbox('sandbox: a real systemd in private namespaces', (sandbox) => {
  test('systemd is PID 1 inside, booted to basic.target only', async () => {
    const state = await sandbox.run(['systemctl', 'is-system-running']);
    expect(['running', 'degraded']).toContain(state.stdout.trim());
    const pid1 = await sandbox.run(['cat', '/proc/1/comm']);
    expect(pid1.stdout.trim()).toBe('systemd');
    const multiUser = await sandbox.run(['systemctl', 'is-active', 'multi-user.target']);
    expect(multiUser.stdout.trim()).toBe('inactive');
  });

  test("the distribution's maintenance timers are masked inside (they would write under /var at their hour); systemd's own run", async () => {
    const wanted = (await sandbox.sh('ls /etc/systemd/system/timers.target.wants/')).stdout.trim().split('\n').filter((t) => t.endsWith('.timer'));
    expect(wanted.length).toBeGreaterThan(0);
    const states = (await sandbox.run(['systemctl', 'show', ...wanted, '-p', 'Id', '-p', 'LoadState', '-p', 'ActiveState'])).stdout;
    expect(states.match(/^LoadState=.*$/gm)).toEqual(wanted.map(() => 'LoadState=masked'));
    expect(states.match(/^ActiveState=.*$/gm)).toEqual(wanted.map(() => 'ActiveState=inactive'));
    expect((await sandbox.run(['systemctl', 'is-active', 'systemd-tmpfiles-clean.timer'])).stdout.trim()).toBe('active');
  });

  test('a unit written inside runs and its journal line is read back', async () => {
    const marker = `svcctl-harness-${Date.now()}`;
    await sandbox.sh(`printf '[Service]\\nType=oneshot\\nExecStart=/bin/echo ${marker}\\n' > /etc/systemd/system/harness-echo.service && systemctl daemon-reload`);
    const start = await sandbox.run(['systemctl', 'start', 'harness-echo.service']);
    expect(start.exitCode).toBe(0);
    // journald may still be reading the unit's stream when start returns: wait for the line.
    const read = async () => (await sandbox.run(['journalctl', '-u', 'harness-echo.service', '-o', 'cat', '--no-pager'])).stdout.includes(marker);
    expect(await eventually(read)).toBe(true);
  });

  test('the host\'s /etc/systemd/system is untouched by a write there inside', async () => {
    const before = readdirSync('/etc/systemd/system').sort();
    expect(existsSync('/etc/systemd/system/harness-echo.service')).toBe(false);
    const inside = await sandbox.run(['test', '-f', '/etc/systemd/system/harness-echo.service']);
    expect(inside.exitCode).toBe(0);
    expect(readdirSync('/etc/systemd/system').sort()).toEqual(before);
  });

  test('a timer with a 1 s interval fires repeatedly', async () => {
    await sandbox.sh(
      [
        "printf '[Service]\\nType=oneshot\\nExecStart=/bin/echo tick\\n' > /etc/systemd/system/harness-tick.service",
        "printf '[Timer]\\nOnActiveSec=1s\\nOnUnitActiveSec=1s\\nAccuracySec=1ms\\n' > /etc/systemd/system/harness-tick.timer",
        'systemctl daemon-reload',
        'systemctl start harness-tick.timer',
      ].join(' && '),
    );
    const ticks = async () => (await sandbox.run(['journalctl', '-u', 'harness-tick.service', '-o', 'cat', '--no-pager', '--grep', '^tick$'])).stdout.trim().split('\n').filter(Boolean).length;
    expect(await eventually(async () => (await ticks()) >= 2)).toBe(true);
    await sandbox.run(['systemctl', 'stop', 'harness-tick.timer']);
  });

  test('changes reports a file created inside, and nothing once it is removed', async () => {
    await sandbox.sh('rm -f /etc/systemd/system/harness-*.service /etc/systemd/system/harness-*.timer && systemctl daemon-reload');
    expect(await sandbox.changes()).toEqual([]);
    await sandbox.sh('mkdir -p /opt/harness && echo data > /opt/harness/file && echo x > /usr/local/bin/harness-tool');
    const changes = await sandbox.changes();
    expect(changes).toEqual(
      expect.arrayContaining([
        { path: '/opt/harness', change: 'created', kind: 'directory' },
        { path: '/opt/harness/file', change: 'created', kind: 'file' },
        { path: '/usr/local/bin/harness-tool', change: 'created', kind: 'file' },
      ]),
    );
    await sandbox.sh('rm -rf /opt/harness /usr/local/bin/harness-tool');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('changes sees host files hidden by a directory deleted and made again inside (an opaque directory)', async () => {
    const doc = '/usr/share/doc/util-linux';
    const hostFiles = (await sandbox.run(['ls', '-A', doc])).stdout.trim().split('\n');
    expect(hostFiles.length).toBeGreaterThan(1);
    await sandbox.sh(`cp -a ${doc} /root/doc-copy && rm -rf ${doc} && mkdir -m 0755 ${doc} && touch ${doc}/new`);
    const changes = await sandbox.changes();
    expect(changes).toEqual(expect.arrayContaining([{ path: `${doc}/new`, change: 'created', kind: 'file' }, ...hostFiles.map((f) => expect.objectContaining({ path: `${doc}/${f}`, change: 'deleted' }))]));
    // Put back as it was (copies with the same content and modes): no change is left.
    await sandbox.sh(`rm ${doc}/new && cp -a /root/doc-copy/. ${doc}/ && rm -rf /root/doc-copy`);
    expect(await sandbox.changes()).toEqual([]);
  });

  test('the network inside is loopback only', async () => {
    const links = await sandbox.run(['ip', '-o', 'link']);
    expect(links.stdout.trim().split('\n')).toHaveLength(1);
    expect(links.stdout).toContain('lo');
  });

  test('svcctl sandbox without root: exit 77 and one line saying so', async () => {
    const result = await sandbox.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'svcctl', 'sandbox', 'status']);
    expect(result.exitCode).toBe(77);
    expect(result.stderr.trim().split('\n')[0]).toMatch(/svcctl sandbox needs root/);
  });

  test('the built CLI is on PATH inside as svcctl', async () => {
    const version = await sandbox.svcctl(['--version']);
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toMatch(/^svcctl\/\d+\.\d+\.\d+ /);
  });

  test('sandbox exec passes every word after -- to the command unchanged and in order', async () => {
    const name = sandbox.record().name;
    const words = ['a', 'b', 'a', 'c', name, '--name', name, '-n', 'x', '--', '--help', '--secret', 'A=@f', '--secret', 'B=@g'];
    const result = await hostSvcctl(['sandbox', 'exec', '--name', name, '--', 'printf', '[%s]', ...words]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(words.map((w) => `[${w}]`).join(''));
    expect(result.exitCode).toBe(0);
  });

  test('sandbox exec: arbitrary words after -- arrive as given', async () => {
    const name = sandbox.record().name;
    const word = fc.oneof(
      fc.constantFrom('--', '-', '--name', '-n', name, '--help', '-h', '--version', '--json', '--name=x', '--set', 'K=V'),
      fc.string({ unit: 'grapheme', maxLength: 12 }).filter((w) => !w.includes('\0')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(word, { maxLength: 8 }), async (words) => {
        const result = await hostSvcctl(['sandbox', 'exec', '--name', name, '--', 'printf', '%s\\0', ...words]);
        expect(result.exitCode).toBe(0);
        expect(result.stdout.split('\0').slice(0, -1)).toEqual(words.length === 0 ? [''] : words);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  test('sandbox exec without a command, or with one before --, is a usage error', async () => {
    const name = sandbox.record().name;
    const none = await hostSvcctl(['sandbox', 'exec', '--name', name, '--']);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('no command given');
    const early = await hostSvcctl(['sandbox', 'exec', '--name', name, 'printf', 'x']);
    expect(early.exitCode).toBe(2);
    expect(early.stderr).toContain('the command must come after --: printf');
  });

  describe('bundles at host paths the sandbox does not share (its own /tmp, /run, /dev/shm)', () => {
    // The host's /dev/shm stands for all three (a test never writes to the host's /tmp or /run).
    let scratch = '';
    const minimal = `${process.cwd()}/test/fixtures/bundles/minimal`;
    beforeAll(() => {
      scratch = mkdtempSync('/dev/shm/svcctl-sandbox-test-');
      cpSync(minimal, path.join(scratch, 'bundle'), { recursive: true });
      cpSync(minimal, path.join(scratch, 'shadowed'), { recursive: true });
      mkdirSync(path.join(scratch, 'not-a-bundle'));
    });
    afterAll(() => {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    test('a bundle directory named on the command line is shown inside read-only at its path; the host mount table does not change', async () => {
      const name = sandbox.record().name;
      const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
      const bundle = path.join(scratch, 'bundle');
      const first = await hostSvcctl(['sandbox', 'exec', '--name', name, '--', 'svcctl', 'verify', bundle]);
      expect(first.stderr).toContain(`the host's ${bundle} is shown read-only inside the sandbox`);
      expect(first.exitCode).toBe(0);
      const write = await sandbox.sh(`touch ${bundle}/written-inside`);
      expect(write.stderr).toContain('Read-only file system');
      expect(existsSync(path.join(bundle, 'written-inside'))).toBe(false);
      // Shown once: the next exec (here naming its bundle.yaml) finds it there.
      const again = await hostSvcctl(['sandbox', 'exec', '--name', name, '--', 'svcctl', 'verify', path.join(bundle, 'bundle.yaml')]);
      expect(again.exitCode).toBe(0);
      expect(again.stderr).not.toContain('shown read-only');
      // Only bundles are shown: another host directory named there stays the sandbox's own business.
      const other = await hostSvcctl(['sandbox', 'exec', '--name', name, '--', 'test', '-e', path.join(scratch, 'not-a-bundle')]);
      expect(other.exitCode).toBe(1);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(hostMounts);
      const hostView = readdirSync(path.join(sandboxStateRoot(), name, 'incoming'));
      expect(hostView).toEqual([]);
    });

    test('a path the sandbox has a file of its own at is left alone, and the command is told', async () => {
      const name = sandbox.record().name;
      const shadowed = path.join(scratch, 'shadowed');
      await sandbox.sh(`mkdir -p ${shadowed} && echo mine > ${shadowed}/own`);
      const result = await hostSvcctl(['sandbox', 'exec', '--name', name, '--', 'sh', '-c', 'cat "$1/own"', 'sh', shadowed]);
      expect(result.stderr).toContain(`${shadowed} exists inside the sandbox: the command sees the sandbox's own, not the host's`);
      expect(result.stdout).toBe('mine');
    });
  });

  describe('sandbox state: only what svcctl made is removed, only what it started is signalled', () => {
    // Run inside the sandbox, whose /var is a copy-on-write view: the host's /var/tmp is never at stake.
    const inside = (root: string, args: string[]) => sandbox.run(['env', `SVCCTL_SANDBOX_DIR=${root}`, 'svcctl', 'sandbox', ...args]);

    test('stop --name victimdir with SVCCTL_SANDBOX_DIR=/var/tmp (writable by everyone): exit 2 saying why, nothing removed', async () => {
      await sandbox.sh('mkdir -p /var/tmp/victimdir && echo data > /var/tmp/victimdir/keep');
      const result = await inside('/var/tmp', ['stop', '--name', 'victimdir']);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('the sandbox state directory /var/tmp is refused: it is mode 1777');
      expect((await sandbox.run(['cat', '/var/tmp/victimdir/keep'])).stdout).toBe('data');
      await sandbox.sh('rm -rf /var/tmp/victimdir');
    });

    test('a state root owned by someone else, or a symbolic link, is refused by every sandbox command', async () => {
      await sandbox.sh('mkdir -m 0700 /var/lib/not-roots && chown 65534:65534 /var/lib/not-roots && ln -s /var/lib/svcctl-elsewhere /var/lib/linked-root');
      for (const args of [['stop'], ['status'], ['start'], ['exec', '--', 'true']]) {
        const foreign = await inside('/var/lib/not-roots', args);
        expect({ args, exitCode: foreign.exitCode, refused: foreign.stderr.includes('owned by uid 65534') }).toEqual({ args, exitCode: 2, refused: true });
      }
      const linked = await inside('/var/lib/linked-root', ['stop']);
      expect(linked.exitCode).toBe(2);
      expect(linked.stderr).toContain('a symbolic link');
      await sandbox.sh('rm -rf /var/lib/not-roots /var/lib/linked-root');
    });

    test('a directory without svcctl\'s marker in a good state root: stop and start refuse, and it stays', async () => {
      await sandbox.sh('mkdir -m 0700 /var/lib/sbx-root && mkdir /var/lib/sbx-root/victimdir && echo data > /var/lib/sbx-root/victimdir/keep');
      for (const args of [['stop', '--name', 'victimdir'], ['start', '--name', 'victimdir']]) {
        const result = await inside('/var/lib/sbx-root', args);
        expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 2 });
        expect(result.stderr).toContain('/var/lib/sbx-root/victimdir was not made by svcctl sandbox (no svcctl-sandbox.id marker in it): nothing was removed or signalled');
      }
      expect((await sandbox.run(['cat', '/var/lib/sbx-root/victimdir/keep'])).stdout).toBe('data');
      await sandbox.sh('rm -rf /var/lib/sbx-root');
    });

    test('a record naming PIDs of other processes: stop signals none of them, and removes only the marked directory', async () => {
      const token = '0123456789abcdef0123456789abcdef';
      await sandbox.run(['systemd-run', '--unit=bystander.service', '/bin/sleep', '1000']);
      const bystander = Number((await sandbox.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'bystander.service'])).stdout.trim());
      expect(bystander).toBeGreaterThan(1);
      const record = { name: 'forged', token, launcherPid: bystander, pid: bystander, startedAt: new Date().toISOString(), packageRoot: '/' };
      await sandbox.sh(`mkdir -m 0700 -p /var/lib/sbx-root/forged && echo ${token} > /var/lib/sbx-root/forged/svcctl-sandbox.id && cat > /var/lib/sbx-root/forged/sandbox.json`, { input: JSON.stringify(record) });
      const result = await inside('/var/lib/sbx-root', ['stop', '--name', 'forged']);
      expect(result.exitCode).toBe(0);
      expect((await sandbox.run(['systemctl', 'is-active', 'bystander.service'])).stdout.trim()).toBe('active');
      expect((await sandbox.run(['test', '-e', '/var/lib/sbx-root/forged'])).exitCode).toBe(1);
      await sandbox.run(['systemctl', 'stop', 'bystander.service']);
      await sandbox.sh('rm -rf /var/lib/sbx-root');
    });
  });
});
