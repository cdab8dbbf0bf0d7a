// The one seam for file writes and removals. Every change goes through a directory opened component by component
// from "/" without following a symlink (O_DIRECTORY|O_NOFOLLOW, then /proc/self/fd/N/NAME for the *at() calls Node
// lacks), each component checked to be owned by a trusted user and not writable by group or others — so a swap
// between a check and a write cannot redirect it. Writes are atomic with the final mode and owner from the first
// byte; removals never follow a symlink at any depth.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, statSync, type Stats, unlinkSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../core/errors.js';
import type { PathState } from '../core/observed.js';
import { debug } from '../debug.js';
import { testBuild } from './test-build.js';

export type { PathState };

export interface WriteOptions {
  mode: number;
  uid?: number;
  gid?: number;
  /** Who may own the directories on the way (default root only): uids, or a rule of directory and uid (user scope). */
  owners?: Owners;
  /** Allow group- or world-writable directories on the way (a user-given directory such as a textfile collector's). */
  looseParents?: boolean;
}

/** Called before every write or removal; may throw to simulate a failure (in-process tests; test build only). */
export type FsHook = (operation: string, target: string) => void;
let hook: FsHook | undefined;
export function setFsHook(next: FsHook | undefined): void {
  if (testBuild) hook = next;
}

function seeWrite(operation: string, target: string): void {
  if (testBuild) hook?.(operation, target);
}

/** Trusted owners: a set of uids, or a rule that also looks at the directory (the user, inside his home only). */
export type Owners = ReadonlySet<number> | ((dir: string, uid: number) => boolean);

const rootOnly: ReadonlySet<number> = new Set([0]);

function trusts(owners: Owners, dir: string, uid: number): boolean {
  return typeof owners === 'function' ? owners(dir, uid) : owners.has(uid);
}
const dirFlags = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** A path that refers to `name` inside the directory open as `handle`, resolved by the kernel through the fd. */
function at(handle: fsp.FileHandle, name: string): string {
  return atFd(handle.fd, name);
}

function atFd(fd: number, name: string): string {
  return `/proc/self/fd/${fd}/${name}`;
}

/** Why a path cannot be trusted, as one message naming the directory (exit 1, nothing was written). */
class UnsafePath extends OperationError {}

/**
 * Opens directory `dir` walking from "/", refusing a symlink or non-directory at any component and, unless
 * `looseParents`, a directory owned by anyone but `owners` or writable by group or others.
 *
 * The walk itself makes synchronous calls: the same open/fstat/close of each component, a few microseconds each,
 * where the promise API spends most of a millisecond per walk on round trips through libuv's thread pool (every
 * write and removal walks, some 150 times in an install of 20 bundles). The directory reached is handed back as a
 * FileHandle reopened through its descriptor (/proc/self/fd/N: the same directory, whatever happens to its path).
 */
export async function openDirectory(dir: string, options: Pick<WriteOptions, 'owners' | 'looseParents'> = {}): Promise<fsp.FileHandle> {
  const owners = options.owners ?? rootOnly;
  const loose = options.looseParents ?? false;
  const parts = path.resolve(dir).split('/').filter(Boolean);
  let fd = openSync('/', dirFlags);
  let walked = '';
  try {
    checkDirectory(fd, '/', owners, loose);
    for (const part of parts) {
      walked += `/${part}`;
      let next: number;
      try {
        next = openSync(atFd(fd, part), dirFlags);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR') {
          let symlink = false;
          try {
            symlink = lstatSync(atFd(fd, part)).isSymbolicLink();
          } catch {
            // gone meanwhile: "not a directory" is what was found
          }
          throw new UnsafePath(`refusing to go through ${walked}: it is ${symlink ? 'a symlink' : 'not a directory'}`, 'svcctl never follows a symlink on the way to what it writes; make it a real directory');
        }
        throw error;
      }
      closeSync(fd);
      fd = next;
      checkDirectory(fd, walked, owners, loose);
    }
    return await fsp.open(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_DIRECTORY);
  } finally {
    closeSync(fd);
  }
}

function checkDirectory(fd: number, shown: string, owners: Owners, loose: boolean): void {
  if (loose) return;
  const info = fstatSync(fd);
  const trusted = trusts(owners, shown, info.uid);
  // A sticky directory (/tmp) lets no one replace an entry they do not own: what matters is who owns the next one.
  if (info.mode & 0o1000 && trusted) return;
  if (!trusted) throw new UnsafePath(`refusing to use ${shown}: it is owned by uid ${info.uid}, who could redirect what root writes or reads there`, `make it owned by root (chown root:root ${shown})`);
  if (info.mode & 0o022) throw new UnsafePath(`refusing to use ${shown}: mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')} lets ${info.mode & 0o002 ? 'every local user' : 'its group'} replace what is in it`, `remove the write bits for group and others (chmod go-w ${shown})`);
}

