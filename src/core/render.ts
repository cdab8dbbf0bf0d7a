// Pure renderers for svcctl's drop-ins and env files, and the env-file reader that mirrors systemd 252's.
import { UserError } from './errors.js';
import { scheduleDropInLines, type Schedule } from './schedule.js';
import { commentLine, directiveLine, envFileLine, environmentDirective, environmentFileDirective, validateEnvName } from './escape/systemd.js';

export type Section = 'Unit' | 'Service' | 'Timer' | 'Install';

/** Fixed so that the same spec always renders the same bytes (svcctl compares checksums). */
const sectionOrder: readonly Section[] = ['Unit', 'Service', 'Timer', 'Install'];

export interface OverrideSpec {
  /** Absolute paths, each becoming an `EnvironmentFile=` line in [Service]. */
  environmentFiles: string[];
  /** Non-secret settings only: `systemctl show` reveals Environment= values to every local user. */
  environment: { name: string; value: string }[];
  /** Plain directives, kept in the given order within their section (order matters for list resets). */
  directives: { section: Section; directive: string; value: string }[];
}

/** svcctl's drop-in (`<unit>.d/override.conf`): the header comment, then each non-empty section in a fixed order. */
export function renderOverride(spec: OverrideSpec, header: string): string {
  const lines = new Map<Section, string[]>(sectionOrder.map((section) => [section, []]));
  const service = lines.get('Service')!;
  for (const file of spec.environmentFiles) service.push(environmentFileDirective(file));
  const names = new Set<string>();
  for (const { name, value } of spec.environment) {
    if (names.has(name)) {
      throw new UserError(`environment variable ${name} is set twice in one drop-in`, 'give each environment setting a distinct name');
    }
    names.add(name);
    service.push(environmentDirective(name, value));
  }
  for (const { section, directive, value } of spec.directives) {
    const target = lines.get(section);
    if (!target) throw new UserError(`unknown section [${String(section)}] for ${directive}=`, `use one of ${sectionOrder.join(', ')}`);
    target.push(directiveLine(directive, value));
  }
  return renderUnitText(header, lines);
}

/** An EnvironmentFile= body: an optional header comment, then one `KEY="value"` assignment per entry, in order. */
export function renderEnvFile(entries: { key: string; value: string }[], header?: string): string {
  const lines = header === undefined ? [] : [commentLine(header)];
  const keys = new Set<string>();
  for (const { key, value } of entries) {
    if (keys.has(key)) throw new UserError(`key ${key} appears twice in one environment file`, 'give each secret a distinct key');
    keys.add(key);
    lines.push(envFileLine(key, value));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
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
 * earlier ones and invalid names are dropped. The inverse of renderEnvFile.
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

// The schedule model lives in schedule.ts; these two names stay for the callers that render drop-ins.
export { parseSchedule as parseScheduleExpression, type Schedule } from './schedule.js';

/** A timer drop-in that replaces the unit's triggers with `schedule` (schedule.ts decides the lines). */
export function renderScheduleDropIn(schedule: Schedule, header: string): string {
  return renderUnitText(header, new Map<Section, string[]>([['Timer', scheduleDropInLines(schedule)]]));
}

function renderUnitText(header: string, lines: Map<Section, string[]>): string {
  const out = [commentLine(header)];
  for (const section of sectionOrder) {
    const body = lines.get(section) ?? [];
    if (body.length > 0) out.push('', `[${section}]`, ...body);
  }
  return `${out.join('\n')}\n`;
}
