// What a service unit (its file and svcctl's drop-in) tells another runner of the same job: the [Service] directives
// as systemd 252 reads them (continuations, comments, an empty assignment resetting a list), and the words of an
// ExecStart= or Environment= line (extract_first_word with quotes and C escapes). Pure; used by the cron export.
import { UserError } from '../errors.js';
import { unitFileEntries } from '../unit-file.js';

export interface Directive {
  key: string;
  value: string;
}

/** Directives whose empty assignment empties the list the earlier lines built (systemd.exec(5), systemd.service(5)). */
const listDirectives = new Set(['ExecStart', 'ExecStartPre', 'ExecStartPost', 'ExecCondition', 'ExecStop', 'ExecStopPost', 'ExecReload', 'Environment', 'EnvironmentFile', 'ReadWritePaths', 'ReadOnlyPaths']);

/** The directives of one section, in order, over the unit file and its drop-ins given in the order systemd reads them. */
export function sectionDirectives(texts: readonly string[], section: string): Directive[] {
  const out: Directive[] = [];
  for (const text of texts) {
    for (const { key, value } of unitFileEntries(text).filter((e) => e.section === section)) {
      if (value === '' && listDirectives.has(key)) {
        for (let i = out.length - 1; i >= 0; i--) if (out[i]!.key === key) out.splice(i, 1);
        continue;
      }
      out.push({ key, value });
    }
  }
  return out;
}

/** The last value of a single-valued directive. */
export function lastValue(directives: readonly Directive[], key: string): string | undefined {
  return [...directives].reverse().find((d) => d.key === key)?.value;
}

const simpleEscapes: Record<string, string> = { '\\': '\\', '"': '"', "'": "'", n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', s: ' ' };

/**
 * The words of a value as extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE) splits it: whitespace separates,
 * "double" and 'single' quotes group, C escapes (\\ \" \n \xNN …) are resolved. An escape svcctl does not know is
 * refused (`what` names the line), rather than guessed.
 */
export function unitWords(value: string, what: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\') {
      const next = value[i + 1];
      if (next === undefined) throw new UserError(`${what} ends with a backslash`, 'remove it');
      if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 2, i + 4))) {
        word += String.fromCharCode(parseInt(value.slice(i + 2, i + 4), 16));
        i += 3;
      } else if (simpleEscapes[next] !== undefined) {
        word += simpleEscapes[next];
        i += 1;
      } else throw new UserError(`${what} uses the escape \\${next}, which svcctl does not translate`, 'write the character itself, or use \\xNN');
      inWord = true;
      continue;
    }
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    word += ch;
    inWord = true;
  }
  if (quote) throw new UserError(`${what} has an unterminated ${quote} quote`, 'close the quote');
  if (inWord) words.push(word);
  return words;
}

/** `%%` → `%`; any other specifier is refused: only systemd knows what `%n` or `%h` would be for this unit. */
export function withoutSpecifiers(text: string, what: string): string {
  return text.replace(/%(.?)/g, (_match, next: string) => {
    if (next === '%') return '%';
    throw new UserError(`${what} uses the specifier %${next}, which only systemd resolves`, 'write the value itself in the unit file, or install the bundle with svcctl instead');
  });
}

/**
 * An ExecStart= line as the argv the program gets: no prefix (- @ : + !), no `;`-separated second command, no
 * `$VAR` (systemd substitutes the environment; `$$` is a literal `$`), no specifier but `%%`.
 */
export function execArgv(value: string, what: string): string[] {
  const words = unitWords(value, what).map((w) => withoutSpecifiers(w, what));
  const program = words[0];
  if (program === undefined) throw new UserError(`${what} is empty`, 'give the command to run');
  if (/^[-@:+!|]/.test(program)) throw new UserError(`${what} starts with the prefix "${program[0]}", whose meaning only systemd has`, 'remove the prefix, or install the bundle with svcctl instead');
  if (words.includes(';')) throw new UserError(`${what} holds several commands separated by ";"`, 'put them in a script and run that');
  return words.map((word) => {
    if (/\$(?!\$)/.test(word.replace(/\$\$/g, ''))) throw new UserError(`${what} uses a $VARIABLE, which systemd substitutes from the service's environment`, 'move the substitution into the script');
    return word.replace(/\$\$/g, '$');
  });
}

/** The assignments of an Environment= line (`"A=b c" D=e`), specifiers resolved as systemd does (only `%%`). */
export function environmentAssignments(value: string, what: string): { name: string; value: string }[] {
  return unitWords(value, what).map((word) => {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new UserError(`${what} holds "${word}", which is not NAME=VALUE`, 'write each assignment as NAME=VALUE');
    return { name: word.slice(0, eq), value: withoutSpecifiers(word.slice(eq + 1), what) };
  });
}
