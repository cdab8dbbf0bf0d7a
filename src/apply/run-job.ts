// run-job: the job runs now and must succeed; the recovery runs it again with the restored configuration. A run
// asked for is deliberate, not a restart loop: the unit's start counter is reset first, so that a few rotations in a
// row do not end in start-limit-hit.
import type { RunJob } from '../core/steps/types.js';
import type { Executor } from './context.js';

export const runJob: Executor<RunJob> = {
  async perform(a, ctx) {
    ctx.state.jobs.push(a.service);
    await ctx.systemd.unitVerb('reset-failed', [a.service], { check: false });
    await ctx.systemd.runJob(a.service);
  },
};
