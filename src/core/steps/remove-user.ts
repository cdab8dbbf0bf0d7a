// remove-user (uninstall --purge): the system user svcctl created, and its group; never one another bundle runs as.
import type { RemoveUser, StepKind } from './types.js';

export const removeUser: StepKind<RemoveUser> = {
  describe: (a) => `remove system user ${a.user}${a.removeGroup ? ' and its group' : ''}`,
  data: (a) => ({ ...a, after: null }),
  touches: () => ({ paths: ['/etc/passwd', '/etc/group'], units: [] }),
};
