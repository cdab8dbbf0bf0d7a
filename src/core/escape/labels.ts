// Labels in monitoring output: Nagios plugin perfdata labels, Prometheus text-format names, label values and HELP text.
//
// Nagios plugin guidelines ("Performance data"): `'label'=value[UOM];[warn];[crit];[min];[max]`, pairs
// separated by spaces; the quotes are optional and required when the label has a space; a quote inside is
// written as two quotes; a label cannot contain `=`. svcctl also refuses `|` (it separates text from
// perfdata in plugin output) and control characters (a newline ends the line a monitor reads).
// Prometheus text format 0.0.4: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
// (`__` is reserved), label values any UTF-8 with `\` `"` and newline escaped; HELP text escapes `\` and newline.
import { UserError } from '../errors.js';
import { findControlCharacter, refuseInvalidUnicode } from './chars.js';

const plainNagiosLabel = /^[A-Za-z0-9_]+$/;
const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A perfdata label, quoted when it is not plain `[A-Za-z0-9_]+` (a `'` doubled inside the quotes). */
export function nagiosPerfLabel(label: string): string {
  const field = `perfdata label ${JSON.stringify(label)}`;
  if (label.length === 0) throw new UserError('a perfdata label is empty', 'give the label a name, e.g. last_success_age');
  refuseInvalidUnicode(field, label);
  const control = findControlCharacter(label);
  if (control) throw new UserError(`${field} contains ${control.what}`, 'use a single line of printable text');
  for (const [ch, why] of [['=', 'which separates a label from its value'], ['|', 'which separates plugin text from perfdata']] as const) {
    if (label.includes(ch)) throw new UserError(`${field} contains "${ch}", ${why}`, `remove the "${ch}" (e.g. use "_")`);
  }
  return plainNagiosLabel.test(label) ? label : `'${label.replaceAll("'", "''")}'`;
}

export function prometheusMetricName(name: string): string {
  if (!metricNamePattern.test(name)) {
    throw new UserError(`metric name ${JSON.stringify(name)} is not a valid Prometheus metric name`, 'use letters, digits, "_" and ":", not starting with a digit (e.g. svcctl_up)');
  }
  return name;
}

export function prometheusLabelName(name: string): string {
  if (!labelNamePattern.test(name) || name.startsWith('__')) {
    throw new UserError(`label name ${JSON.stringify(name)} is not a valid Prometheus label name`, 'use letters, digits and "_", not starting with a digit or "__" (e.g. bundle)');
  }
  return name;
}

/** A label value in its double quotes: any valid Unicode, `\` `"` and newline escaped. */
export function prometheusLabelValue(value: string): string {
  refuseInvalidUnicode('Prometheus label value', value);
  return `"${value.replace(/[\\"\n]/g, (ch) => (ch === '\n' ? '\\n' : `\\${ch}`))}"`;
}

/** `{name="value",…}` in the given order; `{}`-less empty string for no labels. */
export function prometheusLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${prometheusLabelName(name)}=${prometheusLabelValue(value)}`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

/** The text after `# HELP name `: `\` and newline escaped. */
export function prometheusHelpText(text: string): string {
  refuseInvalidUnicode('Prometheus HELP text', text);
  return text.replace(/[\\\n]/g, (ch) => (ch === '\n' ? '\\n' : '\\\\'));
}
