// Unit-file text systemd 252 parses back exactly: directive values, Environment=, EnvironmentFile=, names, comments, specifiers.
//
// Rules, each verified against systemd 252 in test/integration/escape-sandbox.test.ts:
// - Unit files (conf-parser.c): a line ending in an odd run of backslashes continues on the next line;
//   CR as well as LF ends a line; the value after `Key=` is stripped of leading/trailing whitespace;
//   `%` starts a specifier in nearly every string directive, `%%` is a literal `%`.
// - Environment= (config_parse_environ): words split by extract_first_word(UNQUOTE|CUNESCAPE), so inside
//   "double quotes" C escapes apply (`\\` `\"` `\n` `\xNN`...); specifiers are resolved after unquoting;
//   `$` is never expanded. A newline is representable as `\n`.
//
// Specifiers: how a caller chooses. Every function here takes a `UnitValue`:
// - a plain `string` is text, and every `%` in it is doubled, so it reaches the service exactly as given.
//   This is the default and the only right choice for anything that comes from a user (settings,
//   secrets, paths, descriptions): a user's `100%` or `%n` must never be expanded by systemd.
// - `withSpecifiers(text)` marks text written on purpose with specifiers (a bundle's own template such
//   as `alert@%n.service`). Each `%x` is checked against the specifiers systemd 252 knows (systemd.unit(5))
//   and written as it is; `%%` stays a literal `%`. An unknown specifier is a UserError, not a unit file
//   systemd would refuse to load. Never build a `withSpecifiers` value from user input.
import { UserError } from '../errors.js';
import { cEscapeQuoted, checkLineLength, findControlCharacter, refuseInvalidUnicode, refuseNul } from './chars.js';

/** Unit types svcctl installs. */
export const unitSuffixes = ['.service', '.timer', '.socket', '.path', '.target', '.mount'] as const;

/** The specifiers systemd 252 resolves in unit files (systemd.unit(5), "Specifiers"), besides `%%`. */
export const unitSpecifiers = 'aAbBCdEfgGhHiIjJlLmMnNopPqsStTuUvVwWyY';

/** systemd's UNIT_NAME_MAX is 256 including the terminating NUL. */
const unitNameMax = 255;

const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const directiveNamePattern = /^(?:[A-Za-z][A-Za-z0-9]*|X-[A-Za-z0-9-]+)$/;
const unitNameChars = /^[A-Za-z0-9:_.\\@-]+$/;

const specifierTextBrand: unique symbol = Symbol('svcctl.specifierText');

/** Unit-file text whose `%` specifiers are intended; made only by withSpecifiers(). */
export interface SpecifierText {
  readonly [specifierTextBrand]: true;
  /** The text as it goes into the unit file, specifiers unresolved. */
  readonly text: string;
}

/** What the unit-file functions accept: plain text (every `%` escaped) or withSpecifiers() text. */
export type UnitValue = string | SpecifierText;

/**
 * Text containing specifiers on purpose, e.g. `withSpecifiers('alert@%n.service')` for OnFailure=.
 * Refuses an unknown specifier (`%q` is known, `%z` is not) and a `%` at the very end, naming `field`.
 */
export function withSpecifiers(text: string, field = 'value'): SpecifierText {
  for (let i = text.indexOf('%'); i >= 0; i = text.indexOf('%', i + 2)) {
    const next = text[i + 1];
    if (next === undefined) {
      throw new UserError(`${field} ${JSON.stringify(text)} ends with a lone "%"`, 'write "%%" for a literal percent sign');
    }
    if (next !== '%' && !unitSpecifiers.includes(next)) {
      throw new UserError(
        `${field} ${JSON.stringify(text)} uses "%${next}", which is not a specifier systemd 252 knows`,
        `write "%%" for a literal percent sign, or use one of ${[...unitSpecifiers].map((s) => `%${s}`).join(' ')} (systemd.unit(5))`,
      );
    }
  }
  return { [specifierTextBrand]: true, text };
}

export function isSpecifierText(value: unknown): value is SpecifierText {
  return typeof value === 'object' && value !== null && specifierTextBrand in value;
}

/** The text of a UnitValue without any escaping (what checks look at). */
export function unitValueText(value: UnitValue): string {
  return isSpecifierText(value) ? value.text : value;
}

/** A plain string gets `%` → `%%`; withSpecifiers() text is written as it is. */
export function escapeSpecifiers(value: UnitValue): string {
  // Only a value made by withSpecifiers() keeps its `%`: any other object is not a string and fails here.
  return isSpecifierText(value) ? value.text : value.replaceAll('%', '%%');
}

/**
 * Directives whose values are not plain text: each has its own function here or in exec.ts, and giving
 * them a plain value would be parsed differently (quotes, `$`, `;`, globs).
 */
const directivesWithOwnSyntax = new Set([
  'Environment',
  'EnvironmentFile',
  'ExecCondition',
  'ExecStartPre',
  'ExecStart',
  'ExecStartPost',
  'ExecReload',
  'ExecStop',
  'ExecStopPost',
]);

export function validateEnvName(name: string, field = 'environment variable name'): string {
  if (!envNamePattern.test(name)) {
    throw new UserError(
      `${field} ${JSON.stringify(name)} is not a valid environment variable name`,
      'use letters, digits and "_", not starting with a digit (e.g. API_TOKEN); systemd drops other names',
    );
  }
  return name;
}

