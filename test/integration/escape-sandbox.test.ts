// Proves the escaping rules on the real systemd 252: what a service sees is, byte for byte, what svcctl wrote.
import { directiveLine, environmentDirective, execCommandLine, parseEnvFile } from '../../src/core/escape/index.js';
import { renderEnvFile, renderOverride, renderScheduleDropIn } from '../../src/core/render.js';
import { parseSchedule as parseScheduleExpression } from '../../src/core/schedule.js';
import { describeInSandbox, type Sandbox } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const header = 'managed by svcctl (bundle escape-test); edits are overwritten';

/** Values chosen to break every naive quoting: each one must reach the service unchanged. */
const values: Record<string, string> = {
  SPACES: 'a b  c',
  DOUBLE_QUOTES: 'say "hi" "',
  SINGLE_QUOTES: "it's 'quoted' '",
  BACKSLASHES: 'C:\\path\\to \\n \\" \\\\',
  PERCENT: '100% %n %% %i %H',
  DOLLAR: '$HOME $$ $1 $',
  BRACES: '${HOME} ${PATH:-x}',
  BACKTICKS: '`id` $(id)',
  HASH: '# not a comment',
  SEMICOLONS: 'a;b ; c ;',
  UNICODE: 'héllo ☃ 😀 日本語 \u00a0nbsp',
  TRAILING_BACKSLASH: 'ends with \\',
  PADDED: '  leading and trailing  ',
  CONTROL: 'tab\there bell\x07 esc\x1b del\x7f cr\rx',
  NEWLINE: 'line1\nline2\n',
  EMPTY: '',
  EQUALS: '=a=b=',
  EVERYTHING: ' "\'\\%$`#;=${X}\n\r\t☃ \\',
};

const environment = Object.entries(values).map(([name, value]) => ({ name: `E_${name}`, value }));
const secrets = Object.entries(values).map(([name, value]) => ({ key: `S_${name}`, value }));

async function writeFile(sandbox: Sandbox, path: string, content: string, mode = '644'): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/'));
  expect((await sandbox.run(['mkdir', '-p', dir])).exitCode).toBe(0);
  expect((await sandbox.run(['tee', path], { input: content })).exitCode).toBe(0);
  expect((await sandbox.run(['chmod', mode, path])).exitCode).toBe(0);
}

/** stdout of argv run inside (execa strips one final newline). */
async function mustRun(sandbox: Sandbox, argv: string[]): Promise<string> {
  const result = await sandbox.run(argv);
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout;
}

/** A NUL-separated dump read back through base64, so no byte is lost to output handling. */
async function readNulSeparated(sandbox: Sandbox, path: string): Promise<string[]> {
  const b64 = await mustRun(sandbox, ['base64', '-w0', path]);
  const parts = Buffer.from(b64.trim(), 'base64').toString('utf8').split('\0');
  expect(parts.pop()).toBe('');
  return parts;
}

