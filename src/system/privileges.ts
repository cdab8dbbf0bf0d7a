// Root checks done before anything is touched.
import { NeedsRootError } from '../core/errors.js';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function requireRoot(what: string): void {
  if (!isRoot()) throw new NeedsRootError(what);
}
