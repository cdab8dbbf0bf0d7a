// sysusers.d lines against a model of systemd-sysusers 252's parser: what is accepted reads back exactly.
import fc from 'fast-check';
import { sysusersGroupLine, sysusersMemberLine, sysusersUserLine, validateUserGroupName, type SysusersUser } from '../../src/core/escape/index.js';
import { acceptedOrRefused, expectUserError, nasty, nastyPath, pathSimplify, resolveEscapedSpecifiers, sixFieldWords } from './escape-helpers.js';

/** parse_line() of systemd-sysusers 252: at most six fields, nothing after them, "-"/"" is unset, specifiers resolved. */
function decodeSysusersLine(line: string): (string | undefined)[] {
  const { words, rest } = sixFieldWords(line);
  // "Trailing garbage" otherwise.
  expect(rest).toBe('');
  return words.map((word) => (word === '' || word === '-' ? undefined : resolveEscapedSpecifiers(word)));
}

/** valid_user_group_name(name, 0) of systemd 252. */
const strictName = /^[A-Za-z_][A-Za-z0-9_-]{0,30}$/;

describe('validateUserGroupName', () => {
  test.each(['backup', '_svc', 'svc-backup_2', 'A', 'a'.repeat(31)])('accepts %j', (name) => {
    expect(validateUserGroupName(name)).toBe(name);
  });
  test.each(['', '9lives', '-x', 'a b', 'a.b', 'a:b', 'user$', 'é', 'a'.repeat(32), '0'])('refuses %j', (name) => {
    expectUserError(() => validateUserGroupName(name), /user or group name|characters long/);
  });
  test('property: accepts exactly the strict systemd 252 names', () => {
    fc.assert(
      fc.property(fc.oneof(nasty, fc.stringMatching(/^[A-Za-z0-9_.-]{0,33}$/)), (name) => {
        const accepted = acceptedOrRefused(() => validateUserGroupName(name)) !== undefined;
        expect(accepted).toBe(strictName.test(name));
      }),
    );
  });
});

describe('sysusersUserLine', () => {
  test('the usual line', () => {
    expect(sysusersUserLine({ name: 'backup', gecos: 'svcctl bundle backup', home: '/var/lib/backup', shell: '/usr/sbin/nologin' })).toBe('u backup - "svcctl bundle backup" /var/lib/backup /usr/sbin/nologin');
    expect(sysusersUserLine({ name: 'backup' })).toBe('u backup - - -');
    expect(sysusersUserLine({ name: 'backup', uid: 812, gecos: '' })).toBe('u backup 812 - -');
  });

  test('odd GECOS and home read back exactly', () => {
    const user = { name: 'svc', gecos: 'it\'s "100%" \\ %n ☃', home: '/srv/home dir/%i', shell: '/bin/sh' };
    expect(decodeSysusersLine(sysusersUserLine(user))).toEqual(['u', 'svc', undefined, user.gecos, user.home, user.shell]);
  });

  test('a home with a space cannot turn into a shell (it fails only at apply time when written bare)', () => {
    const line = sysusersUserLine({ name: 'svc', home: '/srv/my home', shell: '/bin/sh' });
    expect(line).toBe('u svc - - "/srv/my home" /bin/sh');
  });

  test.each([
    ['a colon in the GECOS', { name: 'svc', gecos: 'a:b' }, /":"/],
    ['a newline in the GECOS', { name: 'svc', gecos: 'a\nu root 0' }, /newline/],
    ['a GECOS of "-"', { name: 'svc', gecos: '-' }, /no GECOS/],
    ['a relative home', { name: 'svc', home: 'srv' }, /not an absolute path/],
    ['a home with a trailing slash', { name: 'svc', home: '/srv/' }, /not normalised/],
    ['a home with ..', { name: 'svc', home: '/srv/../etc' }, /not normalised/],
    ['a home with a colon', { name: 'svc', home: '/srv/a:b' }, /":"/],
    ['a shell that is a directory', { name: 'svc', shell: '/' }, /ends with/],
    ['a shell with a tab', { name: 'svc', shell: '/bin/s\th' }, /tab/],
    ['an invalid name', { name: 'svc user' }, /not a valid user or group name/],
    ['UID 65535', { name: 'svc', uid: 65535 }, /not a usable ID/],
    ['a negative UID', { name: 'svc', uid: -1 }, /not a usable ID/],
    ['a fractional UID', { name: 'svc', uid: 1.5 }, /not a usable ID/],
  ] as [string, SysusersUser, RegExp][])('refuses %s', (_what, user, message) => {
    expectUserError(() => sysusersUserLine(user), message);
  });

  test('property: every accepted user reads back exactly through the parser; everything else is a UserError', () => {
    const user = fc.record(
      {
        name: fc.oneof(nasty, fc.constantFrom('svc', '_x', 'svc-backup')),
        uid: fc.oneof(fc.integer({ min: -1, max: 2 ** 32 }), fc.constantFrom(0, 65535, 4294967294)),
        gecos: nasty,
        home: nastyPath,
        shell: nastyPath,
      },
      { requiredKeys: ['name'] },
    );
    fc.assert(
      fc.property(user, (u) => {
        const line = acceptedOrRefused(() => sysusersUserLine(u));
        if (line === undefined) return;
        const [type, name, id, gecos, home, shell] = decodeSysusersLine(line);
        expect(type).toBe('u');
        expect(name).toBe(u.name);
        expect(strictName.test(name!)).toBe(true);
        expect(id).toBe(u.uid === undefined ? undefined : String(u.uid));
        expect(gecos ?? '').toBe(u.gecos ?? '');
        // valid_gecos(): no control characters, no colon.
        expect(gecos ?? '').not.toMatch(/[\u0000-\u001f\u007f:]/);
        for (const [decoded, given] of [[home, u.home], [shell, u.shell]] as const) {
          expect(decoded).toBe(given);
          // path_simplify() runs before the check: the value must already be in that form.
          if (decoded !== undefined) expect(pathSimplify(decoded)).toBe(decoded);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('sysusersGroupLine and sysusersMemberLine', () => {
  test('plain lines', () => {
    expect(sysusersGroupLine({ name: 'backup' })).toBe('g backup -');
    expect(sysusersGroupLine({ name: 'backup', gid: 4242 })).toBe('g backup 4242');
    expect(sysusersMemberLine('backup', 'systemd-journal')).toBe('m backup systemd-journal');
  });
  test('refuse invalid names', () => {
    expectUserError(() => sysusersGroupLine({ name: 'a b' }), /group name/);
    expectUserError(() => sysusersMemberLine('svc', 'grp 2'), /member group/);
    expectUserError(() => sysusersMemberLine('svc\nu root', 'g'), /member user/);
  });
  test('property: accepted member lines read back as the same two names', () => {
    fc.assert(
      fc.property(nasty, nasty, (user, group) => {
        const line = acceptedOrRefused(() => sysusersMemberLine(user, group));
        if (line === undefined) return;
        expect(decodeSysusersLine(line)).toEqual(['m', user, group]);
      }),
    );
  });
});
