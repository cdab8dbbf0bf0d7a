// The bundle manifest (bundle.yaml): YAML parsing with positions, JSON Schema and cross-field validation, conversion to a Bundle.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Document, LineCounter, Node as YamlNode, Pair } from 'yaml';
import { UserError } from '../errors.js';
import { importModule } from '../../modules.js';
import { generatedValidatorPath, packageRoot } from '../../system/paths.js';
import type { Bundle, BundleDirectory, PayloadFile, SecretSpec, Setting } from './types.js';

export const MANIFEST_FILE = 'bundle.yaml';
export const bundleSchemaPath = path.join(packageRoot, 'schema', 'bundle.schema.json');
export const BUNDLE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const DEFAULT_SHELL = '/usr/sbin/nologin';
export const DEFAULT_DIRECTORY_MODE = '0755';

/** Places a payload file or a directory may never be: systemd's and svcctl's own state, and kernel file systems. */
export const FORBIDDEN_ROOTS = ['/etc/systemd', '/etc/svcctl', '/var/lib/svcctl', '/proc', '/sys', '/dev'] as const;

const GENERIC_HINT = 'the bundle format is described in docs/bundles.md (JSON Schema: schema/bundle.schema.json)';

/** A field's location inside the manifest, e.g. ['settings', 0, 'pattern']. */
export type FieldPath = ReadonlyArray<string | number>;

/** One thing wrong with a manifest, pointing at the file, line, column and field. */
export interface ManifestProblem {
  /** The manifest as shown to the user (relative to the working directory when inside it). */
  file: string;
  /** 1-based; absent only when the problem has no place in the file. */
  line?: number;
  column?: number;
  /** e.g. settings[0].pattern; empty for the manifest as a whole. */
  field: string;
  message: string;
  hint?: string;
  /** Source lines shown under the problem (for YAML syntax errors, which have no reliable field). */
  excerpt?: string[];
}

/** Renders a field path the way a reader writes it: settings[0].pattern */
export function formatFieldPath(fieldPath: FieldPath): string {
  let text = '';
  for (const segment of fieldPath) text += typeof segment === 'number' ? `[${segment}]` : text ? `.${segment}` : segment;
  return text;
}

export function formatProblem(problem: ManifestProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
  return `${where}: ${problem.field ? `${problem.field}: ` : ''}${problem.message}`;
}

/**
 * A manifest that does not validate. A UserError (exit 2) whose message holds every problem, one per line,
 * each starting with file:line:column, so several mistakes are fixed in one round.
 */
