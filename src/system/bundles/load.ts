// Loads a bundle directory: reads and validates bundle.yaml, reads the unit and payload files it names, computes the digest.
import { createHash } from 'node:crypto';
import { localFiles } from '../fs.js';
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import type { Bundle } from '../../core/bundle/types.js';
import {
  BundleManifestError,
  type ManifestProblem,
  type ParsedManifest,
  MANIFEST_FILE,
  displayPath,
  manifestRuleProblems,
  normalisePayloadSource,
  toBundle,
} from '../../core/bundle/manifest.js';
import { declaredScopes, userScopeProblems } from '../../core/bundle/scope.js';
import { parseManifest } from './parse.js';
import { checkBundleTrust } from './trust.js';

const { lstat, readFile, readText, realpath, stat } = localFiles;

/** A manifest is a page of YAML; anything this large is a mistake (or an attack on the parser). */
const MAX_MANIFEST_BYTES = 1024 * 1024;
/** A unit or payload file larger than this is refused, never read into memory (a sparse file, a runaway build). */
export const MAX_BUNDLE_FILE_BYTES = 128 * 1024 * 1024;

export interface LoadOptions {
  /** The name the bundle was looked up by: its manifest must declare the same name. */
  expectedName?: string;
}

/**
 * Loads and validates the bundle in `directory`. Throws a UserError (exit 2) when the directory holds no
 * bundle.yaml, and a BundleManifestError listing every problem (file:line:column: field: message) when it is invalid.
 */
export async function loadBundle(directory: string, options: LoadOptions = {}): Promise<Bundle> {
  const bundleDir = path.resolve(directory);
  const manifestPath = path.join(bundleDir, MANIFEST_FILE);
  // Who could change the bundle is checked before each thing is read: what root installs is what root trusts.
  if (await isDirectory(bundleDir)) await checkBundleTrust(bundleDir, (await isFile(manifestPath)) ? [MANIFEST_FILE] : []);
  const text = await readManifest(bundleDir, manifestPath);
  const parsed = await parseManifest(text, manifestPath);
  await checkBundleTrust(bundleDir, [...parsed.manifest.units, ...(parsed.manifest.payload ?? []).flatMap((p) => normalisePayloadSource(p.source) ?? [])]);

  const problems = manifestRuleProblems(parsed, options.expectedName);
  const realDir = await realpath(bundleDir);
  const [units, payload] = await Promise.all([readUnits(parsed, bundleDir, realDir, problems), readPayload(parsed, bundleDir, realDir, problems)]);
  // A bundle for user scope is checked against what a user manager can do, its unit files' directives included.
  if (declaredScopes(parsed.manifest).includes('user')) problems.push(...userScopeProblems(parsed.manifest, units).map((p) => parsed.problemAt(p.at, p.message, p.hint)));
  if (problems.length > 0) throw new BundleManifestError(manifestPath, problems);

  return toBundle(parsed, { directory: bundleDir, digest: bundleDigest(text, units, payload), units, payload });
}

const isDirectory = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);
const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

async function readManifest(bundleDir: string, manifestPath: string): Promise<string> {
  try {
    const info = await stat(manifestPath);
    if (!info.isFile()) throw new UserError(`${displayPath(manifestPath)} is not a regular file`);
    if (info.size > MAX_MANIFEST_BYTES) throw new UserError(`${displayPath(manifestPath)} is larger than 1 MiB`, 'a manifest is a short YAML file; see docs/bundles.md');
    return await readText(manifestPath);
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const dirExists = await stat(bundleDir).then((s) => s.isDirectory(), () => false);
      if (!dirExists) throw new UserError(`${displayPath(bundleDir)}: no such bundle directory`, 'give the directory that holds bundle.yaml, or a bundle name (see `svcctl bundles`)');
      throw new UserError(`${displayPath(bundleDir)} holds no ${MANIFEST_FILE}`, 'a bundle directory holds a bundle.yaml manifest; see docs/bundles.md');
    }
    throw new UserError(`cannot read ${displayPath(manifestPath)}: ${(error as Error).message}`);
  }
}

/**
 * Reads a file the manifest names, refusing one that (through symbolic links) lies outside the bundle
 * directory or is not a regular file. Returns undefined after recording a problem.
 */
