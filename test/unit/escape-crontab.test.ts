// crontab lines against models of Debian cron's parsing (checked against its real binary) and of POSIX sh word splitting.
import fc from 'fast-check';
import { crontabCommand, crontabEntryLine, crontabEnvLine, crontabSchedule, shellQuote } from '../../src/core/escape/index.js';
import { acceptedOrRefused, cronCommandToShell, expectUserError, nasty } from './escape-helpers.js';

/** POSIX sh field splitting of what svcctl writes: bare words of safe characters and '…' quotes, nothing else. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < command.length) {
    while (command[i] === ' ') i++;
    if (i >= command.length) break;
    let word = '';
    while (i < command.length && command[i] !== ' ') {
      const c = command[i]!;
      if (c === "'") {
        const end = command.indexOf("'", i + 1);
        if (end < 0) throw new Error('unterminated quote');
        word += command.slice(i + 1, end);
        i = end + 1;
      } else if (c === '\\') {
        word += command[i + 1];
        i += 2;
      } else {
        // Anything the shell would expand, split on or treat as an operator must not be bare.
        if (!/[A-Za-z0-9_@%+=:,./-]/.test(c)) throw new Error(`bare special character ${JSON.stringify(c)}`);
        word += c;
        i++;
      }
    }
    words.push(word);
  }
  return words;
}

/** Debian cron's load_env() state machine, with the trailing-whitespace loss its binary shows even in quotes. */
function cronEnvLine(line: string): { name: string; value: string } | undefined {
  const isSpace = (c: string) => ' \t\n\v\f\r'.includes(c);
  let name = '';
  let value = '';
  let state: 'namei' | 'name' | 'eq1' | 'eq2' | 'valuei' | 'value' | 'fini' | 'error' = 'namei';
  let quote = '';
  let i = 0;
  while (state !== 'error' && i < line.length) {
    const c = line[i]!;
    switch (state) {
      case 'namei':
      case 'valuei':
        if (c === "'" || c === '"') {
          quote = c;
          i++;
        }
        state = state === 'namei' ? 'name' : 'value';
        break;
      case 'name':
      case 'value':
        if (quote && c === quote) {
          state = state === 'name' ? 'eq1' : 'fini';
          i++;
        } else if (quote && state === 'name' && c === '=') state = 'error';
        else if (!quote && state === 'name' && isSpace(c)) {
          state = 'eq1';
          i++;
        } else if (!quote && state === 'name' && c === '=') state = 'eq1';
        else {
          if (state === 'name') name += c;
          else value += c;
          i++;
        }
        break;
      case 'eq1':
        if (c === '=') {
          state = 'eq2';
          quote = '';
        } else if (!isSpace(c)) state = 'error';
        i++;
        break;
      case 'eq2':
      case 'fini':
        if (isSpace(c)) i++;
        else state = state === 'eq2' ? 'valuei' : 'error';
        break;
    }
  }
  if (state !== 'fini' && !(state === 'value' && !quote)) return undefined;
  return { name, value: value.replace(/[ \t\n\v\f\r]+$/, '') };
}

describe('crontabCommand', () => {
  test('plain words stay bare, others are single-quoted; \\ and % are escaped for cron', () => {
    expect(crontabCommand(['/usr/local/bin/backup', '--to', '/srv/backup'])).toBe('/usr/local/bin/backup --to /srv/backup');
    expect(crontabCommand(['/bin/echo', "it's", '100%', 'a\\b', ''])).toBe("/bin/echo 'it'\\\\''s' 100\\% 'a\\\\b' ''");
  });

  test.each([
    [['backup'], /absolute path/],
    [[], /absolute path/],
    [['/bin/echo', 'a\nb'], /newline/],
    [['/bin/echo', 'a\rb'], /carriage return/],
    [['/bin/echo', 'a\0b'], /NUL/],
    [['/bin/echo', 'x'.repeat(1000)], /longer than 998/],
  ])('refuses %j', (argv, message) => {
    expectUserError(() => crontabCommand(argv), message);
  });

  test('property: cron hands /bin/sh a command whose words are exactly argv, never cut by a %', () => {
    fc.assert(
      fc.property(fc.array(nasty, { maxLength: 5 }), (args) => {
        const argv = ['/usr/bin/printf', ...args];
        const field = acceptedOrRefused(() => crontabCommand(argv));
        if (field === undefined) return;
        expect(field).not.toMatch(/[\n\r\0]/);
        const { command, cut } = cronCommandToShell(field);
        expect(cut).toBe(false);
        expect(shellWords(command)).toEqual(argv);
      }),
      { numRuns: 3000 },
    );
  });

  test('shellQuote on its own round-trips', () => {
    fc.assert(
      fc.property(nasty, (word) => {
        expect(shellWords(shellQuote(word))).toEqual([word]);
      }),
    );
  });
});

