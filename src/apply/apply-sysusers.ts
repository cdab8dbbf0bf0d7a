// apply-sysusers: systemd-sysusers creates the user and group; undone by removing those that did not exist before,
// whatever the tool did (it may have made the group and failed on the user) — and, in a --root tree that had no
// account files yet, the files it made.
import type { ApplySysusers } from '../core/steps/types.js';
import { removeAccount } from '../system/accounts.js';
import { inspectPath, removeFile } from '../system/fs.js';
import type { Executor } from './context.js';

/** The files systemd-sysusers and userdel write besides the entries themselves. */
const accountFiles = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'].flatMap((f) => [f, `${f}-`]).concat('/etc/.pwd.lock');

export const applySysusers: Executor<ApplySysusers, string[]> = {
  async prepare(_a, ctx) {
    const present = await Promise.all(accountFiles.map(async (f) => ((await inspectPath(ctx.at(f), { content: false })) ? f : undefined)));
    return accountFiles.filter((f) => !present.includes(f));
  },
  async perform(a, ctx) {
    if (a.atBoot) return;
    try {
      await ctx.systemd.sysusers(ctx.at(a.path));
    } finally {
      ctx.forgetAccounts();
    }
  },
  async undo(a, ctx, absentBefore) {
    if (a.atBoot) return;
    await removeAccount(ctx.target, a.user, { user: !a.userExisted, group: !a.groupExisted });
    ctx.forgetAccounts();
    for (const file of absentBefore) await removeFile(ctx.at(file), { owners: ctx.owners });
  },
};
