// The one atomic-write function: final mode from the first instant, no symlink following, no temp files left.
import * as fsp from 'node:fs/promises';
import { statSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { atomicWrite, setFsHook } from '../../src/system/fs.js';
import { OperationError } from '../../src/core/errors.js';

const scratch = mkdtempSync(path.join(process.cwd(), 'test', '.scratch-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => setFsHook(undefined));

test('a secret file is never readable by others, not even between create and rename', async () => {
  const seen: number[] = [];
  setFsHook((operation, target) => {
    if (operation === 'created-temp') seen.push(statSync(target).mode & 0o777);
  });
  const target = path.join(scratch, 'secrets.env');
  const previousUmask = process.umask(0);
  try {
    await atomicWrite(target, 'TOKEN="x"\n', { mode: 0o600 });
  } finally {
    process.umask(previousUmask);
  }
  expect(seen).toEqual([0o600]);
  expect(statSync(target).mode & 0o777).toBe(0o600);
  expect(await fsp.readFile(target, 'utf8')).toBe('TOKEN="x"\n');
});

test('a file meant to be world-readable is created private and opened up only once complete', async () => {
  const seen: number[] = [];
  setFsHook((operation, target) => {
    if (operation === 'created-temp') seen.push(statSync(target).mode & 0o777);
  });
  const target = path.join(scratch, 'unit.service');
  await atomicWrite(target, '[Service]\n', { mode: 0o644 });
  expect(seen).toEqual([0o600]);
  expect(statSync(target).mode & 0o777).toBe(0o644);
});

test('replacing a file is atomic and leaves no temp file behind', async () => {
  const target = path.join(scratch, 'replace.conf');
  await atomicWrite(target, 'one\n', { mode: 0o644 });
  await atomicWrite(target, 'two\n', { mode: 0o644 });
  expect(await fsp.readFile(target, 'utf8')).toBe('two\n');
  expect((await fsp.readdir(scratch)).filter((n) => n.includes('svcctl-'))).toEqual([]);
});

test('a symlink at the target is refused, and what it points to is untouched', async () => {
  const victim = path.join(scratch, 'victim');
  await fsp.writeFile(victim, 'original\n');
  const link = path.join(scratch, 'link.conf');
  await fsp.symlink(victim, link);
  await expect(atomicWrite(link, 'evil\n', { mode: 0o644 })).rejects.toThrow(OperationError);
  expect(await fsp.readFile(victim, 'utf8')).toBe('original\n');
});

test('a failing write removes its temp file', async () => {
  setFsHook((operation) => {
    if (operation === 'created-temp') throw new Error('disk full (simulated)');
  });
  const target = path.join(scratch, 'fails.conf');
  await expect(atomicWrite(target, 'x', { mode: 0o644 })).rejects.toThrow('disk full');
  expect((await fsp.readdir(scratch)).filter((n) => n.startsWith('.fails.conf'))).toEqual([]);
});
