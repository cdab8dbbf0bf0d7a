// The cron export, pure: the entry's shape, the refusals of what cron cannot express, and the unit reader it uses
// (Environment= lines read back exactly as svcctl writes them, for any value).
import fc from 'fast-check';
import { loadBundle } from '../../src/system/bundles/load.js';
import { desire, type Inputs } from '../../src/core/desired.js';
import { UserError } from '../../src/core/errors.js';
import { environmentDirective } from '../../src/core/escape/index.js';
import { exportCron } from '../../src/core/export/cron.js';
import { environmentAssignments, execArgv, sectionDirectives, unitWords } from '../../src/core/export/service-unit.js';
import { systemTarget } from '../../src/core/target.js';
import type { Bundle } from '../../src/core/bundle/types.js';

const fixture = `${process.cwd()}/test/fixtures/export/minutely`;
const target = systemTarget();

function inputs(bundle: Bundle, extra: Partial<Inputs> = {}): Inputs {
  return {
    settings: Object.fromEntries(bundle.settings.map((s) => [s.key, s.default ?? 'x'])),
    secrets: Object.fromEntries(bundle.secrets.map((s) => [s.key, { value: 'stand-in', source: 'generated' as const }])),
    force: false,
    start: true,
    enable: true,
    now: '2026-01-01T00:00:00.000Z',
    svcctlVersion: 'test',
    ...extra,
  };
}

const cronOf = (bundle: Bundle, extra: Partial<Inputs> = {}, zone = 'UTC') => exportCron(desire(bundle, inputs(bundle, extra), target), bundle, target, { hostTimeZone: zone });
const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error.message;
    throw error;
  }
  throw new Error('not refused');
};

