// The completion scripts (src/views/completion.ts) from the built command table, exercised through each shell's
// own machinery: bash's `complete -p` and the function it registers, fish's `complete -C`, zsh's parser. Installed
// bundle names come from an index written by svcctl's own writer, with arbitrary descriptions.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { systemTarget, userTarget } from '../../src/core/target.js';
import { userInstalledIndex } from '../../src/flows/autocomplete.js';
import { publicIndexPath, writePublicIndex, type PublicEntry } from '../../src/system/public-index.js';
import { quoteFish, quotePosix, renderCompletion, type CommandShape, type Shell } from '../../src/views/completion.js';

const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8')) as { commands: Record<string, Omit<CommandShape, 'id'>> };
const commands: CommandShape[] = Object.entries(manifest.commands).map(([id, command]) => ({ ...command, id }));

let scratch: string;
let target: ReturnType<typeof systemTarget>;
let units: string;
beforeAll(() => {
  mkdirSync('test/.scratch-completion', { recursive: true });
  scratch = mkdtempSync(path.resolve('test/.scratch-completion/run-'));
  target = { ...systemTarget(scratch), uid: process.getuid!(), gid: process.getgid!() };
  mkdirSync(path.join(scratch, 'var/lib/svcctl'), { recursive: true, mode: 0o755 });
  units = path.join(scratch, "built-in units, it's here");
  for (const name of ['alpha-job', 'beta']) {
    mkdirSync(path.join(units, name), { recursive: true });
    writeFileSync(path.join(units, name, 'bundle.yaml'), `name: ${name}\n`);
  }
  mkdirSync(path.join(units, 'not-a-bundle'));
});
afterAll(() => rmSync('test/.scratch-completion', { recursive: true, force: true }));

function script(shell: Shell): string {
  const file = path.join(scratch, `svcctl.${shell}`);
  writeFileSync(file, renderCompletion(shell, commands, { builtinBundlesDir: units, installedIndex: path.join(scratch, 'var/lib/svcctl/.installed.json'), userInstalledIndex }));
  return file;
}

function entry(bundle: string, description: string): PublicEntry {
  return { bundle, description, state: 'installed', units: [`${bundle}.service`], enabled: [], updatedAt: '2026-01-01T00:00:00.000Z', health: { maxAge: '1h' } };
}

/** What bash completes for the words given (the last one being typed), through the function `complete -p` names. */
function bashComplete(words: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const program = [
    `source ${quotePosix(script('bash'))}`,
    'spec=$(complete -p svcctl)',
    '[[ $spec =~ -F\\ ([^ ]+) ]] || { echo "no completion function in: $spec" >&2; exit 3; }',
    `COMP_WORDS=(${words.map(quotePosix).join(' ')})`,
    'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))',
    'COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}',
    '"${BASH_REMATCH[1]}" svcctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  return execFileSync('bash', ['-c', program], { encoding: 'utf8', env }).split('\n').filter(Boolean).sort();
}

test('bash: complete -p registers the function for svcctl, with readline\'s file names when it offers nothing', () => {
  const spec = execFileSync('bash', ['-c', `source ${quotePosix(script('bash'))}; complete -p svcctl`], { encoding: 'utf8' });
  expect(spec.trim()).toBe('complete -o default -F _svcctl svcctl');
});

test('bash: commands, topics, flags and the values of a flag with a fixed list', () => {
  expect(bashComplete(['svcctl', 'in'])).toEqual(['init', 'install']);
  expect(bashComplete(['svcctl', ''])).toEqual(expect.arrayContaining(['autocomplete', 'install', 'sandbox', 'secret', 'status', 'uninstall']));
  expect(bashComplete(['svcctl', 'secret', ''])).toEqual(['list', 'rotate', 'set']);
  expect(bashComplete(['svcctl', 'install', 'x', '--d'])).toEqual(['--dry-run']);
  expect(bashComplete(['svcctl', 'install', '--no-'])).toEqual(['--no-alert-on-restart', '--no-enable', '--no-start']);
  expect(bashComplete(['svcctl', 'logs', 'x', '-o', 'json'])).toEqual(['json', 'json-pretty']);
  // after a flag that takes a free value: nothing from svcctl, readline offers files
  expect(bashComplete(['svcctl', 'install', '--schedule', ''])).toEqual([]);
});

test('bash: built-in bundle names for install, and directories once the word is a path', () => {
  expect(bashComplete(['svcctl', 'install', ''])).toEqual(['alpha-job', 'beta']);
  expect(bashComplete(['svcctl', 'install', 'alpha-job', '--yes', 'b'])).toEqual(['beta']);
  expect(bashComplete(['svcctl', 'install', `${scratch}/var/`])).toEqual([`${scratch}/var/lib`]);
});

test('bash, fish: installed bundle names from the index svcctl writes, whatever the descriptions hold', async () => {
  const name = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(name, { minLength: 1, maxLength: 4 }), fc.array(fc.string({ unit: 'grapheme' }), { minLength: 4, maxLength: 4 }), async (names, descriptions) => {
      await writePublicIndex(target, names.map((bundle, i) => entry(bundle, `${descriptions[i]}\n    "bundle": "fake-${i}",`)));
      expect(bashComplete(['svcctl', 'status', ''])).toEqual([...names].sort());
    }),
    { numRuns: 25 },
  );
  await writePublicIndex(target, [entry('cleanup-blocking', 'a "quoted" description'), entry('nightly', '')]);
  expect(bashComplete(['svcctl', 'uninstall', 'cleanup-blocking', ''])).toEqual(['cleanup-blocking', 'nightly']);
  expect(bashComplete(['svcctl', 'logs', 'n'])).toEqual(['nightly']);
  expect(bashComplete(['svcctl', 'logs', 'nightly', ''])).toEqual([]); // one bundle only
  expect(bashComplete(['svcctl', 'logs', '-n', '20', ''])).toEqual(['cleanup-blocking', 'nightly']); // -n's value is not the bundle
  expect(publicIndexPath(systemTarget())).toBe('/var/lib/svcctl/.installed.json'); // where the package's scripts look

  const fish = (line: string) => execFileSync('fish', ['--no-config', '-c', `source ${quoteFish(script('fish'))}; complete -C${quoteFish(line)}`], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort();
  expect(fish('svcctl status ')).toEqual(['cleanup-blocking', 'nightly']);
  expect(fish('svcctl secret ')).toEqual(['list', 'rotate', 'set']);
  expect(fish('svcctl install ')).toEqual(['alpha-job', 'beta']);
  expect(fish('svcctl logs --output json')).toEqual(['json', 'json-pretty']);
  expect(fish('svcctl inst')).toEqual(['install']);
});

