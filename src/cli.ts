// Entry point behind bin/run.js: runs oclif and is the one top-level error handler.
import { fileURLToPath } from 'node:url';
import { run as runOclif } from '@oclif/core/run';
import { flush } from '@oclif/core/flush';
import { EndedEarly, ExitCode, exitCodeOfResult, isExpectedError } from './core/errors.js';
import { debugEnabled } from './debug.js';
import { loadColours, readerGoneHandler, style } from './views/output.js';

/** Set by reportError for an EndedEarly: the process ends as soon as oclif returns, whatever still runs. */
let endAtOnce = false;

export async function run(argv: string[], binUrl: string): Promise<void> {
  process.stdout.on('error', whenReaderGone);
  try {
    await loadColours();
    // A root tool never loads plugins from the invoking user's home (sudo may keep HOME): no user or dev plugins.
    const result = await runOclif(argv, { root: fileURLToPath(binUrl), userPlugins: false, devPlugins: false });
    await flush();
    const exitCode = exitCodeOfResult(result);
    if (exitCode !== undefined) process.exitCode = exitCode;
  } catch (error) {
    process.exitCode = reportError(error);
  }
  // Ctrl-C while following: a `systemctl start` or a journalctl svcctl started must not keep it waiting.
  if (endAtOnce) process.exit();
}

/**
 * The reader of stdout went away (`svcctl status | head -1`): stop quietly with exit 0 instead of dying on an
 * unhandled EPIPE — unless the command said what to do instead (`svcctl run` carries on to its exit status).
 */
function whenReaderGone(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  const handler = readerGoneHandler();
  if (handler) handler();
  else process.exit(0);
}

interface OclifError {
  message: string;
  oclif?: { exit?: number };
  code?: string;
  stack?: string;
}

/** Prints an error for a human (one line plus a hint; a stack only with DEBUG=svcctl*) and returns its exit code. */
export function reportError(error: unknown): number {
  const err = error as OclifError;
  if (err?.code === 'EEXIT' || err?.constructor?.name === 'ExitError') return err.oclif?.exit ?? 0;
  if (error instanceof EndedEarly) {
    if (error.note) process.stderr.write(`${error.note}\n`);
    endAtOnce = true;
    return error.exitCode;
  }
  if (isExpectedError(error)) {
    process.stderr.write(`${style.red('✖')} ${error.message}\n`);
    if ('details' in error) for (const line of error.details) process.stderr.write(`  ${line}\n`);
    if (error.hint) process.stderr.write(`  ${style.dim('→')} ${error.hint}\n`);
    if (debugEnabled() && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  if (err?.oclif?.exit !== undefined) {
    // oclif's own parse errors (unknown flag, missing argument): a usage error.
    const message = String(err.message).replace(/^Error: /, '').split('\n')[0];
    process.stderr.write(`${style.red('✖')} ${message}\n  ${style.dim('→')} see --help for usage\n`);
    if (debugEnabled() && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.oclif.exit === 1 ? ExitCode.failed : ExitCode.usage;
  }
  if (isSystemError(error)) {
    // A system call failed before any transaction began (one that fails inside a transaction is a StepFailed with the
    // rollback's report): what failed, in the system's words, and that the host is as it was.
    process.stderr.write(`${style.red('✖')} ${error.message}\n`);
    process.stderr.write(`  ${style.dim('→')} nothing was changed; ${systemErrorHints[error.code] ?? 'fix the cause and run the command again'}\n`);
    if (debugEnabled() && error.stack) process.stderr.write(`${error.stack}\n`);
    return ExitCode.failed;
  }
  process.stderr.write(`${style.red('✖')} internal error: ${err?.message ?? String(error)}\n`);
  process.stderr.write(debugEnabled() ? `${err?.stack ?? ''}\n` : `  ${style.dim('→')} run again with DEBUG=svcctl* for details\n`);
  return ExitCode.failed;
}

/** An error from a system call (ENOSPC, ENOTDIR, EBUSY, …), as Node reports one: an errno code and the call. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  const e = error as NodeJS.ErrnoException;
  return e instanceof Error && typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) && typeof e.syscall === 'string';
}

const systemErrorHints: Record<string, string> = {
  ENOSPC: 'free some space on that file system, then run the command again',
  EDQUOT: 'free some space on that file system, then run the command again',
  ENOTDIR: 'a file is where a directory should be: move it away, then run the command again',
  EISDIR: 'a directory is where a file should be: move it away, then run the command again',
  EBUSY: 'something holds that path (a mount point, a running program): free it, then run the command again',
  EROFS: 'that file system is read-only: remount it read-write, then run the command again',
  EACCES: 'run it as root (sudo)',
  EPERM: 'run it as root (sudo); an immutable file (chattr +i) also refuses',
};
