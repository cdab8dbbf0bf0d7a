// A bundle is loaded only from places no one but root (or the user running svcctl) can change: its directory, every
// directory above it, and every file it names. And a built-in's name found elsewhere is never picked silently.
import { chmod, chown, cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBundle } from '../../src/system/bundles/lookup.js';
import { loadBundle } from '../../src/system/bundles/load.js';
import { builtinBundlesDir } from '../../src/system/paths.js';
import { UserError } from '../../src/core/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.resolve(here, '../fixtures/bundles/valid');
const scratch = path.resolve(here, `../.tmp-bundle-trust-${process.pid}`);

async function copy(name: string): Promise<string> {
  const dir = path.join(scratch, name, 'cleanup-demo');
  await mkdir(path.dirname(dir), { recursive: true, mode: 0o755 });
  await chmod(path.dirname(dir), 0o755);
  await cp(fixture, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  await mkdir(scratch, { recursive: true, mode: 0o755 });
  await chmod(scratch, 0o755);
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

test('a bundle root owns, in directories only root can write, loads', async () => {
  await expect(loadBundle(await copy('fine'))).resolves.toMatchObject({ name: 'cleanup-demo' });
});

test('a bundle directory writable by its group is refused (exit 2), naming the path and why', async () => {
  const dir = await copy('group-writable');
  await chmod(dir, 0o775);
  const error = await loadBundle(dir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  expect((error as UserError).message).toContain(`${dir} is writable by its group (mode 0775)`);
  expect((error as UserError).hint).toMatch(/chown -R root:root/);
});

test('a directory above it that every user may write is refused; a sticky one (/tmp) is not', async () => {
  const dir = await copy('open-parent');
  await chmod(path.dirname(dir), 0o777);
  await expect(loadBundle(dir)).rejects.toThrow(`${path.dirname(dir)} is writable by every local user (mode 0777)`);
  await chmod(path.dirname(dir), 0o1777);
  await expect(loadBundle(dir)).resolves.toMatchObject({ name: 'cleanup-demo' });
});

test('a unit file or payload writable by others is refused before it is read', async () => {
  const dir = await copy('loose-file');
  await chmod(path.join(dir, 'cleanup-demo.sh'), 0o666);
  await expect(loadBundle(dir)).rejects.toThrow(`${path.join(dir, 'cleanup-demo.sh')} is writable by every local user (mode 0666)`);
});

test('a file owned by another user is refused (root runs what it says; the suite runs as root)', async () => {
  const dir = await copy('foreign-owner');
  await chown(path.join(dir, 'bundle.yaml'), 1234, 1234);
  await expect(loadBundle(dir)).rejects.toThrow(`${path.join(dir, 'bundle.yaml')} is owned by uid 1234`);
});

test("a built-in bundle's name found elsewhere on the search path is refused, never picked silently", async () => {
  const dir = path.join(scratch, 'shadow');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await cp(path.join(builtinBundlesDir, 'cleanup-blocking'), path.join(dir, 'cleanup-blocking'), { recursive: true });
  await expect(findBundle('cleanup-blocking', [dir, builtinBundlesDir])).rejects.toThrow(/bundle "cleanup-blocking" is found in .*shadow\/cleanup-blocking as well as among svcctl's built-in bundles/);
  await expect(findBundle('cleanup-blocking', [builtinBundlesDir])).resolves.toMatchObject({ name: 'cleanup-blocking' });
});
