// stop-disable (uninstall): the bundle's units stopped and disabled in two calls for all bundles; undone by enabling
// and starting again what was enabled and running before.
import type { StepKind, StopDisable } from './types.js';

export const stopDisable: StepKind<StopDisable> = {
  describe: (a) => `systemctl stop ${a.units.join(' ')}${a.enabled.length > 0 ? `; systemctl disable ${a.enabled.join(' ')}` : ''}`,
  data: (a) => ({ ...a, after: Object.fromEntries(a.units.map((u) => [u, { enabled: a.enabled.includes(u) ? 'disabled' : a.before[u]?.enabled ?? '', active: 'inactive' }])) }),
  touches: (a) => ({ paths: [], units: a.units }),
  collective: {
    placement: 'first',
    merge: (actions) =>
      actions.length === 0 ? [] : [{ kind: 'stop-disable', units: actions.flatMap((a) => a.units), enabled: actions.flatMap((a) => a.enabled), before: Object.assign({}, ...actions.map((a) => a.before)) }],
  },
};
