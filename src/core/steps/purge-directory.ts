// purge-directory (uninstall --purge): a data directory and all it holds, removed through directory file
// descriptors that never follow a symlink at any depth. Not undoable: it comes after every step that is.
import type { PurgeDirectory, StepKind } from './types.js';

export const purgeDirectory: StepKind<PurgeDirectory> = {
  describe: (a) => `remove directory ${a.path} and everything in it`,
  data: (a) => ({ ...a, after: null }),
  touches: (a) => ({ paths: [a.path], units: [] }),
};
