// apply-tmpfiles: systemd-tmpfiles makes the declared directories; undone by removing every directory the plan saw
// missing (with anything written into it since, never following a symlink) and restoring the ones it adjusted.
import type { ApplyTmpfiles } from '../core/steps/types.js';
import { inspectPath, removeTree, setDirectoryOwnerAndMode } from '../system/fs.js';
import type { Executor } from './context.js';

export const applyTmpfiles: Executor<ApplyTmpfiles> = {
  async perform(a, ctx) {
    if (!a.atBoot) await ctx.systemd.tmpfilesCreate(ctx.at(a.path));
  },
  async undo(a, ctx) {
    if (a.atBoot) return;
    for (const dir of a.adjusted) {
      if ((await inspectPath(ctx.at(dir.path), { content: false }))?.kind === 'directory') await setDirectoryOwnerAndMode(ctx.at(dir.path), { mode: dir.mode, uid: dir.uid, gid: dir.gid, owners: ctx.owners });
    }
    // Only what the tool made (a directory it could not make is not there, maybe not even its parent: nothing to
    // undo), and only the outermost: removing it takes what the tool made inside.
    const made: string[] = [];
    for (const dir of a.created) if ((await inspectPath(ctx.at(dir), { content: false }))?.kind === 'directory') made.push(dir);
    const outermost = made.filter((d) => !made.some((o) => o !== d && d.startsWith(`${o}/`)));
    for (const dir of outermost) await removeTree(ctx.at(dir), { owners: ctx.owners });
  },
};
