// The invoking user's own systemd manager (user scope): who he is (from the passwd database, not $HOME), where his
// manager's runtime directory is, and whether it lingers — keeps running, timers included, after he logs out.
import * as fsp from 'node:fs/promises';
import os from 'node:os';
import { UserError } from '../core/errors.js';
import { userTarget, type Target } from '../core/target.js';
import { readAccounts } from './accounts.js';
import { exec, tool } from './exec.js';

/**
 * The target of `--user`: the user running svcctl and his manager. Refused as root (sudo keeps HOME or not, either way
 * the units would land in root's own manager, which no one means). $XDG_RUNTIME_DIR is used when it is his; otherwise
 * /run/user/UID, and it is set for every process svcctl starts, so that systemctl --user finds that manager.
 */
export async function invokingUserTarget(): Promise<Target> {
  const uid = process.geteuid?.() ?? 0;
  if (uid === 0) {
    const sudoUser = process.env.SUDO_USER;
    throw new UserError(
      `--user is for a user's own systemd manager, but svcctl runs as root${sudoUser ? ` (under sudo, for ${sudoUser})` : ''}: it would install into root's manager`,
      sudoUser ? `run it as ${sudoUser}, without sudo (svcctl ... --user); nothing was changed` : 'run it as the user whose manager it is, without sudo; or leave --user out to install for the whole system; nothing was changed',
    );
  }
  const info = os.userInfo();
  const { groups } = await readAccounts({ root: '/' });
  const group = [...groups.values()].find((g) => g.gid === info.gid)?.name ?? String(info.gid);
  const runtimeDir = await runtimeDirectory(uid);
  process.env.XDG_RUNTIME_DIR = runtimeDir;
  return userTarget({ name: info.username, group, uid, gid: info.gid, home: info.homedir, runtimeDir });
}

/** $XDG_RUNTIME_DIR when it is a directory of this user's, else the one logind makes for him. */
async function runtimeDirectory(uid: number): Promise<string> {
  const given = process.env.XDG_RUNTIME_DIR;
  if (given && given.startsWith('/')) {
    const info = await fsp.lstat(given).catch(() => undefined);
    if (info?.isDirectory() && info.uid === uid) return given;
  }
  return `/run/user/${uid}`;
}

/** Whether the user's manager lingers: runs from boot and after his last logout (loginctl enable-linger). */
export async function lingerOf(target: Target): Promise<boolean | undefined> {
  const shown = await exec([tool('loginctl'), 'show-user', '--property=Linger', '--value', '--', target.user], { check: false });
  if (shown.exitCode === 0 && /^(yes|no)$/.test(shown.stdout.trim())) return shown.stdout.trim() === 'yes';
  // Not logged in and not lingering, or no logind to ask: logind keeps one file per lingering user.
  return fsp.stat(`/var/lib/systemd/linger/${target.user}`).then(
    () => true,
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? false : undefined),
  );
}

/** `loginctl enable-linger` for oneself: allowed by polkit for an active session on most systems, else it needs root. */
export async function enableLinger(): Promise<{ ok: boolean; error?: string }> {
  const result = await exec([tool('loginctl'), 'enable-linger'], { check: false, timeoutMs: 30_000 });
  return result.exitCode === 0 ? { ok: true } : { ok: false, error: result.stderr.trim().split('\n')[0] || `loginctl exited with ${result.exitCode}` };
}

/** The words install, status and doctor use for linger. */
export function lingerAdvice(target: Target): string {
  return `run \`loginctl enable-linger\` (it may need root or polkit: then ask root for \`loginctl enable-linger ${target.user}\`)`;
}
