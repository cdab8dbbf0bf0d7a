// check-health: a job whose run is over is looked at once; a daemon gets until the deadline to become active and
// answer on its URL, and must stay healthy for a second. Only problems of the service itself fail the step.
import { evaluateCheck, type CheckResult } from '../core/health.js';
import { unitStateProperties } from '../core/unit-state.js';
import type { CheckHealth } from '../core/steps/types.js';
import { nowUsec } from '../core/time.js';
import { probeUrl } from '../system/http.js';
import { sleep } from '../system/processes.js';
import { CheckFailed, type Executor, type StepContext } from './context.js';

export const checkHealth: Executor<CheckHealth> = {
  async perform(a, ctx) {
    const result = await awaitHealth(a, ctx);
    const outcome = `${result.status} - ${result.summary}`;
    const failing = healthVerdict(result);
    if (failing !== undefined) throw new CheckFailed(failing, outcome);
    return outcome;
  },
};

async function awaitHealth({ subject, timeoutMs, once }: CheckHealth, ctx: StepContext): Promise<CheckResult> {
  const units = [...new Set([...subject.units, ...(subject.service ? [subject.service] : [])])];
  const deadline = Date.now() + timeoutMs;
  let healthySince: number | undefined;
  for (;;) {
    const [properties, url] = await Promise.all([ctx.systemd.show(units, unitStateProperties, { utc: true }), subject.health?.url ? probeUrl(subject.health.url, 2000) : Promise.resolve(undefined)]);
    const result = evaluateCheck({ subject, units: properties, ...(url ? { url } : {}), now: nowUsec(), monotonicNow: Number(process.hrtime.bigint() / 1000n) });
    if (once) return result;
    if (healthVerdict(result) === undefined) {
      // A daemon that dies right after answering once is not healthy: it must stay up for a moment.
      healthySince ??= Date.now();
      if (Date.now() - healthySince >= 1000) return result;
    } else {
      healthySince = undefined;
      if (properties[subject.service ?? '']?.ActiveState === 'failed' || Date.now() >= deadline) return result;
    }
    await sleep(250);
  }
}

function healthVerdict(result: CheckResult): string | undefined {
  const relevant = result.problems.filter((p) => p.status !== 'WARNING' && (p.topic === 'service' || p.topic === 'url' || p.topic === 'unit' || p.topic === 'systemd'));
  return relevant.length > 0 ? relevant.map((p) => p.message).join('; ') : undefined;
}
