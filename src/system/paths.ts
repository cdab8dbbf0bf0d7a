// Where svcctl's own files live: a clone's package root, or the share directory of the packaged executable.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// true only in the packaged executable's build (scripts/bundle.js --sea); absent in the sources and the clone's builds.
declare const SVCCTL_PACKAGED: boolean | undefined;
const packaged = typeof SVCCTL_PACKAGED === 'boolean' && SVCCTL_PACKAGED;

/**
 * A clone's root directory (holds bin/, dist/, units/, scripts/): the nearest directory above this module with a
 * package.json. The module sits at a different depth in the sources (tests), in dist/ and in the single-file
 * build, so the depth is not assumed.
 */
function findPackageRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`svcctl: no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

/**
 * The directory of svcctl's own files. In the packaged executable it is the share directory its loader
 * (packaging/sea/main.cjs) runs the CLI from — /usr/share/svcctl beside /usr/lib/svcctl/svcctl — and nothing is
 * searched for: the loader found it from the executable's own path, which the caller cannot choose.
 */
export const packageRoot = packaged ? path.dirname(fileURLToPath(import.meta.url)) : findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

export const builtinBundlesDir = path.join(packageRoot, 'units');
export const scriptsDir = path.join(packageRoot, 'scripts');
/** Written by `npm run build` (scripts/compile-schema.js); the package keeps it at the top of its share directory. */
export const generatedValidatorPath = packaged ? path.join(packageRoot, 'manifest-validator.cjs') : path.join(packageRoot, 'dist', 'manifest-validator.cjs');
