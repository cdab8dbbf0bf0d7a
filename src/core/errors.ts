// The error classes svcctl throws on purpose, each with the fields a user (or --json) needs, and its exit code.

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  needsRoot: 77,
} as const;

/**
 * Invalid input or usage: nothing on the host was changed. Exit 2. `problems` lists what is wrong (one entry
 * each, so several mistakes are fixed in one round); `nextSteps` what to do about it.
 */
export class UserError extends Error {
  readonly exitCode: number = ExitCode.usage;
  readonly problems: string[];
  readonly nextSteps: string[];
  constructor(message: string, hint?: string | string[]) {
    super(message);
    this.name = 'UserError';
    this.problems = [message];
    this.nextSteps = hint === undefined ? [] : Array.isArray(hint) ? hint : [hint];
  }

  /** Several problems under one summary ("bundle x has 3 problems"). */
  static many(summary: string, problems: string[], nextSteps: string[] = []): UserError {
    const error = new UserError([summary, ...problems.map((p) => `  ${p}`)].join('\n'), nextSteps);
    (error as { problems: string[] }).problems = problems;
    return error;
  }

  /** The first next step, as one line (what the human output shows after "→"). */
  get hint(): string | undefined {
    return this.nextSteps.length > 0 ? this.nextSteps.join('; ') : undefined;
  }
}

/** A privileged command run without root. Exit 77, before anything is touched. */
export class NeedsRootError extends Error {
  readonly exitCode: number = ExitCode.needsRoot;
  readonly hint: string;
  constructor(what: string, hint = "run it again with sudo; or, for bundles of your own in your systemd user manager, add --user (no root needed)") {
    super(what.endsWith('needs root') || what.includes(' needs root') ? what : `${what} needs root`);
    this.name = 'NeedsRootError';
    this.hint = hint;
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

/**
 * A transaction step failed: which step, the command and what it said, what was rolled back, what could not be
 * undone, and where the host still differs from before (the verified rollback). Exit 1.
 */
export class StepFailed extends OperationError {
  constructor(
    readonly step: string,
    readonly reason: string,
    readonly fields: {
      command?: string[];
      commandExitCode?: number;
      stderr?: string;
      rolledBack: string[];
      notUndone: string[];
      /** Differences between the host before the transaction and after its rollback (empty: as it was). */
      differences: string[];
    },
    hint?: string,
    /** The first line, when the command words it itself ("rotating X failed: …"). */
    summary?: string,
  ) {
    super(
      summary ?? `step "${step}" failed: ${reason}`,
      hint ??
        (fields.notUndone.length + fields.differences.length === 0
          ? 'the host is as it was before; fix the cause and run the command again'
          : 'the host is not fully as it was (listed above): fix it by hand, or run `svcctl doctor`'),
      [
        fields.rolledBack.length > 0 ? `rolled back: ${fields.rolledBack.join('; ')}` : 'nothing had been changed yet',
        ...fields.notUndone.map((f) => `could not undo: ${f}`),
        ...fields.differences.map((d) => `differs from before: ${d}`),
      ],
    );
    this.name = 'StepFailed';
  }

  /** The host is as it was before the transaction: every step undone and nothing found different. */
  get clean(): boolean {
    return this.fields.notUndone.length + this.fields.differences.length === 0;
  }

  /** The same failure, worded by the command that ran it. */
  reworded(summary: string, cleanHint: string): StepFailed {
    return new StepFailed(this.step, this.reason, this.fields, this.clean ? cleanHint : undefined, summary);
  }
}

/** An expected error carries an exit code and is printed as one line plus a hint, never a stack. */
export type ExpectedError = UserError | NeedsRootError | OperationError;

export function isExpectedError(error: unknown): error is ExpectedError {
  return error instanceof UserError || error instanceof NeedsRootError || error instanceof OperationError;
}

/** The fields of an expected error as --json prints them. */
export function errorAsData(error: ExpectedError): Record<string, unknown> {
  const base: Record<string, unknown> = { message: error.message, exitCode: error.exitCode, ...(error.hint ? { hint: error.hint } : {}) };
  if (error instanceof UserError) return { ...base, kind: 'usage', problems: error.problems, nextSteps: error.nextSteps };
  if (error instanceof NeedsRootError) return { ...base, kind: 'needs-root' };
  if (error instanceof StepFailed) {
    return { ...base, kind: 'step-failed', step: error.step, reason: error.reason, ...error.fields };
  }
  if (error instanceof CommandFailedError) return { ...base, kind: 'command-failed', command: error.command, commandExitCode: error.code, stderr: error.stderr, details: error.details };
  return { ...base, kind: 'failed', details: error.details };
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
