// Where svcctl's own files live: the package root (bundles, scripts) and host paths for state.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root directory (holds bin/, dist/, units/, scripts/). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const builtinBundlesDir = path.join(packageRoot, 'units');
export const scriptsDir = path.join(packageRoot, 'scripts');
