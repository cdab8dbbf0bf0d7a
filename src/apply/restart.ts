// restart: running units pick up their changed configuration; the recovery restarts them again after a rollback.
import type { Restart } from '../core/steps/types.js';
import type { Executor } from './context.js';

export const restart: Executor<Restart> = {
  async perform(a, ctx) {
    ctx.state.restarted.push({ units: a.units, revive: a.revive ?? false });
    await ctx.systemd.unitVerb('restart', a.units);
  },
};
