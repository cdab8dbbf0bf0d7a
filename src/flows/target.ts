// The target a command acts on, from its flags: the live system, a tree under --root (never "/" itself), or with
// --user the invoking user's own systemd manager.
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { systemTarget, type Target } from '../core/target.js';
import { ensureDirectory, realPath } from '../system/fs.js';
import { requireRoot } from '../system/privileges.js';
import { invokingUserTarget } from '../system/user-manager.js';

/** The flags that choose the target, as every command takes them. */
export interface ScopeOptions {
  /** --user: the invoking user's own systemd manager, without root. */
  user?: boolean;
}

/**
 * --root DIR renders the same tree under DIR with no running systemd. DIR is made when missing (0755, every
 * directory above it walked as for any write); one that resolves to "/" is refused: it would write the live system
 * with no lock, reload or users.
 */
export async function targetFor(options: ScopeOptions & { root?: string; create?: boolean }): Promise<Target> {
  if (options.user) {
    if (options.root !== undefined) throw new UserError('--user and --root do not go together', 'use --root DIR to render a system tree, or --user for your own systemd manager');
    return invokingUserTarget();
  }
  if (options.root === undefined) return systemTarget();
  const given = path.resolve(options.root);
  const resolved = await realPath(given);
  if ((resolved ?? given) === '/') throw new UserError(`--root ${options.root} is the live system's own root`, 'leave --root out to install on this host, or give a separate directory to render the tree into');
  if (resolved === undefined && options.create) await ensureDirectory(given, { mode: 0o755, uid: 0, gid: 0 });
  return systemTarget(resolved ?? given);
}

/**
 * The target of a command that needs root in system scope (exit 77 without it, before anything is touched) and needs
 * nothing more than the user himself in user scope.
 */
export async function privilegedTarget(what: string, options: ScopeOptions & { root?: string; create?: boolean }, needsRoot = true): Promise<Target> {
  if (!options.user && needsRoot) requireRoot(what);
  return targetFor(options);
}
