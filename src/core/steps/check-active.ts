// check-active: the units just started are active (a daemon that dies right after starting fails the transaction).
import type { CheckActive, StepKind } from './types.js';

export const checkActive: StepKind<CheckActive> = {
  describe: (a) => `check that ${a.units.join(', ')} ${a.units.length === 1 ? 'is' : 'are'} active`,
  data: (a) => ({ ...a }),
  touches: () => ({ paths: [], units: [] }),
  collective: { placement: 'last', merge: (actions) => (actions.length === 0 ? [] : [{ kind: 'check-active', units: actions.flatMap((a) => a.units) }]) },
};
