// The list-timers flow: `systemctl list-timers` for the timers of installed bundles (or all), plus each activated service's last result.
import { formatTable } from '../views/output.js';
import { formatRelative, formatSpan, formatTimestamp, nowUsec, parseSystemdTimestamp, usecOrUndefined, usecToIso, type Usec } from '../core/time.js';
import type { Receipt } from '../core/receipt.js';
import { isRoot } from '../system/privileges.js';
import { SystemdClient, type TimerListing, type UnitListing } from '../system/systemd.js';
import { systemTarget } from '../core/target.js';
import { installedReceipts, lastRunOf, paint, unitProperties, type LastRun, type UnitProperties } from './status.js';
import { userTimeZone } from '../system/timezone.js';

export interface TimerRow {
  unit: string;
  activates: string;
  /** The installed bundle the timer belongs to (null: not svcctl's, or receipts not readable). */
  bundle: string | null;
  /** Next elapse and last trigger, ISO 8601 in UTC (null: none). */
  next: string | null;
  last: string | null;
  /** Seconds until the next elapse / since the last trigger, at the time of the listing. */
  leftSeconds: number | null;
  passedSeconds: number | null;
  /** The activated service's last (or current) run. */
  lastRun: LastRun;
  /** RESULT column: "success", "exit 3", "running", "never run", ... */
  result: string;
}

export interface TimersResult {
  all: boolean;
  /** When the listing was taken (ISO 8601, UTC): leftSeconds/passedSeconds are relative to it. */
  now: string;
  timers: TimerRow[];
  /** Timers an installed bundle lists whose unit file systemd cannot find (removed by hand?). */
  missing: string[];
}

/**
 * Three systemd calls however many timers, in two rounds: `systemctl list-timers --output=json` (absolute
 * µs for next and last) beside `systemctl list-units '*.service'` (every loaded service's state), then one
 * `systemctl show` for the Result and exit status of the activated services that are not simply inactive
 * (usually few; skipped when none). One more, only when a bundle's timer is stopped and unloaded, asks
 * for it by name. (`show` costs a D-Bus round trip and a property dump per unit: 0.4 s for 200.)
 */
export async function timers(options: { all: boolean }): Promise<TimersResult> {
  // --all needs no receipts (so no root); the BUNDLE mapping is added when they are readable.
  const receipts: Receipt[] = options.all ? (isRoot() ? await installedReceipts('svcctl list-timers').catch(() => []) : []) : await installedReceipts('svcctl list-timers');
  const systemd = new SystemdClient(systemTarget());
  await systemd.requireRunning();
  const owner = new Map<string, string>();
  for (const receipt of receipts) for (const unit of receipt.units) if (unit.endsWith('.timer')) owner.set(unit, receipt.bundle);
  const wanted = [...owner.keys()];
  if (!options.all && wanted.length === 0) return { all: false, now: usecToIso(nowUsec())!, timers: [], missing: [] };

  // The timers, and the state of every loaded service side by side: two listings, one D-Bus call each.
  const [listing, states]: [TimerListing[], Map<string, UnitListing>] = await Promise.all([systemd.listTimers(options.all ? [] : wanted), systemd.listUnits(['*.service'])]);
  const now = nowUsec(); // when systemd answered: LEFT and PASSED are relative to it
  // A stopped timer nothing else references is unloaded by systemd and left out of list-timers: ask for it
  // by name (which loads it), so a bundle's stopped timer still shows, with no next elapse.
  const listed = new Set(listing.map((t) => t.unit));
  const absent = options.all ? [] : wanted.filter((u) => !listed.has(u));
  const absentProps = (await systemd.show(absent, ['LoadState', 'Unit', 'LastTriggerUSec'] as const, { utc: true })) as Record<string, UnitProperties>;
  const missing: string[] = [];
  for (const unit of absent) {
    const props = absentProps[unit] ?? {};
    if (props.LoadState !== 'loaded') missing.push(unit);
    else listing.push({ unit, activates: props.Unit ?? '', next: 0, last: parseSystemdTimestamp(props.LastTriggerUSec) ?? 0 });
  }
  const services = [...new Set(listing.map((t) => t.activates).filter(Boolean))];
  // A service that is inactive/dead ran successfully (or never ran): the listing says so for all of them.
  // Only the others (failed, running, not loaded) need `systemctl show` for their result and exit status.
  const toShow = services.filter((s) => states.get(s)?.active !== 'inactive');
  const props = (await systemd.show(toShow, unitProperties, { utc: true })) as Record<string, UnitProperties>;
  const rows = listing.map((t): TimerRow => {
    const next = usecOrUndefined(t.next);
    const last = usecOrUndefined(t.last);
    const lastRun = props[t.activates] ? lastRunOf(props[t.activates]!) : inactiveRun(last);
    return {
      unit: t.unit,
      activates: t.activates,
      bundle: owner.get(t.unit) ?? null,
      next: usecToIso(next),
      last: usecToIso(last),
      leftSeconds: next === undefined ? null : Math.max(0, next - now) / 1e6,
      passedSeconds: last === undefined ? null : Math.max(0, now - last) / 1e6,
      lastRun,
      result: lastRun.text,
    };
  });
  return { all: options.all, now: usecToIso(now)!, timers: rows, missing };
}

/**
 * The last run of an inactive (dead) service, known without asking for its properties: it succeeded if its
 * timer has triggered it, else it has not run (a manual start of a timer's service is not told apart).
 */
function inactiveRun(lastTrigger: Usec | undefined): LastRun {
  const none = { signal: null, startedAt: null, endedAt: null, durationMs: null };
  return lastTrigger === undefined
    ? { ...none, state: 'never', result: 'success', exitStatus: null, text: 'never run' }
    : { ...none, state: 'success', result: 'success', exitStatus: 0, text: 'success' };
}

/** The table systemctl list-timers prints, plus RESULT; times in the user's zone. */
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
