// The one module that turns values into text systemd 252 parses back exactly (unit files, Exec lines, env files).
//
// Rules, each verified against systemd 252 in test/integration/escape-sandbox.test.ts:
// - Unit files (conf-parser.c): a line ending in an odd run of backslashes continues on the next line;
//   CR as well as LF ends a line; the value after `Key=` is stripped of leading/trailing whitespace;
//   `%` starts a specifier in nearly every string directive, `%%` is a literal `%`.
// - Environment= (config_parse_environ): words split by extract_first_word(UNQUOTE|CUNESCAPE), so inside
//   "double quotes" C escapes apply (`\\` `\"` `\n` `\xNN`...); specifiers are resolved after unquoting;
//   `$` is never expanded. A newline is representable as `\n`.
// - Exec*= (config_parse_exec): the same unquoting, specifiers per word, then at exec time `$VAR`/`${VAR}`
//   are substituted and a word that is just `$VAR` is split on whitespace even when quoted; `$$` is `$`.
//   An unquoted `;` word separates commands.
// - EnvironmentFile= (env-file.c parse_env_file_internal): not a shell. Inside "double quotes" every byte
//   is literal (raw newlines included) except `\` before one of  " \ ` $  (unescaped) or before a newline
//   (both eaten); outside quotes trailing whitespace is chomped and `\` escapes anything. A comment line
//   ending in `\` swallows the next line (252). Keys that are not valid names are dropped at exec time.
import { UserError } from '../errors.js';

/** Unit types svcctl installs. */
export const unitSuffixes = ['.service', '.timer', '.socket', '.path', '.target', '.mount'] as const;

/** systemd's LONG_LINE_MAX: a longer line makes the whole unit file fail to load. */
const longLineMax = 1024 * 1024;
/** systemd's UNIT_NAME_MAX is 256 including the terminating NUL. */
const unitNameMax = 255;

const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const directiveNamePattern = /^(?:[A-Za-z][A-Za-z0-9]*|X-[A-Za-z0-9-]+)$/;
const unitNameChars = /^[A-Za-z0-9:_.\\@-]+$/;
/** Characters that never need quoting in an Exec word (after `%` and `$` are doubled). */
const execSafeWord = /^[A-Za-z0-9_@%+=:,./$-]+$/;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Directives whose values are not plain text: each has its own function here, and giving them a plain
 * value would be parsed differently (quotes, `$`, `;`, globs).
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

/** `%` → `%%`: systemd resolves specifiers in nearly every string directive, Environment= and Exec words. */
export function escapeSpecifiers(value: string): string {
  return value.replaceAll('%', '%%');
}

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
 * The value of a plain directive line (`WorkingDirectory=`, `User=`, `OnCalendar=`...), specifiers escaped.
 * Refuses what the line parser would alter: control characters (newline, CR, tab, NUL...), leading or
 * trailing whitespace (stripped), a trailing backslash (a line continuation), invalid Unicode. For the
 * few directives that do not expand specifiers `%` is never a valid character anyway.
 */
export function unitDirectiveValue(key: string, value: string): string {
  validateDirectiveName(key);
  if (directivesWithOwnSyntax.has(key)) {
    throw new UserError(
      `${key}= cannot be given as a plain directive value: systemd parses it with quoting rules of its own`,
      key.startsWith('Exec') ? 'build the command line with execCommandLine()' : 'declare it as an environment setting or a secret instead of a directive',
    );
  }
  return checkLineLength(key, escapeSpecifiers(checkSingleLineValue(key, value)));
}

/** `Key=value` for a plain directive (see unitDirectiveValue). */
export function directiveLine(key: string, value: string): string {
  return `${key}=${unitDirectiveValue(key, value)}`;
}

/**
 * `EnvironmentFile=/absolute/path`. systemd treats the path as a glob and a leading "-" as "optional",
 * so only absolute paths without glob characters are accepted.
 */
