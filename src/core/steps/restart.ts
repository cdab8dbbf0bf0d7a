// restart: running units whose configuration changed pick it up; after a rollback they are restarted again with the
// restored configuration (the transaction's recovery).
import type { Restart, StepKind } from './types.js';

export const restart: StepKind<Restart> = {
  describe: (a) => `systemctl restart ${a.units.join(' ')}`,
  data: (a) => ({ ...a }),
  touches: (a) => ({ paths: [], units: a.units }),
  collective: {
    placement: 'last',
    merge: (actions) => {
      const plain = actions.filter((a) => !a.revive).flatMap((a) => a.units);
      const revive = actions.filter((a) => a.revive).flatMap((a) => a.units);
      return [...(plain.length > 0 ? [{ kind: 'restart' as const, units: plain }] : []), ...(revive.length > 0 ? [{ kind: 'restart' as const, units: revive, revive: true }] : [])];
    },
  },
};
