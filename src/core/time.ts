// Pure time helpers: systemd's timestamps and µs counts in, "Sun 2026-11-22 09:58:31 CET" and "in 4min 12s" out.
import { formatSpan, isUtcZone } from './schedule.js';

// Spans and zone names belong to the schedule model; these callers read them through here too.
export { formatSpan, isUtcZone };

/** Microseconds since the Unix epoch (systemd's usec_t for CLOCK_REALTIME). */
export type Usec = number;

const usecPerSecond = 1_000_000;

/**
 * Parses what `systemctl show` prints for a timestamp when run with TZ=UTC (and `--timestamp=us+utc`):
 * "Sun 2026-11-22 00:03:54.721290 UTC", "2026-11-22 00:03:54 UTC", or the unix style "@1795305834[.721290]".
 * Empty, "n/a", "0" and a timestamp in any other zone give undefined: a local zone abbreviation is ambiguous.
 */
export function parseSystemdTimestamp(text: string | undefined): Usec | undefined {
  const value = (text ?? '').trim();
  if (value === '' || value === 'n/a' || value === '0') return undefined;
  const unix = /^@(\d+)(?:\.(\d{1,6}))?$/.exec(value);
  if (unix) return Number(unix[1]) * usecPerSecond + fraction(unix[2]);
  const match = /^(?:[A-Za-z]{3} )?(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? (?:UTC|GMT)$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, frac] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return Number.isNaN(ms) ? undefined : ms * 1000 + fraction(frac);
}

function fraction(digits: string | undefined): number {
  return digits ? Number(digits.padEnd(6, '0')) : 0;
}

/** A µs value from systemd's JSON (`list-timers --output=json`): 0, null and garbage mean "none". */
export function usecOrUndefined(value: unknown): Usec | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

export function usecToIso(usec: Usec | undefined): string | null {
  return usec === undefined ? null : new Date(Math.floor(usec / 1000)).toISOString();
}

export function nowUsec(): Usec {
  return Date.now() * 1000;
}

/** "in 4min 12s" for the future, "3h ago" for the past, "now" within a millisecond. */
export function formatRelative(at: Usec, now: Usec): string {
  const delta = at - now;
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${formatSpan(delta)}` : `${formatSpan(delta)} ago`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string, options: Intl.DateTimeFormatOptions & { timeZone: string }): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let cached = formatters.get(key);
  if (!cached) {
    cached = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, cached);
  }
  return cached;
}

function part(parts: Intl.DateTimeFormatPart[], type: Intl.DateTimeFormatPartTypes): string {
  return parts.find((p) => p.type === type)?.value ?? '';
}

/**
 * The zone's abbreviation at that instant as `date +%Z` prints it where ICU knows one (UTC, CET, EST),
 * else its offset (+05:30): en-US knows the American names, en-GB the European ones.
 */
function zoneName(date: Date, timeZone: string): string {
  for (const locale of ['en-US', 'en-GB']) {
    const name = part(formatter(locale, { timeZone, timeZoneName: 'short' }).formatToParts(date), 'timeZoneName');
    if (/^[A-Z]{2,5}$/.test(name)) return name;
  }
  const offset = part(formatter('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(date), 'timeZoneName');
  return offset === 'GMT' ? '+00:00' : offset.replace(/^GMT/, '');
}

const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const zoneCache = new Map<string, { offsetMs: number; name: string }>();
const quarterHourMs = 900_000;
const utcZone = { offsetMs: 0, name: 'UTC' };

/**
 * The zone's UTC offset and name at an instant. Intl is slow (~0.1 ms a call, which a 200-row table
 * feels), so it is asked once per quarter hour: every offset in use is a multiple of 15 min and
 * transitions happen at whole local hours, hence on a quarter-hour boundary in UTC.
 */
function zoneAt(ms: number, timeZone: string): { offsetMs: number; name: string } {
  if (isUtcZone(timeZone)) return utcZone;
  const bucket = Math.floor(ms / quarterHourMs) * quarterHourMs;
  const key = `${timeZone}|${bucket}`;
  let zone = zoneCache.get(key);
  if (!zone) {
    const date = new Date(bucket);
    const parts = formatter('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' }).formatToParts(date);
    const n = (type: Intl.DateTimeFormatPartTypes) => Number(part(parts, type));
    const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
    zone = { offsetMs: wall - bucket, name: zoneName(date, timeZone) };
    if (zoneCache.size > 10_000) zoneCache.clear();
    zoneCache.set(key, zone);
  }
  return zone;
}

const two = (n: number) => String(n).padStart(2, '0');

/** An absolute time like systemd prints it, in the user's zone: "Sun 2026-11-22 01:03:54 CET". */
export function formatTimestamp(usec: Usec, timeZone: string): string {
  const ms = Math.floor(usec / 1000);
  const zone = zoneAt(ms, timeZone);
  const wall = new Date(ms + zone.offsetMs);
  const date = `${wall.getUTCFullYear()}-${two(wall.getUTCMonth() + 1)}-${two(wall.getUTCDate())}`;
  return `${weekdays[wall.getUTCDay()]} ${date} ${two(wall.getUTCHours())}:${two(wall.getUTCMinutes())}:${two(wall.getUTCSeconds())} ${zone.name}`;
}

/** "Sun 2026-11-22 01:03:54 CET (3h ago)", or the fallback when there is no time. */
export function formatWhen(usec: Usec | undefined, now: Usec, timeZone: string, none = 'never'): string {
  return usec === undefined ? none : `${formatTimestamp(usec, timeZone)} (${formatRelative(usec, now)})`;
}
