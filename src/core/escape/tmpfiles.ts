// tmpfiles.d(5) lines that systemd-tmpfiles 252 reads back as exactly the type, path, mode, owner, age and argument meant.
//
// What systemd 252 does with a line (verified with the real systemd-tmpfiles, test/integration/escape-lines.test.ts):
// - The line is stripped; the first six fields (type, path, mode, user, group, age) are split by
//   extract_first_word(EXTRACT_UNQUOTE): quotes group, a backslash takes the next character literally,
//   and there are NO C escapes in these fields (`"\t"` is `t`; tmpfiles.d(5) suggests otherwise).
//   A field that is empty or `-` means "not set". So a path with a space written bare shifts every later
//   field: `d /srv/my data 0755 …` reads path /srv/my, mode "data"…
// - Everything after the sixth field is the argument, raw: quotes are literal, leading whitespace is
//   skipped and trailing whitespace stripped, `-` alone means none; then it is C-unescaped (`\\` `\n`
//   `\xNN`, an unknown escape fails the line) and only then are specifiers resolved.
// - Specifiers (`%H`, `%t`…, `%%` for `%`) are resolved in the path and the argument only, never in mode,
//   user, group or age; an unknown one fails the line. Every `%` is escaped here.
// - The path must be absolute; it is then simplified (`//`, `/./` and a trailing `/` vanish, a `..` is
//   refused when the line runs), and a path below /var/run/ is rewritten to /run/. Types that take globs
//   (w e x X r R z Z t T h H a A m) match `*?[` in the path.
import { UserError } from '../errors.js';
import { configWord, findControlCharacter, isNormalizedPath, refuseInvalidUnicode } from './chars.js';
import { validateUserGroupName } from './sysusers.js';

/** Line types systemd-tmpfiles 252 knows (tmpfiles.d(5) "Type"). */
const knownTypes = 'fFwdDevqQpLcbCxXrRzZtThHaAm';
/** Types whose path is a glob pattern. */
const globTypes = 'wexXrRzZtThHaAm';
/** Types that ignore the argument (tmpfiles warns "… lines don't take argument fields, ignoring"). */
const typesWithoutArgument = 'dDvqQepxXrRzZm';
/** Types that fail without an argument. */
const typesNeedingArgument = 'wcbtThHaA';
/** Types whose age is used (tmpfiles.d(5) "Age"); the others ignore it. */
const typesWithAge = 'dDevqQCxX';
/** Types that ignore mode, user and group (tmpfiles.d(5) "Mode", "User, Group"). */
const typesWithoutOwnership = 'xrRLta';
/** Modifiers svcctl writes: `+` (replace/append), `!` (boot only), `-` (failure allowed), `=` (replace other file types). */
const textModifiers = '+!-=';
/** PATH_MAX - 1: the limit of a path or argument after specifier resolution. */
const pathMax = 4095;

// systemd.time(7) units as parse_sec() takes them; a number alone is seconds.
const spanUnit = 'usec|us|µs|μs|msec|ms|seconds|second|sec|s|minutes|minute|min|months|month|m|M|hours|hour|hr|h|days|day|d|weeks|week|w|years|year|y';
const agePattern = new RegExp(`^~?(?:[abcmABCM]+:)?(?:infinity|(?:\\d+(?:\\.\\d+)?(?:${spanUnit})?)+)$`);
const modePattern = /^[~:]*[0-7]{1,4}$/;

export interface TmpfilesEntry {
  /** A type letter and optional modifiers, e.g. `d`, `f+`, `L+`, `d!` (not `~` or `^`: svcctl writes arguments as text). */
  type: string;
  /** Absolute and normalised; written literally (no specifiers; no glob characters for glob types). */
  path: string;
  /** A number (0o750) or the tmpfiles.d string form (`0750`, `~0750`, `:0750`); the type's default when omitted. */
  mode?: number | string;
  /** A name (strict sysusers rules) or a numeric ID, optionally prefixed `:` (only when creating). */
  user?: string | number;
  group?: string | number;
  /** Clean-up age such as `10d`, `~1h`, `bmA:1h`; no clean-up when omitted. */
  age?: string;
  /** The argument as the type reads it (symlink target, file content…), written so it arrives exactly. */
  argument?: string;
}

/** One tmpfiles.d line; refuses, with a UserError naming the field, what systemd-tmpfiles would read otherwise. */
export function tmpfilesLine(entry: TmpfilesEntry): string {
  const type = checkType(entry.type);
  const letter = type[0]!;
  const where = `tmpfiles.d ${type} line for ${JSON.stringify(entry.path)}`;
  const path = tmpfilesPath(entry.path, letter);
  const fields = [type, configWord(path.replaceAll('%', '%%'))];
  if (typesWithoutOwnership.includes(letter)) {
    for (const [name, value] of [['mode', entry.mode], ['user', entry.user], ['group', entry.group]] as const) {
      if (value !== undefined) throw new UserError(`${where}: type ${letter} ignores the ${name} field`, `leave the ${name} out`);
    }
  }
  fields.push(modeField(entry.mode, where), ownerField(entry.user, `${where}: user`), ownerField(entry.group, `${where}: group`));
  if (entry.age !== undefined && !typesWithAge.includes(letter)) {
    throw new UserError(`${where}: type ${letter} ignores the age field`, `leave the age out (it applies to ${[...typesWithAge].join(' ')} lines)`);
  }
  fields.push(entry.age === undefined ? '-' : ageField(entry.age, where));
  if (entry.argument !== undefined) {
    if (typesWithoutArgument.includes(letter)) throw new UserError(`${where}: type ${letter} takes no argument`, 'leave the argument out');
    fields.push(tmpfilesArgument(entry.argument, where));
  } else if (typesNeedingArgument.includes(letter)) {
    throw new UserError(`${where}: type ${letter} needs an argument`, 'give the argument the type reads (see tmpfiles.d(5))');
  }
  return fields.join(' ');
}

