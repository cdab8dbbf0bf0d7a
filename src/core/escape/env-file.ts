// EnvironmentFile= contents (systemd 252's env-file parser, not a shell): the writer and its inverse, the parser.
//
// env-file.c parse_env_file_internal: inside "double quotes" every byte is literal (raw newlines included)
// except `\` before one of  " \ ` $  (unescaped) or before a newline (both eaten); outside quotes trailing
// whitespace is chomped and `\` escapes anything. A comment line ending in `\` swallows the next line (252).
// Keys that are not valid names are dropped at exec time. Verified in test/integration/escape-sandbox.test.ts.
import { refuseInvalidUnicode, refuseNul } from './chars.js';
import { validateEnvName } from './unit.js';

/**
 * One `KEY="value"` assignment of an EnvironmentFile= (no `export`). Every character but NUL round-trips,
 * newlines included: they are written raw inside the double quotes, so the assignment can span several
 * physical lines. Only " \ ` $ are backslash-escaped, which also makes the file mean the same to a POSIX
 * shell that sources it. The value is never echoed in errors (it may be a secret).
 */
export function envFileLine(key: string, value: string): string {
  validateEnvName(key, 'secret/environment key');
  refuseNul(key, value);
  refuseInvalidUnicode(key, value);
  return `${key}="${value.replace(/["\\`$]/g, (ch) => `\\${ch}`)}"`;
}

type EnvFileState =
  | 'preKey'
  | 'key'
  | 'preValue'
  | 'value'
  | 'valueEscape'
  | 'singleQuoteValue'
  | 'doubleQuoteValue'
  | 'doubleQuoteValueEscape'
  | 'comment'
  | 'commentEscape';

const whitespace = ' \t\n\r';
const newline = '\n\r';
const comments = '#;';
const shellNeedEscape = '"\\`$';

/**
 * What a service sees from an EnvironmentFile= with this content: a port of systemd 252's
 * parse_env_file_internal() (state for state, including its quirks: a comment ending in a backslash
 * swallows the next line, text after a closing quote is appended, unquoted values lose trailing
 * whitespace), followed by what the service manager does before exec: later assignments replace
 * earlier ones and invalid names are dropped. The inverse of envFileLine (and of render.ts renderEnvFile, which joins its lines).
 */
export function parseEnvFile(text: string): Map<string, string> {
  const result = new Map<string, string>();
  let state: EnvFileState = 'preKey';
  let key = '';
  let value = '';
  // Index where the current run of trailing whitespace starts, or -1 (systemd's SIZE_MAX).
  let lastKeyWhitespace = -1;
  let lastValueWhitespace = -1;

  const push = (chompValue: boolean): void => {
    const name = lastKeyWhitespace >= 0 ? key.slice(0, lastKeyWhitespace) : key;
    const content = chompValue && lastValueWhitespace >= 0 ? value.slice(0, lastValueWhitespace) : value;
    // Assignments with an invalid name are dropped by the service manager (strv_env_clean) at exec.
    // A repeated name keeps its first position and takes the last value (strv_env_replace_consume).
    if (isEnvName(name)) result.set(name, content);
    key = '';
    value = '';
  };

  for (const c of text) {
    // The C parser walks a NUL-terminated buffer: nothing after a NUL exists for it.
    if (c === '\0') break;
    switch (state) {
      case 'preKey':
        if (comments.includes(c)) state = 'comment';
        else if (!whitespace.includes(c)) {
          state = 'key';
          lastKeyWhitespace = -1;
          key += c;
        }
        break;
      case 'key':
        if (newline.includes(c)) {
          state = 'preKey';
          key = '';
        } else if (c === '=') {
          state = 'preValue';
          lastValueWhitespace = -1;
        } else {
          if (!whitespace.includes(c)) lastKeyWhitespace = -1;
          else if (lastKeyWhitespace < 0) lastKeyWhitespace = key.length;
          key += c;
        }
        break;
      case 'preValue':
        if (newline.includes(c)) {
          state = 'preKey';
          push(false);
        } else if (c === "'") state = 'singleQuoteValue';
        else if (c === '"') state = 'doubleQuoteValue';
        else if (c === '\\') state = 'valueEscape';
        else if (!whitespace.includes(c)) {
          state = 'value';
          value += c;
        }
        break;
      case 'value':
        if (newline.includes(c)) {
          state = 'preKey';
          push(true);
        } else if (c === '\\') {
          state = 'valueEscape';
          lastValueWhitespace = -1;
        } else {
          if (!whitespace.includes(c)) lastValueWhitespace = -1;
          else if (lastValueWhitespace < 0) lastValueWhitespace = value.length;
          value += c;
        }
        break;
      case 'valueEscape':
        state = 'value';
        if (!newline.includes(c)) value += c;
        break;
      case 'singleQuoteValue':
        if (c === "'") state = 'preValue';
        else value += c;
        break;
      case 'doubleQuoteValue':
        if (c === '"') state = 'preValue';
        else if (c === '\\') state = 'doubleQuoteValueEscape';
        else value += c;
        break;
      case 'doubleQuoteValueEscape':
        state = 'doubleQuoteValue';
        if (shellNeedEscape.includes(c)) value += c;
        else if (c !== '\n') value += `\\${c}`;
        break;
      case 'comment':
        if (c === '\\') state = 'commentEscape';
        else if (newline.includes(c)) state = 'preKey';
        break;
      case 'commentEscape':
        // systemd 252: the escaped character, even a newline, stays in the comment (changed in 254).
        state = 'comment';
        break;
    }
  }
  if (state === 'value') push(true);
  else if (state === 'preValue' || state === 'valueEscape' || state === 'singleQuoteValue' || state === 'doubleQuoteValue' || state === 'doubleQuoteValueEscape') push(false);
  return result;
}

function isEnvName(name: string): boolean {
  try {
    validateEnvName(name);
    return true;
  } catch {
    return false;
  }
}

