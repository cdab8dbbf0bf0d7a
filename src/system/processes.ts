// Small facts about processes svcctl waits on: whether a PID is alive, and waiting a moment.
import { readdir, readFile } from 'node:fs/promises';

/** The process exists (EPERM: it exists but belongs to someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The PIDs of every process whose real or effective uid is `uid` (from /proc/PID/status). */
export async function processesOf(uid: number): Promise<number[]> {

  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const ids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    if (ids && (Number(ids[1]) === uid || Number(ids[2]) === uid) && Number(entry) !== process.pid) pids.push(Number(entry));
  }
  return pids;
}
