// apply-sysusers: systemd-sysusers creates the bundle's system user and group; undone by removing what did not exist
// before — whether the tool succeeded, failed half-way or was killed.
import type { ApplySysusers, StepKind } from './types.js';

export const applySysusers: StepKind<ApplySysusers> = {
  describe: (a) =>
    a.atBoot
      ? `system user ${a.user} is created at the tree's first boot (systemd-sysusers.service reads ${a.path})`
      : a.userExisted
        ? `check system user ${a.user} (systemd-sysusers)`
        : `create system user ${a.user}${a.groupExisted ? '' : ' and its group'} (systemd-sysusers)`,
  data: (a) => ({ ...a, before: { user: a.userExisted, group: a.groupExisted }, after: { user: true, group: true } }),
  touches: (a) => ({ paths: a.atBoot ? [] : ['/etc/passwd', '/etc/group'], units: [] }),
};
