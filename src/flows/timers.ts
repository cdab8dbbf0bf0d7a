// The list-timers flow: `systemctl list-timers` for the timers of installed bundles (or all), plus each activated
// service's last run — its own, so a manual `svcctl run` counts before the timer has ever fired.
import { nowUsec, usecOrUndefined, usecToIso } from '../core/time.js';
import { lastRunOfInactive, propertiesOfListing, unitStateOf, unitStateProperties, type LastRun, type UnitProperties } from '../core/unit-state.js';
import { clockNow, SystemdClient, type TimerListing, type UnitListing } from '../system/systemd.js';
import { listInstalled, type InstalledBundle } from './installed.js';
import { targetFor, type ScopeOptions } from './target.js';

export interface TimerRow {
  unit: string;
  activates: string;
  /** The installed bundle the timer belongs to (null: not svcctl's, or no receipt or index readable). */
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
 * Three systemd calls however many timers, in two rounds: `systemctl list-timers --output=json` (absolute µs for
 * next and last) beside `systemctl list-units '*.service'` (every loaded service's state), then one `systemctl show`
 * for the services whose last run the listings do not tell: those not simply inactive (failed, running, not loaded),
 * and the inactive ones whose timer has never fired (run by hand, or never run). Skipped when there are none. One
 * more, only when a bundle's timer is stopped and unloaded, asks for it by name. (`show` costs a D-Bus round trip and
 * a property dump per unit: 0.2-0.4 s for 200.)
 */
export async function timers(options: { all: boolean } & ScopeOptions): Promise<TimersResult> {
  const target = await targetFor(options);
  // --all needs no receipts or index (so no root); the BUNDLE mapping is added when they are readable.
  const bundles: InstalledBundle[] = options.all
    ? await listInstalled({ command: 'svcctl list-timers', needs: 'public', target }).catch(() => [])
    : await listInstalled({ command: 'svcctl list-timers', needs: 'public', target, hint: ' (list-timers --all needs no root)' });
  const systemd = new SystemdClient(target);
  await systemd.requireRunning();
  const owner = new Map<string, string>();
  for (const bundle of bundles) for (const unit of bundle.units) if (unit.endsWith('.timer')) owner.set(unit, bundle.bundle);
  const wanted = [...owner.keys()];
  if (!options.all && wanted.length === 0) return { all: false, now: usecToIso(nowUsec())!, timers: [], missing: [] };

  // The timers, and the state of every loaded service side by side: two listings, one D-Bus call each.
  const [listing, states]: [TimerListing[], Map<string, UnitListing>] = await Promise.all([systemd.listTimers(options.all ? [] : wanted), systemd.listUnits(['*.service'])]);
  const now = nowUsec(); // when systemd answered: LEFT and PASSED are relative to it
  // A stopped timer nothing else references is unloaded by systemd and left out of list-timers: ask for it
  // by name (which loads it), so a bundle's stopped timer still shows, with no next elapse.
  const listed = new Set(listing.map((t) => t.unit));
  const absent = options.all ? [] : wanted.filter((u) => !listed.has(u));
  const clock = clockNow();
  const absentProps = (await systemd.show(absent, ['LoadState', 'ActiveState', 'SubState', 'Unit', 'LastTriggerUSec'] as const, { utc: true })) as Record<string, UnitProperties>;
  const missing: string[] = [];
  for (const unit of absent) {
    const timer = unitStateOf(unit, absentProps[unit] ?? {}, clock);
    if (timer.load !== 'loaded') missing.push(unit);
    else listing.push({ unit, activates: timer.activates ?? '', next: 0, last: timer.lastTrigger ?? 0 });
  }
  const triggered = new Set(listing.filter((t) => usecOrUndefined(t.last) !== undefined).map((t) => t.activates));
  const services = [...new Set(listing.map((t) => t.activates).filter(Boolean))];
  // An inactive (dead) service whose timer has fired ran, and did not fail: the listings say that much for all of
  // them. The others need `show` for how their last run went.
  const toShow = services.filter((s) => states.get(s)?.active !== 'inactive' || !triggered.has(s));
  const shown = (await systemd.show(toShow, unitStateProperties, { utc: true })) as Record<string, UnitProperties>;
  const rows = listing.map((t): TimerRow => {
    const next = usecOrUndefined(t.next);
    const last = usecOrUndefined(t.last);
    const service = shown[t.activates] ? unitStateOf(t.activates, { ...propertiesOfListing(states.get(t.activates)), ...shown[t.activates] }, clock) : undefined;
    const lastRun = service?.lastRun ?? lastRunOfInactive(last !== undefined);
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
