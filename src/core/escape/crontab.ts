// /etc/cron.d lines for Debian's cron (3.0pl1-162, Debian 12): entries whose command reaches /bin/sh as exactly the argv given, and environment lines.
//
// What Debian's cron does (each rule checked by running its real binary in a sandbox):
// - A syntax error anywhere (a bad field, a command over ~1000 bytes, text after a quoted environment
//   value) makes cron ignore the WHOLE file ("this crontab file will be ignored"): refused here instead.
// - Entry: five time fields, the user, then the command: the rest of the line, given to `/bin/sh -c`.
//   Before that, in the command, `\%` becomes `%` and `\\` becomes `\` (other backslashes stay), and the
//   first unescaped `%` ends the command (the rest is its stdin, `%` as newlines). So the command is
//   shell-quoted word by word, then every `\` is doubled and every `%` written `\%`.
// - Environment line: `NAME=value`, no expansion and no escapes of any kind. Unquoted, the value runs to
//   the end of the line; "double" or 'single' quotes keep leading spaces, but trailing whitespace is lost
//   even inside quotes, and nothing may follow the closing quote. An empty value needs quotes.
// - No line may hold a newline; there is no continuation.
import { UserError } from '../errors.js';
import { findControlCharacter, refuseInvalidUnicode } from './chars.js';
import { validateUserGroupName } from './sysusers.js';
import { validateEnvName } from './unit.js';

/** cron.h MAX_COMMAND and MAX_ENVSTR are 1000 bytes with the NUL; a longer command voids the file. */
const maxLineBytes = 998;
/** Words the shell reads as themselves (argv[0] starts with "/", so `=` never makes an assignment). */
const plainShellWord = /^[A-Za-z0-9_@%+=:,./-]+$/;

const keywords = ['@reboot', '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const timeFields = [
  { name: 'minute', low: 0, high: 59, names: [] as string[], offset: 0 },
  { name: 'hour', low: 0, high: 23, names: [], offset: 0 },
  { name: 'day of month', low: 1, high: 31, names: [], offset: 0 },
  { name: 'month', low: 1, high: 12, names: months, offset: 1 },
  { name: 'day of week', low: 0, high: 7, names: days, offset: 0 },
];

export interface CrontabEntry {
  /** Five time fields (`*\/15 * * * *`, `0 3 * * mon`) or one of @reboot @hourly @daily @weekly @monthly @yearly… */
  schedule: string;
  /** The account the command runs as (a /etc/cron.d line names it). */
  user: string;
  /** argv: argv[0] an absolute path; each word reaches the program exactly. */
  command: readonly string[];
}

/** `SCHEDULE USER COMMAND`: one /etc/cron.d entry (see crontabCommand for the command). */
export function crontabEntryLine(entry: CrontabEntry): string {
  const schedule = crontabSchedule(entry.schedule);
  const user = validateUserGroupName(entry.user, 'cron entry user');
  return `${schedule} ${user} ${crontabCommand(entry.command)}`;
}

/**
 * The command field for argv: each word shell-quoted (bare when plainly safe, else in single quotes with
 * `'` written `'\''`), then `\` doubled and `%` written `\%` for cron. Refuses NUL, CR and LF (a line
 * cannot hold them), a relative program (cron's PATH is minimal) and a command longer than cron takes.
 */
export function crontabCommand(argv: readonly string[]): string {
  const [program] = argv;
  if (program === undefined || !program.startsWith('/')) {
    throw new UserError(`the program of a cron command must be an absolute path, got ${JSON.stringify(program ?? '')}`, 'give the full path, e.g. /usr/local/bin/backup.sh');
  }
  const words = argv.map((word, index) => {
    const field = `cron command word ${index + 1}`;
    refuseInvalidUnicode(field, word);
    const bad = /[\0\n\r]/.exec(word);
    if (bad) throw new UserError(`${field} contains ${bad[0] === '\0' ? 'a NUL byte' : bad[0] === '\n' ? 'a newline' : 'a carriage return'}, which a crontab line cannot hold`, 'remove it, or pass the data through a file the command reads');
    return shellQuote(word);
  });
  const command = words.join(' ').replace(/[\\%]/g, (ch) => `\\${ch}`);
  if (Buffer.byteLength(command, 'utf8') > maxLineBytes) {
    throw new UserError(`the cron command would be ${Buffer.byteLength(command, 'utf8')} bytes; cron ignores the whole file when a command is longer than ${maxLineBytes}`, 'move the work into a script and run that');
  }
  return command;
}

