// Table and property tests for the escaping module, against a model of systemd 252's parsers written here.
import fc from 'fast-check';
import { UserError } from '../../src/core/errors.js';
import {
  commentLine,
  directiveLine,
  envFileLine,
  environmentDirective,
  environmentFileDirective,
  escapeSpecifiers,
  execArgument,
  execCommandLine,
  unitDirectiveValue,
  validateDirectiveName,
  validateEnvName,
  validateUnitName,
  parseEnvFile,
} from '../../src/core/escape/index.js';

// ---------------------------------------------------------------------------------------------
// A model of the systemd side, used to decode what the module encodes. The sandbox test proves the
// real thing; this model lets fast-check explore thousands of values in milliseconds.

const cEscapes: Record<string, string> = { '\\': '\\', '"': '"', "'": "'", n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', s: ' ' };

/** extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE) over a whole line, word by word. */
function extractWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const readEscape = (): string => {
    const c = line[i + 1];
    if (c === undefined) throw new Error('dangling backslash');
    if (c === 'x') {
      const hex = line.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex) || hex === '00') throw new Error(`bad \\x escape ${hex}`);
      i += 4;
      return String.fromCharCode(parseInt(hex, 16));
    }
    const known = cEscapes[c];
    if (known === undefined) throw new Error(`unknown escape \\${c}`);
    i += 2;
    return known;
  };
  while (i < line.length) {
    while (i < line.length && ' \t\n\r'.includes(line[i]!)) i++;
    if (i >= line.length) break;
    let word = '';
    let quote: '"' | undefined;
    while (i < line.length) {
      const c = line[i]!;
      if (quote) {
        if (c === '"') {
          quote = undefined;
          i++;
        } else if (c === '\\') word += readEscape();
        else {
          word += c;
          i++;
        }
      } else if (' \t\n\r'.includes(c)) break;
      else if (c === '"') {
        quote = '"';
        i++;
      } else if (c === "'") throw new Error('single quotes are not produced by svcctl');
      else if (c === '\\') word += readEscape();
      else {
        word += c;
        i++;
      }
    }
    if (quote) throw new Error('unterminated quote');
    words.push(word);
  }
  return words;
}

/** Specifier resolution where the only specifier svcctl may leave is %% (anything else would be resolved). */
function resolveSpecifiers(text: string): string {
  return text.replace(/%(.|$)/gsu, (_, next: string) => {
    if (next !== '%') throw new Error(`unescaped specifier %${next}`);
    return '%';
  });
}

/** Exec-time environment substitution where the only `$` form svcctl may leave is `$$`. */
function resolveDollars(text: string): string {
  return text.replace(/\$(.|$)/gsu, (_, next: string) => {
    if (next !== '$') throw new Error(`unescaped $${next}`);
    return '$';
  });
}

function decodeEnvironmentLine(line: string): Map<string, string> {
  const match = /^Environment=(.*)$/s.exec(line);
  if (!match) throw new Error('not an Environment= line');
  const result = new Map<string, string>();
  for (const word of extractWords(match[1]!)) {
    const resolved = resolveSpecifiers(word);
    const eq = resolved.indexOf('=');
    result.set(resolved.slice(0, eq), resolved.slice(eq + 1));
  }
  return result;
}

function decodeExecLine(line: string): string[] {
  return extractWords(line).map((word) => resolveDollars(resolveSpecifiers(word)));
}

// ---------------------------------------------------------------------------------------------

function expectUserError(fn: () => unknown, message: RegExp): UserError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(UserError);
  const error = caught as UserError;
  expect(error.message).toMatch(message);
  expect(error.hint).toBeTruthy();
  expect(error.exitCode).toBe(2);
  return error;
}

/** Strings rich in the characters systemd's parsers care about, plus any Unicode code point. */
const nasty = fc.string({
  unit: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(' ', '\t', '\n', '\r', '\\', '"', "'", '$', '{', '}', '%', '#', ';', '`', '=', '\x01', '\x7f', 'é', '😀', '\u00a0', '\u2028') },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  ),
  maxLength: 40,
});
const withoutNul = nasty.filter((value) => !value.includes('\0'));
const envName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);

describe('escapeSpecifiers', () => {
  test.each([
    ['', ''],
    ['plain', 'plain'],
    ['%', '%%'],
    ['%n %% 100%', '%%n %%%% 100%%'],
  ])('%j → %j', (input, expected) => {
    expect(escapeSpecifiers(input)).toBe(expected);
  });
});

