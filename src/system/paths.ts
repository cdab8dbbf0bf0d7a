// Where svcctl's own files live: the package root (bundles, scripts, the generated validator).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed package's root directory (holds bin/, dist/, units/, scripts/): the nearest directory
 * above this module with a package.json. The module sits at a different depth in the sources (tests),
 * in dist/ and in the single-file build, so the depth is not assumed.
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

export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

export const builtinBundlesDir = path.join(packageRoot, 'units');
export const scriptsDir = path.join(packageRoot, 'scripts');
/** Written by `npm run build` (scripts/compile-schema.js). */
export const generatedValidatorPath = path.join(packageRoot, 'dist', 'manifest-validator.cjs');
