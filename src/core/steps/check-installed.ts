// check-installed: after the last step, everything the bundle declares is there with its kind, mode, owner and
// group — a tool that failed quietly fails the transaction instead of a report of success.
import type { CheckInstalled, StepKind } from './types.js';

export const checkInstalled: StepKind<CheckInstalled> = {
  describe: (a) => `check that the ${a.files.length} files, ${a.directories.length} directories${a.users.length > 0 ? ` and user ${a.users.join(', ')}` : ''} of ${a.bundle} are in place`,
  data: (a) => ({ ...a }),
  touches: () => ({ paths: [], units: [] }),
  collective: { placement: 'last', merge: (actions) => actions },
};
