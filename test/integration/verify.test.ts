// `svcctl verify` on the built CLI, on the host: no root, no running systemd, nothing changed. Its
// scratch files (what systemd-analyze reads) go under node_modules/.cache, not the host's /tmp.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

const bin = `${process.cwd()}/bin/run.js`;
const scratch = mkdtempSync(path.join(process.cwd(), 'node_modules', '.cache', 'svcctl-verify-test-'));
const tmp = path.join(scratch, 'tmp');
mkdirSync(tmp);
const svcctl = (args: string[]) => execa(process.execPath, [bin, 'verify', ...args], { reject: false, env: { SVCCTL_TMPDIR: tmp, NO_COLOR: '1' }, stdin: 'ignore' });

/** Writes a bundle directory under the scratch directory: files by name. */
function bundleDir(name: string, files: Record<string, string>): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, file), content);
  return dir;
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Verdicts {
  ok: boolean;
  bundles: { bundle: string; ok: boolean; problems: string[]; hint?: string }[];
}

test('the built-in bundle passes: manifest, settings, units with their drop-ins, schedule', async () => {
  const result = await svcctl(['cleanup-blocking']);
  expect(result.stderr).toBe('✔ cleanup-blocking: manifest, settings, units and schedule pass');
  expect(result.exitCode).toBe(0);
  const json = await svcctl(['cleanup-blocking', '--json', '--set', 'STALE_THRESHOLD_SECONDS=1200', '--schedule', '*-*-* 02:00:00']);
  expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, bundles: [{ bundle: 'cleanup-blocking', ok: true, problems: [] }] });
  expect(readdirSync(tmp)).toEqual([]);
});

test('every bundle is checked and every problem listed: a unit systemd warns about, a manifest error with its line', async () => {
  const typo = bundleDir('typo', {
    'bundle.yaml': 'name: typo\ndescription: a typo in a unit\nunits: [typo.service]\nenable: []\n',
    'typo.service': '[Service]\nType=oneshot\nExecStart=/bin/true\nRestartSecc=5\n',
  });
  const broken = bundleDir('broken', { 'bundle.yaml': 'name: broken\ndescription: no units\nunits: []\nenable: [nothing.timer]\nsurprise: 1\n' });
  const result = await svcctl([typo, broken, 'cleanup-blocking', '--json']);
  expect(result.exitCode).toBe(2);
  const verdicts = JSON.parse(result.stdout) as Verdicts;
  expect(verdicts.ok).toBe(false);
  expect(verdicts.bundles.map((b) => [b.bundle, b.ok])).toEqual([
    ['typo', false],
    [broken, false],
    ['cleanup-blocking', true],
  ]);
  // One problem, listed once: the heading that introduces problems is not one of them (it was counted before).
  expect(verdicts.bundles[0]!.problems).toEqual([expect.stringMatching(/^typo\.service:4: Unknown key.*RestartSecc/)]);
  expect(verdicts.bundles[1]!.problems.length).toBeGreaterThan(1);
  expect(verdicts.bundles[1]!.problems.join('\n')).toMatch(/bundle\.yaml:5:1: surprise/);
  expect(result.stderr).toContain('✖ typo: 1 problem\n');
  expect(result.stderr).toContain('✔ cleanup-blocking: manifest, settings, units and schedule pass');
  expect(readdirSync(tmp)).toEqual([]);
});

test('a setting without a default is asked for by flag (never a prompt); secrets are not needed', async () => {
  const needs = path.join(process.cwd(), 'test', 'fixtures', 'install', 'needs-secret');
  const missing = await svcctl([needs]);
  expect(missing.exitCode).toBe(2);
  expect(missing.stderr).toContain('settings without a default: TARGET_HOST');
  expect(missing.stderr).toContain('--set TARGET_HOST=VALUE');
  const scheduled = await svcctl([needs, '--set', 'TARGET_HOST=db.example', '--schedule', '5min']);
  expect(scheduled.exitCode).toBe(2);
  expect(scheduled.stderr).toContain('bundle needs-secret has no timer to schedule');
  const given = await svcctl([needs, '--set', 'TARGET_HOST=db.example']);
  expect(given.stderr).toBe('✔ needs-secret: manifest, settings, units and schedule pass');
  expect(given.exitCode).toBe(0);
});

test('a schedule systemd cannot parse, and a setting that fails its validation, are problems', async () => {
  const schedule = await svcctl(['cleanup-blocking', '--schedule', 'every tuesday-ish']);
  expect(schedule.exitCode).toBe(2);
  expect(schedule.stderr).toContain('invalid schedule "every tuesday-ish"');
  const setting = await svcctl(['cleanup-blocking', '--set', 'STALE_THRESHOLD_SECONDS=soon']);
  expect(setting.exitCode).toBe(2);
  expect(setting.stderr).toMatch(/STALE_THRESHOLD_SECONDS="soon" does not match/);
});

test('scaffolds from svcctl init pass verify, odd names included (a leading digit, 63 characters)', async () => {
  const long = `x${'-y'.repeat(31)}`;
  for (const [name, flags] of [['0day', ['--schedule', 'Mon..Fri 09:00']], [long, ['--daemon']], ['plain-job', []]] as const) {
    const dir = path.join(scratch, `init-${name}`);
    const init = await execa(process.execPath, [bin, 'init', name, '--directory', dir, ...flags], { reject: false, stdin: 'ignore' });
    expect(init.exitCode).toBe(0);
    const result = await svcctl([dir]);
    expect(result.stderr).toBe(`✔ ${name}: manifest, settings, units and schedule pass`);
    expect(result.exitCode).toBe(0);
  }
});

test('without systemd-analyze nothing is verified, and verify says so rather than passing (exit 1)', async () => {
  // The test build looks for its helpers in SVCCTL_TEST_TOOL_PATH (the shipped one only in the system's directories).
  const testBin = path.join(path.dirname(bin), 'svcctl-test.js');
  const result = await execa(process.execPath, [testBin, 'verify', 'cleanup-blocking'], { reject: false, env: { SVCCTL_TEST_TOOL_PATH: '/nonexistent', SVCCTL_TMPDIR: tmp, NO_COLOR: '1' }, extendEnv: false, stdin: 'ignore' });
  expect(result.exitCode).toBe(1);
  expect(result.stderr).toContain('systemd-analyze was not found, so svcctl cannot check the units and schedules it would install');
  expect(readdirSync(tmp)).toEqual([]);
});

test("the manifest's default schedule must be what the timer file does (a 6h manifest with a timer firing every second is refused)", async () => {
  const unit = '[Service]\nType=oneshot\nExecStart=/bin/true\n';
  const timer = (span: string) => `[Timer]\nOnActiveSec=${span}\nOnUnitActiveSec=${span}\n\n[Install]\nWantedBy=timers.target\n`;
  const manifest = (declared: string) => `name: every\ndescription: schedule cross-check\nunits: [every.service, every.timer]\nenable: [every.timer]\nschedule: { timer: every.timer, default: ${declared} }\n`;
  const wrong = bundleDir('every', { 'bundle.yaml': manifest('6h'), 'every.service': unit, 'every.timer': timer('1s') });
  const refused = await svcctl([wrong]);
  expect(refused.exitCode).toBe(2);
  expect(refused.stderr).toContain('the bundle declares the schedule "6h", but every.timer fires every 1s');
  writeFileSync(path.join(wrong, 'every.timer'), timer('6h'));
  const agreed = await svcctl([wrong]);
  expect(agreed.stderr).toBe('✔ every: manifest, settings, units and schedule pass');
  expect(agreed.exitCode).toBe(0);
});
