// restore-directory: the mode and owner an install changed (with --force) on a directory it did not create, put back;
// undone by setting again the mode and owner it had before the step.
import type { RestoreDirectory } from '../core/steps/types.js';
import { inspectPath, setDirectoryOwnerAndMode } from '../system/fs.js';
import type { Executor } from './context.js';

type Before = { mode: number; uid: number; gid: number } | undefined;

export const restoreDirectory: Executor<RestoreDirectory, Before> = {
  async prepare(a, ctx) {
    const state = await inspectPath(ctx.at(a.path), { content: false });
    return state?.kind === 'directory' ? { mode: state.mode, uid: state.uid, gid: state.gid } : undefined;
  },
  async perform(a, ctx) {
    await setDirectoryOwnerAndMode(ctx.at(a.path), { mode: a.mode, uid: a.uid, gid: a.gid, owners: ctx.owners });
  },
  async undo(a, ctx, before) {
    if (!before || (await inspectPath(ctx.at(a.path), { content: false }))?.kind !== 'directory') return;
    await setDirectoryOwnerAndMode(ctx.at(a.path), { ...before, owners: ctx.owners });
  },
};