/** A unit file name as systemd's unit_name_is_valid() accepts it, restricted to the types svcctl installs. */
export function validateUnitName(name: string, field = 'unit name'): string {
  const hint = `use letters, digits and ":_.\\@-" (at most ${unitNameMax} characters) ending in one of ${unitSuffixes.join(' ')}, e.g. backup.service`;
  if (name.length === 0 || name.length > unitNameMax) {
    throw new UserError(`${field} ${JSON.stringify(name)} must be 1 to ${unitNameMax} characters long`, hint);
  }
  if (!unitNameChars.test(name)) {
    throw new UserError(`${field} ${JSON.stringify(name)} contains a character systemd does not allow in unit names`, hint);
  }
  const suffix = unitSuffixes.find((candidate) => name.endsWith(candidate));
  if (!suffix) {
    throw new UserError(`${field} ${JSON.stringify(name)} does not end in a known unit type`, hint);
  }
  const prefix = name.slice(0, -suffix.length);
  if (prefix.length === 0 || prefix.startsWith('@')) {
    throw new UserError(`${field} ${JSON.stringify(name)} has no name before its "@" or type suffix`, hint);
  }
  return name;
}

/** A directive (key) name such as WorkingDirectory, or an X- extension key. */
export function validateDirectiveName(name: string, field = 'directive'): string {
  if (!directiveNamePattern.test(name)) {
    throw new UserError(`${field} ${JSON.stringify(name)} is not a valid unit file directive name`, 'use the directive as systemd spells it, e.g. WorkingDirectory or TimeoutStartSec');
  }
  return name;
}

/**
 * The value of a plain directive line (`WorkingDirectory=`, `User=`, `OnCalendar=`...), specifiers escaped
 * unless given withSpecifiers(). Refuses what the line parser would alter: control characters (newline,
 * CR, tab, NUL...), leading or trailing whitespace (stripped), a trailing backslash (a line continuation),
 * invalid Unicode. For the few directives that do not expand specifiers `%` is never a valid character anyway.
 */
export function unitDirectiveValue(key: string, value: UnitValue): string {
  validateDirectiveName(key);
  if (directivesWithOwnSyntax.has(key)) {
    throw new UserError(
      `${key}= cannot be given as a plain directive value: systemd parses it with quoting rules of its own`,
      key.startsWith('Exec') ? 'build the command line with execCommandLine()' : 'declare it as an environment setting or a secret instead of a directive',
    );
  }
  checkSingleLineValue(key, unitValueText(value));
  return checkLineLength(key, escapeSpecifiers(value));
}

/** `Key=value` for a plain directive (see unitDirectiveValue). */
export function directiveLine(key: string, value: UnitValue): string {
  return `${key}=${unitDirectiveValue(key, value)}`;
}

/**
 * `EnvironmentFile=/absolute/path`. systemd treats the path as a glob and a leading "-" as "optional",
 * so only absolute paths without glob characters are accepted.
 */
export function environmentFileDirective(path: UnitValue): string {
  const text = unitValueText(path);
  if (!text.startsWith('/')) {
    throw new UserError(`EnvironmentFile= path ${JSON.stringify(text)} is not absolute`, 'give an absolute path, e.g. /etc/svcctl/<bundle>/secrets.env');
  }
  if (/[*?[\\]/.test(text)) {
    throw new UserError(`EnvironmentFile= path ${JSON.stringify(text)} contains a glob character (* ? [ or \\)`, 'use a path without glob characters');
  }
  checkSingleLineValue('EnvironmentFile', text);
  return checkLineLength('EnvironmentFile', `EnvironmentFile=${escapeSpecifiers(path)}`);
}

/**
 * `Environment="NAME=value"` such that the service sees exactly `value`. Everything but NUL and
 * invalid Unicode is representable: control characters become C escapes, `%` becomes `%%` (unless given
 * withSpecifiers()), `$` stays as it is (Environment= never expands it). Not for secrets: `systemctl show`
 * reveals these to everyone.
 */
export function environmentDirective(name: string, value: UnitValue): string {
  validateEnvName(name);
  const text = unitValueText(value);
  refuseNul(name, text);
  refuseInvalidUnicode(name, text);
  return checkLineLength(name, `Environment="${name}=${cEscapeQuoted(escapeSpecifiers(value))}"`);
}

/**
 * A `# text` comment line, safe in unit files, env files, tmpfiles.d, sysusers.d, crontabs and YAML: one
 * line of printable text that does not end in a backslash (in an env file that would turn the next line
 * into comment too).
 */
export function commentLine(text: string): string {
  refuseInvalidUnicode('comment', text);
  const control = findControlCharacter(text);
  if (control) throw new UserError(`comment text contains ${control.what}`, 'use a single line of printable text');
  if (text.endsWith('\\')) throw new UserError('comment text ends with a backslash, which continues it onto the next line', 'remove the trailing backslash');
  return text.length > 0 ? `# ${text}` : '#';
}

/** Refuses what conf-parser.c would alter in a `Key=value` line: see unitDirectiveValue. */
function checkSingleLineValue(key: string, value: string): string {
  refuseInvalidUnicode(`${key}=`, value);
  const control = findControlCharacter(value);
  if (control) {
    throw new UserError(`value of ${key}= contains ${control.what} at character ${control.index + 1}, which a unit file line cannot hold`, 'remove it: a directive value is a single line of printable text');
  }
  // Only ASCII space is stripped here: tabs are refused above and systemd keeps Unicode spaces.
  if (value.startsWith(' ') || value.endsWith(' ')) {
    throw new UserError(`value of ${key}= starts or ends with whitespace, which systemd strips`, 'remove the leading and trailing spaces');
  }
  if (value.endsWith('\\')) {
    throw new UserError(`value of ${key}= ends with a backslash, which systemd reads as a line continuation`, 'remove the trailing backslash');
  }
  return value;
}
