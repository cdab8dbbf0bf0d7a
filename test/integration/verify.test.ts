// `svcctl verify` on the built CLI, on the host: no root, no running systemd, nothing changed. Its
// scratch files (what systemd-analyze reads) go under node_modules/.cache, not the host's /tmp.
// Then, in a sandbox, the exposure score verify and install --dry-run show against the installed units' own.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describeInSandbox } from '../helpers/sandbox.js';

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

const pair = path.join(process.cwd(), 'test', 'fixtures', 'exposure', 'pair');
const firstLine = (text: string) => text.split('\n')[0];

interface Exposure {
  service: string;
  score: number | null;
  level?: string;
  reason?: string;
  suggestions?: { directive: string; lowersBy: number; checks: string[] }[];
  items?: { name: string; field: string; description: string; exposure: number | null }[];
}

interface Verdicts {
  ok: boolean;
  bundles: { bundle: string; ok: boolean; problems: string[]; hint?: string; exposure?: Exposure[] }[];
}

test('the built-in bundle passes: manifest, settings, units with their drop-ins, schedule', async () => {
  const result = await svcctl(['cleanup-blocking']);
  expect(result.stderr).toMatch(/^✔ cleanup-blocking: manifest, settings, units and schedule pass\n  cleanup-blocking-coordination\.service: exposure \d+\.\d [A-Z]+\n/);
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
  expect(firstLine(given.stderr)).toBe('✔ needs-secret: manifest, settings, units and schedule pass');
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
    const result = await svcctl([dir, '--max-exposure', '2.0']);
    expect(firstLine(result.stderr)).toBe(`✔ ${name}: manifest, settings, units and schedule pass`);
    expect(result.stderr).toMatch(/\.service: exposure [01]\.\d OK\n/);
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
  expect(firstLine(agreed.stderr)).toBe('✔ every: manifest, settings, units and schedule pass');
  expect(agreed.exitCode).toBe(0);
});

test('each service is scored with its drop-ins, with the lines that would lower it most; --json carries score and items', async () => {
  const result = await svcctl([pair]);
  expect(result.exitCode).toBe(0);
  // exposure-tmp's PrivateTmp=yes is only in svcctl's drop-in (a setting): it is scored as installed, drop-in included.
  expect(result.stderr).toContain('  exposure-plain.service: exposure 9.6 UNSAFE\n    lower with: CapabilityBoundingSet= (−2.5), ');
  expect(result.stderr).toContain('  exposure-tmp.service: exposure 9.2 UNSAFE\n');
  const without = await svcctl([pair, '--set', 'PRIVATE_TMP=no']);
  expect(without.stderr).toContain('  exposure-tmp.service: exposure 9.6 UNSAFE\n');
  const json = JSON.parse((await svcctl([pair, '--json'])).stdout) as Verdicts;
  const [plain, tmpService] = json.bundles[0]!.exposure!;
  expect(plain).toMatchObject({ service: 'exposure-plain.service', score: 9.6, level: 'UNSAFE' });
  expect(tmpService).toMatchObject({ service: 'exposure-tmp.service', score: 9.2, level: 'UNSAFE' });
  expect(plain!.suggestions!.map((s) => s.directive)).toEqual(['CapabilityBoundingSet=', expect.stringMatching(/^SystemCallFilter=~@clock /), 'RestrictNamespaces=yes']);
  expect(plain!.items!.find((i) => i.field === 'PrivateTmp')).toEqual({ name: 'PrivateTmp=', field: 'PrivateTmp', description: "Service has access to other software's temporary files", exposure: 0.2 });
  expect(tmpService!.items!.find((i) => i.field === 'PrivateTmp')?.exposure).toBe(0);
  expect(readdirSync(tmp)).toEqual([]);
});

