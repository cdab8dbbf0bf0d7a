// reset-failed (uninstall): systemd forgets the removed units' failed state.
import type { ResetFailed, StepKind } from './types.js';

export const resetFailed: StepKind<ResetFailed> = {
  describe: (a) => `systemctl reset-failed ${a.units.join(' ')}`,
  data: (a) => ({ ...a }),
  touches: () => ({ paths: [], units: [] }),
  collective: { placement: 'last', merge: (actions) => (actions.length === 0 ? [] : [{ kind: 'reset-failed', units: actions.flatMap((a) => a.units) }]) },
};
