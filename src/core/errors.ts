// The error classes svcctl throws on purpose, and the exit code each one maps to.

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  needsRoot: 77,
} as const;

/** An error the user can fix: invalid input or usage. Nothing on the host was changed. Exit 2. */
export class UserError extends Error {
  readonly exitCode: number = ExitCode.usage;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A privileged command run without root. Exit 77, before anything is touched. */
export class NeedsRootError extends Error {
  readonly exitCode: number = ExitCode.needsRoot;
  readonly hint: string;
  constructor(what: string) {
    super(`${what} needs root`);
    this.name = 'NeedsRootError';
    this.hint = 'run it again with sudo';
  }
}

/** An operation that failed at run time (and was rolled back where that applies). Exit 1. */
export class OperationError extends Error {
  readonly exitCode: number = ExitCode.failed;
  constructor(
    message: string,
    readonly hint?: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'OperationError';
  }
}

/** A process started through the exec seam exited non-zero. */
export class CommandFailedError extends OperationError {
  constructor(
    readonly command: string[],
    readonly code: number | undefined,
    readonly stderr: string,
  ) {
    const shown = command.join(' ');
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    super(`\`${shown}\` exited with ${code ?? 'a signal'}${tail ? `: ${tail}` : ''}`);
    this.name = 'CommandFailedError';
  }
}

/** An expected error carries an exit code and is printed as one line plus a hint, never a stack. */
export type ExpectedError = UserError | NeedsRootError | OperationError;

export function isExpectedError(error: unknown): error is ExpectedError {
  return error instanceof UserError || error instanceof NeedsRootError || error instanceof OperationError;
}

/**
 * The command has said all it will — Ctrl-C stopped it following, or a check answered UNKNOWN to a usage error — and
 * ends at once with `exitCode`: src/cli.ts prints `note` (if any) and exits without waiting for the child processes
 * still running (a `systemctl start`, journalctl).
 */
export class EndedEarly extends Error {
  constructor(
    readonly exitCode: number,
    readonly note?: string,
  ) {
    super(note ?? `ended early (exit ${exitCode})`);
    this.name = 'EndedEarly';
  }
}

const exitCodeKey = Symbol.for('svcctl.exitCode');

/** Marks a command's result with the exit code src/cli.ts ends with (a check's status, a run's exit status); --json leaves it out. */
export function withExitCode<T extends object>(result: T, exitCode: number): T {
  Object.defineProperty(result, exitCodeKey, { value: exitCode, enumerable: false, configurable: true });
  return result;
}

/** The exit code a command's result carries, if any. */
export function exitCodeOfResult(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const code = (result as Record<symbol, unknown>)[exitCodeKey];
  return typeof code === 'number' ? code : undefined;
}
