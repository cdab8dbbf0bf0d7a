// purge-directory: a data directory and all it holds, removed without following a symlink at any depth (see
// removeTree). Not undoable: uninstall --purge places it after every step that is.
import { OperationError } from '../core/errors.js';
import type { PurgeDirectory } from '../core/steps/types.js';
import { removeTree } from '../system/fs.js';
import type { Executor } from './context.js';

export const purgeDirectory: Executor<PurgeDirectory> = {
  async perform(a, ctx) {
    const removed = await removeTree(ctx.at(a.path), { owners: ctx.owners });
    if (removed.left.length > 0) throw new OperationError(`${a.path} could not be emptied: something keeps writing to ${removed.left.join(', ')}`, 'stop what writes there, then run uninstall --purge again');
    return `removed ${removed.files} file${removed.files === 1 ? '' : 's'} and ${removed.directories} director${removed.directories === 1 ? 'y' : 'ies'}`;
  },
};
