// check-health: the bundle's health check (units, last run, health URL) after a restart or a run.
import type { CheckHealth, StepKind } from './types.js';

export const checkHealth: StepKind<CheckHealth> = {
  describe: (a) => `check the health of ${a.subject.bundle}`,
  data: (a) => ({ ...a }),
  touches: () => ({ paths: [], units: [] }),
  // After the one daemon-reload and enable --now of all bundles: a daemon is looked at once it has been started.
  collective: { placement: 'last', merge: (actions) => actions },
};
