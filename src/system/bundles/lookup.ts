// Finds bundles: by path, or by name on the search path (SVCCTL_BUNDLE_PATH, /etc/svcctl/bundles, the built-in units/).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { builtinBundlesDir } from '../paths.js';
import type { Bundle } from '../../core/bundle/types.js';
import { loadBundle } from './load.js';
import { BUNDLE_NAME_PATTERN, MANIFEST_FILE, displayPath } from '../../core/bundle/manifest.js';

/** Where an administrator drops bundles for every user of the host. */
export const systemBundlesDir = '/etc/svcctl/bundles';

/** The directories searched for a bundle name, first match wins: each entry of SVCCTL_BUNDLE_PATH, then system, then built-in. */
export function bundleSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  // Empty entries are skipped rather than meaning "the current directory" (as in PATH): under sudo that would be a trap.
  const fromEnv = (env.SVCCTL_BUNDLE_PATH ?? '')
    .split(':')
    .filter((entry) => entry !== '')
    .map((entry) => path.resolve(entry));
  return [...new Set([...fromEnv, systemBundlesDir, builtinBundlesDir])];
}

/** A reference is a path when it contains a slash or is `.`/`..`; otherwise it is a bundle name. */
export function isPathReference(reference: string): boolean {
  return reference.includes('/') || reference === '.' || reference === '..';
}

/**
 * Resolves a bundle reference from the command line: a directory holding bundle.yaml, the bundle.yaml itself,
 * or a name looked up on the search path. Throws UserError when nothing matches or the bundle is invalid.
 */
export async function findBundle(reference: string, searchPath: readonly string[] = bundleSearchPath()): Promise<Bundle> {
  if (isPathReference(reference)) return loadBundle(await bundleDirectoryOf(reference));

  if (!BUNDLE_NAME_PATTERN.test(reference)) {
    throw new UserError(
      `"${reference}" is not a bundle name (lowercase letters, digits and dashes)`,
      `to load a bundle from a directory, give its path, e.g. ./${reference}`,
    );
  }
  const found: string[] = [];
  for (const dir of searchPath) {
    const candidate = path.join(dir, reference);
    if (await holdsManifest(candidate)) found.push(candidate);
  }
  const builtin = path.join(builtinBundlesDir, reference);
  // A bundle of a built-in's name found elsewhere would be picked instead of it: never silently.
  if (found.length > 1 && found.includes(builtin)) {
    throw new UserError(`bundle "${reference}" is found in ${found.filter((f) => f !== builtin).join(', ')} as well as among svcctl's built-in bundles (${builtin})`, `give the path of the one you mean, e.g. svcctl install ${found[0]}`);
  }
  if (found[0] !== undefined) return loadBundle(found[0], { expectedName: reference });
  throw new UserError(
    `no bundle named "${reference}"; looked in ${searchPath.map((dir) => path.join(dir, reference)).join(', ')}`,
    'run `svcctl bundles` to list the bundles svcctl can find, or give the path of a bundle directory (./dir)',
  );
}

async function bundleDirectoryOf(reference: string): Promise<string> {
  const target = path.resolve(reference);
  let info;
  try {
    info = await stat(target);
  } catch {
    throw new UserError(`${reference}: no such file or directory`, 'give a bundle directory (holding bundle.yaml) or a bundle name (see `svcctl bundles`)');
  }
  if (info.isDirectory()) return target;
  if (path.basename(target) === MANIFEST_FILE) return path.dirname(target);
  throw new UserError(`${reference} is a file, not a bundle directory or a ${MANIFEST_FILE}`, 'give the directory that holds bundle.yaml');
}

async function holdsManifest(dir: string): Promise<boolean> {
  try {
    return (await stat(path.join(dir, MANIFEST_FILE))).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new UserError(`cannot look for a bundle in ${displayPath(dir)}: ${(error as Error).message}`);
  }
}

export interface BundleListing {
  /** The name it is found by (its directory's name). */
  name: string;
  /** Empty when the bundle does not load. */
  description: string;
  /** The bundle directory. */
  source: string;
  /** Why the bundle does not load (first line of the error), when it does not. */
  error?: string;
}

/**
 * Every bundle findable by name, sorted by name. A name found in several search directories is listed once,
 * from the first directory (the one findBundle uses). Invalid bundles are listed with their error.
 */
export async function listBundles(searchPath: readonly string[] = bundleSearchPath()): Promise<BundleListing[]> {
  const winners = new Map<string, string>();
  for (const dir of searchPath) {
    let entries: string[];
    try {
      entries = (await readdir(dir)).sort();
    } catch {
      continue; // a search directory that does not exist (or cannot be read) simply holds no bundles
    }
    for (const name of entries) {
      if (winners.has(name) || !BUNDLE_NAME_PATTERN.test(name)) continue;
      const candidate = path.join(dir, name);
      if (await holdsManifest(candidate).catch(() => false)) winners.set(name, candidate);
    }
  }
  const listings = await Promise.all(
    [...winners].map(async ([name, source]): Promise<BundleListing> => {
      try {
        const bundle = await loadBundle(source, { expectedName: name });
        return { name, description: bundle.description, source };
      } catch (error) {
        return { name, description: '', source, error: (error as Error).message.split('\n')[0] ?? '' };
      }
    }),
  );
  return listings.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
