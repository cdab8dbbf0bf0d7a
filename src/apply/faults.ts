// Test-build-only fault injection (SVCCTL_FAULT_INJECTION): a transaction killed or failed at a chosen step, so
// tests can prove recovery and rollback. In the shipped build `faults` is undefined and esbuild drops all of this.
import { OperationError } from '../core/errors.js';
import { testBuild } from '../system/test-build.js';

export interface Faults {
  /** Before step `step` (1-based) of a transaction: SIGKILL svcctl, or fail the step. */
  beforeStep(step: number): void;
}

export const faults: Faults | undefined = testBuild
  ? (() => {
      const spec = process.env.SVCCTL_FAULT_INJECTION ?? '';
      const match = /^(kill|fail)-before:(\d+)$/.exec(spec);
      const mode = match?.[1];
      const at = Number(match?.[2]);
      return {
        beforeStep(step: number): void {
          if (!match || step !== at) return;
          if (mode === 'kill') process.kill(process.pid, 'SIGKILL');
          throw new OperationError(`injected failure before step ${step} (SVCCTL_FAULT_INJECTION)`);
        },
      };
    })()
  : undefined;
