// Nagios perfdata labels and Prometheus names/values against models of their readers.
import fc from 'fast-check';
import { nagiosPerfLabel, prometheusHelpText, prometheusLabelName, prometheusLabels, prometheusLabelValue, prometheusMetricName } from '../../src/core/escape/index.js';
import { acceptedOrRefused, expectUserError, nasty } from './escape-helpers.js';

/** The label of one `label=value…` perfdata item, per the Nagios plugin guidelines: optional quotes, `''` is `'`. */
function readPerfLabel(item: string): { label: string; rest: string } {
  if (item.startsWith("'")) {
    let label = '';
    let i = 1;
    for (;;) {
      if (i >= item.length) throw new Error('unterminated quote');
      if (item[i] === "'") {
        if (item[i + 1] === "'") {
          label += "'";
          i += 2;
          continue;
        }
        break;
      }
      label += item[i++];
    }
    return { label, rest: item.slice(i + 1) };
  }
  const eq = item.indexOf('=');
  // An unquoted label ends at "=" and cannot hold a space (items are separated by spaces).
  if (item.slice(0, eq).includes(' ')) throw new Error('space in an unquoted label');
  return { label: item.slice(0, eq), rest: item.slice(eq) };
}

/** A Prometheus text-format label value in quotes: `\\`, `\"`, `\n` and nothing else escaped. */
function readLabelValue(quoted: string): string {
  expect(quoted.startsWith('"') && quoted.endsWith('"')).toBe(true);
  const body = quoted.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '"') throw new Error('unescaped quote');
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = body[++i];
    if (next === 'n') out += '\n';
    else if (next === '\\' || next === '"') out += next;
    else throw new Error(`invalid escape \\${next}`);
  }
  return out;
}

describe('nagiosPerfLabel', () => {
  test('plain labels stay as they are, others are quoted with quotes doubled (as health.ts writes them today)', () => {
    expect(nagiosPerfLabel('last_success_age')).toBe('last_success_age');
    expect(nagiosPerfLabel('disk /var')).toBe("'disk /var'");
    expect(nagiosPerfLabel("it's")).toBe("'it''s'");
  });
  test.each([
    ['', /empty/],
    ['a=b', /"="/],
    ['a|b', /"\|"/],
    ['a\nb', /newline/],
    ['a\tb', /tab/],
    ['\ud800', /not valid Unicode/],
  ])('refuses %j', (label, message) => {
    expectUserError(() => nagiosPerfLabel(label), message);
  });
  test('property: an accepted label reads back exactly, is one item and one line', () => {
    fc.assert(
      fc.property(nasty, (label) => {
        const written = acceptedOrRefused(() => nagiosPerfLabel(label));
        if (written === undefined) return;
        expect(written).not.toMatch(/[\n\r|=]/);
        const { label: read, rest } = readPerfLabel(`${written}=1s;10;20;0`);
        expect(read).toBe(label);
        expect(rest).toBe('=1s;10;20;0');
      }),
    );
  });
});

describe('Prometheus', () => {
  test('names', () => {
    expect(prometheusMetricName('svcctl_up')).toBe('svcctl_up');
    expect(prometheusMetricName('job:rate5m')).toBe('job:rate5m');
    expectUserError(() => prometheusMetricName('9lives'), /metric name/);
    expectUserError(() => prometheusMetricName('a-b'), /metric name/);
    expect(prometheusLabelName('bundle')).toBe('bundle');
    expectUserError(() => prometheusLabelName('__name__'), /label name/);
    expectUserError(() => prometheusLabelName('a:b'), /label name/);
  });
  test('labels and HELP text', () => {
    expect(prometheusLabels({ bundle: 'a"b\\c\nd' })).toBe('{bundle="a\\"b\\\\c\\nd"}');
    expect(prometheusLabels({})).toBe('');
    expect(prometheusHelpText('a\\b\nc "q"')).toBe('a\\\\b\\nc "q"');
  });
  test('property: names are accepted exactly when they match the text format', () => {
    fc.assert(
      fc.property(fc.oneof(nasty, fc.stringMatching(/^[a-z_:0-9-]{0,8}$/)), (name) => {
        expect(acceptedOrRefused(() => prometheusMetricName(name)) !== undefined).toBe(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name));
        expect(acceptedOrRefused(() => prometheusLabelName(name)) !== undefined).toBe(/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) && !name.startsWith('__'));
      }),
    );
  });
  test('property: label values read back exactly, on one line; refused only for invalid Unicode', () => {
    fc.assert(
      fc.property(nasty, (value) => {
        const written = acceptedOrRefused(() => prometheusLabelValue(value));
        expect(written === undefined).toBe(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value));
        if (written === undefined) return;
        expect(written).not.toContain('\n');
        expect(readLabelValue(written)).toBe(value);
      }),
    );
  });
});
