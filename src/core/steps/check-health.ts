// check-health: the bundle's health check (units, last run, health URL) after a restart or a run.
import type { CheckHealth, StepKind } from './types.js';

export const checkHealth: StepKind<CheckHealth> = {
  describe: (a) => `check the health of ${a.subject.bundle}`,
  data: (a) => ({ ...a }),
  touches: () => ({ paths: [], units: [] }),
  // After the one enable and the check that the units are active: a daemon must be up before its URL is asked.
  collective: { placement: 'last', merge: (actions) => actions },
};
