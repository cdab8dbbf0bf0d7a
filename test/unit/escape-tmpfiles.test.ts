// tmpfilesLine() against a model of systemd-tmpfiles 252's line parser: what is accepted reads back exactly.
import fc from 'fast-check';
import { tmpfilesLine, type TmpfilesEntry } from '../../src/core/escape/index.js';
import { acceptedOrRefused, cunescape, expectUserError, nasty, nastyPath, pathSimplify, resolveEscapedSpecifiers, sixFieldWords } from './escape-helpers.js';

interface DecodedLine {
  type: string;
  path: string;
  mode?: string;
  user?: string;
  group?: string;
  age?: string;
  argument?: string;
}

/** parse_line() of systemd-tmpfiles 252, for the fields svcctl writes. */
function decodeTmpfilesLine(line: string): DecodedLine {
  const { words, rest: after } = sixFieldWords(line);
  const unset = (value: string | undefined) => (value === undefined || value === '' || value === '-' ? undefined : value);
  const rest = unset(after);
  const decoded: DecodedLine = { type: words[0]!, path: resolveEscapedSpecifiers(words[1]!) };
  const set = <K extends 'mode' | 'user' | 'group' | 'age'>(key: K, value: string | undefined) => {
    if (value !== undefined) decoded[key] = value;
  };
  set('mode', unset(words[2]));
  set('user', unset(words[3]));
  set('group', unset(words[4]));
  set('age', unset(words[5]));
  if (rest !== undefined) decoded.argument = resolveEscapedSpecifiers(cunescape(rest));
  return decoded;
}

const odd = ['/srv/my data', '/srv/it\'s "quoted"', '/srv/100% %n %%', '/srv/back\\slash', '/srv/héllo ☃ 😀', '/srv/#hash', '/srv/a  b', '/srv/-', '/srv/~x', '/srv/semi;colon'];

