// The one seam through which svcctl starts processes. The test build injects faults with setExecHook() (apply/faults.ts).
// Captured runs (the hot path of every transaction) use node:child_process directly: importing execa
// costs ~150 ms on these machines, more than most of the commands it would run. execa serves the
// interactive and detached runs, where its stdio and signal handling earn that cost.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import type { Options, ResultPromise } from 'execa';
import { CommandFailedError } from '../core/errors.js';
import { debug } from '../debug.js';
import { importModule } from '../modules.js';
import { testBuild } from './test-build.js';

/** Where the programs svcctl runs are looked up: never the caller's PATH (svcctl runs as root). */
const systemToolDirs = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];
/** The PATH every child process gets: the same fixed directories. */
export const childPath = systemToolDirs.join(':');
const resolvedTools = new Map<string, string>();

/**
 * The absolute path of a helper program (systemctl, journalctl, systemd-analyze, …), found in the system's own
 * directories. A program found nowhere keeps a path in the first of them, so running it fails as "command not found".
 * The test build looks in SVCCTL_TEST_TOOL_PATH instead when it is set (argv spies, a missing systemd-analyze).
 */
export function tool(name: string): string {
  let found = resolvedTools.get(name);
  if (found === undefined) {
    const dirs = testBuild && process.env.SVCCTL_TEST_TOOL_PATH !== undefined ? process.env.SVCCTL_TEST_TOOL_PATH.split(":").filter(Boolean) : systemToolDirs;
    found = dirs.map((dir) => path.join(dir, name)).find((candidate) => existsSync(candidate)) ?? path.join(dirs[0] ?? '/usr/bin', name);
    resolvedTools.set(name, found);
  }
  return found;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  /** Text written to the process's stdin (never logged: it may hold a secret). */
  input?: string;
  /** Reject with CommandFailedError on a non-zero exit (default true). */
  check?: boolean;
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
  /** An open file descriptor of svcctl's that the process gets as its fd 3 (flock(1) locks svcctl's own lock file through it). */
  fd3?: number;
}

/**
 * Called before every process (fault injection, test build only): may throw to fail it without running it, or
 * return how to alter the result of a captured run (run it, then report a failure: its effects are real).
 */
export type ExecHook = (argv: string[]) => ((result: ExecResult) => ExecResult) | undefined;
let hook: ExecHook | undefined;
export function setExecHook(next: ExecHook | undefined): void {
  if (testBuild) hook = next;
}

function seeProcess(argv: string[]): ((result: ExecResult) => ExecResult) | undefined {
  return testBuild ? hook?.(argv) : undefined;
}

/**
 * The environment of every child process: svcctl's own plus `extra`, with NODE_EXTRA_CA_CERTS as the
 * user set it. bin/run.js's shebang moves that variable aside (SVCCTL_EXTRA_CA_CERTS) so that Node does not
 * parse the CA file at svcctl's own start; the processes svcctl starts get it back.
 */
export function childEnvironment(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, PATH: childPath, ...extra };
  // Secrets given in the environment are for svcctl alone, never for the programs it starts.
  for (const name of Object.keys(env)) if (name.startsWith('SVCCTL_SECRET_') && !(name in extra)) delete env[name];
  if (process.env.SVCCTL_EXTRA_CA_CERTS !== undefined && !('NODE_EXTRA_CA_CERTS' in extra)) {
    env.NODE_EXTRA_CA_CERTS = process.env.SVCCTL_EXTRA_CA_CERTS || undefined;
    delete env.SVCCTL_EXTRA_CA_CERTS;
  }
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

let execaModule: typeof import('execa') | undefined;
async function loadExeca(): Promise<typeof import('execa')> {
  execaModule ??= await importModule<typeof import('execa')>('execa');
  return execaModule;
}

/** Runs argv[0] with argv[1..] (no shell), capturing output. */
export async function exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('exec: empty argv');
  const alter = seeProcess(argv);
  debug('exec %o', argv);
  const ran = await new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(file, args, {
      env: childEnvironment(options.env),
      cwd: options.cwd,
      timeout: options.timeoutMs,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...(options.fd3 === undefined ? [] : [options.fd3])],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') resolve({ stdout: '', stderr: `${file}: command not found`, exitCode: 127 });
      else reject(error);
    });
    child.on('close', (code, signal) => {
      resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), exitCode: code ?? (signal ? 128 : 1) });
    });
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
  const result = alter ? alter(ran) : ran;
  if (options.check !== false && result.exitCode !== 0) throw new CommandFailedError(argv, result.exitCode, result.stderr);
  return result;
}

/** Runs a process with stdio inherited from svcctl (logs -f, run, sandbox shell); resolves to its exit code. */
export async function execInteractive(argv: string[], options: { env?: Record<string, string | undefined>; stdin?: 'inherit' | 'ignore' } = {}): Promise<number> {
  const [file, ...args] = argv;
  if (!file) throw new Error('exec: empty argv');
  seeProcess(argv);
  debug('exec (interactive) %o', argv);
  const { execa } = await loadExeca();
  const child = execa(file, args, { stdio: [options.stdin ?? 'inherit', 'inherit', 'inherit'], reject: false, env: childEnvironment(options.env), extendEnv: false });
  const result = await child;
  if (result.exitCode !== undefined) return result.exitCode;
  return result.signal === 'SIGINT' ? 130 : 128;
}

/**
 * Runs a process whose output goes to svcctl's stdout, for streams such as `logs -f`. On a terminal the
 * child writes there itself (pager, colours); on a pipe svcctl relays the output, so that when the reader
 * goes away (`| head -1`) it sees EPIPE first, ends the child it started and resolves to 0.
 */
export async function execToStdout(argv: string[]): Promise<number> {
  if (process.stdout.isTTY) return execInteractive(argv, { stdin: 'ignore' });
  const [file, ...args] = argv;
  if (!file) throw new Error('exec: empty argv');
  seeProcess(argv);
  debug('exec (relay) %o', argv);
  const { execa } = await loadExeca();
  const child = execa(file, args, { stdio: ['ignore', 'pipe', 'inherit'], reject: false, buffer: false, env: childEnvironment(), extendEnv: false });
  let readerGone = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    readerGone = true;
    child.kill('SIGTERM');
  });
  child.stdout?.pipe(process.stdout, { end: false });
  const result = await child;
  if (readerGone) return 0;
  if (result.exitCode !== undefined) return result.exitCode;
  return result.signal === 'SIGINT' ? 130 : 128;
}

/** Starts a long-running process detached from svcctl, returning immediately (sandbox boot). */
export async function spawnDetached(argv: string[], options: Options & { stdoutFile: string }): Promise<number> {
  const [file, ...args] = argv;
  if (!file) throw new Error('exec: empty argv');
  seeProcess(argv);
  debug('spawn (detached) %o', argv);
  const { execa } = await loadExeca();
  const fd = openSync(options.stdoutFile, 'a', 0o600);
  const { stdoutFile: _ignored, ...rest } = options;
  const child: ResultPromise = execa(file, args, { ...rest, env: childEnvironment(rest.env), extendEnv: false, detached: true, stdio: ['ignore', fd, fd], reject: false, cleanup: false } as Options);
  closeSync(fd);
  child.catch(() => undefined);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  return child.pid;
}