/** One POSIX sh word that reads back as exactly `word`: bare when plainly safe, else single-quoted. */
export function shellQuote(word: string): string {
  return plainShellWord.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * `NAME=value` such that cron sets exactly `value`: bare when it can be, else in double quotes (or single
 * quotes when it holds a double quote). Refuses what Debian's cron cannot represent: control characters,
 * trailing whitespace, and a value that needs quoting but holds both kinds of quote.
 */
export function crontabEnvLine(name: string, value: string): string {
  validateEnvName(name, 'cron environment variable');
  const field = `cron environment variable ${name}`;
  refuseInvalidUnicode(field, value);
  const control = findControlCharacter(value);
  if (control) throw new UserError(`${field} contains ${control.what}, which a crontab line cannot hold`, 'use a single line of printable text');
  if (value.endsWith(' ')) throw new UserError(`${field} ends with a space, which cron drops even inside quotes`, 'remove the trailing spaces');
  let line: string;
  if (value !== '' && !value.startsWith(' ') && !value.startsWith('"') && !value.startsWith("'")) line = `${name}=${value}`;
  else if (!value.includes('"')) line = `${name}="${value}"`;
  else if (!value.includes("'")) line = `${name}='${value}'`;
  else throw new UserError(`${field} needs quotes (it starts with a space or a quote) but holds both ' and ", which cron cannot quote`, 'remove one kind of quote or the leading space');
  if (Buffer.byteLength(line, 'utf8') > maxLineBytes) throw new UserError(`${field} is longer than cron's ${maxLineBytes} bytes`, 'shorten the value');
  return line;
}

/** The time fields, validated as Debian's cron parses them, joined by single spaces; or an @keyword. */
export function crontabSchedule(schedule: string): string {
  const hint = 'give five fields (minute hour day-of-month month day-of-week, e.g. "*/15 * * * *" or "0 3 * * mon") or one of ' + keywords.join(' ');
  const fields = schedule.trim().split(/[ \t]+/);
  if (fields.length === 1 && fields[0]!.startsWith('@')) {
    if (!keywords.includes(fields[0]!)) throw new UserError(`cron schedule ${JSON.stringify(schedule)} is not a keyword cron knows`, hint);
    return fields[0]!;
  }
  if (fields.length !== 5) throw new UserError(`cron schedule ${JSON.stringify(schedule)} has ${fields.length} fields, not 5`, hint);
  fields.forEach((field, index) => checkTimeField(field, timeFields[index]!, schedule, hint));
  return fields.join(' ');
}

function checkTimeField(text: string, spec: (typeof timeFields)[number], schedule: string, hint: string): void {
  const bad = () => new UserError(`cron schedule ${JSON.stringify(schedule)}: the ${spec.name} field ${JSON.stringify(text)} is not valid (${spec.low}-${spec.high}${spec.names.length > 0 ? ' or names' : ''})`, hint);
  const value = (part: string): number => {
    const named = spec.names.indexOf(part.toLowerCase());
    if (named >= 0 && part.length === 3) return named + spec.offset;
    if (!/^\d{1,2}$/.test(part)) throw bad();
    const number = Number(part);
    if (number < spec.low || number > spec.high) throw bad();
    return number;
  };
  for (const element of text.split(',')) {
    const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d{1,2}))?$/.exec(element);
    if (!match) throw bad();
    const [, range, step] = match;
    if (step !== undefined && Number(step) < 1) throw bad();
    if (range === '*') continue;
    const [from, to] = range!.split('-');
    const low = value(from!);
    if (to !== undefined && value(to) < low) throw bad();
  }
}
