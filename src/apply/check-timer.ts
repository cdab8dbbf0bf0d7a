// check-timer: systemd shows the timer loaded, with the trigger written.
import type { CheckTimer } from '../core/steps/types.js';
import type { Executor } from './context.js';

export const checkTimer: Executor<CheckTimer> = {
  async perform(a, ctx) {
    await ctx.systemd.confirmTimerSchedule(a.timer, a.expected);
  },
};
