// stop-user-processes: every process whose real or effective uid is the bundle's user gets SIGKILL (repeatedly, until
// none is left), so nothing of that user can race the removal of its directories.
import { OperationError } from '../core/errors.js';
import type { StopUserProcesses } from '../core/steps/types.js';
import { readAccounts } from '../system/accounts.js';
import { processesOf, sleep } from '../system/processes.js';
import type { Executor } from './context.js';

export const stopUserProcesses: Executor<StopUserProcesses> = {
  async perform(a, ctx) {
    const user = (await readAccounts(ctx.target)).users.get(a.user);
    if (!user) return 'no such user';
    if (user.uid === 0) throw new OperationError(`refusing to stop the processes of ${a.user}: it has uid 0`);
    let stopped = 0;
    for (let round = 0; round < 20; round++) {
      const pids = await processesOf(user.uid);
      if (pids.length === 0) return stopped === 0 ? 'none running' : `stopped ${stopped}`;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
          stopped++;
        } catch {
          // gone already
        }
      }
      await sleep(50);
    }
    throw new OperationError(`processes of ${a.user} keep starting (${(await processesOf(user.uid)).join(', ')})`, 'find what starts them, stop it, then run uninstall --purge again');
  },
};
