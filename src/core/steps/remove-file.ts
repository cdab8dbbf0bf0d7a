// remove-file: an installed file (or a temporary file an interrupted write left) removed; the original svcctl
// replaced is put back. Undone by writing the file again as it was.
import type { RemoveFile, StepKind } from './types.js';

export const removeFile: StepKind<RemoveFile> = {
  describe: (a) => (a.role === 'temp' ? `remove ${a.path} (left by an interrupted write)` : a.restoreFrom ? `remove ${a.path} and restore the original` : `remove ${a.path}`),
  data: (a) => ({ ...a, after: a.restoreFrom ? { kind: 'file', from: a.restoreFrom } : null }),
  touches: (a) => ({ paths: [a.path, ...(a.restoreFrom ? [a.restoreFrom] : [])], units: [] }),
};
