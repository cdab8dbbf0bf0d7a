// run-job: the job runs now and must succeed; the recovery runs it again with the restored configuration.
import type { RunJob } from '../core/steps/types.js';
import type { Executor } from './context.js';

export const runJob: Executor<RunJob> = {
  async perform(a, ctx) {
    ctx.state.jobs.push(a.service);
    await ctx.systemd.runJob(a.service);
  },
};
