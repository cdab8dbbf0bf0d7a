// remove-file: the file goes (the original svcctl replaced comes back); undone by writing it again as it was.
import path from 'node:path';
import type { RemoveFile } from '../core/steps/types.js';
import { atomicWrite, ensureDirectory, inspectPath, readFileIfExists, removeEmptyParents, removeFile as unlink, renamePath } from '../system/fs.js';
import type { Executor } from './context.js';

interface Previous {
  content?: Buffer;
  mode: number;
  uid: number;
  gid: number;
  restored: boolean;
}

export const removeFile: Executor<RemoveFile, Previous | undefined> = {
  async prepare(a, ctx) {
    const before = await inspectPath(ctx.at(a.path), { content: false });
    if (before?.kind !== 'file') return undefined;
    return { content: await readFileIfExists(ctx.at(a.path)), mode: before.mode, uid: before.uid, gid: before.gid, restored: false };
  },
  async perform(a, ctx, previous) {
    const target = ctx.at(a.path);
    await unlink(target, { owners: ctx.owners });
    if (a.restoreFrom) {
      ctx.partway();
      const backup = ctx.at(a.restoreFrom);
      if (await inspectPath(backup, { content: false })) {
        await renamePath(backup, target, { owners: ctx.owners });
        if (previous) previous.restored = true;
      }
      await removeEmptyParents(path.dirname(backup), ctx.at(ctx.layout.stateDir), { owners: ctx.owners });
    }
  },
  async undo(a, ctx, previous) {
    if (!previous?.content) return;
    const target = ctx.at(a.path);
    if (previous.restored && a.restoreFrom && !(await inspectPath(ctx.at(a.restoreFrom), { content: false }))) {
      // The original goes back to its backup place (once: a second undo must not move svcctl's file there), then
      // svcctl's file is written again.
      await ensureDirectory(path.dirname(ctx.at(a.restoreFrom)), { mode: 0o700, owners: ctx.owners });
      await renamePath(target, ctx.at(a.restoreFrom), { owners: ctx.owners });
    }
    await atomicWrite(target, previous.content, { mode: previous.mode, uid: previous.uid, gid: previous.gid, owners: ctx.owners });
  },
};
