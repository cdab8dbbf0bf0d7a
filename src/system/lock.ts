// One transaction at a time: a kernel lock (flock) on svcctl's own open lock file, gone the moment svcctl ends, however it ends.
//
// Node 20 has no flock(2), so util-linux's flock(1) takes the lock on svcctl's file descriptor, passed to it as
// its fd 3, and exits: a flock belongs to the open file, which svcctl keeps open while the transaction runs, so
// the kernel lets go when svcctl closes it or dies (SIGKILL included), and no helper process has to outlive the
// call. (fs-ext, the npm binding of flock(2), is a native addon built with node-gyp at install: that would not
// go into svcctl's single-file executable.) The PID in the file is for messages only; whether a transaction
// runs is the kernel's answer, never the file's content.
import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, lstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError, OperationError, CommandFailedError } from '../core/errors.js';
import { layout, onHost, type Target } from '../core/target.js';
import { exec, tool } from './exec.js';
import { ensureDirectory } from './fs.js';
import { isAlive, sleep } from './processes.js';
import { testBuild } from './test-build.js';

export interface Lock {
  release(): Promise<void>;
}

export interface LockState {
  path: string;
  /** The PID the holder wrote into the file (for messages only), when a transaction holds the lock. */
  pid?: number;
  /** A transaction holds the lock now (the kernel says so, whatever the file holds). */
  held: boolean;
}

/** flock(1)'s exit status when the lock is someone else's (--conflict-exit-code). */
const busy = 75;

/**
 * Test build only: SVCCTL_TEST_LOCK_TRACE=FILE appends "enter PID" to FILE once the lock is held and "leave PID"
 * just before it is let go, with SVCCTL_TEST_LOCK_HOLD_MS of holding after entering (test/integration/lock.test.ts).
 */
const lockTrace = testBuild && process.env.SVCCTL_TEST_LOCK_TRACE ? { file: process.env.SVCCTL_TEST_LOCK_TRACE, holdMs: Number(process.env.SVCCTL_TEST_LOCK_HOLD_MS ?? 0) } : undefined;

/** Where the lock of `target` is on this machine. */
export function lockPath(target: Target): string {
  return onHost(target, layout(target).lockFile);
}

export async function acquireLock(target: Target, options: { waitMs?: number } = {}): Promise<Lock> {
  const file = lockPath(target);
  await checkLockDirectory(target, file);
  const deadline = Date.now() + (options.waitMs ?? Number(process.env.SVCCTL_LOCK_WAIT_MS ?? 5000));
  for (;;) {
    const fd = openLockFile(target, file);
    let holding = false;
    try {
      const leftMs = deadline - Date.now();
      const wait = leftMs > 0 ? ['--wait', (leftMs / 1000).toFixed(3)] : ['--nonblock'];
      const result = await exec([tool('flock'), '--exclusive', ...wait, '--conflict-exit-code', String(busy), '3'], { fd3: fd, check: false });
      if (result.exitCode === busy) {
        const pid = holderPid(fd);
        throw new OperationError(
          `another svcctl transaction is running (${pid !== undefined ? `pid ${pid}` : 'pid unknown'}, lock ${file})`,
          'wait for it to finish and try again; nothing was changed',
        );
      }
      if (result.exitCode !== 0) throw new CommandFailedError([tool('flock'), '--exclusive', ...wait, '3'], result.exitCode, result.stderr);
      // A holder removes the file before it lets go (release below): a lock won on a removed file guards nothing.
      holding = isStillAt(fd, file);
    } finally {
      if (!holding) closeSync(fd);
    }
    if (holding) return await holdLock(target, file, fd);
  }
}

async function holdLock(target: Target, file: string, fd: number): Promise<Lock> {
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  if (lockTrace) {
    await fsp.appendFile(lockTrace.file, `enter ${process.pid}\n`);
    await sleep(lockTrace.holdMs);
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      if (lockTrace) await fsp.appendFile(lockTrace.file, `leave ${process.pid}\n`);
      // Removed while still held, so that the file never outlives a transaction that ended well (a --root tree is
      // left as it was); whoever waits on the removed file sees that and tries again on the path.
      if (isStillAt(fd, file)) unlinkSync(file);
      closeSync(fd);
      if (target.offline) await fsp.rmdir(path.dirname(file)).catch(() => undefined);
    },
  };
}

/** The lock file's directory: a real directory of the target's owner (root) that nobody else can write. A --root tree's is made. */
async function checkLockDirectory(target: Target, file: string): Promise<void> {
  const dir = path.dirname(file);
  // 0755 as on a live system (var, var/lib and svcctl's state directory, where the public index is read by all).
  if (target.offline) {
    await ensureDirectory(dir, { mode: 0o755, uid: target.uid, gid: target.gid }).catch((error: Error) => {
      throw new OperationError(`cannot make the directory of the transaction lock ${file}: ${error.message}`, 'nothing was changed; give --root a directory (or a path where one can be made)');
    });
  }
  const info = await fsp.lstat(dir).catch(() => undefined);
  if (info?.isDirectory() && info.uid === target.uid && (info.mode & 0o022) === 0) return;
  const what = !info ? 'missing' : info.isSymbolicLink() ? 'a symbolic link' : !info.isDirectory() ? 'not a directory' : `mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')}, owned by uid ${info.uid}`;
  throw new UserError(`refusing the transaction lock ${file}: its directory is ${what}`, `make ${dir} a directory owned by ${target.user} that nobody else can write; nothing was changed`);
}

/** Opens (or creates, 0600) the lock file without following a symbolic link; it must be a regular file of the target's owner. */
function openLockFile(target: Target, file: string): number {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UserError(`refusing the transaction lock ${file}: it is a symbolic link`, `remove it (rm ${file}); nothing was changed`);
    throw error;
  }
  const info = fstatSync(fd);
  if (!info.isFile() || info.uid !== target.uid) {
    closeSync(fd);
    throw new UserError(`refusing the transaction lock ${file}: it is ${info.isFile() ? `owned by uid ${info.uid}` : 'not a regular file'}`, `remove it (rm ${file}); nothing was changed`);
  }
  if ((info.mode & 0o777) !== 0o600) fchmodSync(fd, 0o600);
  return fd;
}

/** The open lock file is still the one at `file` (not removed, nor replaced, by a holder letting go). */
function isStillAt(fd: number, file: string): boolean {
  const open = fstatSync(fd);
  try {
    const there = lstatSync(file);
    return there.dev === open.dev && there.ino === open.ino;
  } catch {
    return false;
  }
}

/** The PID the holder wrote, when it names a live process: for messages only. */
function holderPid(fd: number): number | undefined {
  const buffer = Buffer.alloc(32);
  const text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8').trim();
  const pid = /^\d{1,10}$/.test(text) ? Number(text) : undefined;
  return pid !== undefined && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Whether a transaction holds the lock now (asked of the kernel: a shared lock is refused while it is held) and its PID. */
export async function inspectLock(target: Target): Promise<LockState> {
  const file = lockPath(target);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    // No file (or not one svcctl would use): no transaction holds it.
    return { path: file, held: false };
  }
  try {
    const argv = [tool('flock'), '--shared', '--nonblock', '--conflict-exit-code', String(busy), '3'];
    const probe = await exec(argv, { fd3: fd, check: false });
    if (probe.exitCode === 0) return { path: file, held: false };
    if (probe.exitCode !== busy) throw new CommandFailedError(argv, probe.exitCode, probe.stderr);
    const pid = holderPid(fd);
    return { path: file, held: true, ...(pid !== undefined ? { pid } : {}) };
  } finally {
    closeSync(fd);
  }
}