describe('validateEnvName', () => {
  test.each(['A', '_', 'API_TOKEN', 'a1', '_9', 'lower_case'])('accepts %j', (name) => {
    expect(validateEnvName(name)).toBe(name);
  });
  test.each(['', '1A', 'A-B', 'A B', 'export A', 'A=', 'É', 'A\n'])('refuses %j', (name) => {
    expectUserError(() => validateEnvName(name), /not a valid environment variable name/);
  });
});

describe('validateUnitName', () => {
  test.each(['backup.service', 'backup.timer', 'a.socket', 'a.path', 'a.target', 'srv-data.mount', 'getty@tty1.service', 'getty@.service', 'a:b_c.d\\x2d-e.service', `${'a'.repeat(247)}.service`])(
    'accepts %j',
    (name) => {
      expect(validateUnitName(name)).toBe(name);
    },
  );
  test.each([
    ['', /1 to 255/],
    [`${'a'.repeat(248)}.service`, /1 to 255/],
    ['../x.service', /character systemd does not allow/],
    ['a/b.service', /character systemd does not allow/],
    ['a b.service', /character systemd does not allow/],
    ['a.service\n', /character systemd does not allow/],
    ['backup', /known unit type/],
    ['backup.slice', /known unit type/],
    ['.service', /no name before/],
    ['@x.service', /no name before/],
  ])('refuses %j', (name, message) => {
    expectUserError(() => validateUnitName(name), message);
  });
});

describe('validateDirectiveName', () => {
  test.each(['WorkingDirectory', 'User', 'X-Svcctl-Bundle'])('accepts %j', (name) => {
    expect(validateDirectiveName(name)).toBe(name);
  });
  test.each(['', 'Working Directory', 'A=B', '1Key', 'Key\n', 'X-'])('refuses %j', (name) => {
    expectUserError(() => validateDirectiveName(name), /not a valid unit file directive name/);
  });
});