test('--max-exposure: exit 2 naming the service, its score and the limit when above; exit 0 at its score', async () => {
  const above = await svcctl([pair, '--max-exposure', '9.5']);
  expect(above.exitCode).toBe(2);
  expect(above.stderr).toContain('✖ exposure-pair: 1 problem\n  exposure-plain.service scores 9.6 UNSAFE on systemd-analyze security, above --max-exposure 9.5\n');
  const json = JSON.parse((await svcctl([pair, '--max-exposure', '9.5', '--json'])).stdout) as Verdicts;
  expect(json.bundles[0]!.problems).toEqual(['exposure-plain.service scores 9.6 UNSAFE on systemd-analyze security, above --max-exposure 9.5']);
  const at = await svcctl([pair, '--max-exposure', '9.6']);
  expect(at.exitCode).toBe(0);
  for (const bad of ['abc', '11', '-1']) {
    const refused = await svcctl([pair, '--max-exposure', bad]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`--max-exposure ${bad} is not a score`);
  }
});

test('a service systemd-analyze cannot score is said to be, not a crash; with --max-exposure that is a problem', async () => {
  const noexec = bundleDir('noexec', {
    'bundle.yaml': 'name: noexec\ndescription: a service systemd refuses to load\nunits: [noexec.service]\nenable: []\n',
    'noexec.service': '[Service]\nType=simple\n',
  });
  const result = await svcctl([noexec, pair, '--json']);
  expect(result.exitCode).toBe(2);
  const verdicts = JSON.parse(result.stdout) as Verdicts;
  expect(verdicts.bundles[0]!.exposure).toEqual([{ service: 'noexec.service', score: null, reason: 'Unit noexec.service has a bad unit file setting.' }]);
  expect(verdicts.bundles[1]).toMatchObject({ ok: true, exposure: [{ score: 9.6 }, { score: 9.2 }] });
  const text = await svcctl([noexec, '--max-exposure', '5']);
  expect(text.stderr).toContain('  noexec.service: exposure not scored (Unit noexec.service has a bad unit file setting.)');
  expect(text.stderr).toContain('noexec.service could not be scored (Unit noexec.service has a bad unit file setting.), so --max-exposure 5 cannot be checked');
});

test('the score costs one systemd-analyze process per bundle, all its services in it (argv spy)', async () => {
  // The test build runs its helpers from SVCCTL_TEST_TOOL_PATH: shims there log each argv, then run the real program.
  const spy = path.join(scratch, 'spy');
  mkdirSync(spy);
  const log = path.join(spy, 'argv.log');
  for (const name of ['systemd-analyze', 'systemd-sysusers', 'systemd-tmpfiles']) {
    writeFileSync(path.join(spy, name), `#!/bin/sh\nprintf '%s ' "${name}" "$@" >> ${log}\necho >> ${log}\nexec /usr/bin/${name} "$@"\n`);
    chmodSync(path.join(spy, name), 0o755);
  }
  const testBin = path.join(path.dirname(bin), 'svcctl-test.js');
  const result = await execa(process.execPath, [testBin, 'verify', pair, 'cleanup-blocking'], { reject: false, env: { SVCCTL_TEST_TOOL_PATH: spy, SVCCTL_TMPDIR: tmp, NO_COLOR: '1' }, stdin: 'ignore' });
  expect(result.exitCode).toBe(0);
  const runs = readFileSync(log, 'utf8').trim().split('\n');
  const security = runs.filter((argv) => argv.startsWith('systemd-analyze security '));
  expect(security).toHaveLength(2);
  expect(security[0]).toMatch(/--offline=yes --json=short .*\/exposure-plain\.service .*\/exposure-tmp\.service $/);
  expect(security[1]).toMatch(/\/cleanup-blocking-coordination\.service $/);
  // What else verify runs, for the record: one verify per bundle and the schedule's check.
  expect(runs.filter((argv) => argv.startsWith('systemd-analyze verify '))).toHaveLength(2);
  expect(readdirSync(tmp)).toEqual([]);
});

/** `systemd-analyze security UNIT` of an installed unit: its overall score. */
const overall = (text: string, unit: string) => Number(new RegExp(`Overall exposure level for ${unit.replace(/\./g, '\\.')}: (\\d+\\.\\d)`).exec(text)?.[1]);

