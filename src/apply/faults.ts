// Test-build-only fault injection (SVCCTL_FAULT_INJECTION, comma-separated), so that every failure a transaction can
// meet can be made to happen in a test:
//   kill-before:N, fail-before:N   step N (1-based) not begun: SIGKILL, or a failure of the step
//   kill-after:N, fail-after:N     step N done entirely, then SIGKILL or a failure (its own undo must take it all back)
//   fail-partway:N                 step N has made the first of its several changes (StepContext.partway), then fails
//   tool-fail:NAME                 the transaction's first run of helper NAME (systemd-tmpfiles, userdel; systemctl-VERB
//                                  for one systemctl verb, e.g. systemctl-enable) runs, then reports exit 1: its effects
//                                  are real (runs before the transaction, such as preflight's, are left alone)
//   list-steps                     each transaction first prints its step kinds on stderr ("svcctl-test steps: …"),
//                                  so that a test can aim at each kind
//   kill-at-commit, fail-at-commit the transaction stands (final receipts written), and then, before the first step's
//                                  commit (delete what a purge moved aside): SIGKILL, or a failure of that commit
//   undo-first                     each step's undo also runs once before the step acts: it must find nothing to undo
//   undo-twice                     a rollback runs each undo twice: the second must change nothing
// In the shipped build `faults` is undefined and esbuild drops all of this.
import { OperationError } from '../core/errors.js';
import { setExecHook, type ExecResult } from '../system/exec.js';
import { testBuild } from '../system/test-build.js';

/** Where a transaction is: step `index` (1-based) of `total`, of kind `kind`. */
export interface StepPosition {
  index: number;
  total: number;
  kind: string;
}

export interface Faults {
  startTransaction(kinds: string[]): void;
  beforeStep(step: StepPosition): void;
  afterStep(step: StepPosition): void;
  /** Inside a step that makes several changes, after the first: `fail-partway:N`. */
  partway(step: StepPosition): void;
  /** Before a step's commit: `kill-at-commit`, `fail-at-commit` (the first one). */
  atCommit(): void;
  undoFirst: boolean;
  undoTwice: boolean;
}

export const faults: Faults | undefined = testBuild
  ? (() => {
      const words = (process.env.SVCCTL_FAULT_INJECTION ?? '').split(',').map((s) => s.trim());
      const specs = words
        .map((s) => /^(kill|fail)-(before|after|partway):(\d+)$/.exec(s))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ mode: m[1], when: m[2], step: Number(m[3]) }));
      const fire = (when: string, step: StepPosition) => {
        const spec = specs.find((s) => s.when === when && s.step === step.index);
        if (!spec) return;
        if (spec.mode === 'kill') process.kill(process.pid, 'SIGKILL');
        throw new OperationError(`injected failure ${when} step ${step.index} of ${step.total} (${step.kind}) (SVCCTL_FAULT_INJECTION)`);
      };
      const failingTools = new Set(words.map((s) => /^tool-fail:([a-z0-9.-]+)$/.exec(s)?.[1]).filter((n): n is string => n !== undefined));
      let inTransaction = false;
      if (failingTools.size > 0) {
        setExecHook((argv) => {
          if (!inTransaction) return undefined;
          const program = (argv[0] ?? '').split('/').pop() ?? '';
          const verb = argv.slice(1).find((a) => !a.startsWith('-'));
          const name = [`${program}-${verb}`, program].find((n) => failingTools.has(n));
          if (name === undefined) return undefined;
          failingTools.delete(name); // only the first run: the rollback's own runs of it work
          return (result: ExecResult) => ({ ...result, exitCode: 1, stderr: `${result.stderr}injected failure of ${name} after it ran (exit ${result.exitCode}; SVCCTL_FAULT_INJECTION)\n` });
        });
      }
      const listSteps = words.includes('list-steps');
      let commitFailed = false;
      return {
        startTransaction: (kinds) => {
          inTransaction = true;
          if (listSteps) process.stderr.write(`svcctl-test steps: ${kinds.join(' ')}\n`);
        },
        beforeStep: (step) => fire('before', step),
        afterStep: (step) => fire('after', step),
        partway: (step) => fire('partway', step),
        atCommit: () => {
          if (words.includes('kill-at-commit')) process.kill(process.pid, 'SIGKILL');
          if (words.includes('fail-at-commit') && !commitFailed) {
            commitFailed = true;
            throw new OperationError('injected failure at commit (SVCCTL_FAULT_INJECTION)');
          }
        },
        undoFirst: words.includes('undo-first'),
        undoTwice: words.includes('undo-twice'),
      };
    })()
  : undefined;
