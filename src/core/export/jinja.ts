// Jinja2 text for Ansible's template engine (ansible-core 2.14): a header that turns off trim_blocks, literal text
// that reaches the file exactly, and the expressions that escape a variable for each dialect svcctl writes. Pure.
import { UserError } from '../errors.js';

/** Ends a raw block in any spelling Jinja's lexer accepts ({% endraw %}, {%- endraw -%}, {%+ endraw %}…). */
const rawEnd = /\{%[-+]?\s*endraw/;

/**
 * The first line of every template svcctl exports: Ansible reads it as settings (and drops it), so that no block
 * tag eats the newline after it (trim_blocks is on by default): what is between the tags is the file, exactly.
 */
export const templateHeader = '#jinja2: trim_blocks: False, lstrip_blocks: False\n';

/** Literal text: inside {% raw %}, so that `{{`, `{%` and `{#` in a unit file stay what they are. */
export function jinjaLiteral(text: string, what: string): string {
  if (text === '') return '';
  if (rawEnd.test(text)) throw new UserError(`${what} contains "{% endraw", which an Ansible template cannot carry literally`, 'export it as --format units instead');
  return `{% raw %}${text}{% endraw %}`;
}

/** A Jinja string literal (single-quoted; Jinja unescapes it as Python's unicode-escape does): only for ASCII names. */
export function jinjaName(text: string): string {
  if (!/^[A-Za-z0-9_./@:-]*$/.test(text)) throw new Error(`jinjaName: ${text}`);
  return `'${text}'`;
}

/** The escaping filters of each dialect a setting or secret lands in (the same rules as core/escape). */
export type Dialect = 'env-file' | 'environment' | 'directive';

export function escapedExpression(variable: string, dialect: Dialect): string {
  const base = `${variable} | string`;
  switch (dialect) {
    // env-file.ts envFileLine: " \ ` $ backslash-escaped inside double quotes.
    case 'env-file':
      return `{{ ${base} | replace('\\\\', '\\\\\\\\') | replace('"', '\\\\"') | replace('\`', '\\\\\`') | replace('$', '\\\\$') }}`;
    // unit.ts environmentDirective: C escapes inside "…" (control characters are refused before), % doubled.
    case 'environment':
      return `{{ ${base} | replace('\\\\', '\\\\\\\\') | replace('"', '\\\\"') | replace('%', '%%') }}`;
    // unit.ts unitDirectiveValue: % doubled (control characters, edge spaces and a trailing backslash refused before).
    case 'directive':
      return `{{ ${base} | replace('%', '%%') }}`;
  }
}
