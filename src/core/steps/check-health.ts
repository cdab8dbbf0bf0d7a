// check-health: the bundle's health check (units, last run, health URL) after a restart or a run.
import type { CheckHealth, StepKind } from './types.js';

export const checkHealth: StepKind<CheckHealth> = {
  describe: (a) => `check the health of ${a.subject.bundle}`,
  data: (a) => ({ ...a }),
  touches: () => ({ paths: [], units: [] }),
};
