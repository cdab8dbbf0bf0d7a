// check-active: units just started must be active; a daemon that dies right after starting fails the transaction, so
// services are looked at again 300 ms after they first show active. A oneshot that already finished successfully
// counts as fine. The same call tells when the timers fire next (for the report after the transaction).
import { OperationError } from '../core/errors.js';
import { timerNextElapse } from '../core/health.js';
import type { CheckActive } from '../core/steps/types.js';
import { nowUsec } from '../core/time.js';
import { sleep } from '../system/processes.js';
import type { Executor } from './context.js';

export const checkActive: Executor<CheckActive> = {
  async perform(a, ctx) {
    const deadline = Date.now() + 3000;
    const hasService = a.units.some((u) => u.endsWith('.service'));
    let activeSince: number | undefined;
    for (;;) {
      const states = await ctx.systemd.show(a.units, ['ActiveState', 'Result', 'NextElapseUSecRealtime', 'NextElapseUSecMonotonic'] as const, { utc: true });
      const now = nowUsec();
      const monotonicNow = Number(process.hrtime.bigint() / 1000n);
      const recordNextElapses = () => {
        for (const u of a.units.filter((x) => x.endsWith('.timer'))) ctx.state.nextElapse.set(u, timerNextElapse(states[u] ?? {}, now, monotonicNow));
      };
      const ok = (u: string) => states[u]?.ActiveState === 'active' || (u.endsWith('.service') && states[u]?.ActiveState === 'inactive' && states[u]?.Result === 'success');
      const failed = a.units.filter((u) => states[u]?.ActiveState === 'failed');
      if (failed.length > 0) throw new OperationError(`${failed.map((u) => `${u} failed (${states[u]?.Result ?? 'unknown'})`).join(', ')}; see: journalctl -u ${failed[0]}`);
      if (a.units.every(ok)) {
        activeSince ??= Date.now();
        if (!hasService || Date.now() - activeSince >= 300) {
          recordNextElapses();
          return;
        }
      } else activeSince = undefined;
      if (Date.now() > deadline) {
        const pending = a.units.filter((u) => !ok(u));
        throw new OperationError(`${pending.join(', ')} did not become active within 3 s; see: systemctl status ${pending[0] ?? ''}`);
      }
      await sleep(100);
    }
  },
};