async function inDirectory<T>(target: string, options: Pick<WriteOptions, 'owners' | 'looseParents'>, work: (dir: fsp.FileHandle, name: string) => Promise<T>): Promise<T> {
  const dir = await openDirectory(path.dirname(target), options);
  try {
    return await work(dir, path.basename(target));
  } finally {
    await dir.close();
  }
}

/** The prefix of svcctl's temporary files for `name`: a killed write leaves one, and the next transaction removes it. */
export function tempPrefix(name: string): string {
  return `.${name}.svcctl-`;
}

/**
 * Writes `content` to `target` atomically: a temp file in the same directory is opened with the final mode
 * (O_EXCL|O_NOFOLLOW, so nothing else can hold it), chowned, fsynced, then renamed over the target. A secret is
 * therefore never readable by others, not even for an instant. A symlink at the target is refused.
 */
export async function atomicWrite(target: string, content: string | Buffer, options: WriteOptions): Promise<void> {
  seeWrite('write', target);
  debug('write %s mode %s', target, options.mode.toString(8));
  // Synchronous calls but for the two fsyncs (the only ones that may wait for a disk), as in the walk (openDirectory).
  await inDirectory(target, options, async (dir, name) => {
    const existing = lstatSync(at(dir, name), { throwIfNoEntry: false });
    if (existing?.isSymbolicLink()) throw new OperationError(`refusing to write through a symlink at ${target}`, 'remove the symlink or point the bundle elsewhere');
    if (existing?.isDirectory()) throw new OperationError(`${target} is a directory, not a file`);
    const temp = `${tempPrefix(name)}${randomBytes(6).toString('hex')}`;
    let fd: number | undefined;
    try {
      fd = openSync(at(dir, temp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, options.mode & 0o600);
      seeWrite('created-temp', path.join(path.dirname(target), temp));
      if (options.uid !== undefined || options.gid !== undefined) fchownSync(fd, options.uid ?? -1, options.gid ?? -1);
      // A file meant for its owner alone (a secret, a receipt) on a file system that ignores modes (vfat, some network
      // mounts) would be readable by others: refused before its first byte is written.
      if ((options.mode & 0o077) === 0) {
        const shown = fstatSync(fd).mode & 0o777;
        if (shown & 0o077) throw new OperationError(`refusing to write ${target}: its file system ignores file modes (a new file for its owner alone shows mode ${shown.toString(8).padStart(4, '0')}), so others could read it`, `keep svcctl's files on a file system that keeps modes (not vfat or exfat, nor a network mount that ignores them)`);
      }
      writeFileSync(fd, content);
      fchmodSync(fd, options.mode);
      await fsyncFd(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(at(dir, temp), at(dir, name));
      await dir.sync();
    } catch (error) {
      if (fd !== undefined) closeQuietly(fd);
      try {
        unlinkSync(at(dir, temp));
      } catch {
        // never made, or already renamed
      }
      throw error;
    }
  });
}

const fsyncFd = promisify(fsync);

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** Creates one directory (its parent must exist) with an exact mode and owner. */
export async function makeDirectory(target: string, options: WriteOptions): Promise<void> {
  seeWrite('mkdir', target);
  debug('mkdir %s mode %s', target, options.mode.toString(8));
  // Synchronous calls, as in the walk (openDirectory).
  await inDirectory(target, options, async (dir, name) => {
    mkdirSync(at(dir, name), { mode: 0o700 });
    const made = openSync(at(dir, name), dirFlags);
    try {
      if (options.uid !== undefined || options.gid !== undefined) fchownSync(made, options.uid ?? -1, options.gid ?? -1);
      fchmodSync(made, options.mode);
    } finally {
      closeSync(made);
    }
  });
}

/** Sets mode and owner of an existing directory, never following a symlink. */
export async function setDirectoryOwnerAndMode(target: string, options: WriteOptions): Promise<void> {
  seeWrite('chmod', target);
  await inDirectory(target, options, async (dir, name) => {
    const handle = await fsp.open(at(dir, name), dirFlags);
    try {
      await handle.chown(options.uid ?? -1, options.gid ?? -1);
      await handle.chmod(options.mode);
    } finally {
      await handle.close();
    }
  });
}

/** Removes a file (or a symlink, never what it points to); nothing there is fine. */
export async function removeFile(target: string, options: Pick<WriteOptions, 'owners' | 'looseParents'> = {}): Promise<void> {
  seeWrite('remove', target);
  debug('remove %s', target);
  await inDirectory(target, options, async (dir, name) => {
    await fsp.unlink(at(dir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/**
 * Removes an empty directory; one that is not empty, or is a mount point (EBUSY), is left alone (false). Nothing there
 * counts as removed.
 */
export async function removeEmptyDirectory(target: string, options: Pick<WriteOptions, 'owners' | 'looseParents'> = {}): Promise<boolean> {
  seeWrite('rmdir', target);
  try {
    await inDirectory(target, options, (dir, name) => fsp.rmdir(at(dir, name)));
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EBUSY') return false;
    throw error;
  }
}

/** Removes `start` and its parents while they are empty, stopping below `stopAt`. */
export async function removeEmptyParents(start: string, stopAt: string, options: Pick<WriteOptions, 'owners'> = {}): Promise<void> {
  let dir = start;
  while (dir.startsWith(`${stopAt}/`) && (await removeEmptyDirectory(dir, options))) dir = path.dirname(dir);
}

export interface TreeRemoval {
  files: number;
  directories: number;
  /** Entries that reappeared while they were being removed (someone is still writing there). */
  left: string[];
}

/**
 * Removes `target` and everything in it through directory file descriptors: every directory is opened with
 * O_NOFOLLOW, its entries removed relative to that descriptor, so a directory swapped for a symlink mid-way is
 * unlinked as a symlink — never followed — and nothing outside the tree can be reached. The directory's parent is
 * walked as for any write (owned by root, not writable by others).
 */
export async function removeTree(target: string, options: Pick<WriteOptions, 'owners' | 'looseParents'> = {}): Promise<TreeRemoval> {
  seeWrite('remove-tree', target);
  debug('remove tree %s', target);
  const result: TreeRemoval = { files: 0, directories: 0, left: [] };
  await inDirectory(target, options, (dir, name) => removeEntry(dir, name, target, result)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  return result;
}

async function removeEntry(parent: fsp.FileHandle, name: string, shown: string, result: TreeRemoval): Promise<void> {
  let child: fsp.FileHandle | undefined;
  try {
    child = await fsp.open(at(parent, name), dirFlags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTDIR' && code !== 'ELOOP') throw error;
  }
  if (!child) {
    // Not a directory (a file, a symlink, a socket…): unlinked, whatever it points to.
    await fsp.unlink(at(parent, name)).then(
      () => void result.files++,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'EISDIR') return removeEntry(parent, name, shown, result); // swapped for a directory just now
        if (error.code !== 'ENOENT') throw error;
      },
    );
    return;
  }
  try {
    for (let round = 0; round < 5; round++) {
      const entries = await fsp.readdir(`/proc/self/fd/${child.fd}`);
      for (const entry of entries) await removeEntry(child, entry, `${shown}/${entry}`, result);
      try {
        await fsp.rmdir(at(parent, name));
        result.directories++;
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Moved away while we emptied it (ENOENT), or swapped for a symlink or file (ENOTDIR): what is at `name` now
        // is not the directory we emptied, and the parent's next round removes it like any other entry.
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
    }
    result.left.push(shown);
  } finally {
    await child.close();
  }
}

/** Renames within the target tree (backups): both parents walked as for a write. */
export async function renamePath(from: string, to: string, options: Pick<WriteOptions, 'owners'> = {}): Promise<void> {
  seeWrite('rename', from);
  const source = await openDirectory(path.dirname(from), options);
  try {
    const destination = await openDirectory(path.dirname(to), options);
    try {
      await fsp.rename(at(source, path.basename(from)), at(destination, path.basename(to)));
    } finally {
      await destination.close();
    }
  } finally {
    await source.close();
  }
}

/** Makes `target` and its missing parents (each with `mode` and owner), walking as for a write. */
export async function ensureDirectory(target: string, options: WriteOptions): Promise<void> {
  const missing: string[] = [];
  let dir = path.resolve(target);
  while (dir !== '/' && !(await fsp.lstat(dir).catch(() => undefined))) {
    missing.unshift(dir);
    dir = path.dirname(dir);
  }
  for (const each of missing) {
    await makeDirectory(each, options).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

/** What is at `target` now, without following a symlink there; undefined when nothing is there. */
export async function inspectPath(target: string, checksum: { content: boolean; key?: Buffer } = { content: true }): Promise<PathState | undefined> {
  // Synchronous calls, as in the walk (openDirectory): an install observes some hundred paths, most of them small.
  let info;
  try {
    info = lstatSync(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  const kind = info.isFile() ? 'file' : info.isDirectory() ? 'directory' : info.isSymbolicLink() ? 'symlink' : 'other';
  const state: PathState = { kind, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
  if (kind === 'file' && checksum.content) {
    const content = readFileSync(target);
    state.checksum = checksum.key ? `hmac-sha256:${createHmac('sha256', checksum.key).update(content).digest('hex')}` : `sha256:${sha256(content)}`;
  }
  if (kind === 'symlink') {
    try {
      state.linkTarget = readlinkSync(target);
    } catch {
      state.linkTarget = '';
    }
  }
  return state;
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * Reads a file root acts on (a receipt): the directories on the way are walked as for a write, and the file is opened
 * without following a symlink and believed only if it is a regular file owned by `owners`, not writable by group or
 * others — what someone else could have put there is never acted on. Undefined when nothing is there.
 */
export async function readTrustedFile(target: string, options: Pick<WriteOptions, 'owners'> & { maxBytes: number }): Promise<Buffer | undefined> {
  if (!(await fsp.lstat(target).catch(() => undefined))) return undefined;
  const owners = options.owners ?? rootOnly;
  const refuse = (why: string, hint: string) => new UnsafePath(`refusing to read ${target}: ${why}`, hint);
  try {
    return await inDirectory(target, { owners }, async (dir, name) => {
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(at(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw refuse('it is a symlink', 'svcctl only reads its own files; move the symlink away');
        // Name the file, not the descriptor path it was opened through (a reader without root is told what it needs).
        throw Object.assign(error as NodeJS.ErrnoException, { path: target });
      }
      try {
        const info = await handle.stat();
        if (!info.isFile()) throw refuse('it is not a regular file', 'move it away');
        if (!trusts(owners, path.dirname(target), info.uid)) throw refuse(`it is owned by uid ${info.uid}, who could have written anything in it`, `check it, then chown root:root ${target}`);
        if (info.mode & 0o022) throw refuse(`its mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')} lets others change it`, `check it, then chmod go-w ${target}`);
        if (info.size > options.maxBytes) throw new OperationError(`${target} is larger than ${options.maxBytes} bytes`);
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function readFileIfExists(target: string, maxBytes?: number): Promise<Buffer | undefined> {
  if (maxBytes !== undefined) {
    const info = await fsp.stat(target).catch(() => undefined);
    if (info && info.size > maxBytes) throw new OperationError(`${target} is larger than ${maxBytes} bytes`);
  }
  return fsp.readFile(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
}

export async function readTextIfExists(target: string): Promise<string | undefined> {
  return (await readFileIfExists(target))?.toString('utf8');
}

/** Whether a program is a regular file (following symlinks) that this process may execute. */
export async function programState(program: string): Promise<{ exists: boolean; executable: boolean }> {
  const exists = await fsp.stat(program).then((s) => s.isFile(), () => false);
  const executable = exists && (await fsp.access(program, constants.X_OK).then(() => true, () => false));
  return { exists, executable };
}

/**
 * lstat, stat, realpath and readFile behind promises, made with synchronous calls: for the many small reads of local
 * files (loading a bundle: its manifest, units, payload and trust checks, some 30 calls a bundle), where a promise
 * round trip through libuv's thread pool costs more than the call. Failures reject, as fs/promises' do; realpath is
 * realpath(3), as fs/promises' is.
 */
export const localFiles = {
  lstat: async (p: string): Promise<Stats> => lstatSync(p),
  stat: async (p: string): Promise<Stats> => statSync(p),
  realpath: async (p: string): Promise<string> => realpathSync.native(p),
  readFile: async (p: string): Promise<Buffer> => readFileSync(p),
  readText: async (p: string): Promise<string> => readFileSync(p, 'utf8'),
};

/** The path with every symlink resolved, or undefined when it does not exist. */
export async function realPath(target: string): Promise<string | undefined> {
  return fsp.realpath(target).catch(() => undefined);
}

export async function listDirectory(target: string): Promise<string[]> {
  return fsp.readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
}

export { fsp };

/** Makes a symbolic link at `target` pointing to `linkTo` (an export's enable link), walking as for a write. */
export async function makeSymlink(target: string, linkTo: string, options: Pick<WriteOptions, 'owners' | 'looseParents'>): Promise<void> {
  seeWrite('symlink', target);
  await inDirectory(target, options, async (dir, name) => {
    await fsp.symlink(linkTo, at(dir, name));
  });
}
