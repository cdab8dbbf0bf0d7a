// svcctl init's files (src/plan/scaffold.ts) load as a valid bundle for any bundle name and schedule:
// written to a scratch directory and read back by the real loader (schema and rules included).
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { loadBundle } from '../../src/system/bundles/load.js';
import { scaffoldBundle, userNameFor } from '../../src/core/scaffold.js';
import { UserError } from '../../src/core/errors.js';

const scratch = mkdtempSync(path.join(process.cwd(), 'node_modules', '.cache', 'svcctl-scaffold-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const bundleName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,30}$/);
const schedule = fc.constantFrom('5min', '1h 30min', '300', 'daily', '*-*-* 02:00:00', 'Mon..Fri 09:00 Europe/Paris');
let written = 0;

test('every scaffold loads as a valid bundle, with the name, units and schedule asked for', async () => {
  await fc.assert(
    fc.asyncProperty(bundleName, schedule, fc.boolean(), async (name, when, daemon) => {
      const dir = path.join(scratch, `b${written++}`);
      mkdirSync(dir);
      const files = scaffoldBundle(name, { daemon, schedule: when });
      for (const file of files) writeFileSync(path.join(dir, file.name), file.content, { mode: file.mode });
      const bundle = await loadBundle(dir, { expectedName: name });
      expect(bundle.name).toBe(name);
      expect(bundle.user?.name).toBe(userNameFor(name));
      expect(bundle.units[0]!.content).toContain(`\nUser=${userNameFor(name)}\n`);
      expect(bundle.units.map((u) => u.name)).toEqual(daemon ? [`${name}.service`] : [`${name}.service`, `${name}.timer`]);
      expect(bundle.enable).toEqual([daemon ? `${name}.service` : `${name}.timer`]);
      expect(bundle.schedule).toEqual(daemon ? undefined : { timer: `${name}.timer`, default: when });
      expect(bundle.payload).toEqual([expect.objectContaining({ destination: `/usr/local/bin/${name}.sh`, mode: 0o755 })]);
    }),
    { numRuns: 60 },
  );
});

test('the system user is the bundle name where that is a valid user name, else svc-NAME within 31 characters (the limit of systemd-sysusers)', () => {
  expect(userNameFor('nightly-report')).toBe('nightly-report');
  expect(userNameFor('0day')).toBe('svc-0day');
  expect(userNameFor('a'.repeat(40))).toBe(`svc-${'a'.repeat(27)}`);
});

test('a name that is not a bundle name is refused before anything is rendered', () => {
  for (const bad of ['', 'Upper', 'with_underscore', '-leading-dash', 'a'.repeat(64), 'dot.ted']) {
    expect(() => scaffoldBundle(bad, { daemon: false, schedule: '1h' })).toThrow(UserError);
  }
});