describe('crontabSchedule and crontabEntryLine', () => {
  test.each(['* * * * *', '*/15 * * * *', '0 3 * * mon', '0 0-23/2 1,15 jan-jun 1-5', '30 4 1 * 7', '@daily', '@reboot'])('accepts %j', (schedule) => {
    expect(crontabSchedule(schedule)).toBe(schedule);
  });
  test.each(['* * * *', '* * * * * *', '60 * * * *', '* 24 * * *', '* * 0 * *', '* * * 13 *', '* * * * 8', '*/0 * * * *', '5-1 * * * *', 'a * * * *', '@often', '* * * * mon\nroot', '-1 * * * *', '', '1,,2 * * * *'])('refuses %j', (schedule) => {
    expectUserError(() => crontabSchedule(schedule), /cron schedule/);
  });
  test('an entry line', () => {
    expect(crontabEntryLine({ schedule: '*/5  *  * * *', user: 'backup', command: ['/usr/local/bin/backup', 'a b'] })).toBe("*/5 * * * * backup /usr/local/bin/backup 'a b'");
    expectUserError(() => crontabEntryLine({ schedule: '@daily', user: 'root x', command: ['/bin/true'] }), /cron entry user/);
  });
  test('an entry is never read as an environment line', () => {
    expect(cronEnvLine(crontabEntryLine({ schedule: '* * * * *', user: 'root', command: ['/usr/bin/env', 'A=b'] }))).toBeUndefined();
    expect(cronEnvLine(crontabEntryLine({ schedule: '@daily', user: 'root', command: ['/usr/bin/env', 'A=b'] }))).toBeUndefined();
  });
});

describe('crontabEnvLine', () => {
  test.each([
    ['/usr/bin:/bin', 'PATH=/usr/bin:/bin'],
    ['', 'X=""'],
    ['  lead', 'X="  lead"'],
    ['"dq"', "X='\"dq\"'"],
    ["'sq'", 'X="\'sq\'"'],
    ['a"b\'c', 'X=a"b\'c'],
    ['100% $HOME #x \\n', 'X=100% $HOME #x \\n'],
  ])('%j', (value, line) => {
    const name = line.slice(0, line.indexOf('='));
    expect(crontabEnvLine(name, value)).toBe(line);
    expect(cronEnvLine(line)).toEqual({ name, value });
  });
  test.each([
    ['trail ', /ends with a space/],
    ['a\nb', /newline/],
    ['a\tb', /tab/],
    [' "\'', /both/],
  ])('refuses %j', (value, message) => {
    expectUserError(() => crontabEnvLine('X', value), message);
  });
  test('refuses an invalid name', () => {
    expectUserError(() => crontabEnvLine('A B', 'x'), /environment variable/);
  });
  test('property: an accepted line is read back by cron as exactly the name and value', () => {
    fc.assert(
      fc.property(fc.oneof(nasty, fc.constantFrom('A', 'PATH', 'MAILTO')), nasty, (name, value) => {
        const line = acceptedOrRefused(() => crontabEnvLine(name, value));
        if (line === undefined) return;
        expect(line).not.toMatch(/[\n\r]/);
        expect(cronEnvLine(line)).toEqual({ name, value });
      }),
      { numRuns: 3000 },
    );
  });
});
