// purge-directory (uninstall --purge): a data directory and all it holds. The step moves it aside, so that a failure
// of any later step (or of the final receipt write) can move it back; it is deleted once the transaction stands,
// through directory file descriptors that never follow a symlink at any depth.
import path from 'node:path';
import type { PurgeDirectory, StepKind } from './types.js';

/**
 * Where a purged directory waits to be deleted: beside the outermost of the directories svcctl made around it (they
 * are removed after it, and must not hold it), on the same file system, named after the path from there — the same
 * place for every run, so that an uninstall killed after the move finds it again.
 */
export function purgeAside(dir: string, created: ReadonlySet<string>): string {
  let top = dir;
  while (created.has(path.posix.dirname(top))) top = path.posix.dirname(top);
  const parent = path.posix.dirname(top);
  const from = path.posix.relative(parent, dir).split('/').join('.');
  return path.posix.join(parent, `.${from}.svcctl-purged`);
}

export const purgeDirectory: StepKind<PurgeDirectory> = {
  describe: (a) => `remove directory ${a.path} and everything in it`,
  data: (a) => ({ ...a, after: null }),
  touches: (a) => ({ paths: [a.path, a.aside], units: [] }),
};
