// make-directory: one directory (not its parents) with an exact mode and owner; undone by removing it while empty.
import { octal, type MakeDirectory, type StepKind } from './types.js';

export const makeDirectory: StepKind<MakeDirectory> = {
  describe: (a) => `create directory ${a.path} (${octal(a.mode)} ${a.owner}:${a.group})`,
  data: (a) => ({ ...a, before: null, after: { kind: 'directory', mode: a.mode, owner: a.owner, group: a.group } }),
  touches: (a) => ({ paths: [a.path], units: [] }),
  collective: {
    placement: 'first',
    // Two bundles of one transaction may need the same shared directory (/etc/sysusers.d): it is made once.
    merge: (actions) => [...new Map(actions.map((a) => [a.path, a])).values()].sort((a, b) => a.path.split('/').length - b.path.split('/').length || (a.path < b.path ? -1 : 1)),
  },
};
