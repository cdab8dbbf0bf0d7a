// purge-directory: a data directory and all it holds. The step moves it aside (one rename, undone by moving it back);
// once the transaction stands, `commit` deletes it without following a symlink at any depth (see removeTree).
import { OperationError } from '../core/errors.js';
import type { PurgeDirectory } from '../core/steps/types.js';
import { inspectPath, removeTree, renamePath } from '../system/fs.js';
import type { Executor } from './context.js';

interface Memo {
  moved: boolean;
}

export const purgeDirectory: Executor<PurgeDirectory, Memo> = {
  async prepare() {
    return { moved: false };
  },
  async perform(a, ctx, memo) {
    if (!(await inspectPath(ctx.at(a.path), { content: false }))) return 'already moved aside by an uninstall that did not finish';
    // What an uninstall that was killed before deleting it left there was on its way out already.
    await removeTree(ctx.at(a.aside), { owners: ctx.owners });
    try {
      await renamePath(ctx.at(a.path), ctx.at(a.aside), { owners: ctx.owners });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EBUSY' || code === 'EXDEV') throw new OperationError(`${a.path} is a mount point: svcctl does not delete what another file system holds`, 'unmount it (or empty it by hand), then run uninstall --purge again');
      throw error;
    }
    memo.moved = true;
    return undefined;
  },
  async undo(a, ctx, memo) {
    if (!memo.moved || (await inspectPath(ctx.at(a.path), { content: false }))) return;
    await renamePath(ctx.at(a.aside), ctx.at(a.path), { owners: ctx.owners });
  },
  async commit(a, ctx) {
    const removed = await removeTree(ctx.at(a.aside), { owners: ctx.owners });
    if (removed.left.length > 0) throw new OperationError(`${a.aside} (was ${a.path}) could not be emptied: something keeps writing to ${removed.left.join(', ')}`, 'stop what writes there, then run uninstall --purge again');
    return `removed ${removed.files} file${removed.files === 1 ? '' : 's'} and ${removed.directories} director${removed.directories === 1 ? 'y' : 'ies'}`;
  },
};
