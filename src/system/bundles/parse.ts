// Parses a bundle.yaml: YAML with positions (so every problem names file:line:column and the field) and the JSON
// Schema check, through the validator the build precompiles (or ajv where it does not exist: the tests).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Document, LineCounter, Node as YamlNode, Pair } from 'yaml';
import { importModule } from '../../modules.js';
import { generatedValidatorPath, packageRoot } from '../paths.js';
import {
  BundleManifestError,
  GENERIC_HINT,
  closest,
  displayPath,
  formatFieldPath,
  formatProblem,
  type FieldPath,
  type Manifest,
  type ManifestProblem,
  type ParsedManifest,
} from '../../core/bundle/manifest.js';

export const bundleSchemaPath = path.join(packageRoot, 'schema', 'bundle.schema.json');

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
