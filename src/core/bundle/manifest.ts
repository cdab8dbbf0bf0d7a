// The bundle manifest (bundle.yaml) as pure data: its problems (file:line:column and field), the cross-field rules and
// the conversion to a Bundle. Parsing the YAML and the schema check are in src/system/bundles/parse.ts.
import path from 'node:path';
import { UserError } from '../errors.js';
import type { Bundle, BundleDirectory, ConfigFile, DirectiveTemplate, PayloadFile, SecretSpec, Setting } from './types.js';
import { criticalPath } from '../receipt.js';
import { HOME_PREFIX, homeStandardDirectories, systemDirectories, type Scope } from '../target.js';
import { declaredScopes } from './scope.js';

import { BUNDLE_NAME_PATTERN, MANIFEST_FILE } from './names.js';
import { isTemplateName } from '../unit-name.js';

export { BUNDLE_NAME_PATTERN, MANIFEST_FILE };
export const DEFAULT_SHELL = '/usr/sbin/nologin';
export const DEFAULT_DIRECTORY_MODE = '0755';
export const DEFAULT_CONFIG_MODE = '0600';

/** The setting keys a directive template names: ${KEY}, with $$ a literal $. */
export function templateKeys(value: string): string[] {
  return [...value.replaceAll('$$', '').matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]!);
}

/** A directive template with each ${KEY} replaced by the setting's value ($$ → $). */
export function fillTemplate(value: string, settings: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\{([A-Z_][A-Z0-9_]*)\}/g, (match, key: string | undefined) => (key === undefined ? '$' : (settings[key] ?? match)));
}

/** Places a payload file or a directory may never be: systemd's and svcctl's own state, and kernel file systems. */
export const FORBIDDEN_ROOTS = ['/etc/systemd', '/etc/svcctl', '/var/lib/svcctl', '/proc', '/sys', '/dev'] as const;
/** The same in a home (user scope): the user manager's units, svcctl's own configuration and state, user tmpfiles. */
export const FORBIDDEN_HOME_ROOTS = ['~/.config/systemd', '~/.local/share/systemd', '~/.config/svcctl', '~/.local/state/svcctl', '~/.config/user-tmpfiles.d'] as const;