test('bash, fish: with --user, the names from the user\'s own index in their home, and their secret keys without root', async () => {
  const home = path.join(scratch, 'home of a user');
  mkdirSync(home, { recursive: true });
  const user = userTarget({ name: 'someone', group: 'someone', uid: process.getuid!(), gid: process.getgid!(), home });
  mkdirSync(path.dirname(path.join(home, userInstalledIndex)), { recursive: true, mode: 0o700 });
  await writePublicIndex(user, [entry('my-job', ''), entry('my-daemon', 'mine')]);
  await writePublicIndex(target, [entry('cleanup-blocking', ''), entry('nightly', '')]);
  expect(publicIndexPath(user)).toBe(path.join(home, '.local/state/svcctl/.installed.json'));
  const env = { ...process.env, HOME: home };
  expect(bashComplete(['svcctl', 'status', '--user', ''], env)).toEqual(['my-daemon', 'my-job']);
  expect(bashComplete(['svcctl', 'logs', '--user', '-n', '5', 'my-'], env)).toEqual(['my-daemon', 'my-job']);
  expect(bashComplete(['svcctl', 'status', ''], env)).toEqual(['cleanup-blocking', 'nightly']);
  // A user with nothing installed: nothing, not the system's.
  expect(bashComplete(['svcctl', 'status', '--user', ''], { ...env, HOME: path.join(scratch, 'nobody-home') })).toEqual([]);

  // Secret keys: `secret list --user BUNDLE` as the user, here a stand-in svcctl that prints what it was asked.
  const fake = path.join(scratch, 'fake-svcctl');
  writeFileSync(fake, '#!/bin/sh\nprintf "KEY SET\\n"; for a in "$@"; do printf "%s x\\n" "$a"; done\n', { mode: 0o755 });
  const program = (line: string[]) =>
    [`source ${quotePosix(script('bash'))}`, `COMP_WORDS=(${line.map(quotePosix).join(' ')})`, 'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))', '_svcctl', 'printf "%s\\n" "${COMPREPLY[@]}"'].join('\n');
  const secrets = execFileSync('bash', ['-c', program([fake, 'secret', 'rotate', '--user', 'my-job', ''])], { encoding: 'utf8', env }).split('\n').filter(Boolean).sort();
  expect(secrets).toEqual(['--user', 'list', 'my-job', 'secret']);

  const fish = (line: string) => execFileSync('fish', ['--no-config', '-c', `source ${quoteFish(script('fish'))}; complete -C${quoteFish(line)}`], { encoding: 'utf8', env }).split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort();
  expect(fish('svcctl status --user ')).toEqual(['my-daemon', 'my-job']);
  expect(fish('svcctl status ')).toEqual(['cleanup-blocking', 'nightly']);
});

test('zsh and fish parse their scripts', () => {
  for (const [shell, argv] of [['zsh', ['-n']], ['fish', ['--no-config', '-n']]] as const) {
    const result = spawnSync(shell, [...argv, script(shell)], { encoding: 'utf8' });
    expect({ shell, status: result.status, stderr: result.stderr }).toEqual({ shell, status: 0, stderr: '' });
  }
});

test('quotePosix and quoteFish give any string back unchanged', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\0')), { minLength: 1, maxLength: 20 }), (texts) => {
      const bash = execFileSync('bash', ['-c', texts.map((t) => `printf '%s\\0' ${quotePosix(t)}`).join('\n')], { encoding: 'utf8' });
      expect(bash.split('\0').slice(0, -1)).toEqual(texts);
      const fish = execFileSync('fish', ['--no-config', '-c', texts.map((t) => `printf '%s\\0' ${quoteFish(t)}`).join('\n')], { encoding: 'utf8' });
      expect(fish.split('\0').slice(0, -1)).toEqual(texts);
    }),
    { numRuns: 15 },
  );
});
