// daemon-reload: systemd reads the unit files again — once per transaction, whatever the number of bundles.
import type { DaemonReload, StepKind } from './types.js';

export const daemonReload: StepKind<DaemonReload> = {
  describe: () => 'systemctl daemon-reload',
  data: (a) => ({ ...a }),
  touches: () => ({ paths: [], units: [] }),
  collective: { placement: 'last', merge: (actions) => actions.slice(0, 1) },
};
