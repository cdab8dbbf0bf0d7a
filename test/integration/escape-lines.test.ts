// Proves the tmpfiles.d, sysusers.d, crontab-command and literal-specifier dialects on the real systemd 252 and /bin/sh, and the line checker.
import path from 'node:path';
import { crontabCommand, directiveLine, sysusersMemberLine, sysusersUserLine, tmpfilesLine, withSpecifiers } from '../../src/core/escape/index.js';
import type { LineProblem } from '../../src/system/line-check.js';
import { packageRoot } from '../../src/system/paths.js';
import { describeInSandbox, type Sandbox } from '../helpers/sandbox.js';
import { cronCommandToShell } from '../unit/escape-helpers.js';

const base = '/srv/svcctl-escape';

/** Names chosen to break naive field splitting, quoting, C escapes and specifier expansion. */
const oddNames = ['my data', 'two  spaces', "it's", 'say "hi"', '100% %n %% %H', 'back\\slash', '\\x20', 'héllo ☃ 😀', '#hash', '-dash', '~tilde', 'semi;colon', 'tab\\t', "'", '"', '%'];

async function mustRun(sandbox: Sandbox, argv: string[], input?: string): Promise<string> {
  const result = await sandbox.run(argv, input === undefined ? {} : { input });
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout;
}

async function writeFile(sandbox: Sandbox, file: string, content: string): Promise<void> {
  await mustRun(sandbox, ['mkdir', '-p', path.dirname(file)]);
  await mustRun(sandbox, ['tee', file], content);
}

/** Runs one line-check function inside the sandbox (its /tmp is private), from the built dist/. */
async function lineCheck(sandbox: Sandbox, call: 'checkTmpfilesText' | 'checkSysusersText', args: unknown[], env: Record<string, string> = {}, asNobody = false): Promise<LineProblem[]> {
  const script = [
    `import { ${call} } from ${JSON.stringify(`file://${packageRoot}/dist/system/line-check.js`)};`,
    "let input = ''; for await (const chunk of process.stdin) input += chunk;",
    `process.stdout.write(JSON.stringify(await ${call}(...JSON.parse(input))));`,
  ].join('\n');
  const nobody = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const result = await sandbox.run([...nobody, process.execPath, '--input-type=module', '-e', script], { input: JSON.stringify(args), env });
  if (result.exitCode !== 0) throw new Error(`line check exited ${result.exitCode}: ${result.stderr}`);
  return JSON.parse(result.stdout) as LineProblem[];
}

/** Entries below `dir`, relative, NUL-separated through base64 so that no byte is lost. */
async function listTree(sandbox: Sandbox, dir: string): Promise<string[]> {
  const b64 = await mustRun(sandbox, ['sh', '-c', 'find "$1" -mindepth 1 -printf "%P\\0" | base64 -w0', 'sh', dir]);
  return Buffer.from(b64.trim(), 'base64').toString('utf8').split('\0').filter((entry) => entry !== '').sort();
}