describe('tmpfilesLine', () => {
  test('a plain directory line is written as tmpfiles.d(5) shows it', () => {
    expect(tmpfilesLine({ type: 'd', path: '/var/lib/backup', mode: 0o750, user: 'backup', group: 'backup' })).toBe('d /var/lib/backup 0750 backup backup -');
    expect(tmpfilesLine({ type: 'd', path: '/run/x' })).toBe('d /run/x - - - -');
    expect(tmpfilesLine({ type: 'L+', path: '/etc/x', argument: '/usr/share/x' })).toBe('L+ /etc/x - - - - /usr/share/x');
  });

  test.each(odd)('odd path %j reads back exactly', (path) => {
    const line = tmpfilesLine({ type: 'd', path, mode: 0o755, user: 'root', group: 'root' });
    expect(decodeTmpfilesLine(line)).toEqual({ type: 'd', path, mode: '0755', user: 'root', group: 'root' });
  });

  test('a path with spaces cannot shift the mode, owner or age fields (the nobody-owned 4777 directory)', () => {
    const path = '/srv/data 4777 nobody nogroup 0';
    const line = tmpfilesLine({ type: 'd', path, mode: 0o750, user: 'svc', group: 'svc' });
    expect(line).toBe('d "/srv/data 4777 nobody nogroup 0" 0750 svc svc -');
    expect(decodeTmpfilesLine(line)).toEqual({ type: 'd', path, mode: '0750', user: 'svc', group: 'svc' });
  });

  test('% in a path is escaped, not expanded', () => {
    expect(tmpfilesLine({ type: 'd', path: '/srv/%H' })).toBe('d /srv/%%H - - - -');
  });

  test.each([
    ['a relative path', { type: 'd', path: 'srv/x' }, /not absolute/],
    ['an empty path', { type: 'd', path: '' }, /not absolute/],
    ['a trailing slash', { type: 'd', path: '/srv/x/' }, /not normalised/],
    ['a double slash', { type: 'd', path: '/srv//x' }, /not normalised/],
    ['a .. component', { type: 'd', path: '/srv/../etc' }, /not normalised/],
    ['a . component', { type: 'd', path: '/srv/./x' }, /not normalised/],
    ['a newline', { type: 'd', path: '/srv/a\nd /etc 0777 - - -' }, /newline/],
    ['a tab', { type: 'd', path: '/srv/a\tb' }, /tab/],
    ['a lone surrogate', { type: 'd', path: '/srv/\ud800' }, /not valid Unicode/],
    ['/var/run', { type: 'd', path: '/var/run/x' }, /rewrites to \/run/],
    ['a glob in a glob type', { type: 'z', path: '/srv/*' }, /glob/],
    ['an unknown type', { type: 'k', path: '/srv/x' }, /not a type/],
    ['an empty type', { type: '', path: '/srv/x' }, /not a type/],
    ['a repeated modifier', { type: 'd!!', path: '/srv/x' }, /modifier/],
    ['the base64 modifier', { type: 'f~', path: '/srv/x', argument: 'aGk=' }, /modifier/],
    ['a mode out of range', { type: 'd', path: '/srv/x', mode: 0o17777 }, /not a file mode/],
    ['a mode string that is not octal', { type: 'd', path: '/srv/x', mode: '0855' }, /not a tmpfiles.d mode/],
    ['a user that is a mode', { type: 'd', path: '/srv/x', user: '0755' }, /not a user or group ID/],
    ['a user name with a space', { type: 'd', path: '/srv/x', user: 'no body' }, /not a valid user or group name/],
    ['an age with a space', { type: 'd', path: '/srv/x', age: '1h 30min' }, /not a tmpfiles.d age/],
    ['an age that is a path', { type: 'd', path: '/srv/x', age: '/srv' }, /not a tmpfiles.d age/],
    ['an age on a type that ignores it', { type: 'f', path: '/srv/x', age: '1d' }, /ignores the age/],
    ['a mode on a type that ignores it', { type: 'L', path: '/srv/x', mode: 0o644 }, /ignores the mode/],
    ['an argument on a d line', { type: 'd', path: '/srv/x', argument: 'x' }, /takes no argument/],
    ['no argument on a w line', { type: 'w', path: '/srv/x' }, /needs an argument/],
    ['an empty argument', { type: 'f', path: '/srv/x', argument: '' }, /empty/],
    ['a NUL in the argument', { type: 'f', path: '/srv/x', argument: 'a\0b' }, /NUL/],
    ['a path over PATH_MAX', { type: 'd', path: `/${'a'.repeat(4095)}` }, /longer than 4095/],
  ] as [string, TmpfilesEntry, RegExp][])('refuses %s', (_what, entry, message) => {
    expectUserError(() => tmpfilesLine(entry), message);
  });

  test('arguments arrive exactly: C escapes, specifiers, leading and trailing spaces, a lone "-"', () => {
    for (const argument of ['-', ' lead', 'trail ', '  ', 'back\\slash\nnewline\ttab\x7f', '100% %n', '"quoted" \'single\'', 'é☃😀', '\\x20']) {
      const line = tmpfilesLine({ type: 'f+', path: '/srv/f', argument });
      expect(decodeTmpfilesLine(line).argument).toBe(argument);
    }
  });

  test('accepts numeric owners, ":" prefixes, mode strings and age forms', () => {
    expect(tmpfilesLine({ type: 'd', path: '/srv/x', mode: ':0750', user: ':0', group: 65534, age: '~bmA:10d' })).toBe('d /srv/x :0750 :0 65534 ~bmA:10d');
    expect(tmpfilesLine({ type: 'e', path: '/srv/x', age: '1h30min' })).toBe('e /srv/x - - - 1h30min');
  });

  const types = fc.constantFrom('d', 'D', 'f', 'f+', 'w+', 'L', 'L+', 'z', 'Z', 'e', 'x', 'C', 'd!', 'd-', 'p', 'r', 'k', '', 'd~', '#', 'd ', 'f++');
  const owner = fc.oneof(fc.constant(undefined), nasty, fc.constantFrom('root', ':root', '0', ':65534', '0755', 'svc-backup', 'a'.repeat(32)), fc.integer({ min: -2, max: 2 ** 32 }));
  const mode = fc.oneof(fc.constant(undefined), nasty, fc.constantFrom('0755', '~0750', ':0640', '755', '~:0700', '7777', '8'), fc.integer({ min: -1, max: 0o20000 }));
  const age = fc.oneof(fc.constant(undefined), nasty, fc.constantFrom('10d', '~1h', 'bmA:1h', '1.5h', '0', 'infinity', '1h 30min', '-', ''));
  const argument = fc.oneof(fc.constant(undefined), nasty);
  const entry = fc.record({ type: types, path: nastyPath, mode, user: owner, group: owner, age, argument }, { requiredKeys: ['type', 'path'] });

  test('property: every accepted entry reads back exactly through the parser; everything else is a UserError', () => {
    fc.assert(
      fc.property(entry, (e) => {
        const line = acceptedOrRefused(() => tmpfilesLine(e as TmpfilesEntry));
        if (line === undefined) return;
        const decoded = decodeTmpfilesLine(line);
        expect(decoded.type).toBe(e.type);
        expect(decoded.path).toBe(e.path);
        // The path is used as written: path_simplify() leaves it alone.
        expect(pathSimplify(decoded.path)).toBe(decoded.path);
        expect(decoded.argument).toBe(e.argument);
        const asText = (v: string | number | undefined) => (typeof v === 'number' ? String(v) : v);
        expect(decoded.user).toBe(asText(e.user));
        expect(decoded.group).toBe(asText(e.group));
        expect(decoded.age).toBe(e.age);
        if (typeof e.mode === 'number') expect(parseInt(decoded.mode!, 8)).toBe(e.mode);
        else expect(decoded.mode).toBe(e.mode);
      }),
      { numRuns: 3000 },
    );
  });

  test('property: a normalised absolute path of printable characters is always accepted for a d line', () => {
    const printablePath = fc.array(nasty.filter((part) => part !== '' && part !== '.' && part !== '..' && !part.includes('/') && !/[\u0000-\u001f\u007f]/.test(part) && !/[\uD800-\uDFFF]/.test(part)), { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
    fc.assert(
      fc.property(printablePath.filter((path) => !path.startsWith('/var/run/')), (path) => {
        expect(decodeTmpfilesLine(tmpfilesLine({ type: 'd', path })).path).toBe(path);
      }),
    );
  });
});