export function environmentFileDirective(path: string): string {
  if (!path.startsWith('/')) {
    throw new UserError(`EnvironmentFile= path ${JSON.stringify(path)} is not absolute`, 'give an absolute path, e.g. /etc/svcctl/<bundle>/secrets.env');
  }
  if (/[*?[\\]/.test(path)) {
    throw new UserError(`EnvironmentFile= path ${JSON.stringify(path)} contains a glob character (* ? [ or \\)`, 'use a path without glob characters');
  }
  return checkLineLength('EnvironmentFile', `EnvironmentFile=${escapeSpecifiers(checkSingleLineValue('EnvironmentFile', path))}`);
}

/**
 * `Environment="NAME=value"` such that the service sees exactly `value`. Everything but NUL and
 * invalid Unicode is representable: control characters become C escapes, `%` becomes `%%`, `$` stays
 * as it is (Environment= never expands it). Not for secrets: `systemctl show` reveals these to everyone.
 */
export function environmentDirective(name: string, value: string): string {
  validateEnvName(name);
  refuseNul(name, value);
  refuseInvalidUnicode(name, value);
  return checkLineLength(name, `Environment="${name}=${cEscapeQuoted(escapeSpecifiers(value))}"`);
}

/**
 * One word of an Exec*= command line that reaches the program as exactly `arg`: `%` → `%%`, `$` → `$$`
 * (quoting does not stop `$VAR` expansion or splitting), then double-quoted with C escapes unless the
 * word is plainly safe. Not for the executable itself: see execCommandLine.
 */
export function execArgument(arg: string): string {
  refuseNul('Exec argument', arg);
  refuseInvalidUnicode('Exec argument', arg);
  const escaped = escapeSpecifiers(arg).replaceAll('$', () => '$$');
  return execSafeWord.test(escaped) ? escaped : `"${cEscapeQuoted(escaped)}"`;
}

/**
 * The value of an Exec*= line for argv. argv[0] must be an absolute path: that rules out the
 * `-@:+!` prefixes (parsed even inside quotes) and a PATH search.
 */
export function execCommandLine(argv: readonly string[]): string {
  const [program, ...args] = argv;
  if (program === undefined || !program.startsWith('/')) {
    throw new UserError(`the program of an Exec line must be an absolute path, got ${JSON.stringify(program ?? '')}`, 'give the full path, e.g. /usr/local/bin/backup.sh');
  }
  return checkLineLength('Exec line', [program, ...args].map(execArgument).join(' '));
}

/**
 * One `KEY="value"` assignment of an EnvironmentFile= (systemd's env-file parser, not a shell: no
 * `export`). Every character but NUL round-trips, newlines included: they are written raw inside the
 * double quotes, so the assignment can span several physical lines. Only " \ ` $ are backslash-escaped,
 * which also makes the file mean the same to a POSIX shell that sources it. The value is never echoed
 * in errors (it may be a secret).
 */
export function envFileLine(key: string, value: string): string {
  validateEnvName(key, 'secret/environment key');
  refuseNul(key, value);
  refuseInvalidUnicode(key, value);
  return `${key}="${value.replace(/["\\`$]/g, (ch) => `\\${ch}`)}"`;
}

/**
 * A `# text` comment line, safe in unit files and env files: one line of printable text that does not
 * end in a backslash (in an env file that would turn the next line into comment too).
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

/** C-escapes a string for a double-quoted word of extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE). */
function cEscapeQuoted(value: string): string {
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case '"':
        out += '\\"';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      default: {
        const code = ch.codePointAt(0) ?? 0;
        out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
      }
    }
  }
  return out;
}

function describeCharacter(code: number): string {
  switch (code) {
    case 0:
      return 'a NUL byte';
    case 0x0a:
      return 'a newline';
    case 0x0d:
      return 'a carriage return';
    case 0x09:
      return 'a tab';
    default:
      return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  }
}

function findControlCharacter(value: string): { index: number; what: string } | undefined {
  const match = /[\u0000-\u001f\u007f]/.exec(value);
  return match ? { index: match.index, what: describeCharacter(match[0].charCodeAt(0)) } : undefined;
}

function refuseNul(key: string, value: string): void {
  const index = value.indexOf('\0');
  if (index >= 0) {
    throw new UserError(`value of ${key} contains a NUL byte at character ${index + 1}, which no environment variable can hold`, 'remove the NUL byte (a binary secret must be encoded, e.g. as hex or base64)');
  }
}

function refuseInvalidUnicode(key: string, value: string): void {
  const match = loneSurrogate.exec(value);
  if (match) {
    throw new UserError(`value of ${key} is not valid Unicode (a lone surrogate at character ${match.index + 1})`, 'systemd only accepts UTF-8 text; pass the value as valid UTF-8');
  }
}

function checkLineLength(key: string, line: string): string {
  if (Buffer.byteLength(line, 'utf8') >= longLineMax) {
    throw new UserError(`the line for ${key} would be longer than systemd's limit of 1 MiB`, 'shorten the value, or move large data into a file the service reads');
  }
  return line;
}