describeInSandbox('tmpfiles.d, sysusers.d and crontab lines on the real tools', (sandbox) => {
  test('odd paths, owners and arguments: systemd-tmpfiles creates exactly what tmpfilesLine() names', async () => {
    const lines = [
      tmpfilesLine({ type: 'd', path: base, mode: 0o755, user: 'root', group: 'root' }),
      ...oddNames.map((name, index) => tmpfilesLine({ type: 'd', path: `${base}/${name}`, mode: index % 2 === 0 ? 0o750 : 0o2770, user: 'root', group: index % 2 === 0 ? 'root' : 'nogroup' })),
      tmpfilesLine({ type: 'd', path: `${base}/my data/inner 100%`, mode: 0o700, user: 'nobody', group: 'nogroup', age: '10d' }),
    ];
    const contents = ['-', ' lead and trail ', 'back\\slash\nnew line\ttab "q" \'s\' 100% %n', 'é☃😀'];
    contents.forEach((content, index) => lines.push(tmpfilesLine({ type: 'f+', path: `${base}/file ${index}`, mode: 0o640, user: 'root', group: 'root', argument: content })));
    const target = '/target with space/%n/"q"/\\';
    lines.push(tmpfilesLine({ type: 'L+', path: `${base}/link %i`, argument: target }));
    await writeFile(sandbox, '/etc/tmpfiles.d/svcctl-escape-test.conf', `${lines.join('\n')}\n`);

    const run = await sandbox.run(['systemd-tmpfiles', '--create', '/etc/tmpfiles.d/svcctl-escape-test.conf']);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);

    const expected = [...oddNames, 'my data/inner 100%', ...contents.map((_, index) => `file ${index}`), 'link %i'].sort();
    expect(await listTree(sandbox, base)).toEqual(expected);
    for (const [index, name] of oddNames.entries()) {
      const stat = await mustRun(sandbox, ['stat', '-c', '%F %a %U %G', `${base}/${name}`]);
      expect([name, stat]).toEqual([name, index % 2 === 0 ? 'directory 750 root root' : 'directory 2770 root nogroup']);
    }
    expect(await mustRun(sandbox, ['stat', '-c', '%a %U %G', `${base}/my data/inner 100%`])).toBe('700 nobody nogroup');
    for (const [index, content] of contents.entries()) {
      const b64 = await mustRun(sandbox, ['base64', '-w0', `${base}/file ${index}`]);
      expect(Buffer.from(b64.trim(), 'base64').toString('utf8')).toBe(content);
    }
    expect(await mustRun(sandbox, ['readlink', `${base}/link %i`])).toBe(target);
  });

  test('odd GECOS, home and shell: systemd-sysusers creates exactly the user sysusersUserLine() names', async () => {
    const gecos = `svcctl bundle "odd" it's 100% %n \\ ☃`;
    const home = '/srv/svcctl escape home/%i "q"';
    const lines = [
      sysusersUserLine({ name: 'svcctl-odd', gecos, home, shell: '/bin/sh' }),
      sysusersUserLine({ name: '_svcctl_plain' }),
      sysusersMemberLine('svcctl-odd', 'svcctl-extra'),
    ];
    await writeFile(sandbox, '/etc/sysusers.d/svcctl-escape-test.conf', `${lines.join('\n')}\n`);
    const run = await sandbox.run(['systemd-sysusers', '/etc/sysusers.d/svcctl-escape-test.conf']);
    expect(run.exitCode).toBe(0);
    expect(run.stderr.split('\n').filter((line) => line !== '' && !/^Creating (user|group) /.test(line))).toEqual([]);

    const passwd = (await mustRun(sandbox, ['getent', 'passwd', 'svcctl-odd'])).split(':');
    expect(passwd.slice(4)).toEqual([gecos, home, '/bin/sh']);
    expect((await mustRun(sandbox, ['getent', 'passwd', '_svcctl_plain'])).split(':').slice(4)).toEqual(['', '/', '/usr/sbin/nologin']);
    expect((await mustRun(sandbox, ['getent', 'group', 'svcctl-extra'])).split(':')[3]).toBe('svcctl-odd');
  });

  test('withSpecifiers() text reaches systemd with its specifiers resolved, plain text stays literal', async () => {
    const unit = 'svcctl-escape-spec@inst.service';
    await writeFile(
      sandbox,
      '/etc/systemd/system/svcctl-escape-spec@.service',
      ['[Unit]', directiveLine('Description', withSpecifiers('unit %n instance %i 100%%')), directiveLine('Documentation', 'man:100%n'), '', '[Service]', 'Type=oneshot', 'ExecStart=/bin/true', ''].join('\n'),
    );
    await mustRun(sandbox, ['systemctl', 'daemon-reload']);
    expect(await mustRun(sandbox, ['systemctl', 'show', '-p', 'Description', '--value', unit])).toBe(`unit ${unit} instance inst 100%`);
    expect(await mustRun(sandbox, ['systemctl', 'show', '-p', 'Documentation', '--value', unit])).toBe('man:100%n');
  });

  test('a crontab command, as cron hands it to /bin/sh, gives the program exactly its argv', async () => {
    const args = ['', ' ', 'a b', "it's", '"dq"', '100%', '%%', '\\', '\\%', '\\\\', 'x\\', '$HOME', '`id`', '$(id)', '*', '~', '#', ';', '&&', '|', '>out', 'é☃😀', '\t'];
    const field = crontabCommand(['/usr/bin/printf', '%s\\0', ...args]);
    const { command, cut } = cronCommandToShell(field);
    expect(cut).toBe(false);
    const b64 = await mustRun(sandbox, ['/bin/sh', '-c', `${command} | base64 -w0`]);
    expect(Buffer.from(b64.trim(), 'base64').toString('utf8').split('\0').slice(0, -1)).toEqual(args);
  });

  test('without root (install --dry-run, verify) the checker passes a line whose owner it may not give, and still reports a bad line', async () => {
    const good = `${tmpfilesLine({ type: 'd', path: '/srv/owned', mode: 0o750, user: 'svc', group: 'svc' })}\n`;
    const users = `${sysusersUserLine({ name: 'svc', gecos: 'svc', home: '/srv/owned' })}\n`;
    expect(await lineCheck(sandbox, 'checkTmpfilesText', [good, { sysusers: users }], {}, true)).toEqual([]);
    // The owner must still exist: an unknown one is reported, root or not.
    expect(await lineCheck(sandbox, 'checkTmpfilesText', [good], {}, true)).toEqual([{ tool: 'systemd-tmpfiles', line: 1, message: expect.stringContaining("'svc'") }]);
    const bad = await lineCheck(sandbox, 'checkTmpfilesText', ['d /srv/y 0755 root root - stray argument'], {}, true);
    expect(bad).toEqual([{ tool: 'systemd-tmpfiles', line: 1, message: expect.stringContaining("don't take argument fields") }]);
  });

  test('the line checker passes good lines and reports a raw space, an unknown type and a misread user line', async () => {
    const good = `${tmpfilesLine({ type: 'd', path: '/srv/a b', mode: 0o750, user: 'svc', group: 'svc' })}\n`;
    const users = `${sysusersUserLine({ name: 'svc', gecos: 'a "b"', home: '/srv/a b' })}\n`;
    expect(await lineCheck(sandbox, 'checkTmpfilesText', [good, { sysusers: users }])).toEqual([]);
    expect(await lineCheck(sandbox, 'checkSysusersText', [users])).toEqual([]);

    const bad = ['d /srv/raw space 0755 root root -', 'k /srv/x - - - -', 'd /srv/y 0755 root root - stray argument'].join('\n');
    const problems = await lineCheck(sandbox, 'checkTmpfilesText', [bad]);
    expect(problems).toEqual([
      { tool: 'systemd-tmpfiles', line: 1, message: expect.stringContaining("'0755'") },
      { tool: 'systemd-tmpfiles', line: 2, message: expect.stringContaining("Unknown command type 'k'") },
      { tool: 'systemd-tmpfiles', line: 3, message: expect.stringContaining("don't take argument fields") },
    ]);
    const userProblems = await lineCheck(sandbox, 'checkSysusersText', ['u svc - "x"\nu svc my home\nu svc - "other"\n']);
    expect(userProblems.map((problem) => problem.line)).toEqual([2, 3]);
  });

  test('the line checker leaves no scratch directory behind, under SVCCTL_TMPDIR or /tmp', async () => {
    await mustRun(sandbox, ['mkdir', '-p', '/run/svcctl-line-check-tmp']);
    const problems = await lineCheck(sandbox, 'checkTmpfilesText', ['d /srv/z 0750 root root -\nf /srv/z/f - - - - x\n'], { SVCCTL_TMPDIR: '/run/svcctl-line-check-tmp' });
    expect(problems).toEqual([]);
    expect(await mustRun(sandbox, ['ls', '-A', '/run/svcctl-line-check-tmp'])).toBe('');
    await lineCheck(sandbox, 'checkSysusersText', ['u x -\n']);
    expect(await mustRun(sandbox, ['sh', '-c', 'ls -d /tmp/svcctl-line-check-* 2>/dev/null || true'])).toBe('');
  });
});
