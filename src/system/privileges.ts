// Root checks done before anything is touched.
import { NeedsRootError } from '../core/errors.js';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Exit 77 without root. The message says that --user would do, unless `hint` says otherwise (sandbox: root only). */
export function requireRoot(what: string, hint?: string): void {
  if (!isRoot()) throw new NeedsRootError(what, ...(hint !== undefined ? [hint] : []));
}
