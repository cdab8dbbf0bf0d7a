// write-file: atomic, with the final mode and the owner the plan shows (resolved now: the group may be new);
// undone by putting back the previous content, mode and owner, or the backed-up original, or removing the file.
import path from 'node:path';
import type { WriteFile } from '../core/steps/types.js';
import { atomicWrite, ensureDirectory, inspectPath, readFileIfExists, removeEmptyParents, removeFile, renamePath } from '../system/fs.js';
import type { Executor } from './context.js';

/** What was at the path before: nothing, a file (its bytes, mode and owner), or something svcctl never writes over. */
type Previous = { kind: 'absent' } | { kind: 'file'; content: Buffer; mode: number; uid: number; gid: number } | { kind: 'other' };

export const writeFile: Executor<WriteFile, Previous> = {
  async prepare(a, ctx) {
    const before = await inspectPath(ctx.at(a.path), { content: false });
    if (!before) return { kind: 'absent' };
    if (before.kind !== 'file') return { kind: 'other' };
    const content = await readFileIfExists(ctx.at(a.path));
    return content === undefined ? { kind: 'absent' } : { kind: 'file', content, mode: before.mode, uid: before.uid, gid: before.gid };
  },
  async perform(a, ctx) {
    const target = ctx.at(a.path);
    if (a.backupTo) {
      await ensureDirectory(path.dirname(ctx.at(a.backupTo)), { mode: 0o700, owners: ctx.owners });
      await renamePath(target, ctx.at(a.backupTo), { owners: ctx.owners });
      ctx.partway();
    }
    const { uid, gid } = await ctx.ids(a.owner, a.group);
    await atomicWrite(target, a.content, { mode: a.mode, uid, gid, owners: ctx.owners });
  },
  async undo(a, ctx, previous) {
    const target = ctx.at(a.path);
    if (a.backupTo) {
      if (await inspectPath(ctx.at(a.backupTo), { content: false })) {
        await removeFile(target, { owners: ctx.owners });
        await renamePath(ctx.at(a.backupTo), target, { owners: ctx.owners });
      }
      await removeEmptyParents(path.dirname(ctx.at(a.backupTo)), ctx.at(ctx.layout.stateDir), { owners: ctx.owners });
    } else if (previous.kind === 'file') await atomicWrite(target, previous.content, { mode: previous.mode, uid: previous.uid, gid: previous.gid, owners: ctx.owners });
    else if (previous.kind === 'absent' && (await inspectPath(target, { content: false }))?.kind === 'file') await removeFile(target, { owners: ctx.owners });
    // 'other' (a symlink, a directory): the write refused it, and it stays as it was.
  },
};