describeInSandbox('the exposure score is the installed units\'', (sandbox) => {
  const services = ['exposure-plain.service', 'exposure-tmp.service', 'cleanup-blocking-coordination.service'];

  test('install --dry-run shows each service\'s score in the plan, the same as verify', async () => {
    const dry = await sandbox.svcctl(['install', pair, 'cleanup-blocking', '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stderr).toContain('  exposure-plain.service: exposure 9.6 UNSAFE (systemd-analyze security; svcctl verify shows what would lower it)\n');
    expect(dry.stderr).toContain('  exposure-tmp.service: exposure 9.2 UNSAFE (');
    expect(dry.stderr).toMatch(/\n  cleanup-blocking-coordination\.service: exposure \d+\.\d [A-Z]+ \(/);
    const json = JSON.parse((await sandbox.svcctl(['install', pair, 'cleanup-blocking', '--dry-run', '--json'])).stdout) as { bundles: { name: string; exposure: Exposure[] }[] };
    const verified = JSON.parse((await sandbox.svcctl(['verify', pair, 'cleanup-blocking', '--json'])).stdout) as Verdicts;
    expect(json.bundles.map((b) => b.exposure.map((e) => [e.service, e.score]))).toEqual(verified.bundles.map((b) => b.exposure!.map((e) => [e.service, e.score])));
    expect(json.bundles[0]!.exposure.map((e) => e.score)).toEqual([9.6, 9.2]);
  });

  test('verify scores each service as `systemd-analyze security UNIT` scores it once installed', async () => {
    const verified = JSON.parse((await sandbox.svcctl(['verify', pair, 'cleanup-blocking', '--json'])).stdout) as Verdicts;
    const scores = Object.fromEntries(verified.bundles.flatMap((b) => b.exposure!.map((e) => [e.service, e.score])));
    const install = await sandbox.svcctl(['install', pair, 'cleanup-blocking', '--yes', '--json']);
    expect(install.exitCode).toBe(0);
    // A real install does not score (that costs a process): only a dry run's plan shows it.
    expect((JSON.parse(install.stdout) as { bundles: { exposure?: unknown }[] }).bundles.map((b) => b.exposure)).toEqual([undefined, undefined]);
    for (const unit of services) {
      const installed = await sandbox.run(['systemd-analyze', 'security', unit]);
      expect([unit, overall(installed.stdout, unit)]).toEqual([unit, scores[unit]]);
    }
  });

  test('install --dry-run --alert email=… also scores the alert instances that get a drop-in of their own, as they are once installed', async () => {
    const args = ['install', 'cleanup-blocking', '--alert', 'email=root@localhost'];
    const instances = ['svcctl-alert@cleanup-blocking-coordination.service.service', 'svcctl-alert-resolved@cleanup-blocking-coordination.service.service'];
    const dry = JSON.parse((await sandbox.svcctl([...args, '--dry-run', '--json'])).stdout) as { bundles: { name: string; exposure: Exposure[] }[] };
    const scored = Object.fromEntries(dry.bundles.flatMap((b) => b.exposure.map((e) => [e.service, e.score])));
    // svcctl-alerts' own templates, and the instances of cleanup-blocking's unit, which exim's drop-in relaxes.
    expect(Object.keys(scored).sort()).toEqual(['cleanup-blocking-coordination.service', ...instances, 'svcctl-alert-restart@.service', 'svcctl-alert-resolved@.service', 'svcctl-alert@.service'].sort());
    for (const instance of instances) expect(scored[instance]).toBeGreaterThan(scored['svcctl-alert@.service']!);
    const text = await sandbox.svcctl([...args, '--dry-run']);
    expect(text.stderr).toContain(`  ${instances[0]}: exposure ${scored[instances[0]!]!.toFixed(1)} `);
    const install = await sandbox.svcctl([...args, '--yes']);
    expect(install.exitCode).toBe(0);
    for (const unit of instances) {
      const installed = await sandbox.run(['systemd-analyze', 'security', unit]);
      expect([unit, overall(installed.stdout, unit)]).toEqual([unit, scored[unit]]);
    }
    expect((await sandbox.svcctl(['uninstall', 'cleanup-blocking', '--purge', '--yes'])).exitCode).toBe(0);
  });
});
