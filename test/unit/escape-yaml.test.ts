// yamlString() read back by the yaml package as YAML 1.2 and as YAML 1.1 (what PyYAML and so Ansible read).
import fc from 'fast-check';
import { parse } from 'yaml';
import { yamlString } from '../../src/core/escape/index.js';
import { acceptedOrRefused, expectUserError, nasty } from './escape-helpers.js';

const versions = ['1.1', '1.2'] as const;

function readBack(document: string, version: (typeof versions)[number]): unknown {
  return parse(document, { version, strict: true, uniqueKeys: true });
}

describe('yamlString', () => {
  test.each(['backup', 'svc-backup_2', '/usr/local/bin/x', 'a.b'])('identifier-like %j stays plain', (value) => {
    expect(yamlString(value)).toBe(value);
  });
  test.each(['yes', 'No', 'ON', 'off', 'y', 'N', 'true', 'null', '~', '', '0755', '1e3', '.inf', '- x', 'a: b', '#x', '*alias', '&a', '!tag', "'", '"', '12:30', '2024-01-01', '<<', '=', 'E0', 'e-1', 'E9999'])('%j is quoted', (value) => {
    expect(yamlString(value).startsWith('"')).toBe(true);
    for (const version of versions) expect(readBack(`k: ${yamlString(value)}`, version)).toEqual({ k: value });
  });
  test('line breaks YAML 1.1 folds are escaped', () => {
    expect(yamlString('a\u2028b\u2029c\x85d\ne')).toBe('"a\\Lb\\Pc\\Nd\\ne"');
  });
  test('refuses a lone surrogate', () => {
    expectUserError(() => yamlString('a\ud800'), /not valid Unicode/);
  });
  test('property: every value reads back exactly as a value, an item, a flow item and a key, under YAML 1.1 and 1.2', () => {
    fc.assert(
      fc.property(nasty, (value) => {
        const written = acceptedOrRefused(() => yamlString(value));
        if (written === undefined) return;
        expect(written).not.toMatch(/[\n\r\x85\u2028\u2029]/);
        for (const version of versions) {
          expect(readBack(`k: ${written}\n`, version)).toEqual({ k: value });
          expect(readBack(`- ${written}\n`, version)).toEqual([value]);
          expect(readBack(`[${written}, x]\n`, version)).toEqual([value, 'x']);
          expect(readBack(`${written}: 1\n`, version)).toEqual({ [value]: 1 });
        }
      }),
      { numRuns: 2000 },
    );
  });
});