function checkType(type: string): string {
  const hint = `use one of ${[...knownTypes].join(' ')}, optionally followed by ${[...textModifiers].join(' ')} (e.g. d, f+, L+)`;
  const letter = type[0];
  if (letter === undefined || !knownTypes.includes(letter)) throw new UserError(`tmpfiles.d type ${JSON.stringify(type)} is not a type systemd-tmpfiles knows`, hint);
  const modifiers = type.slice(1);
  if ([...modifiers].some((m, i) => !textModifiers.includes(m) || modifiers.indexOf(m) !== i)) {
    throw new UserError(`tmpfiles.d type ${JSON.stringify(type)} has an unknown or repeated modifier`, hint);
  }
  return type;
}

/** The path as given, checked to be absolute, normalised, a single line, and what tmpfiles will use unchanged. */
function tmpfilesPath(path: string, letter: string): string {
  const field = `tmpfiles.d path ${JSON.stringify(path)}`;
  refuseInvalidUnicode(field, path);
  const control = findControlCharacter(path);
  if (control) throw new UserError(`${field} contains ${control.what}`, 'use a path of printable characters');
  if (!path.startsWith('/')) throw new UserError(`${field} is not absolute`, 'give a path starting with "/"');
  if (!isNormalizedPath(path)) {
    throw new UserError(`${field} is not normalised (an empty, "." or ".." component, or a trailing "/")`, 'write the path in its plain form, e.g. /var/lib/backup');
  }
  if (path.startsWith('/var/run/')) throw new UserError(`${field} is below /var/run, which systemd-tmpfiles rewrites to /run`, `write ${JSON.stringify(`/run/${path.slice('/var/run/'.length)}`)}`);
  if (globTypes.includes(letter) && /[*?[\\]/.test(path)) {
    throw new UserError(`${field} contains a glob character (* ? [ or \\), which a ${letter} line matches as a pattern`, 'use a path without glob characters');
  }
  if (Buffer.byteLength(path, 'utf8') > pathMax) throw new UserError(`${field} is longer than ${pathMax} bytes`, 'use a shorter path');
  return path;
}

function modeField(mode: number | string | undefined, where: string): string {
  if (mode === undefined) return '-';
  const hint = 'give an octal mode up to 07777, as a number (0o750) or a string ("0750", "~0750", ":0750")';
  if (typeof mode === 'number') {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new UserError(`${where}: mode ${mode} is not a file mode`, hint);
    return mode.toString(8).padStart(4, '0');
  }
  if (!modePattern.test(mode) || parseInt(mode.replace(/^[~:]*/, ''), 8) > 0o7777) throw new UserError(`${where}: mode ${JSON.stringify(mode)} is not a tmpfiles.d mode`, hint);
  return mode;
}

function ownerField(owner: string | number | undefined, field: string): string {
  if (owner === undefined) return '-';
  const onlyOnCreate = typeof owner === 'string' && owner.startsWith(':');
  const name = typeof owner === 'string' && onlyOnCreate ? owner.slice(1) : owner;
  const prefix = onlyOnCreate ? ':' : '';
  if (typeof name === 'number' || /^\d+$/.test(name)) {
    const id = Number(name);
    // Only the canonical decimal form: "0755" in the user field is a mode that slipped a field.
    if (!Number.isInteger(id) || id < 0 || id >= 0xffffffff || String(id) !== String(name)) {
      throw new UserError(`${field} ${JSON.stringify(name)} is not a user or group ID`, 'give an integer from 0 to 4294967294 without leading zeros, or a name');
    }
    return `${prefix}${id}`;
  }
  return `${prefix}${validateUserGroupName(name, field)}`;
}

function ageField(age: string, where: string): string {
  if (!agePattern.test(age)) {
    throw new UserError(`${where}: age ${JSON.stringify(age)} is not a tmpfiles.d age`, 'give a time span without spaces such as 10d, 12h or 1h30min, optionally prefixed by "~" or an age-by such as "bmA:" (tmpfiles.d(5))');
  }
  return age;
}

/**
 * The argument field: the raw rest of the line, C-unescaped, then specifiers resolved. So `%` → `%%`, `\`
 * and control characters are C-escaped, a leading or trailing space and a lone `-` are written as `\x20`
 * and `\x2d` (raw, they would be stripped or mean "no argument"). NUL cannot be written (cunescape refuses it).
 */
function tmpfilesArgument(argument: string, where: string): string {
  const field = `${where}: argument`;
  refuseInvalidUnicode(field, argument);
  if (argument.includes('\0')) throw new UserError(`${field} contains a NUL byte, which tmpfiles.d cannot write`, 'remove the NUL byte');
  if (argument === '') throw new UserError(`${field} is empty, which tmpfiles.d reads as no argument`, 'leave the argument out instead');
  if (Buffer.byteLength(argument, 'utf8') > pathMax) throw new UserError(`${field} is longer than ${pathMax} bytes`, 'use a shorter argument (a C line copies a file of any size)');
  if (argument === '-') return '\\x2d';
  let out = '';
  for (const ch of argument.replaceAll('%', '%%')) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  if (out.startsWith(' ')) out = `\\x20${out.slice(1)}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\x20`;
  return out;
}
