// apply-sysusers: systemd-sysusers creates the user and group; undone by removing those that did not exist before,
// whatever the tool did (it may have made the group and failed on the user).
import type { ApplySysusers } from '../core/steps/types.js';
import { removeAccount } from '../system/accounts.js';
import type { Executor } from './context.js';

export const applySysusers: Executor<ApplySysusers> = {
  async perform(a, ctx) {
    try {
      await ctx.systemd.sysusers(ctx.at(a.path));
    } finally {
      ctx.forgetAccounts();
    }
  },
  async undo(a, ctx) {
    await removeAccount(ctx.target, a.user, { user: !a.userExisted, group: !a.groupExisted });
    ctx.forgetAccounts();
  },
};
