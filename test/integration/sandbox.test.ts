// Proves the harness: a real systemd runs units and timers inside, and nothing reaches the host.
import { existsSync, readdirSync } from 'node:fs';
import { execa } from 'execa';
import fc from 'fast-check';
import { describeInSandbox } from '../helpers/sandbox.js';

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

  test('a unit written inside runs and its journal line is read back', async () => {
    const marker = `svcctl-harness-${Date.now()}`;
    await sandbox.sh(`printf '[Service]\\nType=oneshot\\nExecStart=/bin/echo ${marker}\\n' > /etc/systemd/system/harness-echo.service && systemctl daemon-reload`);
    const start = await sandbox.run(['systemctl', 'start', 'harness-echo.service']);
    expect(start.exitCode).toBe(0);
    const journal = await sandbox.run(['journalctl', '-u', 'harness-echo.service', '-o', 'cat', '--no-pager']);
    expect(journal.stdout).toContain(marker);
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
});
