// Declared directories that follow a setting (${PROJECT_DIR}/logs): checked in the manifest with the defaults, filled
// by desire() with the values given, and refused there when the value makes a path a bundle may not declare.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { desire, type Inputs } from '../../src/core/desired.js';
import { UserError } from '../../src/core/errors.js';
import { BundleManifestError } from '../../src/core/bundle/manifest.js';
import { systemTarget } from '../../src/core/target.js';
import { loadBundle } from '../../src/system/bundles/load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const scratch = path.resolve(here, `../.tmp-directory-templates-${process.pid}`);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const manifest = (directories: string[], settings: string[] = ['  - { key: PROJECT_DIR, description: project, default: /opt/project }']) => [
  'name: templated',
  'description: directories that follow a setting',
  'units: [templated.service]',
  'user: { name: tpl, home: /opt/project }',
  'settings:',
  ...settings,
  'secrets:',
  '  - { key: TOKEN, prompt: token, required: false }',
  'directories:',
  ...directories,
];

async function bundleDir(name: string, lines: string[]): Promise<string> {
  const dir = path.join(scratch, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'templated.service'), '[Service]\nType=oneshot\nExecStart=/bin/true\n');
  await writeFile(path.join(dir, 'bundle.yaml'), `${lines.join('\n')}\n`);
  return dir;
}

function inputs(settings: Record<string, string>): Inputs {
  return { settings, secrets: {}, force: false, start: true, enable: true, now: '2026-12-01T00:00:00.000Z', svcctlVersion: '0.1.0' };
}

async function problems(name: string, lines: string[]): Promise<string[]> {
  const error = await loadBundle(await bundleDir(name, lines)).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof BundleManifestError)) throw new Error(`expected a BundleManifestError, got ${String(error)}`);
  return error.manifestProblems.map((p) => `${p.field}: ${p.message}`);
}

describe('a directory path with ${KEY}', () => {
  test('follows the setting: the tmpfiles line, the desired directories and what is observed use the value given', async () => {
    const bundle = await loadBundle(await bundleDir('follows', manifest(['  - { path: "${PROJECT_DIR}/logs", owner: tpl, mode: "0750" }', '  - { path: /var/lib/tpl, owner: tpl }'])));
    expect(bundle.directories.map((d) => d.path)).toEqual(['${PROJECT_DIR}/logs', '/var/lib/tpl']);
    const desired = desire(bundle, inputs({ PROJECT_DIR: '/srv/elsewhere' }), systemTarget());
    expect(desired.directories.filter((d) => d.kind === 'data').map((d) => d.path)).toEqual(['/srv/elsewhere/logs', '/var/lib/tpl']);
    const tmpfiles = desired.files.find((f) => f.role === 'tmpfiles')!.content.toString('utf8');
    expect(tmpfiles).toContain('d /srv/elsewhere/logs 0750 tpl tpl -');
    expect(tmpfiles).not.toContain('${');
    expect(desire(bundle, inputs({ PROJECT_DIR: '/opt/project' }), systemTarget()).directories.map((d) => d.path)).toContain('/opt/project/logs');
  });

  test.each([
    ['a relative path', 'relative/dir', 'is not an absolute path'],
    ['a path with ..', '/srv/../etc', 'must not contain ..'],
    ['svcctl\'s own state', '/var/lib/svcctl', 'is under /var/lib/svcctl'],
    ['a system directory', '/usr', "one of the system's own directories"],
    ['/', '/', 'must not be /'],
  ])('a value that makes it %s is refused at install, naming the setting', async (_what, value, message) => {
    const bundle = await loadBundle(await bundleDir('refused', manifest(['  - { path: "${PROJECT_DIR}", owner: tpl }'])));
    let error: unknown;
    try {
      desire(bundle, inputs({ PROJECT_DIR: value }), systemTarget());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain(`directory \${PROJECT_DIR} of bundle templated would be ${value} with PROJECT_DIR=${value}: `);
    expect((error as UserError).message).toContain(message);
  });

  test('two directories that meet at one path with the values given are refused', async () => {
    const bundle = await loadBundle(await bundleDir('meet', manifest(['  - { path: "${PROJECT_DIR}/logs", owner: tpl }', '  - { path: /srv/x/logs, owner: tpl }'])));
    expect(() => desire(bundle, inputs({ PROJECT_DIR: '/srv/x' }), systemTarget())).toThrow('declares the directory /srv/x/logs twice');
  });

  test('the manifest checks the path with the defaults, and names keys that are secrets or unknown', async () => {
    expect(await problems('bad-default', manifest(['  - { path: "${PROJECT_DIR}/logs" }'], ['  - { key: PROJECT_DIR, description: project, default: "/etc/systemd/x" }']))).toEqual([
      'directories[0].path: with the settings\' defaults, "/etc/systemd/x/logs" is under /etc/systemd, where a bundle may not create directories',
    ]);
    expect(await problems('secret-key', manifest(['  - { path: "${TOKEN}/logs" }']))).toEqual(['directories[0].path: ${TOKEN} is a secret: a directory\'s path is shown in the plan and the receipt']);
    expect(await problems('unknown-key', manifest(['  - { path: "${NOPE}/logs" }']))).toEqual(['directories[0].path: ${NOPE} is not a setting of the bundle']);
  });

  test('a setting without a default is checked only with the value given', async () => {
    const bundle = await loadBundle(await bundleDir('required', manifest(['  - { path: "${DATA_DIR}", owner: tpl }'], ['  - { key: DATA_DIR, description: data }'])));
    expect(desire(bundle, inputs({ DATA_DIR: '/srv/data' }), systemTarget()).directories.map((d) => d.path)).toContain('/srv/data');
    expect(() => desire(bundle, inputs({ DATA_DIR: '/proc/x' }), systemTarget())).toThrow('is under /proc');
  });

  test('the schema still refuses a path that starts with neither / nor ${KEY}', async () => {
    expect((await problems('schema', manifest(['  - { path: "logs/${PROJECT_DIR}" }'])))[0]).toMatch(/^directories\[0\]\.path: "logs\/\$\{PROJECT_DIR\}": must be an absolute path/);
  });
});
