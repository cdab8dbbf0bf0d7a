// Test-build-only fault injection (SVCCTL_FAULT_INJECTION, comma-separated): a transaction killed or failed before a
// step (nothing of it done), or after it (everything it does done, then a failure: its undo must take it all back),
// and a helper program that fails. In the shipped build `faults` is undefined and esbuild drops all of this.
import { OperationError } from '../core/errors.js';
import { testBuild } from '../system/test-build.js';

export interface Faults {
  /** Before step `step` (1-based): `kill-before:N` SIGKILLs svcctl, `fail-before:N` fails the step. */
  beforeStep(step: number): void;
  /** After step `step` did its work: `kill-after:N`, `fail-after:N`. */
  afterStep(step: number): void;
}

export const faults: Faults | undefined = testBuild
  ? (() => {
      const specs = (process.env.SVCCTL_FAULT_INJECTION ?? '')
        .split(',')
        .map((s) => /^(kill|fail)-(before|after):(\d+)$/.exec(s.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ mode: m[1], when: m[2], step: Number(m[3]) }));
      const fire = (when: string, step: number) => {
        const spec = specs.find((s) => s.when === when && s.step === step);
        if (!spec) return;
        if (spec.mode === 'kill') process.kill(process.pid, 'SIGKILL');
        throw new OperationError(`injected failure ${when} step ${step} (SVCCTL_FAULT_INJECTION)`);
      };
      return { beforeStep: (step: number) => fire('before', step), afterStep: (step: number) => fire('after', step) };
    })()
  : undefined;
