// remove-directory: a directory svcctl made, removed once empty; one that still holds anything is kept, and the
// step says so. Undone by making it again as it was.
import type { RemoveDirectory, StepKind } from './types.js';

export const removeDirectory: StepKind<RemoveDirectory> = {
  describe: (a) => `remove directory ${a.path} if empty`,
  data: (a) => ({ ...a, after: null }),
  touches: (a) => ({ paths: [a.path], units: [] }),
};
