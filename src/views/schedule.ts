// What `svcctl schedule` prints: the change on stderr, the next elapses on stdout.
import type { ScheduleResult } from '../flows/schedule.js';
import { formatRelative, formatTimestamp, nowUsec } from '../core/time.js';
import { userTimeZone } from '../system/timezone.js';
import { style } from './output.js';
import { dryRunLine } from './progress.js';

const delayText = (r: ScheduleResult) => (r.randomizedDelay === undefined ? '' : /^0+$/.test(r.randomizedDelay) ? ', no randomized delay' : `, randomized delay up to ${r.randomizedDelay}`);
const describe = (r: ScheduleResult) => (r.schedule === undefined ? "the timer unit's own schedule (the bundle's default; its source is gone)" : `${r.schedule}${delayText(r)}${r.overridden ? '' : " (the bundle's default)"}`);

/** Lines for stderr: what changed (or would), and a warning when the timer is not running. */
export function scheduleMessages(result: ScheduleResult): string[] {
  const lines: string[] = [];
  if (!result.changed) return [`${style.green('✔')} ${result.timer} already runs on ${describe(result)}: nothing to do`];
  if (result.timerInactive) lines.push(`  ${style.yellow('!')} ${result.timer} is not active: the new schedule applies once it is started (systemctl start ${result.timer})`);
  lines.push(result.dryRun ? dryRunLine() : `${style.green('✔')} ${result.timer} now runs on ${describe(result)}`);
  return lines;
}

/** The lines printed on stdout after the change: the next elapses, each with how far away it is. */
export function describeElapses(result: ScheduleResult): string[] {
  const now = nowUsec();
  const lines = [`${result.timer}: ${result.schedule ?? "the timer unit's own schedule"}${result.normalized && result.normalized !== result.schedule ? ` (normalized: ${result.normalized})` : ''}`];
  if (result.nextElapses.length === 0 && result.nextElapse) lines.push(`  next elapse: ${formatTimestamp(Date.parse(result.nextElapse) * 1000, userTimeZone())} (${formatRelative(Date.parse(result.nextElapse) * 1000, now)})`);
  result.nextElapses.forEach((when, i) => lines.push(`  ${i === 0 ? 'next elapse:' : `then:       `} ${when}`));
  if (result.kind === 'interval') lines.push(`  (every ${result.normalized} after the previous run started)`);
  return lines;
}
