// enable: one `systemctl enable [--now]` for every unit of every bundle; undone by disabling (and stopping) what was
// not enabled (running) before and removing the links it may have made — also after a start that failed.
import type { Enable, StepKind } from './types.js';

export const enable: StepKind<Enable> = {
  describe: (a) => `systemctl enable${a.now ? ' --now' : ''} ${a.units.join(' ')}`,
  data: (a) => ({ ...a, after: Object.fromEntries(a.units.map((u) => [u, { enabled: 'enabled', active: a.now ? 'active' : a.before[u]?.active ?? 'inactive' }])) }),
  touches: (a) => ({ paths: a.links, units: a.units }),
  collective: {
    placement: 'last',
    merge: (actions) =>
      actions.length === 0
        ? []
        : [{ kind: 'enable', units: actions.flatMap((a) => a.units), now: actions.some((a) => a.now), before: Object.assign({}, ...actions.map((a) => a.before)), links: actions.flatMap((a) => a.links) }],
  },
};
