// Character and path checks and quoting shared by the dialect modules (internal: index.ts does not export them).
import { UserError } from '../errors.js';

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const controlCharacter = /[\u0000-\u001f\u007f]/;
/** Characters that never need quoting in a word of extract_first_word (systemd's config tokenizer). */
const plainConfigWord = /^[A-Za-z0-9_@%+=:,./~^-]+$/;

export function describeCharacter(code: number): string {
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

/** The first C0 control character or DEL in `value`, with its index. */
export function findControlCharacter(value: string): { index: number; what: string } | undefined {
  const match = controlCharacter.exec(value);
  return match ? { index: match.index, what: describeCharacter(match[0].charCodeAt(0)) } : undefined;
}

export function refuseNul(key: string, value: string): void {
  const index = value.indexOf('\0');
  if (index >= 0) {
    throw new UserError(`value of ${key} contains a NUL byte at character ${index + 1}, which no environment variable can hold`, 'remove the NUL byte (a binary secret must be encoded, e.g. as hex or base64)');
  }
}

export function refuseInvalidUnicode(key: string, value: string): void {
  const match = loneSurrogate.exec(value);
  if (match) {
    throw new UserError(`value of ${key} is not valid Unicode (a lone surrogate at character ${match.index + 1})`, 'only UTF-8 text can be written; pass the value as valid UTF-8');
  }
}

/** Refuses any control character (newline, tab, NUL...) in a one-line field, naming the field. */
export function refuseControlCharacters(field: string, value: string, hint: string): void {
  const control = findControlCharacter(value);
  if (control) throw new UserError(`${field} contains ${control.what} at character ${control.index + 1}`, hint);
}

/** C-escapes a string for a double-quoted word of extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE). */
export function cEscapeQuoted(value: string): string {
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

/**
 * One whitespace-separated field of a tmpfiles.d or sysusers.d line. systemd 252 splits those lines with
 * extract_first_word(EXTRACT_UNQUOTE) and no C unescaping (verified with the real tools): `'…'` and `"…"`
 * quote, and a backslash, inside quotes or out, takes the next character literally. So a field is written
 * bare when it holds nothing special, else in double quotes with `"` and `\` backslash-escaped.
 * The caller has already refused control characters and escaped `%`.
 */
export function configWord(value: string): string {
  return plainConfigWord.test(value) ? value : `"${value.replace(/["\\]/g, (ch) => `\\${ch}`)}"`;
}

/** systemd's LONG_LINE_MAX: a longer line makes the whole file fail to load. */
const longLineMax = 1024 * 1024;

export function checkLineLength(key: string, line: string): string {
  if (Buffer.byteLength(line, 'utf8') >= longLineMax) {
    throw new UserError(`the line for ${key} would be longer than systemd's limit of 1 MiB`, 'shorten the value, or move large data into a file the service reads');
  }
  return line;
}

/** Absolute and in the form path_simplify() leaves alone: no empty, "." or ".." component, no trailing "/". */
export function isNormalizedPath(path: string): boolean {
  if (path === '/') return true;
  if (!path.startsWith('/') || path.endsWith('/')) return false;
  return path
    .slice(1)
    .split('/')
    .every((part) => part !== '' && part !== '.' && part !== '..');
}
