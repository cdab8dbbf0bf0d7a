// The target a changing command acts on, from its flags: the live system, or a tree under --root (never "/" itself).
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { systemTarget, type Target } from '../core/target.js';
import { ensureDirectory, realPath } from '../system/fs.js';

/**
 * --root DIR renders the same tree under DIR with no running systemd. DIR is made when missing (0755, every
 * directory above it walked as for any write); one that resolves to "/" is refused: it would write the live system
 * with no lock, reload or users.
 */
export async function targetFor(options: { root?: string; create?: boolean }): Promise<Target> {
  if (options.root === undefined) return systemTarget();
  const given = path.resolve(options.root);
  const resolved = await realPath(given);
  if ((resolved ?? given) === '/') throw new UserError(`--root ${options.root} is the live system's own root`, 'leave --root out to install on this host, or give a separate directory to render the tree into');
  if (resolved === undefined && options.create) await ensureDirectory(given, { mode: 0o755, uid: 0, gid: 0 });
  return systemTarget(resolved ?? given);
}
