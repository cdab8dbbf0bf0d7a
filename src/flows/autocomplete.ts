// `svcctl autocomplete`: where the completion scripts look when Tab is pressed (built-in bundles, the public
// indexes of the system's and the user's installed bundles).
import path from 'node:path';
import { systemTarget, userTarget } from '../core/target.js';
import { builtinBundlesDir } from '../system/paths.js';
import { publicIndexPath } from '../system/public-index.js';

/** Where the completion scripts look when Tab is pressed. */
export interface CompletionPlaces {
  /** The built-in bundles (a clone's units/, or /usr/share/svcctl/units): their names complete `install`. */
  builtinBundlesDir: string;
  /** The public index of installed bundles (src/system/public-index.ts), readable by everyone. */
  installedIndex: string;
  /** A user's own index (user scope, `--user` on the line), relative to their $HOME. */
  userInstalledIndex: string;
}

/** Where a user's index is, relative to their home (the same for every user). */
const someHome = '/home/someone';
export const userInstalledIndex = path.relative(someHome, publicIndexPath(userTarget({ name: 'someone', group: 'someone', uid: 1000, gid: 1000, home: someHome })));

export function completionPlaces(): CompletionPlaces {
  return { builtinBundlesDir, installedIndex: publicIndexPath(systemTarget()), userInstalledIndex };
}
