// Literal specifiers in unit files: withSpecifiers() keeps known ones, refuses unknown ones; plain strings are always escaped.
import fc from 'fast-check';
import { directiveLine, environmentDirective, environmentFileDirective, escapeSpecifiers, execCommandLine, isSpecifierText, unitDirectiveValue, unitSpecifiers, withSpecifiers } from '../../src/core/escape/index.js';
import { acceptedOrRefused, expectUserError, nasty } from './escape-helpers.js';

/** systemd.unit(5) of systemd 252, "Specifiers" table. */
const documented = 'a A b B C d E f g G h H i I j J l L m M n N o p P q s S t T u U v V w W y Y'.split(' ');

/** Text where every % starts %% or a documented specifier. */
function hasOnlyKnownSpecifiers(text: string): boolean {
  return /^(?:[^%]|%%|%[aAbBCdEfgGhHiIjJlLmMnNopPqsStTuUvVwWyY])*$/su.test(text);
}

describe('withSpecifiers', () => {
  test('the specifier list is systemd 252\'s', () => {
    expect([...unitSpecifiers].sort()).toEqual([...documented].sort());
  });

  test('OnFailure=alert@%n.service keeps its specifier; the same plain string is escaped', () => {
    expect(directiveLine('OnFailure', withSpecifiers('alert@%n.service'))).toBe('OnFailure=alert@%n.service');
    expect(directiveLine('OnFailure', 'alert@%n.service')).toBe('OnFailure=alert@%%n.service');
  });

  test('%% stays a literal percent sign', () => {
    expect(unitDirectiveValue('Description', withSpecifiers('100%% of %N'))).toBe('100%% of %N');
  });

  test.each([
    ['%z', /"%z", which is not a specifier systemd 252 knows/],
    ['alert@%x.service', /"%x"/],
    ['ends in %', /lone "%"/],
    ['%%%', /lone "%"/],
    ['%\n', /not a specifier/],
  ])('refuses %j', (text, message) => {
    const error = expectUserError(() => withSpecifiers(text, 'OnFailure='), message);
    expect(error.message).toMatch(/^OnFailure=/);
  });

  test('works in Exec lines, Environment= and EnvironmentFile=', () => {
    expect(execCommandLine(['/usr/bin/logger', withSpecifiers('unit %n failed'), '%n'])).toBe('/usr/bin/logger "unit %n failed" %%n');
    expect(environmentDirective('UNIT', withSpecifiers('%n'))).toBe('Environment="UNIT=%n"');
    expect(environmentFileDirective(withSpecifiers('/etc/svcctl/%i/secrets.env'))).toBe('EnvironmentFile=/etc/svcctl/%i/secrets.env');
  });

  test('the line checks still apply to the text', () => {
    expectUserError(() => unitDirectiveValue('Description', withSpecifiers('%n\nExecStart=/bin/sh')), /newline/);
    expectUserError(() => execCommandLine([withSpecifiers('%h/bin/x')]), /absolute path/);
  });

  test('a forged object is not specifier text', () => {
    expect(isSpecifierText({ text: '%n' })).toBe(false);
    expect(isSpecifierText(withSpecifiers('%n'))).toBe(true);
    // Never written unescaped: an object that withSpecifiers() did not make is a programming error.
    expect(() => escapeSpecifiers({ text: '%n' } as never)).toThrow(TypeError);
  });

  test('property: accepts exactly the texts whose every % is %% or a known specifier, and keeps them unchanged', () => {
    const withPercents = fc.oneof(nasty, fc.array(fc.oneof(fc.constantFrom('%', '%%', 'x', ' '), fc.constantFrom(...documented.map((s) => `%${s}`))), { maxLength: 8 }).map((parts) => parts.join('')));
    fc.assert(
      fc.property(withPercents, (text) => {
        const marked = acceptedOrRefused(() => withSpecifiers(text));
        expect(marked !== undefined).toBe(hasOnlyKnownSpecifiers(text));
        if (marked) expect(escapeSpecifiers(marked)).toBe(text);
      }),
    );
  });

  test('property: a plain string never leaves a specifier for systemd to expand', () => {
    fc.assert(
      fc.property(nasty, (text) => {
        const escaped = escapeSpecifiers(text);
        expect(escaped.replaceAll('%%', '')).not.toContain('%');
        expect(escaped.replaceAll('%%', '%')).toBe(text);
      }),
    );
  });
});
