// make-directory: one directory with its final mode and owner; undone by removing it while it is empty.
import type { MakeDirectory } from '../core/steps/types.js';
import { makeDirectory as mkdir, removeEmptyDirectory } from '../system/fs.js';
import type { Executor } from './context.js';

export const makeDirectory: Executor<MakeDirectory> = {
  async perform(a, ctx) {
    const { uid, gid } = await ctx.ids(a.owner, a.group);
    await mkdir(ctx.at(a.path), { mode: a.mode, uid, gid, owners: ctx.owners });
  },
  async undo(a, ctx) {
    await removeEmptyDirectory(ctx.at(a.path), { owners: ctx.owners });
  },
};
