// The one seam for file writes: atomic, created with their final mode and owner, never following symlinks.
import { constants } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../core/errors.js';
import { debug } from '../debug.js';
import { testBuild } from './test-build.js';

export interface WriteOptions {
  mode: number;
  uid?: number;
  gid?: number;
}

/** Called before every write or removal; may throw to simulate a failure (fault injection in tests). */
export type FsHook = (operation: string, target: string) => void;
let hook: FsHook | undefined;
export function setFsHook(next: FsHook | undefined): void {
  if (testBuild) hook = next;
}

function seeWrite(operation: string, target: string): void {
  if (testBuild) hook?.(operation, target);
}

/**
 * Writes `content` to `target` atomically: a temp file in the same directory is opened with the
 * final mode (O_EXCL|O_NOFOLLOW, so nothing else can hold it), chowned, fsynced, then renamed over
 * the target. A secret is therefore never readable by others, not even for an instant.
 */
export async function atomicWrite(target: string, content: string | Buffer, options: WriteOptions): Promise<void> {
  seeWrite('write', target);
  debug('write %s mode %s', target, options.mode.toString(8));
  await refuseSymlink(target);
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.svcctl-${randomBytes(6).toString('hex')}`);
  const previousUmask = process.umask(0o077);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, options.mode & 0o600);
    seeWrite('created-temp', temp);
    if (options.uid !== undefined || options.gid !== undefined) await handle.chown(options.uid ?? -1, options.gid ?? -1);
    await handle.writeFile(content);
    await handle.chmod(options.mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(temp, target);
    await syncDirectory(dir);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  } finally {
    process.umask(previousUmask);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function refuseSymlink(target: string): Promise<void> {
  const info = await fsp.lstat(target).catch(() => undefined);
  if (info?.isSymbolicLink()) {
    throw new OperationError(`refusing to write through a symlink at ${target}`, 'remove the symlink or point the bundle elsewhere');
  }
}

export interface PathState {
  kind: 'file' | 'directory' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  /** sha256 of a regular file's content */
  sha256?: string;
}

/** What is at `target` now, without following a symlink; undefined when nothing is there. */
export async function inspectPath(target: string, withChecksum = true): Promise<PathState | undefined> {
  const info = await fsp.lstat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!info) return undefined;
  const kind = info.isFile() ? 'file' : info.isDirectory() ? 'directory' : info.isSymbolicLink() ? 'symlink' : 'other';
  const state: PathState = { kind, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
  if (kind === 'file' && withChecksum) state.sha256 = sha256(await fsp.readFile(target));
  return state;
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export async function readFileIfExists(target: string): Promise<Buffer | undefined> {
  return fsp.readFile(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
}

export async function readTextIfExists(target: string): Promise<string | undefined> {
  return (await readFileIfExists(target))?.toString('utf8');
}

/** Creates one directory (not its parents) with an exact mode and owner. */
export async function makeDirectory(target: string, options: WriteOptions): Promise<void> {
  seeWrite('mkdir', target);
  debug('mkdir %s mode %s', target, options.mode.toString(8));
  await fsp.mkdir(target, { mode: 0o700 });
  if (options.uid !== undefined || options.gid !== undefined) await fsp.lchown(target, options.uid ?? -1, options.gid ?? -1);
  await fsp.chmod(target, options.mode);
}

/** Sets mode and owner of an existing path, never following a symlink. */
export async function setOwnerAndMode(target: string, options: WriteOptions): Promise<void> {
  seeWrite('chmod', target);
  await refuseSymlink(target);
  if (options.uid !== undefined || options.gid !== undefined) await fsp.lchown(target, options.uid ?? -1, options.gid ?? -1);
  await fsp.chmod(target, options.mode);
}

export async function removeFile(target: string): Promise<void> {
  seeWrite('remove', target);
  debug('remove %s', target);
  await fsp.rm(target, { force: true });
}

/** Removes an empty directory; a directory that is not empty is left alone (returns false). */
export async function removeEmptyDirectory(target: string): Promise<boolean> {
  seeWrite('rmdir', target);
  try {
    await fsp.rmdir(target);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw error;
  }
}

/** Removes `start` and its parents while they are empty, stopping below `stopAt`. */
export async function removeEmptyParents(start: string, stopAt: string): Promise<void> {
  let dir = start;
  while (dir.startsWith(`${stopAt}/`) && (await removeEmptyDirectory(dir))) dir = path.dirname(dir);
}

export async function removeTree(target: string): Promise<void> {
  seeWrite('remove-tree', target);
  debug('remove tree %s', target);
  await fsp.rm(target, { recursive: true, force: true });
}

export async function renamePath(from: string, to: string): Promise<void> {
  seeWrite('rename', from);
  await fsp.rename(from, to);
}

export async function ensureDirectory(target: string, mode = 0o755): Promise<void> {
  await fsp.mkdir(target, { recursive: true, mode });
}

export async function listDirectory(target: string): Promise<string[]> {
  return fsp.readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
}

export { fsp };
