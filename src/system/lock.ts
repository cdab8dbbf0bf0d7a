// One transaction at a time: an exclusive lock file holding the owner's PID; a second one waits briefly, then fails.
import * as fsp from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../core/errors.js';
import { onHost, type Target } from '../core/target.js';
import { isAlive, sleep } from './processes.js';

export interface Lock {
  release(): Promise<void>;
}

export function lockPath(host: Target): string {
  // /run is cleared at boot, so a lock never outlives a crash of the machine.
  return host.offline ? onHost(host, '/var/lib/svcctl/.lock') : '/run/svcctl.lock';
}

export async function acquireLock(host: Target, options: { waitMs?: number } = {}): Promise<Lock> {
  const file = lockPath(host);
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + (options.waitMs ?? Number(process.env.SVCCTL_LOCK_WAIT_MS ?? 5000));
  for (;;) {
    try {
      const handle = await fsp.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      const release = async () => {
        await fsp.rm(file, { force: true });
        if (host.offline) await fsp.rmdir(path.dirname(file)).catch(() => undefined);
      };
      return { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await inspectLock(host);
    if (holder?.stale) {
      // The holder died (SIGKILL): its lock is stale. Remove it only if it still names that PID.
      if ((await inspectLock(host))?.pid === holder.pid) await fsp.rm(file, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new OperationError(
        `another svcctl transaction is running (pid ${holder?.pid ?? 'unknown'}, lock ${file})`,
        'wait for it to finish and try again; nothing was changed',
      );
    }
    await sleep(100);
  }
}

export interface LockState {
  path: string;
  /** The holder's PID, when the file names one (it is written just after the file is created). */
  pid?: number;
  /** The holder is gone (killed, or the machine crashed with --root's lock on disk): nothing is running. */
  stale: boolean;
}

/** The lock file, if there is one: who holds it and whether that process is still alive. */
export async function inspectLock(host: Target): Promise<LockState | undefined> {
  const file = lockPath(host);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    text = '';
  }
  const pid = Number(text.trim());
  const known = Number.isInteger(pid) && pid > 0;
  return { path: file, ...(known ? { pid } : {}), stale: known && !isAlive(pid) };
}
