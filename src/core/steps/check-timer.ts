// check-timer: after the reload systemd shows the timer loaded, with the trigger that was written.
import type { CheckTimer, StepKind } from './types.js';

export const checkTimer: StepKind<CheckTimer> = {
  describe: (a) => `check that systemd reads the new schedule of ${a.timer}`,
  data: (a) => ({ ...a }),
  touches: () => ({ paths: [], units: [] }),
};
