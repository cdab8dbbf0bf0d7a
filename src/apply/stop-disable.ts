// stop-disable: the bundle's units stopped and disabled; undone by enabling and starting again what was enabled and
// running before (after one daemon-reload, since the files removed after it are back by then).
import type { StopDisable } from '../core/steps/types.js';
import type { Executor } from './context.js';
import { tolerateMissingUnits } from './units.js';

const enabledStates = ['enabled', 'enabled-runtime', 'static', 'alias', 'indirect'];
const runningStates = ['active', 'activating', 'reloading'];

export const stopDisable: Executor<StopDisable> = {
  async perform(a, ctx) {
    // No units to stop: a bundle whose only units override the distribution's (those are left running).
    if (!ctx.target.offline && a.units.length > 0) await tolerateMissingUnits(ctx.systemd.unitVerb('stop', a.units, { check: false }));
    // Stopped, a timer's Persistent= stamp can go: an uninstall leaves nothing of the bundle in systemd's state either.
    if (!ctx.target.offline) await ctx.systemd.cleanTimerState(a.units.filter((u) => u.endsWith('.timer')));
    // The uninstall's own daemon-reload follows once the files are gone.
    if (a.enabled.length > 0) await tolerateMissingUnits(ctx.systemd.disable(a.enabled, false, { check: false }));
  },
  async undo(a, ctx) {
    if (ctx.state.reloaded && !ctx.target.offline) await ctx.systemd.daemonReload();
    const reenable = a.enabled.filter((u) => enabledStates.includes(a.before[u]?.enabled ?? ''));
    const restart = ctx.target.offline ? [] : a.units.filter((u) => runningStates.includes(a.before[u]?.active ?? '') && (a.enabled.includes(u) || !u.endsWith('.service')));
    if (reenable.length > 0) await ctx.systemd.enable(reenable, false);
    if (restart.length > 0) await ctx.systemd.unitVerb('start', restart);
  },
};
