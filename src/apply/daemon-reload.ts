// daemon-reload: once per transaction; after a rollback the recovery reloads again (the restored files).
import type { DaemonReload } from '../core/steps/types.js';
import type { Executor } from './context.js';

export const daemonReload: Executor<DaemonReload> = {
  async perform(_a, ctx) {
    ctx.state.reloaded = true;
    await ctx.systemd.daemonReload();
  },
};
