// enable: `systemctl enable [--now]` of every unit in one call; undone — also after a start that failed with the
// links already made — by stopping what was not running and disabling what was not enabled before, then removing
// any link it made that disable left. A unit this step started and that failed is reset, so that `systemctl
// --failed` is as before (one that had failed before keeps its state).
import type { Enable } from '../core/steps/types.js';
import { inspectPath, removeFile } from '../system/fs.js';
import type { Executor } from './context.js';
import { tolerateMissingUnits } from './units.js';

export const enable: Executor<Enable> = {
  async perform(a, ctx) {
    await ctx.systemd.enable(a.units, a.now);
  },
  async undo(a, ctx) {
    const wasEnabled = (u: string) => ['enabled', 'enabled-runtime', 'static', 'alias', 'indirect'].includes(a.before[u]?.enabled ?? '');
    const wasRunning = (u: string) => ['active', 'activating', 'reloading'].includes(a.before[u]?.active ?? '');
    const toStop = a.now && !ctx.target.offline ? a.units.filter((u) => !wasRunning(u)) : [];
    const toDisable = a.units.filter((u) => !wasEnabled(u));
    if (toStop.length > 0) await tolerateMissingUnits(ctx.systemd.unitVerb('stop', toStop, { check: false }));
    const toReset = toStop.filter((u) => a.before[u]?.active !== 'failed');
    if (toReset.length > 0) await tolerateMissingUnits(ctx.systemd.unitVerb('reset-failed', toReset, { check: false }));
    if (toDisable.length > 0) await tolerateMissingUnits(ctx.systemd.disable(toDisable, false, { check: false }));
    for (const link of a.links) if ((await inspectPath(ctx.at(link), { content: false }))?.kind === 'symlink') await removeFile(ctx.at(link), { owners: ctx.owners });
  },
};
