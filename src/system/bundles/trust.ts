// Whether a bundle may be loaded: root installs what a bundle says, so its directory, every directory above it and
// every file it names must be owned by root (or by the user running svcctl) and writable by no one else — as
// OpenSSH's StrictModes checks a key file — or someone else could choose what root installs.
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { localFiles } from '../fs.js';

const { lstat, realpath } = localFiles;

/** Who may own a bundle's files: root, and the user running svcctl (their own bundles, for their own use). */
export function trustedBundleOwners(): ReadonlySet<number> {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : 0;
  return new Set([0, uid]);
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** The problem with one path, or undefined when it is trusted. `sticky` directories may be world-writable. */
async function problemOf(p: string, owners: ReadonlySet<number>, directory: boolean): Promise<string | undefined> {
  const info = await lstat(p);
  if (!owners.has(info.uid)) return `${p} is owned by uid ${info.uid}`;
  if (directory && info.mode & 0o1000) return undefined; // sticky (/tmp): no one else can replace what is in it
  if (info.mode & 0o022) return `${p} is writable by ${info.mode & 0o002 ? 'every local user' : 'its group'} (mode ${octal(info.mode)})`;
  return undefined;
}

/**
 * Refuses (exit 2, naming the path and why) a bundle whose directory, any directory above it, or any of `files`
 * (paths inside the bundle) is owned by someone untrusted or writable by group or others.
 */
export async function checkBundleTrust(bundleDir: string, files: string[]): Promise<void> {
  const owners = trustedBundleOwners();
  const real = await realpath(bundleDir);
  const problems: string[] = [];
  let dir = real;
  const chain: string[] = [];
  for (;;) {
    chain.unshift(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  // Each path looked at side by side (only reads), the problems named in order: directories from "/" down, then files.
  const settled = await Promise.allSettled([
    ...chain.map((d) => problemOf(d, owners, true)),
    ...files.map(async (file) => {
      // A file that is missing or leads outside the bundle is the loader's to report.
      const resolved = await realpath(path.join(real, file)).catch(() => undefined);
      if (!resolved || !resolved.startsWith(`${real}/`)) return undefined;
      return problemOf(resolved, owners, false).catch(() => undefined);
    }),
  ]);
  for (const result of settled) {
    if (result.status === 'rejected') throw result.reason; // the first in order, whatever failed first in time
    if (result.value) problems.push(result.value);
  }
  if (problems.length > 0) {
    throw UserError.many(`refusing to load the bundle in ${bundleDir}: someone other than root could change what it installs:`, problems, [
      `make the bundle and the directories above it owned by root and not writable by others (chown -R root:root ${bundleDir}; chmod -R go-w ${bundleDir}), or copy it to /etc/svcctl/bundles`,
    ]);
  }
}
