// The boundary check that `npm test` runs (.dependency-cruiser.cjs) passes on src/ and fails on imports across the
// may-import table: a fixture tree with a pure module reading a file and a command reaching into the system.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const cruise = (cwd: string) => spawnSync(process.execPath, [cli, 'src', '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'err', '--no-cache'], { cwd, encoding: 'utf8' });

test('src/ keeps to the may-import table', () => {
  const run = cruise(root);
  expect(run.stdout).toContain('no dependency violations found');
  expect(run.status).toBe(0);
}, 60_000);

test('a pure module that imports node:fs, or a command that imports src/system, fails the check', () => {
  const run = cruise(path.join(root, 'test', 'fixtures', 'boundaries'));
  expect(run.status).not.toBe(0);
  expect(run.stdout).toMatch(/core-is-pure: src\/core\/leaky\.ts → (node:)?fs/);
  expect(run.stdout).toMatch(/commands-are-thin: src\/commands\/thick\.ts → src\/system\/disk\.ts/);
}, 60_000);
