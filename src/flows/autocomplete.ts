// `svcctl autocomplete`: where the completion scripts look when Tab is pressed (built-in bundles, the public index).
import { systemTarget } from '../core/target.js';
import { builtinBundlesDir } from '../system/paths.js';
import { publicIndexPath } from '../system/public-index.js';

/** Where the completion scripts look when Tab is pressed. */
export interface CompletionPlaces {
  /** The built-in bundles (a clone's units/, or /usr/share/svcctl/units): their names complete `install`. */
  builtinBundlesDir: string;
  /** The public index of installed bundles (src/system/public-index.ts), readable by everyone. */
  installedIndex: string;
}

export function completionPlaces(): CompletionPlaces {
  return { builtinBundlesDir, installedIndex: publicIndexPath(systemTarget()) };
}
