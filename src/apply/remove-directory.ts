// remove-directory: a directory svcctl made, removed when empty — kept, and said so, while it holds anything;
// undone by making it again with its mode and owner.
import type { RemoveDirectory } from '../core/steps/types.js';
import { inspectPath, listDirectory, makeDirectory, removeEmptyDirectory } from '../system/fs.js';
import type { Executor } from './context.js';

interface Memo {
  before?: { mode: number; uid: number; gid: number };
  removed: boolean;
}

export const removeDirectory: Executor<RemoveDirectory, Memo> = {
  async prepare(a, ctx) {
    const before = await inspectPath(ctx.at(a.path), { content: false });
    return { ...(before?.kind === 'directory' ? { before: { mode: before.mode, uid: before.uid, gid: before.gid } } : {}), removed: false };
  },
  async perform(a, ctx, memo) {
    if (!memo.before) return 'already gone';
    memo.removed = await removeEmptyDirectory(ctx.at(a.path), { owners: ctx.owners });
    if (memo.removed) return undefined;
    const entries = await listDirectory(ctx.at(a.path));
    return `kept: it still holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}`;
  },
  async undo(a, ctx, memo) {
    if (!memo.removed || !memo.before) return;
    if (await inspectPath(ctx.at(a.path), { content: false })) return;
    await makeDirectory(ctx.at(a.path), { ...memo.before, owners: ctx.owners });
  },
};