describe('unitDirectiveValue', () => {
  test.each([
    ['WorkingDirectory', '/srv/app', '/srv/app'],
    ['WorkingDirectory', '/srv/100%', '/srv/100%%'],
    ['Description', 'say "hi"; it\'s #1 \\o/ $HOME ${X}', 'say "hi"; it\'s #1 \\o/ $HOME ${X}'],
    ['Description', 'inner  spaces\\\\x', 'inner  spaces\\\\x'],
    ['Description', 'nbsp at the end\u00a0', 'nbsp at the end\u00a0'],
    ['Description', 'héllo ☃ 😀', 'héllo ☃ 😀'],
    ['User', '', ''],
  ])('%s=%j → %j', (key, value, expected) => {
    expect(unitDirectiveValue(key, value)).toBe(expected);
    expect(directiveLine(key, value)).toBe(`${key}=${expected}`);
  });

  test.each([
    ['line1\nline2', /WorkingDirectory= contains a newline at character 6/],
    ['a\rb', /contains a carriage return/],
    ['a\tb', /contains a tab/],
    ['a\0b', /contains a NUL byte/],
    ['a\x1bb', /control character \(U\+001B\)/],
    ['a\x7f', /control character \(U\+007F\)/],
    [' lead', /starts or ends with whitespace/],
    ['trail ', /starts or ends with whitespace/],
    ['/srv/app\\', /ends with a backslash/],
    ['a\uD800b', /not valid Unicode/],
  ])('refuses %j', (value, message) => {
    expectUserError(() => unitDirectiveValue('WorkingDirectory', value), message);
  });

  test.each(['Environment', 'EnvironmentFile', 'ExecStart', 'ExecStopPost'])('refuses %s, which has its own syntax', (key) => {
    expectUserError(() => unitDirectiveValue(key, 'x'), /quoting rules of its own/);
  });

  test('refuses an invalid directive name', () => {
    expectUserError(() => unitDirectiveValue('Bad Key', 'x'), /not a valid unit file directive name/);
  });

  test('property: accepted exactly when the line parser would keep the value intact; %% decodes back', () => {
    fc.assert(
      fc.property(nasty, (value) => {
        const representable = !/[\u0000-\u001f\u007f]/.test(value) && !value.startsWith(' ') && !value.endsWith(' ') && !value.endsWith('\\');
        if (!representable) {
          expect(() => unitDirectiveValue('Description', value)).toThrow(UserError);
          return;
        }
        const line = directiveLine('Description', value);
        expect(line).not.toMatch(/[\n\r]/);
        expect(resolveSpecifiers(line.slice('Description='.length))).toBe(value);
        expect(directiveLine('Description', value)).toBe(line);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('environmentFileDirective', () => {
  test.each([
    ['/etc/svcctl/backup/secrets.env', 'EnvironmentFile=/etc/svcctl/backup/secrets.env'],
    ['/etc/svcctl/100%/secrets.env', 'EnvironmentFile=/etc/svcctl/100%%/secrets.env'],
  ])('%j', (path, expected) => {
    expect(environmentFileDirective(path)).toBe(expected);
  });
  test.each([
    ['relative/secrets.env', /not absolute/],
    ['-/etc/x.env', /not absolute/],
    ['/etc/*.env', /glob character/],
    ['/etc/a?.env', /glob character/],
    ['/etc/[ab].env', /glob character/],
    ['/etc/a\\b.env', /glob character/],
    ['/etc/a\n.env', /newline/],
    ['/etc/a.env ', /whitespace/],
  ])('refuses %j', (path, message) => {
    expectUserError(() => environmentFileDirective(path), message);
  });
});

describe('environmentDirective', () => {
  test.each([
    ['A', 'simple', 'Environment="A=simple"'],
    ['A', '', 'Environment="A="'],
    ['A', 'has space', 'Environment="A=has space"'],
    ['A', 'say "hi"', 'Environment="A=say \\"hi\\""'],
    ['A', "it's", 'Environment="A=it\'s"'],
    ['A', 'C:\\dir\\', 'Environment="A=C:\\\\dir\\\\"'],
    ['A', '100% %n', 'Environment="A=100%% %%n"'],
    ['A', '$HOME ${HOME} $$', 'Environment="A=$HOME ${HOME} $$"'],
    ['A', '# ; `x`', 'Environment="A=# ; `x`"'],
    ['A', 'line1\nline2\r\tx', 'Environment="A=line1\\nline2\\r\\tx"'],
    ['A', '\x01\x1b\x7f', 'Environment="A=\\x01\\x1b\\x7f"'],
    ['A', '  padded  ', 'Environment="A=  padded  "'],
    ['A', 'héllo ☃ 😀', 'Environment="A=héllo ☃ 😀"'],
  ])('%s=%j', (name, value, expected) => {
    expect(environmentDirective(name, value)).toBe(expected);
  });

  test.each([
    ['A', 'a\0b', /contains a NUL byte/],
    ['A', '\uDC00', /not valid Unicode/],
    ['1A', 'x', /not a valid environment variable name/],
    ['A B', 'x', /not a valid environment variable name/],
  ])('refuses %s=%j', (name, value, message) => {
    expectUserError(() => environmentDirective(name, value), message);
  });

  test('errors never echo the value', () => {
    const error = expectUserError(() => environmentDirective('TOKEN', 'hunter2\0'), /TOKEN/);
    expect(`${error.message} ${error.hint}`).not.toContain('hunter2');
  });

  test('property: decodes back exactly, one physical line, refused only for NUL', () => {
    fc.assert(
      fc.property(envName, nasty, (name, value) => {
        if (value.includes('\0')) {
          expect(() => environmentDirective(name, value)).toThrow(UserError);
          return;
        }
        const line = environmentDirective(name, value);
        expect(line).not.toMatch(/[\n\r\0]/);
        // An odd run of trailing backslashes would continue the line.
        expect(line.endsWith('"')).toBe(true);
        expect(decodeEnvironmentLine(line)).toEqual(new Map([[name, value]]));
        expect(environmentDirective(name, value)).toBe(line);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('execArgument', () => {
  test.each([
    ['plain', 'plain'],
    ['--flag=value', '--flag=value'],
    ['/usr/bin/env', '/usr/bin/env'],
    ['', '""'],
    [' ', '" "'],
    ['a b', '"a b"'],
    [';', '";"'],
    ['\\;', '"\\\\;"'],
    ['$HOME', '$$HOME'],
    ['${HOME}', '"$${HOME}"'],
    ['$', '$$'],
    ['%n', '%%n'],
    ['say "hi"', '"say \\"hi\\""'],
    ["it's", '"it\'s"'],
    ['trailing\\', '"trailing\\\\"'],
    ['nl\nx\t', '"nl\\nx\\t"'],
    ['é', '"é"'],
    ['env -0 > /run/envdump', '"env -0 > /run/envdump"'],
  ])('%j → %j', (arg, expected) => {
    expect(execArgument(arg)).toBe(expected);
  });

  test.each([
    ['a\0b', /NUL/],
    ['\uD83D', /not valid Unicode/],
  ])('refuses %j', (arg, message) => {
    expectUserError(() => execArgument(arg), message);
  });

  test('property: each argument decodes back as exactly one word, on one physical line', () => {
    fc.assert(
      fc.property(fc.array(withoutNul, { maxLength: 6 }), (args) => {
        const line = execCommandLine(['/usr/local/bin/prog', ...args]);
        expect(line).not.toMatch(/[\n\r]/);
        expect(line.endsWith('\\')).toBe(false);
        expect(decodeExecLine(line)).toEqual(['/usr/local/bin/prog', ...args]);
        expect(execCommandLine(['/usr/local/bin/prog', ...args])).toBe(line);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('execCommandLine', () => {
  test('quotes what needs it', () => {
    expect(execCommandLine(['/bin/sh', '-c', 'env -0 > /run/envdump'])).toBe('/bin/sh -c "env -0 > /run/envdump"');
  });
  test.each([[[]], [['sh', '-c', 'x']], [['-/bin/false']], [['@/bin/sh', 'sh']], [['']]])('refuses %j (not an absolute program path)', (argv) => {
    expectUserError(() => execCommandLine(argv), /absolute path/);
  });
});

describe('envFileLine', () => {
  test.each([
    ['A', 'simple', 'A="simple"'],
    ['A', '', 'A=""'],
    ['A', 'say "hi"', 'A="say \\"hi\\""'],
    ['A', "it's", 'A="it\'s"'],
    ['A', 'back\\slash\\', 'A="back\\\\slash\\\\"'],
    ['A', '$HOME ${HOME} `id`', 'A="\\$HOME \\${HOME} \\`id\\`"'],
    ['A', '# ; %n', 'A="# ; %n"'],
    ['A', 'line1\nline2', 'A="line1\nline2"'],
    ['A', '  padded  ', 'A="  padded  "'],
    ['A', '\\n is not a newline', 'A="\\\\n is not a newline"'],
  ])('%s=%j', (key, value, expected) => {
    expect(envFileLine(key, value)).toBe(expected);
    expect(parseEnvFile(`${expected}\n`)).toEqual(new Map([[key, value]]));
  });

  test.each([
    ['A', 'x\0y', /NUL byte/],
    ['A', '\uD800', /not valid Unicode/],
    ['export A', 'x', /not a valid environment variable name/],
  ])('refuses %s=%j', (key, value, message) => {
    expectUserError(() => envFileLine(key, value), message);
  });

  test('errors never echo the secret', () => {
    const error = expectUserError(() => envFileLine('API_TOKEN', 's3cr3t-value\0'), /API_TOKEN/);
    expect(`${error.message} ${error.hint}`).not.toContain('s3cr3t');
  });

  test('property: every value without NUL round-trips through systemd\'s env-file parser', () => {
    fc.assert(
      fc.property(envName, nasty, (key, value) => {
        if (value.includes('\0')) {
          expect(() => envFileLine(key, value)).toThrow(UserError);
          return;
        }
        const line = envFileLine(key, value);
        expect(parseEnvFile(`${line}\n`)).toEqual(new Map([[key, value]]));
        // Also without the final newline: the parser pushes an unterminated assignment too.
        expect(parseEnvFile(line)).toEqual(new Map([[key, value]]));
        expect(envFileLine(key, value)).toBe(line);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('commentLine', () => {
  test.each([
    ['managed by svcctl (bundle backup); edits are overwritten', '# managed by svcctl (bundle backup); edits are overwritten'],
    ['', '#'],
    ['a \\ in the middle', '# a \\ in the middle'],
  ])('%j', (text, expected) => {
    expect(commentLine(text)).toBe(expected);
  });
  test.each([
    ['two\nlines', /newline/],
    ['ends in \\', /ends with a backslash/],
  ])('refuses %j', (text, message) => {
    expectUserError(() => commentLine(text), message);
  });
});
