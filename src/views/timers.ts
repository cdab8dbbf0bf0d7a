// The text of `svcctl list-timers`: the table systemctl list-timers prints, plus RESULT; times in the user's zone.
import { formatRelative, formatSpan, formatTimestamp, type Usec } from '../core/time.js';
import type { LastRun } from '../core/unit-state.js';
import type { TimersResult } from '../flows/timers.js';
import { userTimeZone } from '../system/timezone.js';
import { formatTable, paintStdout as paint, style } from './output.js';

/** The table (for stdout). */
export function renderTimers(result: TimersResult, timeZone: string = userTimeZone()): string {
  const now: Usec = Date.parse(result.now) * 1000;
  const at = (value: string | null) => (value ? Date.parse(value) * 1000 : undefined);
  const colour = (run: LastRun) => (run.state === 'failed' ? 'red' : run.state === 'success' ? 'green' : undefined);
  const rows = result.timers.map((t) => {
    const next = at(t.next);
    const last = at(t.last);
    return [
      next === undefined ? 'n/a' : formatTimestamp(next, timeZone),
      next === undefined ? 'n/a' : formatSpan(Math.max(0, next - now)),
      last === undefined ? 'n/a' : formatTimestamp(last, timeZone),
      last === undefined ? 'n/a' : formatRelative(Math.min(last, now), now),
      t.unit,
      t.activates,
      t.result,
    ];
  });
  const table = formatTable(['NEXT', 'LEFT', 'LAST', 'PASSED', 'UNIT', 'ACTIVATES', 'RESULT'], rows);
  // RESULT is the last column: colour it after padding.
  return table
    .split('\n')
    .map((line, i) => {
      const row = result.timers[i - 1];
      const c = row ? colour(row.lastRun) : undefined;
      return row && c && line.endsWith(row.result) ? line.slice(0, line.length - row.result.length) + paint(c, row.result) : line;
    })
    .join('\n');
}

/** The lines for stderr under the table: timers systemd does not know, and how many were listed. */
export function timersFooter(result: TimersResult): string[] {
  return [
    ...result.missing.map((unit) => `${style.yellow('!')} ${unit} is listed in a receipt but systemd does not know it (see svcctl status)`),
    style.dim(`${result.timers.length} timer${result.timers.length === 1 ? '' : 's'} listed.${result.all ? '' : ' Pass --all to see every timer.'}`),
  ];
}
