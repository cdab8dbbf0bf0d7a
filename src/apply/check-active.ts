// check-active: units just started must be active (core/unit-state.ts decides); a daemon that dies right after
// starting fails the transaction, so services are looked at again 300 ms after they first show active. A oneshot that
// already finished successfully counts as fine. The same call tells when the timers fire next (for the report).
import { OperationError } from '../core/errors.js';
import type { CheckActive } from '../core/steps/types.js';
import { startVerdictOf, unitStateOf, unitStateProperties } from '../core/unit-state.js';
import { clockNow } from '../system/systemd.js';
import { sleep } from '../system/processes.js';
import type { Executor } from './context.js';

export const checkActive: Executor<CheckActive> = {
  async perform(a, ctx) {
    // Generous: a loaded machine starts a daemon slowly; one that fails says so at once.
    const deadline = Date.now() + 10_000;
    const hasService = a.units.some((u) => u.endsWith('.service'));
    let activeSince: number | undefined;
    for (;;) {
      const shown = await ctx.systemd.show(a.units, unitStateProperties, { utc: true });
      const clock = clockNow();
      const states = a.units.map((u) => unitStateOf(u, shown[u] ?? {}, clock));
      const verdicts = states.map(startVerdictOf);
      const failed = states.filter((_, i) => verdicts[i] === 'failed');
      if (failed.length > 0) throw new OperationError(`${failed.map((u) => `${u.unit} failed (${u.result ?? u.lastRun?.text ?? 'unknown'})`).join(', ')}; see: journalctl -u ${failed[0]!.unit}`);
      if (verdicts.every((v) => v === 'active' || v === 'finished')) {
        activeSince ??= Date.now();
        if (!hasService || Date.now() - activeSince >= 300) {
          for (const s of states) if (s.unit.endsWith('.timer')) ctx.state.nextElapse.set(s.unit, s.nextElapse);
          return;
        }
      } else activeSince = undefined;
      if (Date.now() > deadline) {
        const pending = states.filter((_, i) => verdicts[i] === 'pending').map((s) => s.unit);
        throw new OperationError(`${pending.join(', ')} did not become active within 10 s; see: systemctl status ${pending[0] ?? ''}`);
      }
      await sleep(100);
    }
  },
};
