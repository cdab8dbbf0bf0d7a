// stop-user-processes (uninstall --purge): every process of the bundle's user ends before its directories are
// removed, so none of them can race the removal (swap a directory for a symlink mid-way).
import type { StepKind, StopUserProcesses } from './types.js';

export const stopUserProcesses: StepKind<StopUserProcesses> = {
  describe: (a) => `stop every process of user ${a.user}`,
  data: (a) => ({ ...a }),
  touches: () => ({ paths: [], units: [] }),
};
