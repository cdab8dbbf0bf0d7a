// Behaviour every command shares, checked on the built CLI: help with examples, --version, exit codes,
// one-line errors without a stack (DEBUG shows internals), --json errors, colour only on a terminal.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

const bin = `${process.cwd()}/bin/run.js`;
const svcctl = (args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [bin, ...args], { reject: false, env: { ...env }, extendEnv: true, stdin: 'ignore' });
/** Runs svcctl on a pseudo-terminal (util-linux script), as a person at a terminal would. */
const onTerminal = (args: string[], env: Record<string, string> = {}) =>
  execa('script', ['-qec', [process.execPath, bin, ...args].join(' '), '/dev/null'], { reject: false, env: { ...env, TERM: 'xterm' }, extendEnv: true });
const escape = '\u001b[';

test('--version answers one line, fast path included', async () => {
  const result = await svcctl(['--version']);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toMatch(/^svcctl\/\d+\.\d+\.\d+ linux-x64 node-v20\.\d+\.\d+$/);
});

test('the built CLI runs from its V8 code cache, and what it imports on demand still loads', async () => {
  // A dry-run install loads the generated manifest validator through importModule(): import() itself
  // cannot run from cached code on Node 20.
  // The verifier's scratch files go under node_modules/.cache, not the host's /tmp.
  const scratch = mkdtempSync(path.join(process.cwd(), 'node_modules', '.cache', 'svcctl-cli-test-'));
  const result = await svcctl(['install', 'cleanup-blocking', '--dry-run', '--json', '--root', path.join(scratch, 'root')], { DEBUG: 'svcctl', SVCCTL_TMPDIR: scratch });
  rmSync(scratch, { recursive: true, force: true });
  expect(result.stderr).toMatch(/^svcctl \+\d+ms code cache accepted$/m);
  expect(result.exitCode).toBe(0);
  expect((JSON.parse(result.stdout) as { dryRun: boolean }).dryRun).toBe(true);
});

test('run as an executable, svcctl keeps NODE_EXTRA_CA_CERTS away from its own Node (parsed at every start)', async () => {
  // Node warns at start-up about a CA file it cannot load; through the shebang it never sees the variable.
  const viaShebang = await execa(bin, ['bundles'], { reject: false, env: { NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' }, stdin: 'ignore' });
  expect(viaShebang.exitCode).toBe(0);
  expect(viaShebang.stderr).not.toContain('extra certs');
  const direct = await svcctl(['bundles'], { NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' });
  expect(direct.stderr).toContain('Ignoring extra certs from `/nonexistent/ca.pem`');
});

test('every command has --help with at least one example', async () => {
  const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8')) as { commands: Record<string, { examples?: unknown[] }> };
  for (const [id, command] of Object.entries(manifest.commands)) {
    expect({ id, examples: (command.examples ?? []).length > 0 }).toEqual({ id, examples: true });
  }
  const help = await svcctl(['install', '--help']);
  expect(help.exitCode).toBe(0);
  expect(help.stdout).toContain('EXAMPLES');
  expect(help.stdout).toContain('--secret');
});

test('an expected error is one line plus a hint, exit 2, no stack; DEBUG=svcctl* adds the internals', async () => {
  const result = await svcctl(['install', 'no-such-bundle', '--dry-run']);
  expect(result.exitCode).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^✖ no bundle named "no-such-bundle"/);
  expect(lines[1]).toMatch(/^ {2}→ run `svcctl bundles`/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  const debug = await svcctl(['install', 'no-such-bundle', '--dry-run'], { DEBUG: 'svcctl*' });
  expect(debug.stderr).toMatch(/\n\s+at /);
});

test('a usage error (unknown flag) is exit 2 with a pointer to --help', async () => {
  const result = await svcctl(['status', '--no-such-flag']);
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toContain('see --help');
});

test('--json: an error is one JSON document on stdout too', async () => {
  const result = await svcctl(['install', 'no-such-bundle', '--dry-run', '--json']);
  expect(result.exitCode).toBe(2);
  const document = JSON.parse(result.stdout) as { error: { message: string; exitCode: number } };
  expect(document.error.exitCode).toBe(2);
  expect(document.error.message).toContain('no-such-bundle');
});

test('colour only on a terminal, and never with NO_COLOR', async () => {
  const piped = await svcctl(['install', 'no-such-bundle', '--dry-run']);
  expect(piped.stderr).not.toContain(escape);
  const terminal = await onTerminal(['install', 'no-such-bundle', '--dry-run']);
  expect(terminal.stdout).toContain(`${escape}31m`);
  const noColor = await onTerminal(['install', 'no-such-bundle', '--dry-run'], { NO_COLOR: '1' });
  expect(noColor.stdout).toContain('no bundle named');
  expect(noColor.stdout).not.toContain(escape);
});

test('without a terminal there is never a prompt: the error names the flag instead (root first: 77 without it)', async () => {
  const result = await svcctl(['install', 'cleanup-blocking']);
  const isRoot = process.getuid?.() === 0;
  expect(result.exitCode).toBe(isRoot ? 2 : 77);
  expect(result.stderr).toContain(isRoot ? '--yes' : 'needs root');
});