export const GENERIC_HINT = 'the bundle format is described in docs/bundles.md (JSON Schema: schema/bundle.schema.json)';

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
    readonly manifestProblems: ManifestProblem[],
  ) {
    const sorted = [...manifestProblems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    const only = sorted.length === 1 ? sorted[0] : undefined;
    const message = only
      ? [formatProblem(only), ...(only.excerpt ?? []).map((l) => `    ${l}`)].join('\n')
      : [
          `${displayPath(manifestPath)} has ${sorted.length} problems:`,
          ...sorted.flatMap((p) => [`  ${formatProblem(p)}`, ...(p.excerpt ?? []).map((l) => `      ${l}`), ...(p.hint ? [`      ${p.hint}`] : [])]),
        ].join('\n');
    super(message, only?.hint ?? GENERIC_HINT);
    this.name = 'BundleManifestError';
    this.manifestProblems = sorted;
    (this as { problems: string[] }).problems = sorted.map(formatProblem);
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
  scopes?: Scope[];
  units: string[];
  enable?: string[];
  payload?: { source: string; destination: string; mode: string; owner?: string; group?: string }[];
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
  configFiles?: { path: string; owner?: string; group?: string; mode?: string; entries: string[] }[];
  directives?: { unit?: string; directive: string; value: string }[];
  schedule?: { timer: string; default: string; randomizedDelay?: string };
  health?: { maxAge?: string; url?: string; startTimeout?: string };
  authorization?: { required: boolean; reason?: string };
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
  if (value.startsWith(HOME_PREFIX)) {
    const rest = value.slice(HOME_PREFIX.length);
    const tidy = path.posix.normalize(`/${rest}`).replace(/\/+$/, '');
    if (tidy === '' || tidy === '/') return { message: `"${value}" must name something inside the home` };
    if (`${HOME_PREFIX}${tidy.slice(1)}` !== value) return { message: `"${value}" is not a normalised path`, hint: `write it as ${HOME_PREFIX}${tidy.slice(1)}` };
    return undefined;
  }
  const normal = path.posix.normalize(value);
  const tidy = normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
  if (tidy !== value) return { message: `"${value}" is not a normalised path`, hint: `write it as ${tidy}` };
  return undefined;
}

function forbiddenRoot(value: string): string | undefined {
  return [...FORBIDDEN_ROOTS, ...FORBIDDEN_HOME_ROOTS].find((root) => value === root || value.startsWith(`${root}/`));
}

/** A home's standard directories, as a bundle writes them (~/.config, ~/.local/bin, …). */
const homeStandard = new Set(homeStandardDirectories.map((d) => `${HOME_PREFIX}${d}`));

/** What is wrong with a declared directory's path (once any ${KEY} in it is filled), or undefined. */
export function directoryPathProblem(value: string): { message: string; hint?: string } | undefined {
  if (!value.startsWith('/') && !value.startsWith(HOME_PREFIX)) return { message: `"${value}" is not an absolute path` };
  const pathProblem = absolutePathProblem(value);
  if (pathProblem) return pathProblem;
  if (value === '/') return { message: 'must not be /' };
  const root = forbiddenRoot(value);
  if (root) return { message: `"${value}" is under ${root}, where a bundle may not create directories` };
  if (systemDirectories.has(value) || homeStandard.has(value)) {
    return { message: `"${value}" is one of the ${homeStandard.has(value) ? "home's standard" : "system's own"} directories`, hint: "svcctl never changes its mode or owner, and --purge would remove it: declare a directory of the bundle's own below it" };
  }
  return undefined;
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
    else if (isTemplateName(unit)) add(['enable', i], `"${unit}" is a template unit, which cannot be enabled without an instance name`);
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

  // Files and directories are chowned only to accounts svcctl knows about: root or the bundle's own user (and its groups).
  const userName = m.user?.name;
  const groups = new Set(['root', ...(userName ? [userName] : []), ...(m.user?.groups ?? [])]);
  const checkOwnership = (at: FieldPath, ownerField: string | undefined, group: string | undefined) => {
    const owner = ownerField ?? 'root';
    if (owner !== 'root' && owner !== userName) {
      add(
        [...at, 'owner'],
        userName ? `"${owner}" is neither root nor the bundle's user "${userName}"` : `"${owner}" is not root, and the bundle declares no user`,
        userName ? `use owner: ${userName} or root` : `declare it under user: (svcctl creates it), or use owner: root`,
      );
    }
    if (group !== undefined && !groups.has(group)) {
      add([...at, 'group'], `"${group}" is not root, the bundle's user or one of user.groups`, 'list it under user.groups (it must exist on the host), or use the owner\'s group');
    }
  };
  const directoryPaths = new Map<string, number>();
  const secretKeySet = new Set((m.secrets ?? []).map((s) => s.key));
  const settingDefaults = new Map((m.settings ?? []).map((s, i) => [s.key, settingDefault(parsed, i)] as const));
  (m.directories ?? []).forEach((dir, i) => {
    // A path that follows a setting (${PROJECT_DIR}/logs) is checked with the settings' defaults here, and with the
    // values given at install by desire(); one whose setting has no default only there.
    const keys = templateKeys(dir.path);
    keys.forEach((key) => {
      if (secretKeySet.has(key)) add(['directories', i, 'path'], `\${${key}} is a secret: a directory's path is shown in the plan and the receipt`);
      else if (!settingDefaults.has(key)) add(['directories', i, 'path'], `\${${key}} is not a setting of the bundle`);
    });
    const known = keys.every((key) => settingDefaults.get(key) !== undefined);
    const filled = known ? fillTemplate(dir.path, Object.fromEntries([...settingDefaults].filter((e): e is [string, string] => e[1] !== undefined))) : undefined;
    const problem = filled === undefined ? undefined : directoryPathProblem(filled);
    if (problem) add(['directories', i, 'path'], keys.length > 0 ? `with the settings' defaults, ${problem.message}` : problem.message, problem.hint);
    const earlier = directoryPaths.get(dir.path);
    if (earlier !== undefined) add(['directories', i, 'path'], `"${dir.path}" is also directories[${earlier}]`);
    else directoryPaths.set(dir.path, i);
    checkOwnership(['directories', i], dir.owner, dir.group);
  });

  // Payload and config files: owned by root or the bundle's user, like directories.
  (m.payload ?? []).forEach((file, i) => checkOwnership(['payload', i], file.owner, file.group));
  const secretKeys = new Set((m.secrets ?? []).map((s) => s.key));
  const settingKeys = new Set((m.settings ?? []).map((s) => s.key));
  const directiveSettings = new Set((m.settings ?? []).filter((s) => s.directive !== undefined).map((s) => s.key));
  const configPaths = new Map<string, number>();
  (m.configFiles ?? []).forEach((file, i) => {
    const at = ['configFiles', i] as const;
    const pathProblem = absolutePathProblem(file.path);
    const root = forbiddenRoot(file.path);
    if (pathProblem) add([...at, 'path'], pathProblem.message, pathProblem.hint);
    else if (root) add([...at, 'path'], `"${file.path}" is under ${root}, where a bundle may not install files`);
    else if (criticalPath(file.path)) add([...at, 'path'], `"${file.path}" is one of the host's own files`);
    if (destinations.has(file.path) || configPaths.has(file.path)) add([...at, 'path'], `"${file.path}" is also ${destinations.has(file.path) ? `the destination of payload[${destinations.get(file.path)}]` : `configFiles[${configPaths.get(file.path)}]`}`);
    else configPaths.set(file.path, i);
    checkOwnership(at, file.owner, file.group);
    const mode = parseMode(file.mode ?? DEFAULT_CONFIG_MODE);
    if (mode & 0o002) add([...at, 'mode'], `"${file.mode}" lets every local user modify the file`, 'drop the write bit for others, e.g. "0640"');
    else if (mode & 0o004 && file.entries.some((k) => secretKeys.has(k))) add([...at, 'mode'], `"${file.mode}" lets every local user read the secrets in it`, 'use "0600", or "0640" with the group that must read it');
    file.entries.forEach((key, j) => {
      if (!settingKeys.has(key) && !secretKeys.has(key)) add([...at, 'entries', j], `"${key}" is neither a setting nor a secret of the bundle`);
      else if (directiveSettings.has(key)) add([...at, 'entries', j], `setting "${key}" sets a unit directive, so it has no value for an environment file`);
    });
  });
  const configKeys = (m.configFiles ?? []).flatMap((f) => f.entries);
  configKeys.forEach((key, i) => {
    if (configKeys.indexOf(key) !== i) add(['configFiles'], `"${key}" is listed in more than one config file`, 'a key goes into one file');
  });

  // Directives: a setting's value in a unit directive, never a secret's (a unit is readable by every user).
  (m.directives ?? []).forEach((entry, i) => {
    const at = ['directives', i] as const;
    if (entry.unit !== undefined && !units.has(entry.unit)) add([...at, 'unit'], `"${entry.unit}" is not listed in units`);
    else if (entry.unit === undefined && services.length === 0) add([...at], 'names no unit, and the bundle has no .service unit to default to', 'add unit: NAME');
    const target = settingTarget('X', entry.directive);
    if (target.kind === 'directive' && (target.directive === 'Environment' || target.directive === 'EnvironmentFile' || target.directive.startsWith('Exec'))) {
      add([...at, 'directive'], `${target.directive}= has a syntax of its own and cannot be a template`, target.directive.startsWith('Exec') ? 'use ${KEY} inside the unit\'s own Exec line: systemd expands the setting\'s Environment= variable there' : 'use a setting or a secret');
    }
    for (const key of templateKeys(entry.value)) {
      if (secretKeys.has(key)) add([...at, 'value'], `\${${key}} is a secret: a unit directive is readable by every local user (systemctl show)`, 'secrets reach the service only through its environment file');
      else if (!settingKeys.has(key)) add([...at, 'value'], `\${${key}} is not a setting of the bundle`);
    }
    if (/\$(?!\$|\{[A-Z_][A-Z0-9_]*\})/.test(entry.value.replaceAll('$$', ''))) add([...at, 'value'], 'a "$" must start ${KEY} or be written $$');
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

  // `~/` is the home of the user who installs the bundle: only a bundle for user scope alone has one. (What else a
  // user manager cannot do, unit files included, the loader checks with userScopeProblems for bundles that declare it.)
  const scopes = declaredScopes(m);
  if (!(scopes.length === 1 && scopes[0] === 'user')) {
    const inHome: [FieldPath, string][] = [
      ...(m.payload ?? []).map((f, i): [FieldPath, string] => [['payload', i, 'destination'], f.destination]),
      ...(m.directories ?? []).map((d, i): [FieldPath, string] => [['directories', i, 'path'], d.path]),
      ...(m.configFiles ?? []).map((f, i): [FieldPath, string] => [['configFiles', i, 'path'], f.path]),
    ].filter(([, p]) => p.startsWith(HOME_PREFIX));
    for (const [at, p] of inHome) add(at, `"${p}" is in the home of the user who installs the bundle, which only a bundle for user scope alone has`, 'declare scopes: [user], or give an absolute path');
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
    ...(m.scopes ? { scopes: declaredScopes(m) } : {}),
    enable: m.enable ?? [],
    payload: (m.payload ?? []).map((p): PayloadFile => {
      const source = normalisePayloadSource(p.source) ?? p.source;
      return {
        source,
        destination: p.destination,
        mode: parseMode(p.mode),
        ...(p.owner !== undefined ? { owner: p.owner } : {}),
        ...(p.owner !== undefined || p.group !== undefined ? { group: p.group ?? p.owner ?? 'root' } : {}),
        content: files.payload.get(source) ?? Buffer.alloc(0),
      };
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
    configFiles: (m.configFiles ?? []).map((f): ConfigFile => {
      const owner = f.owner ?? 'root';
      return { path: f.path, owner, group: f.group ?? owner, mode: parseMode(f.mode ?? DEFAULT_CONFIG_MODE), entries: [...f.entries] };
    }),
    directives: (m.directives ?? []).map((d): DirectiveTemplate => {
      const target = settingTarget('X', d.directive) as Extract<Setting['target'], { kind: 'directive' }>;
      const services = m.units.filter((u) => u.endsWith('.service'));
      return { units: d.unit !== undefined ? [d.unit] : services, section: target.section, directive: target.directive, value: d.value };
    }),
  };
  if (m.authorization) bundle.authorization = { required: m.authorization.required, ...(m.authorization.reason !== undefined ? { reason: m.authorization.reason } : {}) };
  if (m.user) bundle.user = { name: m.user.name, home: m.user.home, shell: m.user.shell ?? DEFAULT_SHELL, groups: m.user.groups ?? [] };
  if (m.schedule) bundle.schedule = { timer: m.schedule.timer, default: m.schedule.default, ...(m.schedule.randomizedDelay !== undefined ? { randomizedDelay: m.schedule.randomizedDelay } : {}) };
  if (m.health) {
    bundle.health = {};
    if (m.health.maxAge !== undefined) bundle.health.maxAge = m.health.maxAge;
    if (m.health.url !== undefined) bundle.health.url = m.health.url;
    if (m.health.startTimeout !== undefined) bundle.health.startTimeout = m.health.startTimeout;
  }
  return bundle;
}