function environmentOf(dump: string[]): Map<string, string> {
  return new Map(dump.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

/**
 * What the service manager itself (PID 1) warned about a unit and its drop-ins since boot. The sandbox's
 * systemd logs to its journal (scripts/sandbox-boot.sh, --log-target=journal); `journalctl --sync` waits
 * until journald has stored what PID 1 sent before it, such as the warnings of the last daemon-reload.
 */
async function systemdWarningsAbout(sandbox: Sandbox, unit: string): Promise<string[]> {
  await mustRun(sandbox, ['journalctl', '--sync']);
  const json = await mustRun(sandbox, ['journalctl', '-b', '_PID=1', '-p', 'warning', '-o', 'json', '--no-pager']);
  return json
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { UNIT?: string; MESSAGE?: string })
    .filter((entry) => entry.UNIT === unit || String(entry.MESSAGE).includes(`/etc/systemd/system/${unit}`))
    .map((entry) => String(entry.MESSAGE));
}

/**
 * systemd 252 warns at every load that a drop-in of mode 0600 (the mode DESIGN.md gives svcctl's override.conf)
 * "is marked world-inaccessible. This has no effect as configuration data is accessible via APIs without
 * restrictions". That is about the file's mode, not about what was rendered into it, and it is reported to
 * the lead (issue 8); every other warning counts.
 */
const modeWarning = /^Configuration file \/etc\/systemd\/system\/\S+\.d\/override\.conf is marked world-inaccessible\./;

/** No warning about what we rendered, from systemd-analyze verify or from the service manager when it loaded the files. */
async function expectNoWarnings(sandbox: Sandbox, unit: string): Promise<void> {
  const verify = await sandbox.run(['systemd-analyze', 'verify', `/etc/systemd/system/${unit}`]);
  const serviceManager = (await systemdWarningsAbout(sandbox, unit)).filter((message) => !modeWarning.test(message));
  expect({ verify: verify.stderr, exitCode: verify.exitCode, serviceManager }).toEqual({ verify: '', exitCode: 0, serviceManager: [] });
}

describeInSandbox('escaping: systemd 252 reads back exactly what svcctl writes', (sandbox) => {
  const unit = 'svcctl-escape-env.service';
  const envFile = '/etc/svcctl/escape-test/secrets.env';
  const workDir = '/run/svcctl escape 100%';

  test('Environment= lines, the EnvironmentFile= and plain directives reach the service byte for byte', async () => {
    const envFileText = renderEnvFile(secrets, header);
    await writeFile(
      sandbox,
      `/etc/systemd/system/${unit}`,
      ['[Unit]', 'Description=escaping test', '', '[Service]', 'Type=oneshot', `ExecStart=${execCommandLine(['/bin/sh', '-c', 'env -0 > /run/svcctl-escape-env.dump'])}`, ''].join('\n'),
    );
    await writeFile(
      sandbox,
      `/etc/systemd/system/${unit}.d/override.conf`,
      renderOverride(
        {
          environmentFiles: [envFile],
          environment,
          directives: [
            { section: 'Unit', directive: 'Description', value: `50% of "it's" \\ done; #1 $HOME ☃` },
            { section: 'Service', directive: 'WorkingDirectory', value: workDir },
          ],
        },
        header,
      ),
      '600',
    );
    await mustRun(sandbox, ['mkdir', '-p', '-m', '700', '/etc/svcctl/escape-test']);
    await writeFile(sandbox, envFile, envFileText, '600');
    await mustRun(sandbox, ['mkdir', '-p', workDir]);
    await mustRun(sandbox, ['systemctl', 'daemon-reload']);
    await mustRun(sandbox, ['systemctl', 'start', unit]);

    const seen = environmentOf(await readNulSeparated(sandbox, '/run/svcctl-escape-env.dump'));
    for (const { name, value } of environment) expect([name, seen.get(name)]).toEqual([name, value]);
    for (const { key, value } of secrets) expect([key, seen.get(key)]).toEqual([key, value]);
    // svcctl reads secrets back with parseEnvFile: it must see what the service sees.
    expect(parseEnvFile(envFileText)).toEqual(new Map(secrets.map(({ key }) => [key, seen.get(key)])));

    const description = await mustRun(sandbox, ['systemctl', 'show', '-p', 'Description', '--value', unit]);
    expect(description).toBe(`50% of "it's" \\ done; #1 $HOME ☃`);
    const pwd = await mustRun(sandbox, ['systemctl', 'show', '-p', 'WorkingDirectory', '--value', unit]);
    expect(pwd).toBe(workDir);
  });

  test('systemd-analyze verify and the service manager have no warning about those files', async () => {
    await expectNoWarnings(sandbox, unit);
  });

  test('the warnings check hears the service manager: a rendered value systemd warns about is reported', async () => {
    // directiveLine renders any single-line value; "a while" is no time span, which systemd says when it loads the unit.
    const warned = 'svcctl-escape-warned.service';
    await writeFile(sandbox, `/etc/systemd/system/${warned}`, ['[Service]', 'Type=oneshot', 'ExecStart=/bin/true', directiveLine('TimeoutStartSec', 'a while'), ''].join('\n'));
    await mustRun(sandbox, ['systemctl', 'daemon-reload']);
    // systemd parses a unit file when it loads the unit, not at every reload of units nothing uses.
    await mustRun(sandbox, ['systemctl', 'start', warned]);
    const expected = `/etc/systemd/system/${warned}:4: Failed to parse TimeoutStartSec= parameter, ignoring: a while`;
    // Once per load: a finished oneshot nothing references is unloaded, and loaded (and warned about) again when asked.
    expect([...new Set(await systemdWarningsAbout(sandbox, warned))]).toEqual([expected]);
    await mustRun(sandbox, ['rm', `/etc/systemd/system/${warned}`]);
    await mustRun(sandbox, ['systemctl', 'daemon-reload']);
  });

  test('an Exec line built with execCommandLine gives the program exactly its argv', async () => {
    const args = ['', ' ', 'plain', '--flag=value', 'a b', ';', '\\;', '$X', '${X}', '$$X', '$', 'x$', '$Y', '%n', '%%', '%', 'say "hi"', "it's", '\\', 'trailing\\', 'nl\nx', 'tab\t', 'cr\r', '☃ 😀', '#', '-', '@x', '"', "'", '{}'];
    await writeFile(sandbox, '/usr/local/bin/svcctl-argvdump', '#!/bin/sh\nprintf \'%s\\0\' "$@" > /run/svcctl-argv.dump\n', '755');
    await writeFile(
      sandbox,
      '/etc/systemd/system/svcctl-escape-argv.service',
      [
        '[Service]',
        'Type=oneshot',
        // Set, so that a `$X` that was not escaped would show up expanded or split.
        environmentDirective('X', 'EXPANDED'),
        environmentDirective('Y', 'two words'),
        `ExecStart=${execCommandLine(['/usr/local/bin/svcctl-argvdump', ...args])}`,
        '',
      ].join('\n'),
    );
    await mustRun(sandbox, ['systemctl', 'daemon-reload']);
    await mustRun(sandbox, ['systemctl', 'start', 'svcctl-escape-argv.service']);
    expect(await readNulSeparated(sandbox, '/run/svcctl-argv.dump')).toEqual(args);
    await expectNoWarnings(sandbox, 'svcctl-escape-argv.service');
  });

  test('the rendered env file means the same to a POSIX shell that sources it', async () => {
    const script = `set -a; . '${envFile}'; env -0 > /run/svcctl-escape-sh.dump`;
    await mustRun(sandbox, ['/bin/sh', '-c', script]);
    const seen = environmentOf(await readNulSeparated(sandbox, '/run/svcctl-escape-sh.dump'));
    for (const { key, value } of secrets) expect([key, seen.get(key)]).toEqual([key, value]);
  });

  test('parseEnvFile agrees with systemd on a hand-written file full of parser quirks', async () => {
    const text = [
      '# a comment ending in a backslash swallows the next line \\',
      'T_HIDDEN=by the comment above',
      'T_UNQUOTED = unquoted value   ',
      'T_ESCAPES="\\$HOME \\` \\\\ \\" \\q \\n"',
      'T_DQ="  sp  # ; \'s\' ${HOME}"',
      "T_SQ='single \\ \"dq\" ",
      "nl'",
      'T_NL="nl',
      'x" ',
      'export T_EXPORT=x',
      'T_CR="cr\rx"',
      'T_AFTER="tab\tx" trailing',
      'T_CONCAT="a"\'b\'  "c"',
      'T_EMPTY=',
      'T_EMPTY_Q=""',
      'T_CONT_DQ="line\\',
      'cont"',
      'T_CONT=unq\\',
      'cont',
      '  ;comment',
      'T_HASH=x # not comment',
      'T-DASH=x',
      'T_DUP=first',
      'T_DUP=second',
      'T_LAST=no final newline',
    ].join('\n');
    await writeFile(sandbox, '/etc/svcctl/escape-test/quirks.env', text, '600');
    await writeFile(
      sandbox,
      '/etc/systemd/system/svcctl-escape-quirks.service',
      ['[Service]', 'Type=oneshot', 'EnvironmentFile=/etc/svcctl/escape-test/quirks.env', `ExecStart=${execCommandLine(['/bin/sh', '-c', 'env -0 > /run/svcctl-escape-quirks.dump'])}`, ''].join('\n'),
    );
    await mustRun(sandbox, ['systemctl', 'daemon-reload']);
    await mustRun(sandbox, ['systemctl', 'start', 'svcctl-escape-quirks.service']);
    const seen = environmentOf(await readNulSeparated(sandbox, '/run/svcctl-escape-quirks.dump'));
    const fromSystemd = Object.fromEntries([...seen].filter(([key]) => key.startsWith('T_')).sort());
    const fromParser = Object.fromEntries([...parseEnvFile(text)].sort());
    expect(fromParser).toEqual(fromSystemd);
    expect(fromSystemd).toMatchObject({ T_NL: 'nl\nx', T_CR: 'cr\rx', T_AFTER: 'tab\txtrailing', T_DUP: 'second' });
    expect(fromSystemd).not.toHaveProperty('T_HIDDEN');
  });

  test('a schedule drop-in replaces the timer\'s triggers; an interval timer fires without a prior run', async () => {
    const timer = 'svcctl-escape.timer';
    await writeFile(sandbox, '/etc/systemd/system/svcctl-escape.service', ['[Service]', 'Type=oneshot', `ExecStart=${execCommandLine(['/bin/echo', 'tick'])}`, ''].join('\n'));
    // AccuracySec: without it systemd may put each elapse up to a minute late (its default accuracy), and the
    // drop-in replaces the triggers only.
    await writeFile(sandbox, `/etc/systemd/system/${timer}`, ['[Timer]', 'OnBootSec=1h', 'OnCalendar=weekly', 'AccuracySec=100ms', ''].join('\n'));
    const dropIn = `/etc/systemd/system/${timer}.d/override.conf`;
    const show = async (): Promise<string> => mustRun(sandbox, ['systemctl', 'show', '-p', 'TimersMonotonic', '-p', 'TimersCalendar', '-p', 'Persistent', timer]);

    await writeFile(sandbox, dropIn, renderScheduleDropIn(parseScheduleExpression('every 1s'), header));
    await mustRun(sandbox, ['systemctl', 'daemon-reload']);
    let shown = await show();
    expect(shown).toMatch(/^TimersMonotonic=\{ OnActiveUSec=1s ;/m);
    expect(shown).toMatch(/^TimersMonotonic=\{ OnUnitActiveUSec=1s ;/m);
    expect(shown).not.toMatch(/OnBootUSec|TimersCalendar=\{/);
    await expectNoWarnings(sandbox, timer);
    await mustRun(sandbox, ['systemctl', 'start', timer]);
    // The service's own output only (_SYSTEMD_UNIT): PID 1's lines about the unit are not a run.
    const ticks = async () => (await sandbox.run(['journalctl', '_SYSTEMD_UNIT=svcctl-escape.service', '-o', 'cat', '--no-pager'])).stdout.split('\n').filter((line) => line === 'tick');
    await waitFor('the interval timer to fire', ticks, (lines) => lines.length >= 1);
    await mustRun(sandbox, ['systemctl', 'stop', timer]);

    await writeFile(sandbox, dropIn, renderScheduleDropIn(parseScheduleExpression('*-*-* 02:00:00 America/New_York'), header));
    await mustRun(sandbox, ['systemctl', 'daemon-reload']);
    shown = await show();
    expect(shown).toMatch(/^TimersCalendar=\{ OnCalendar=\*-\*-\* 02:00:00 America\/New_York ;/m);
    expect(shown).not.toMatch(/TimersMonotonic=\{/);
    expect(shown).toMatch(/^Persistent=yes$/m);
    await expectNoWarnings(sandbox, timer);
  });

  test('a plain directive with % is read back literally', async () => {
    await writeFile(sandbox, '/etc/systemd/system/svcctl-escape-plain.service', ['[Unit]', directiveLine('Description', '%n is not expanded: 100%'), '[Service]', 'ExecStart=/bin/true', ''].join('\n'));
    await mustRun(sandbox, ['systemctl', 'daemon-reload']);
    expect(await mustRun(sandbox, ['systemctl', 'show', '-p', 'Description', '--value', 'svcctl-escape-plain.service'])).toBe('%n is not expanded: 100%');
  });

  test('what unitDirectiveValue refuses really is altered by systemd (so refusing is right)', async () => {
    const raw = ['[Unit]', 'Description=continued \\', '  next line', 'SourcePath=/a\rSourcePath=/b', '[Service]', 'WorkingDirectory=  /padded  ', 'ExecStart=/bin/true', ''].join('\n');
    await writeFile(sandbox, '/etc/systemd/system/svcctl-escape-raw.service', raw);
    await mustRun(sandbox, ['systemctl', 'daemon-reload']);
    const shown = await mustRun(sandbox, ['systemctl', 'show', '-p', 'Description', '-p', 'SourcePath', '-p', 'WorkingDirectory', 'svcctl-escape-raw.service']);
    // The trailing backslash joined the next line, the CR started a new line, the spaces were stripped.
    expect(shown.split('\n').sort()).toEqual(['Description=continued    next line', 'SourcePath=/b', 'WorkingDirectory=/padded']);
  });
});
