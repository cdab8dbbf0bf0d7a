// Exec*= command lines (ExecStart=, ExecStop=...) that reach the program as exactly the argv given (systemd 252).
//
// config_parse_exec splits the line with extract_first_word(UNQUOTE|CUNESCAPE), resolves specifiers per
// word, then at exec time substitutes `$VAR`/`${VAR}` and splits a word that is just `$VAR` on whitespace
// even when it was quoted; `$$` is `$`. An unquoted `;` word separates commands, and the `-@:+!` prefixes
// of the program are parsed even inside quotes. Verified in test/integration/escape-sandbox.test.ts.
import { UserError } from '../errors.js';
import { cEscapeQuoted, checkLineLength, refuseInvalidUnicode, refuseNul } from './chars.js';
import { escapeSpecifiers, unitValueText, type UnitValue } from './unit.js';

/** Characters that never need quoting in an Exec word (after `%` and `$` are doubled). */
const execSafeWord = /^[A-Za-z0-9_@%+=:,./$-]+$/;

/**
 * One word of an Exec*= command line that reaches the program as exactly `arg`: `%` → `%%` (unless given
 * withSpecifiers()), `$` → `$$` (quoting does not stop `$VAR` expansion or splitting), then double-quoted
 * with C escapes unless the word is plainly safe. Not for the executable itself: see execCommandLine.
 */
export function execArgument(arg: UnitValue): string {
  const text = unitValueText(arg);
  refuseNul('Exec argument', text);
  refuseInvalidUnicode('Exec argument', text);
  const escaped = escapeSpecifiers(arg).replaceAll('$', () => '$$');
  return execSafeWord.test(escaped) ? escaped : `"${cEscapeQuoted(escaped)}"`;
}

/**
 * The value of an Exec*= line for argv. argv[0] must be an absolute path: that rules out the
 * `-@:+!` prefixes (parsed even inside quotes) and a PATH search.
 */
export function execCommandLine(argv: readonly UnitValue[]): string {
  const [program, ...args] = argv;
  const programText = program === undefined ? '' : unitValueText(program);
  if (program === undefined || !programText.startsWith('/')) {
    throw new UserError(`the program of an Exec line must be an absolute path, got ${JSON.stringify(programText)}`, 'give the full path, e.g. /usr/local/bin/backup.sh');
  }
  return checkLineLength('Exec line', [program, ...args].map(execArgument).join(' '));
}
