// restore-directory: the mode and owner an install changed (with --force) on a directory it did not create, put back.
import type { RestoreDirectory } from '../core/steps/types.js';
import { setDirectoryOwnerAndMode } from '../system/fs.js';
import type { Executor } from './context.js';

export const restoreDirectory: Executor<RestoreDirectory> = {
  async perform(a, ctx) {
    await setDirectoryOwnerAndMode(ctx.at(a.path), { mode: a.mode, uid: a.uid, gid: a.gid, owners: ctx.owners });
  },
};