describe('exportCron', () => {
  let bundle: Bundle;
  beforeAll(async () => {
    bundle = await loadBundle(fixture);
  });

  test('one /etc/cron.d entry: the user field, the environment, journal output, a lock, the secret file read safely', () => {
    const tree = cronOf(bundle);
    const file = tree.files.find((f) => f.path === 'etc/cron.d/svcctl-minutely')!;
    const lines = file.content.toString().split('\n');
    expect(lines).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(lines).toContain('MAILTO=""');
    expect(lines).toContain('GREETING=hello 100% from cron');
    const entry = lines.find((l) => l.startsWith('* * * * * '))!;
    expect(entry).toMatch(/^\* \* \* \* \* minutely \/usr\/bin\/systemd-cat -t minutely \/usr\/bin\/flock -n \/usr\/local\/bin\/minutely\.sh \/bin\/sh -c '/);
    // cron reads an unescaped % as the end of the command: every one is escaped.
    expect(entry.replace(/\\%/g, '')).not.toContain('%');
    expect(entry).toContain('-perm /022');
    expect(entry).toContain("exec /usr/local/bin/minutely.sh '\\\\''first word'\\\\'' second");
    expect(file.mode).toBe(0o644);
    // The secrets file is for the job's group to read and root alone to write; it holds no value in the export.
    const secrets = tree.files.find((f) => f.path === 'etc/svcctl/minutely/secrets.env')!;
    expect(secrets.mode).toBe(0o640);
    expect(secrets.content.toString()).not.toContain('stand-in');
    expect(tree.manifest.directories).toContainEqual({ path: '/etc/svcctl/minutely', mode: '0750', owner: 'root', group: 'minutely' });
    expect(tree.files.some((f) => f.path.startsWith('etc/systemd/'))).toBe(false);
  });

  test('--log-file instead of the journal', () => {
    const desired = desire(bundle, inputs(bundle), target);
    const entry = exportCron(desired, bundle, target, { hostTimeZone: 'UTC', logFile: '/var/log/minutely.log' }).files.find((f) => f.path === 'etc/cron.d/svcctl-minutely')!.content.toString();
    expect(entry).not.toContain('systemd-cat');
    expect(entry).toContain('exec >>/var/log/minutely.log 2>&1');
  });

  test.each([
    ['a calendar in another zone than the host\'s', { schedule: '*-*-* 02:00:00 Europe/Paris' }, 'UTC', /runs in Europe\/Paris, the host in UTC/],
    ['seconds', { schedule: '*-*-* *:*:30' }, 'UTC', /seconds other than :00/],
    ['an interval of seconds', { schedule: '90s' }, 'UTC', /not a whole number of minutes/],
  ])('refuses %s', (_what, extra, zone, why) => {
    expect(refusal(() => cronOf(bundle, extra, zone))).toMatch(why);
  });

  test('the same calendar in the host\'s own zone is fine', () => {
    const entry = cronOf(bundle, { schedule: '*-*-* 02:00:00 Europe/Paris' }, 'Europe/Paris').files.find((f) => f.path === 'etc/cron.d/svcctl-minutely')!.content.toString();
    expect(entry).toMatch(/^0 2 \* \* \* minutely /m);
  });

  test('refuses a randomized delay, a daemon, and steps cron cannot take', () => {
    const withTimer = (timer: string): Bundle => ({ ...bundle, units: bundle.units.map((u) => (u.name === 'minutely.timer' ? { ...u, content: timer } : u)) });
    expect(refusal(() => cronOf(withTimer('[Timer]\nOnCalendar=*-*-* *:*:00\nRandomizedDelaySec=15s\n[Install]\nWantedBy=timers.target\n')))).toMatch(/no randomized delay \(RandomizedDelaySec=15s\)/);
    const withService = (extra: string): Bundle => ({ ...bundle, units: bundle.units.map((u) => (u.name === 'minutely.service' ? { ...u, content: `${u.content}${extra}\n` } : u)) });
    expect(refusal(() => cronOf(withService('ExecStartPre=/bin/true')))).toMatch(/sets ExecStartPre=/);
    expect(refusal(() => cronOf(withService('Type=forking')))).toMatch(/Type=forking, a daemon/);
    expect(refusal(() => cronOf({ ...bundle, enable: ['minutely.timer', 'minutely.service'] }))).toMatch(/a daemon/);
    const noTimer: Bundle = { ...bundle, units: bundle.units.filter((u) => u.name === 'minutely.service'), enable: ['minutely.service'], schedule: undefined, health: undefined };
    expect(refusal(() => cronOf(noTimer))).toMatch(/no timer/);
  });
});

describe('the unit reader of the cron export', () => {
  test('sections over the unit and its drop-ins: continuations, comments, an empty assignment resets a list', () => {
    const unit = '[Service]\nExecStart=/bin/a \\\n  b\n# ExecStart=/bin/no\nEnvironment=A=1\n[Install]\nExecStart=/bin/other\n';
    const dropIn = '[Service]\nEnvironment=\nEnvironment=B=2\n';
    expect(sectionDirectives([unit, dropIn], 'Service')).toEqual([
      { key: 'ExecStart', value: '/bin/a  b' },
      { key: 'Environment', value: 'B=2' },
    ]);
  });

  test('ExecStart= words as the program gets them; what only systemd resolves is refused', () => {
    expect(execArgv('/bin/echo "a b" \'c\' 100%% $$HOME \\x41', 'x')).toEqual(['/bin/echo', 'a b', 'c', '100%', '$HOME', 'A']);
    expect(() => execArgv('-/bin/false', 'x')).toThrow(/prefix/);
    expect(() => execArgv('/bin/echo %n', 'x')).toThrow(/specifier %n/);
    expect(() => execArgv('/bin/echo $HOME', 'x')).toThrow(/VARIABLE/);
    expect(() => execArgv('/bin/a ; /bin/b', 'x')).toThrow(/several commands/);
    expect(() => unitWords('"open', 'x')).toThrow(/unterminated/);
  });

  test('property: an Environment= line svcctl writes reads back as the exact value', () => {
    const value = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '%', '$', ' ', '\t', '\n', "'", 'é', '\x01', '\x7f'), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 40 }).filter((v) => !v.includes('\0') && !/[\uD800-\uDFFF]/.test(v));
    fc.assert(
      fc.property(value, (v) => {
        const line = environmentDirective('NAME', v);
        expect(environmentAssignments(line.slice('Environment='.length), 'x')).toEqual([{ name: 'NAME', value: v }]);
      }),
    );
  });
});
