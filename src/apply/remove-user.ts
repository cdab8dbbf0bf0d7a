// remove-user: the user (and group) svcctl created, removed with userdel/groupdel.
import type { RemoveUser } from '../core/steps/types.js';
import { removeAccount } from '../system/accounts.js';
import type { Executor } from './context.js';

export const removeUser: Executor<RemoveUser> = {
  async perform(a, ctx) {
    await removeAccount(ctx.target, a.user, { user: true, group: a.removeGroup });
    ctx.forgetAccounts();
  },
};