async function readInside(
  parsed: ParsedManifest,
  fieldPath: (string | number)[],
  relative: string,
  bundleDir: string,
  realDir: string,
  problems: ManifestProblem[],
): Promise<Buffer | undefined> {
  const full = path.join(bundleDir, relative);
  try {
    await lstat(full);
  } catch {
    problems.push(parsed.problemAt(fieldPath, `${relative}: no such file in the bundle directory ${displayPath(bundleDir)}`));
    return undefined;
  }
  let real: string;
  try {
    real = await realpath(full);
  } catch {
    problems.push(parsed.problemAt(fieldPath, `${relative} is a symbolic link to nothing`));
    return undefined;
  }
  const inside = path.relative(realDir, real);
  if (!inside || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
    problems.push(parsed.problemAt(fieldPath, `${relative} is a symbolic link to ${real}, outside the bundle directory`, 'copy the file into the bundle instead of linking to it'));
    return undefined;
  }
  try {
    const info = await stat(real);
    if (!info.isFile()) {
      problems.push(parsed.problemAt(fieldPath, `${relative} is not a regular file`));
      return undefined;
    }
    if (info.size > MAX_BUNDLE_FILE_BYTES) {
      problems.push(parsed.problemAt(fieldPath, `${relative} is ${info.size} bytes, more than the ${MAX_BUNDLE_FILE_BYTES / 1024 / 1024} MiB a bundle file may have`));
      return undefined;
    }
    return await readFile(real);
  } catch (error) {
    problems.push(parsed.problemAt(fieldPath, `cannot read ${relative}: ${(error as Error).message}`));
    return undefined;
  }
}

async function readUnits(parsed: ParsedManifest, bundleDir: string, realDir: string, problems: ManifestProblem[]): Promise<Map<string, string>> {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const read = await Promise.all(
    parsed.manifest.units.map(async (unit, i): Promise<[string, string] | undefined> => {
      const bytes = await readInside(parsed, ['units', i], unit, bundleDir, realDir, problems);
      if (!bytes) return undefined;
      let text: string;
      try {
        text = utf8.decode(bytes);
      } catch {
        problems.push(parsed.problemAt(['units', i], `${unit} is not UTF-8 text`));
        return undefined;
      }
      if (text.includes('\0')) problems.push(parsed.problemAt(['units', i], `${unit} contains a NUL byte`));
      else if (!text.trim()) problems.push(parsed.problemAt(['units', i], `${unit} is empty`));
      else return [unit, text];
      return undefined;
    }),
  );
  // Built in manifest order, not completion order: the digest iterates these maps.
  return new Map(read.filter((entry) => entry !== undefined));
}

async function readPayload(parsed: ParsedManifest, bundleDir: string, realDir: string, problems: ManifestProblem[]): Promise<Map<string, Buffer>> {
  const read = await Promise.all(
    (parsed.manifest.payload ?? []).map(async (file, i): Promise<[string, Buffer] | undefined> => {
      // A source that leaves the bundle lexically is already a problem; it is never read.
      const source = normalisePayloadSource(file.source);
      if (source === undefined) return undefined;
      const bytes = await readInside(parsed, ['payload', i, 'source'], source, bundleDir, realDir, problems);
      return bytes ? [source, bytes] : undefined;
    }),
  );
  return new Map(read.filter((entry) => entry !== undefined));
}

/**
 * sha256 over the manifest's bytes and every unit and payload file, each framed with its name and length so
 * no two different bundles hash alike. Depends only on content and manifest order (not on mtimes or readdir).
 */
export function bundleDigest(manifestText: string, units: ReadonlyMap<string, string>, payload: ReadonlyMap<string, Buffer>): string {
  const hash = createHash('sha256');
  const frame = (label: string, data: string | Buffer) => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    hash.update(`${label}\0${bytes.length}\0`);
    hash.update(bytes);
  };
  hash.update('svcctl-bundle-v1\0');
  frame(MANIFEST_FILE, manifestText);
  for (const [name, content] of units) frame(`unit:${name}`, content);
  for (const [source, content] of payload) frame(`payload:${source}`, content);
  return hash.digest('hex');
}
