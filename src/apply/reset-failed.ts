// reset-failed: systemd forgets the removed units' failed state.
import type { ResetFailed } from '../core/steps/types.js';
import type { Executor } from './context.js';

export const resetFailed: Executor<ResetFailed> = {
  async perform(a, ctx) {
    await ctx.systemd.unitVerb('reset-failed', a.units, { check: false });
  },
};
