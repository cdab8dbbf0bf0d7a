// Shared pieces of the escape-*.test.ts files: arbitraries rich in the characters parsers care about, and the UserError check.
import fc from 'fast-check';
import { UserError } from '../../src/core/errors.js';

/** Runs fn; a throw must be a UserError with a hint (what to do), never an internal error. */
export function expectUserError(fn: () => unknown, message?: RegExp): UserError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(UserError);
  const error = caught as UserError;
  if (message) expect(error.message).toMatch(message);
  expect(error.hint).toBeTruthy();
  expect(error.exitCode).toBe(2);
  return error;
}

/** fn's result, or undefined when it refused with a UserError; any other throw fails the test. */
export function acceptedOrRefused<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    expect(error.hint).toBeTruthy();
    return undefined;
  }
}

/** Characters that quoting, escaping and line parsers treat specially, in every dialect here. */
export const specialCharacters = [' ', '  ', '\t', '\n', '\r', '\\', '"', "'", '$', '{', '}', '%', '%%', '#', ';', '`', '=', ':', '|', '/', '-', '~', '*', '?', '[', '\x01', '\x7f', '\x85', 'é', '😀', '\u00a0', '\u2028', '\ufeff', '\ud800'];

/** Arbitrary strings: mostly special characters, plus any code unit (lone surrogates included) and printable ASCII. */
export const nasty = fc.string({
  unit: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...specialCharacters) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 1 }) },
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  ),
  maxLength: 40,
});

/** Path-like strings: usually absolute, with nasty components. */
export const nastyPath = fc.oneof(
  { weight: 4, arbitrary: fc.array(nasty, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`) },
  { weight: 1, arbitrary: nasty },
);

/** systemd 252's path_simplify() on an absolute path: what tmpfiles and sysusers do before using it. */
export function pathSimplify(path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  return `/${parts.join('/')}`;
}

// ---------------------------------------------------------------------------------------------
// Models of systemd 252's config-line tokenizer, as tmpfiles.d and sysusers.d use it (checked against the
// real tools in test/integration/escape-lines.test.ts).

const separators = ' \t\n\r';

/** strstrip(): WHITESPACE off both ends. */
export function strstrip(line: string): string {
  let start = 0;
  let end = line.length;
  while (start < end && separators.includes(line[start]!)) start++;
  while (end > start && separators.includes(line[end - 1]!)) end--;
  return line.slice(start, end);
}

/**
 * The first six words of a sysusers.d or tmpfiles.d line as systemd 252's parse_line() takes them (one physical
 * line, stripped, not a comment), and what follows them: nothing for sysusers.d, the argument for tmpfiles.d.
 */
export function sixFieldWords(line: string): { words: string[]; rest: string } {
  // read_line() ends a line at LF, CR or NUL: one entry must be one physical line.
  expect(line).not.toMatch(/[\n\r\0]/);
  const text = strstrip(line);
  expect(text.startsWith('#')).toBe(false);
  const words: string[] = [];
  let pos = 0;
  for (let n = 0; n < 6; n++) {
    const next = extractWord(text, pos);
    if (!next) break;
    words.push(next.word);
    pos = next.next;
  }
  return { words, rest: text.slice(pos) };
}

/**
 * extract_first_word(EXTRACT_UNQUOTE) from `pos`: separators skipped, `'…'`/`"…"` quote (also mid-word), a
 * backslash takes the next character literally inside quotes or out, no C escapes; the separators after the
 * word are skipped too. undefined at the end of the text; an unterminated quote or dangling backslash throws.
 */
export function extractWord(text: string, pos: number): { word: string; next: number } | undefined {
  const chars = Array.from(text.slice(pos));
  let i = 0;
  const consumed = () => pos + chars.slice(0, i).join('').length;
  while (i < chars.length && separators.includes(chars[i]!)) i++;
  if (i >= chars.length) return undefined;
  let word = '';
  let quote: string | undefined;
  for (;;) {
    if (i >= chars.length) {
      if (quote) throw new Error('unterminated quote');
      break;
    }
    const c = chars[i]!;
    if (c === '\\') {
      if (i + 1 >= chars.length) throw new Error('dangling backslash');
      word += chars[i + 1];
      i += 2;
    } else if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
      i++;
    } else if (c === "'" || c === '"') {
      quote = c;
      i++;
    } else if (separators.includes(c)) {
      while (i < chars.length && separators.includes(chars[i]!)) i++;
      break;
    } else {
      word += c;
      i++;
    }
  }
  return { word, next: consumed() };
}

/** Specifier resolution where the only specifier svcctl may leave is %% (anything else would be resolved). */
export function resolveEscapedSpecifiers(text: string): string {
  return text.replace(/%(.|$)/gsu, (_, next: string) => {
    if (next !== '%') throw new Error(`unescaped specifier %${next}`);
    return '%';
  });
}

const cunescapeSimple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ' };

/** cunescape(text, 0): C escapes; an unknown escape or \x00 throws, as it fails the line in systemd. */
export function cunescape(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === undefined) throw new Error('dangling backslash');
    if (next === 'x') {
      const hex = text.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex) || hex === '00') throw new Error(`bad \\x escape ${hex}`);
      out += String.fromCharCode(parseInt(hex, 16));
      i += 3;
    } else if (cunescapeSimple[next] !== undefined) {
      out += cunescapeSimple[next];
      i += 1;
    } else throw new Error(`unknown escape \\${next}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Debian's cron (3.0pl1-162), as its real binary behaved in a sandbox.

/**
 * What Debian's cron hands to `/bin/sh -c`: `\\` → `\`, `\%` → `%`, other backslashes kept; the first
 * unescaped `%` ends the command. Returns the command and whether a `%` cut it.
 */
export function cronCommandToShell(field: string): { command: string; cut: boolean } {
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c === '\\' && (field[i + 1] === '\\' || field[i + 1] === '%')) {
      out += field[++i];
    } else if (c === '%') return { command: out, cut: true };
    else out += c;
  }
  return { command: out, cut: false };
}
