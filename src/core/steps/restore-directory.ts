// restore-directory: puts back the mode and owner an install changed (with --force) on a directory it did not create;
// undone by setting again what it had before the step.
import { octal, type RestoreDirectory, type StepKind } from './types.js';

export const restoreDirectory: StepKind<RestoreDirectory> = {
  describe: (a) => `restore ${a.path} to mode ${octal(a.mode)}, uid ${a.uid}, gid ${a.gid}`,
  data: (a) => ({ ...a }),
  touches: (a) => ({ paths: [a.path], units: [] }),
};
