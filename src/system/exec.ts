// The one seam through which svcctl starts processes. Tests inject faults with setExecHook().
import type { Options, ResultPromise } from 'execa';
import { CommandFailedError } from '../errors.js';
import { debug } from '../debug.js';

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
}

/** Called before every process; may throw to simulate a failure (fault injection in tests). */
export type ExecHook = (argv: string[]) => void;
let hook: ExecHook | undefined;
export function setExecHook(next: ExecHook | undefined): void {
  hook = next;
}

let execaModule: typeof import('execa') | undefined;
async function loadExeca(): Promise<typeof import('execa')> {
  execaModule ??= await import('execa');
  return execaModule;
}

/** Runs argv[0] with argv[1..] (no shell), capturing output. */
export async function exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('exec: empty argv');
  hook?.(argv);
  debug('exec %o', argv);
  const { execa } = await loadExeca();
  const result = await execa(file, args, {
    input: options.input,
    reject: false,
    env: options.env,
    cwd: options.cwd,
    timeout: options.timeoutMs,
    stripFinalNewline: false,
  });
  const exitCode = result.exitCode ?? (result.signal ? 128 : 1);
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? (result.failed && !result.exitCode ? result.message : ''));
  if (options.check !== false && exitCode !== 0) throw new CommandFailedError(argv, exitCode, stderr);
  return { stdout, stderr, exitCode };
}

/** Runs a process with stdio inherited from svcctl (logs -f, run, sandbox shell); resolves to its exit code. */
export async function execInteractive(argv: string[], options: { env?: Record<string, string | undefined>; stdin?: 'inherit' | 'ignore' } = {}): Promise<number> {
  const [file, ...args] = argv;
  if (!file) throw new Error('exec: empty argv');
  hook?.(argv);
  debug('exec (interactive) %o', argv);
  const { execa } = await loadExeca();
  const child = execa(file, args, { stdio: [options.stdin ?? 'inherit', 'inherit', 'inherit'], reject: false, env: options.env });
  const result = await child;
  if (result.exitCode !== undefined) return result.exitCode;
  return result.signal === 'SIGINT' ? 130 : 128;
}

/** Starts a long-running process detached from svcctl, returning immediately (sandbox boot). */
export async function spawnDetached(argv: string[], options: Options & { stdoutFile: string }): Promise<number> {
  const [file, ...args] = argv;
  if (!file) throw new Error('exec: empty argv');
  hook?.(argv);
  debug('spawn (detached) %o', argv);
  const { execa } = await loadExeca();
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(options.stdoutFile, 'a', 0o600);
  const { stdoutFile: _ignored, ...rest } = options;
  const child: ResultPromise = execa(file, args, { ...rest, detached: true, stdio: ['ignore', fd, fd], reject: false, cleanup: false } as Options);
  closeSync(fd);
  child.catch(() => undefined);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  return child.pid;
}