export class BundleManifestError extends UserError {
  constructor(
    readonly manifestPath: string,
    readonly problems: ManifestProblem[],
  ) {
    const sorted = [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    const only = sorted.length === 1 ? sorted[0] : undefined;
    const message = only
      ? [formatProblem(only), ...(only.excerpt ?? []).map((l) => `    ${l}`)].join('\n')
      : [
          `${displayPath(manifestPath)} has ${sorted.length} problems:`,
          ...sorted.flatMap((p) => [`  ${formatProblem(p)}`, ...(p.excerpt ?? []).map((l) => `      ${l}`), ...(p.hint ? [`      ${p.hint}`] : [])]),
        ].join('\n');
    super(message, only?.hint ?? GENERIC_HINT);
    this.name = 'BundleManifestError';
    this.problems = sorted;
  }
}

/** A path as shown in messages: relative to the working directory when it is inside it. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative) ? relative : file;
}

// ---------------------------------------------------------------------------------------------
// The manifest as written (what the schema guarantees): optional fields are still optional.

export interface Manifest {
  name: string;
  description: string;
  units: string[];
  enable?: string[];
  payload?: { source: string; destination: string; mode: string }[];
  user?: { name: string; home: string; shell?: string; groups?: string[] };
  directories?: { path: string; owner?: string; group?: string; mode?: string }[];
  settings?: {
    key: string;
    description: string;
    default?: string | number | boolean;
    pattern?: string;
    directive?: string;
    units?: string[];
  }[];
  secrets?: { key: string; prompt: string; generate?: 'hex32'; required?: boolean }[];
  schedule?: { timer: string; default: string };
  health?: { maxAge?: string; url?: string };
}

/** A schema-valid manifest, with the means to point a problem at the line of any field. */
export interface ParsedManifest {
  manifest: Manifest;
  manifestPath: string;
  /** The manifest's bytes, as read (part of the digest). */
  text: string;
  /** A problem located at `fieldPath` (at its key rather than its value with pointAt 'key'). */
  problemAt(fieldPath: FieldPath, message: string, hint?: string, pointAt?: 'key' | 'value'): ManifestProblem;
  /** The text of a scalar exactly as written in the file (e.g. `0755`, `1.0`), if the field is a plain scalar. */
  sourceText(fieldPath: FieldPath): string | undefined;
}

type YamlModule = typeof import('yaml');

/** Finds YAML nodes by field path and turns offsets into line:column. */
class ManifestLocator {
  constructor(
    private readonly yaml: YamlModule,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  private resolve(node: unknown): unknown {
    return this.yaml.isAlias(node) ? node.resolve(this.doc) : node;
  }

  /** The deepest key and value nodes along `fieldPath` (a missing field leaves its parent as `value`). */
  find(fieldPath: FieldPath): { key?: YamlNode; value?: YamlNode; complete: boolean } {
    let value = this.doc.contents as YamlNode | null;
    let key: YamlNode | undefined;
    for (const segment of fieldPath) {
      const current = this.resolve(value);
      if (this.yaml.isMap(current)) {
        const pair = current.items.find((p) => this.keyText(p) === String(segment));
        if (!pair) return { key, value: value ?? undefined, complete: false };
        key = this.yaml.isNode(pair.key) ? pair.key : undefined;
        value = this.yaml.isNode(pair.value) ? pair.value : null;
        if (!value) return { key, complete: true };
      } else if (this.yaml.isSeq(current) && typeof segment === 'number') {
        const item = current.items[segment];
        if (!this.yaml.isNode(item)) return { key, value: value ?? undefined, complete: false };
        key = undefined;
        value = item;
      } else {
        return { key, value: value ?? undefined, complete: false };
      }
    }
    return { key, value: value ?? undefined, complete: true };
  }

  private keyText(pair: Pair): string | undefined {
    const key = pair.key;
    if (this.yaml.isScalar(key)) return String(key.value);
    return typeof key === 'string' ? key : undefined;
  }

  offsetOf(fieldPath: FieldPath, pointAt: 'key' | 'value'): number | undefined {
    const { key, value, complete } = this.find(fieldPath);
    const valueStart = value?.range?.[0];
    const keyStart = key?.range?.[0];
    // An empty value (`user:`) has a zero-width range; its key is the better place to point at.
    const emptyValue = value?.range && value.range[0] === value.range[1];
    if (complete && pointAt === 'key' && keyStart !== undefined) return keyStart;
    if (complete && (emptyValue || valueStart === undefined) && keyStart !== undefined) return keyStart;
    return valueStart ?? keyStart;
  }

  position(offset: number | undefined): { line: number; column: number } {
    if (offset === undefined) return { line: 1, column: 1 };
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  problem(fieldPath: FieldPath, message: string, hint?: string, pointAt: 'key' | 'value' = 'value'): ManifestProblem {
    return this.problemAtOffset(this.offsetOf(fieldPath, pointAt), formatFieldPath(fieldPath), message, hint);
  }

  problemAtOffset(offset: number | undefined, field: string, message: string, hint?: string): ManifestProblem {
    const problem: ManifestProblem = { file: this.file, ...this.position(offset), field, message };
    if (hint) problem.hint = hint;
    return problem;
  }

  /** The path of the mapping key that starts at `offset` (a duplicate key: the rest of the document is sound). */
  keyPathAt(offset: number): (string | number)[] | undefined {
    const search = (node: unknown, at: (string | number)[]): (string | number)[] | undefined => {
      if (this.yaml.isMap(node)) {
        for (const pair of node.items) {
          const key = this.keyText(pair);
          if (key === undefined) continue;
          if (this.yaml.isNode(pair.key) && pair.key.range?.[0] === offset) return [...at, key];
          const inner = search(pair.value, [...at, key]);
          if (inner) return inner;
        }
      } else if (this.yaml.isSeq(node)) {
        for (const [index, item] of node.items.entries()) {
          const inner = search(item, [...at, index]);
          if (inner) return inner;
        }
      }
      return undefined;
    };
    return search(this.doc.contents, []);
  }

  sourceText(fieldPath: FieldPath): string | undefined {
    const { value, complete } = this.find(fieldPath);
    if (!complete || !this.yaml.isScalar(value) || value.type !== 'PLAIN') return undefined;
    return value.source;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema

let validatorPromise: Promise<ValidateFunction> | undefined;

/**
 * The compiled schema, built once per process. The built CLI loads the standalone validator that
 * `npm run build` generates from the same schema (scripts/compile-schema.js); ajv itself is imported
 * and compiles the schema only where that file does not exist (the tests, which run the sources).
 */
function schemaValidator(): Promise<ValidateFunction> {
  validatorPromise ??= (async () => {
    let generated: { default: ValidateFunction } | undefined;
    try {
      generated = createRequire(import.meta.url)(generatedValidatorPath) as { default: ValidateFunction };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    }
    if (generated) return generated.default as ValidateFunction;
    const [{ default: ajvModule }, schemaText] = await Promise.all([importModule<{ default: typeof import('ajv') }>('ajv'), readFile(bundleSchemaPath, 'utf8')]);
    // ajv is CommonJS: under Node's ESM loader its default export is module.exports, whose .default is the class.
    const Ajv = (ajvModule as unknown as { default?: typeof ajvModule.default }).default ?? (ajvModule as unknown as typeof ajvModule.default);
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    // VS Code's and yaml-language-server's message for a failed pattern; svcctl shows the same text.
    ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
    return ajv.compile(JSON.parse(schemaText) as object);
  })();
  // A failure (say, a package installed without schema/) is not cached: the next call reports it again.
  validatorPromise.catch(() => {
    validatorPromise = undefined;
  });
  return validatorPromise;
}

const yamlTypeName: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a number',
  boolean: 'true or false',
  object: 'a mapping (key: value lines)',
  array: 'a list',
  null: 'empty',
};

function describeValue(value: unknown, written: string | undefined): string {
  if (value === null || value === undefined) return 'it is empty';
  if (Array.isArray(value)) return 'it is a list';
  if (typeof value === 'object') return 'it is a mapping';
  if (typeof value === 'number') return `${written ?? String(value)} is a YAML number`;
  if (typeof value === 'boolean') return `${written ?? String(value)} is a YAML boolean`;
  return `it is ${yamlTypeName[typeof value] ?? typeof value}`;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function schemaProblem(error: ErrorObject, locator: ManifestLocator): ManifestProblem {
  const at = pointerToPath(error.instancePath);
  const parentSchema = (error.parentSchema ?? {}) as { patternErrorMessage?: string; properties?: Record<string, unknown> };
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      return locator.problemAtOffset(locator.offsetOf(at, 'key'), formatFieldPath([...at, missing]), 'is required but missing');
    }
    case 'additionalProperties': {
      const unknown = String(params.additionalProperty);
      const allowed = Object.keys(parentSchema.properties ?? {});
      const guess = closest(unknown, allowed);
      const hint = guess ? `did you mean "${guess}"?` : `allowed here: ${allowed.join(', ')}`;
      return locator.problem([...at, unknown], `unknown field "${unknown}"`, hint, 'key');
    }
    case 'type': {
      const expected = String(params.type)
        .split(',')
        .map((t) => yamlTypeName[t] ?? t);
      const written = locator.sourceText(at);
      const field = at[at.length - 1];
      let hint: string | undefined;
      if (expected[0] === 'a string' && (typeof error.data === 'number' || typeof error.data === 'boolean') && written !== undefined) {
        hint =
          field === 'mode'
            ? `quote it: mode: "${written}" (unquoted, YAML reads ${written} as the number ${String(error.data)}, not an octal mode)`
            : `quote it: "${written}"`;
      }
      return locator.problem(at, `must be ${expected[0] ?? 'something else'}, but ${describeValue(error.data, written)}`, hint);
    }
    case 'pattern':
      return locator.problem(at, `${JSON.stringify(error.data)}: ${parentSchema.patternErrorMessage ?? `must match ${String(params.pattern)}`}`);
    case 'enum':
      return locator.problem(at, `${JSON.stringify(error.data)} is not one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`);
    case 'minItems':
      return locator.problem(at, params.limit === 1 ? 'must list at least one entry' : `must list at least ${String(params.limit)} entries`);
    case 'minLength':
      return locator.problem(at, 'must not be empty');
    case 'maxLength':
      return locator.problem(at, `must be at most ${String(params.limit)} characters`);
    case 'minProperties':
      return locator.problem(at, `must set at least one of: ${Object.keys(parentSchema.properties ?? {}).join(', ')}`);
    case 'uniqueItems': {
      const later = Math.max(Number(params.i), Number(params.j));
      const list = Array.isArray(error.data) ? (error.data as unknown[]) : [];
      return locator.problem([...at, later], `${JSON.stringify(list[later])} is listed twice`);
    }
    default:
      return locator.problem(at, error.message ?? `fails the schema's ${error.keyword} rule`);
  }
}

/** The closest candidate by edit distance, when close enough to be a typo (or differs only in case). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

const yamlErrorHints: Partial<Record<string, string>> = {
  TAB_AS_INDENT: 'YAML indents with spaces only; replace the tab',
  DUPLICATE_KEY: 'each field may appear only once in a mapping',
  BAD_INDENT: 'check the indentation (fields of one mapping line up) and that every [ and { above is closed',
  MISSING_CHAR: 'a quote or bracket opened above is not closed',
  MULTILINE_IMPLICIT_KEY: 'write each field as `key: value` on one line; is a colon missing?',
  MULTIPLE_DOCS: 'a bundle.yaml holds one YAML document: remove the `---` separator',
};

/**
 * Parses and schema-checks the manifest text. Throws BundleManifestError naming file:line:column and field
 * for YAML syntax errors and schema violations; cross-field rules are checked by manifestRuleProblems().
 */
export async function parseManifest(text: string, manifestPath: string): Promise<ParsedManifest> {
  const yaml = await import('yaml');
  const lines = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const file = displayPath(manifestPath);
  const locator = new ManifestLocator(yaml, doc, lines, file);

  // Only the first syntax error: the ones after it are mostly its echoes. A broken document has no trustworthy
  // field path, so the problem shows the lines around the error instead.
  const syntax = doc.errors[0] ?? doc.warnings[0];
  if (syntax) {
    const duplicate = syntax.code === 'DUPLICATE_KEY' ? locator.keyPathAt(syntax.pos[0]) : undefined;
    const field = duplicate ? formatFieldPath(duplicate) : '';
    const problem = locator.problemAtOffset(syntax.pos[0], field, `YAML: ${syntax.message}`, yamlErrorHints[syntax.code] ?? GENERIC_HINT);
    if (!duplicate) problem.excerpt = excerpt(text, problem.line ?? 1, problem.column ?? 1);
    throw new BundleManifestError(manifestPath, [problem]);
  }

  if (!yaml.isMap(doc.contents)) {
    const what = doc.contents === null ? 'the file is empty' : 'it is not a mapping of fields';
    throw new BundleManifestError(manifestPath, [
      locator.problemAtOffset(doc.contents?.range?.[0], '', `the manifest must be a mapping (name: ..., units: ...), but ${what}`, GENERIC_HINT),
    ]);
  }

  let data: unknown;
  try {
    // The alias cap defeats "billion laughs" documents.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new BundleManifestError(manifestPath, [locator.problemAtOffset(0, '', `YAML: ${(error as Error).message}`)]);
  }

  const validate = await schemaValidator();
  if (!validate(data)) {
    const problems = dedupe((validate.errors ?? []).map((e) => schemaProblem(e, locator)));
    throw new BundleManifestError(manifestPath, problems);
  }

  return {
    manifest: data as Manifest,
    manifestPath,
    text,
    problemAt: (fieldPath, message, hint, pointAt) => locator.problem(fieldPath, message, hint, pointAt),
    sourceText: (fieldPath) => locator.sourceText(fieldPath),
  };
}

/** The error's line and the two before it (where an unclosed bracket or quote usually is), with a caret; tabs shown as →. */
function excerpt(text: string, line: number, column: number): string[] {
  const lines = text.split(/\r?\n/);
  const width = String(line).length;
  const show = (n: number) => `${String(n).padStart(width)} | ${(lines[n - 1] ?? '').replace(/\t/g, '→')}`;
  const numbers = [line - 2, line - 1, line].filter((n) => n >= 1);
  return [...numbers.map(show), `${' '.repeat(width)} | ${' '.repeat(column - 1)}^`];
}

function dedupe(problems: ManifestProblem[]): ManifestProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = formatProblem(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Cross-field rules (pure: no file system)

/** A setting's pattern as svcctl applies it: anchored to the whole value, Unicode-aware. Throws SyntaxError if invalid. */
export function settingPatternRegExp(pattern: string): RegExp {
  // Compiling it alone first rejects unbalanced input such as `a)|(b`, which would otherwise defeat the anchors.
  new RegExp(pattern, 'u');
  return new RegExp(`^(?:${pattern})$`, 'u');
}

/** "0755" → 0o755 */
export function parseMode(text: string): number {
  return Number.parseInt(text, 8);
}

/** A payload source as stored: normalised (./x.sh → x.sh), or undefined when it would leave the bundle directory. */
export function normalisePayloadSource(source: string): string | undefined {
  if (path.posix.isAbsolute(source) || source.split('/').includes('..')) return undefined;
  const normal = path.posix.normalize(source).replace(/\/+$/, '');
  return normal === '.' || normal === '' ? undefined : normal;
}

function absolutePathProblem(value: string): { message: string; hint?: string } | undefined {
  if (value.split('/').includes('..')) return { message: `"${value}" must not contain ..` };
  const normal = path.posix.normalize(value);
  const tidy = normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
  if (tidy !== value) return { message: `"${value}" is not a normalised path`, hint: `write it as ${tidy}` };
  return undefined;
}

function forbiddenRoot(value: string): string | undefined {
  return FORBIDDEN_ROOTS.find((root) => value === root || value.startsWith(`${root}/`));
}

function suffix(unit: string): string {
  return unit.slice(unit.lastIndexOf('.'));
}

/** Parses a setting's `directive` ("WorkingDirectory" or "Timer.RandomizedDelaySec"); the schema has checked its shape. */
export function settingTarget(key: string, directive: string | undefined): Setting['target'] {
  if (directive === undefined) return { kind: 'environment', name: key };
  const dot = directive.indexOf('.');
  if (dot < 0) return { kind: 'directive', section: 'Service', directive };
  return { kind: 'directive', section: directive.slice(0, dot) as 'Service' | 'Unit' | 'Timer' | 'Install', directive: directive.slice(dot + 1) };
}

/** The value of a setting's default as svcctl uses it: a number or boolean is taken exactly as written in the file. */
function settingDefault(parsed: ParsedManifest, index: number): string | undefined {
  const value = parsed.manifest.settings?.[index]?.default;
  if (value === undefined || typeof value === 'string') return value;
  return parsed.sourceText(['settings', index, 'default']) ?? String(value);
}

/** Rules that span fields (or need more than JSON Schema can say). Returns every problem found. */
export function manifestRuleProblems(parsed: ParsedManifest, expectedName?: string): ManifestProblem[] {
  const { manifest: m } = parsed;
  const problems: ManifestProblem[] = [];
  const add = (fieldPath: FieldPath, message: string, hint?: string) => problems.push(parsed.problemAt(fieldPath, message, hint));
  const units = new Set(m.units);
  const services = m.units.filter((u) => suffix(u) === '.service');

  if (expectedName !== undefined && m.name !== expectedName) {
    add(
      ['name'],
      `is "${m.name}" but the bundle was looked up as "${expectedName}" (its directory's name)`,
      'a bundle found by name lives in a directory of the same name: rename one of them, or give the directory as a path',
    );
  }

  (m.enable ?? []).forEach((unit, i) => {
    if (!units.has(unit)) add(['enable', i], `"${unit}" is not listed in units`, `add it to units, or remove it from enable`);
    else if (/@\.[a-z]+$/.test(unit)) add(['enable', i], `"${unit}" is a template unit, which cannot be enabled without an instance name`);
  });

  // Payload: sources stay inside the bundle, destinations are tidy absolute paths outside systemd's and svcctl's own trees.
  const destinations = new Map<string, number>();
  (m.payload ?? []).forEach((file, i) => {
    if (normalisePayloadSource(file.source) === undefined) {
      add(['payload', i, 'source'], `"${file.source}" leaves the bundle directory`, 'a payload source is a path inside the bundle directory, without .. and not absolute');
    }
    const pathProblem = absolutePathProblem(file.destination);
    const root = forbiddenRoot(file.destination);
    if (pathProblem) add(['payload', i, 'destination'], pathProblem.message, pathProblem.hint);
    else if (file.destination === '/') add(['payload', i, 'destination'], 'must name a file, not /');
    else if (root === '/etc/systemd') add(['payload', i, 'destination'], `"${file.destination}" is under /etc/systemd`, 'list unit files under units; svcctl installs them and writes its own drop-ins');
    else if (root) add(['payload', i, 'destination'], `"${file.destination}" is under ${root}, where a bundle may not install files`);
    const earlier = destinations.get(file.destination);
    if (earlier !== undefined) add(['payload', i, 'destination'], `"${file.destination}" is also the destination of payload[${earlier}]`);
    else destinations.set(file.destination, i);
    if (parseMode(file.mode) & 0o002) add(['payload', i, 'mode'], `"${file.mode}" lets every local user modify the file`, 'drop the write bit for others, e.g. "0755" or "0644"');
  });

  if (m.user) {
    if (m.user.name === 'root') add(['user', 'name'], 'must not be root', 'leave user out to run as root; user declares a dedicated system user that svcctl creates');
    for (const field of ['home', 'shell'] as const) {
      const value = m.user[field];
      const pathProblem = value === undefined ? undefined : absolutePathProblem(value);
      if (pathProblem) add(['user', field], pathProblem.message, pathProblem.hint);
    }
  }

  // Directories are chowned only to accounts svcctl knows about: root or the bundle's own user (and its groups).
  const userName = m.user?.name;
  const groups = new Set(['root', ...(userName ? [userName] : []), ...(m.user?.groups ?? [])]);
  const directoryPaths = new Map<string, number>();
  (m.directories ?? []).forEach((dir, i) => {
    const pathProblem = absolutePathProblem(dir.path);
    const root = forbiddenRoot(dir.path);
    if (pathProblem) add(['directories', i, 'path'], pathProblem.message, pathProblem.hint);
    else if (dir.path === '/') add(['directories', i, 'path'], 'must not be /');
    else if (root) add(['directories', i, 'path'], `"${dir.path}" is under ${root}, where a bundle may not create directories`);
    const earlier = directoryPaths.get(dir.path);
    if (earlier !== undefined) add(['directories', i, 'path'], `"${dir.path}" is also directories[${earlier}]`);
    else directoryPaths.set(dir.path, i);
    const owner = dir.owner ?? 'root';
    if (owner !== 'root' && owner !== userName) {
      add(
        ['directories', i, 'owner'],
        userName ? `"${owner}" is neither root nor the bundle's user "${userName}"` : `"${owner}" is not root, and the bundle declares no user`,
        userName ? `use owner: ${userName} or root` : `declare it under user: (svcctl creates it), or use owner: root`,
      );
    }
    if (dir.group !== undefined && !groups.has(dir.group)) {
      add(['directories', i, 'group'], `"${dir.group}" is not root, the bundle's user or one of user.groups`, 'list it under user.groups (it must exist on the host), or use the owner\'s group');
    }
  });

  // Settings and secrets share one namespace: both are KEY=... on the command line and in the environment.
  const keys = new Map<string, string>();
  const claimKey = (key: string, fieldPath: FieldPath) => {
    const earlier = keys.get(key);
    if (earlier !== undefined) add([...fieldPath, 'key'], `"${key}" is already the key of ${earlier}`, 'keys are unique across settings and secrets');
    else keys.set(key, formatFieldPath(fieldPath));
  };
  (m.settings ?? []).forEach((setting, i) => {
    const at = ['settings', i] as const;
    claimKey(setting.key, at);
    const value = settingDefault(parsed, i);
    if (value !== undefined && /[\r\n\0]/.test(value)) add([...at, 'default'], 'must be a single line');
    if (setting.pattern !== undefined) {
      try {
        const re = settingPatternRegExp(setting.pattern);
        if (value !== undefined && !re.test(value)) add([...at, 'default'], `"${value}" does not match the pattern ${setting.pattern}`);
      } catch (error) {
        add([...at, 'pattern'], `is not a valid regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`);
      }
    }
    const target = settingTarget(setting.key, setting.directive);
    if (target.kind === 'directive' && (target.directive === 'Environment' || target.directive === 'EnvironmentFile')) {
      add([...at, 'directive'], `${target.directive}= is svcctl's own`, target.directive === 'Environment' ? 'leave directive out: the setting then becomes Environment=KEY=value' : 'declare secrets under secrets');
    }
    (setting.units ?? []).forEach((unit, j) => {
      if (!units.has(unit)) add([...at, 'units', j], `"${unit}" is not listed in units`);
    });
    const allowed =
      target.kind === 'environment' ? ['.service', '.socket'] : target.section === 'Service' ? ['.service'] : target.section === 'Timer' ? ['.timer'] : undefined;
    const what = target.kind === 'environment' ? 'Environment=' : `[${target.section}] ${target.directive}=`;
    if (setting.units === undefined) {
      if (target.kind === 'directive' && target.section === 'Timer') add([...at], 'a Timer directive needs units: the .timer units that carry it', 'add units: [name.timer]');
      else if (services.length === 0) add([...at], 'names no units, and the bundle has no .service unit to default to', 'add units: [...] listing the units that carry it');
    } else if (allowed) {
      setting.units.forEach((unit, j) => {
        if (units.has(unit) && !allowed.includes(suffix(unit))) add([...at, 'units', j], `${what} does not apply to ${suffix(unit)} units (only ${allowed.join(', ')})`);
      });
    }
  });
  (m.secrets ?? []).forEach((secret, i) => claimKey(secret.key, ['secrets', i]));
  if ((m.secrets ?? []).length > 0 && services.length === 0) {
    add(['secrets'], 'the bundle has no .service unit to pass secrets to', 'secrets reach every .service unit through EnvironmentFile=');
  }

  if (m.schedule) {
    if (!units.has(m.schedule.timer)) add(['schedule', 'timer'], `"${m.schedule.timer}" is not listed in units`);
    else if (suffix(m.schedule.timer) !== '.timer') add(['schedule', 'timer'], `"${m.schedule.timer}" is not a .timer unit`);
  }

  if (m.health?.url !== undefined) {
    try {
      const url = new URL(m.health.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') add(['health', 'url'], 'must be an http:// or https:// URL');
    } catch {
      add(['health', 'url'], `"${m.health.url}" is not a valid URL`);
    }
  }

  return problems;
}

// ---------------------------------------------------------------------------------------------
// Conversion

export interface BundleFiles {
  directory: string;
  digest: string;
  /** Unit file contents by unit name. */
  units: ReadonlyMap<string, string>;
  /** Payload contents by normalised source path. */
  payload: ReadonlyMap<string, Buffer>;
}

/** The Bundle for a manifest that passed every rule, with defaults applied. */
export function toBundle(parsed: ParsedManifest, files: BundleFiles): Bundle {
  const { manifest: m } = parsed;
  const bundle: Bundle = {
    name: m.name,
    description: m.description,
    directory: files.directory,
    manifestPath: parsed.manifestPath,
    digest: files.digest,
    units: m.units.map((name) => ({ name, content: files.units.get(name) ?? '' })),
    enable: m.enable ?? [],
    payload: (m.payload ?? []).map((p): PayloadFile => {
      const source = normalisePayloadSource(p.source) ?? p.source;
      return { source, destination: p.destination, mode: parseMode(p.mode), content: files.payload.get(source) ?? Buffer.alloc(0) };
    }),
    directories: (m.directories ?? []).map((d): BundleDirectory => {
      const owner = d.owner ?? 'root';
      return { path: d.path, owner, group: d.group ?? owner, mode: parseMode(d.mode ?? DEFAULT_DIRECTORY_MODE) };
    }),
    settings: (m.settings ?? []).map((s, i): Setting => {
      const setting: Setting = { key: s.key, description: s.description, target: settingTarget(s.key, s.directive) };
      const value = settingDefault(parsed, i);
      if (value !== undefined) setting.default = value;
      if (s.pattern !== undefined) setting.pattern = s.pattern;
      if (s.units !== undefined) setting.units = s.units;
      return setting;
    }),
    secrets: (m.secrets ?? []).map((s): SecretSpec => {
      const secret: SecretSpec = { key: s.key, prompt: s.prompt, required: s.required ?? true };
      if (s.generate !== undefined) secret.generate = s.generate;
      return secret;
    }),
  };
  if (m.user) bundle.user = { name: m.user.name, home: m.user.home, shell: m.user.shell ?? DEFAULT_SHELL, groups: m.user.groups ?? [] };
  if (m.schedule) bundle.schedule = { timer: m.schedule.timer, default: m.schedule.default };
  if (m.health) {
    bundle.health = {};
    if (m.health.maxAge !== undefined) bundle.health.maxAge = m.health.maxAge;
    if (m.health.url !== undefined) bundle.health.url = m.health.url;
  }
  return bundle;
}
