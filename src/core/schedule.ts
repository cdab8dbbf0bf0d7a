// The one schedule model (pure): time spans, intervals and calendar expressions (syntax only: systemd-analyze validates),
// how often a schedule elapses, the [Timer] triggers it renders to, a timer file's own triggers, and cron's five fields.
import { unitFileEntries } from './unit-file.js';
import { UserError } from './errors.js';
import { directiveLine } from './escape/index.js';

/** A timer's schedule: every `span` (after the previous run started), or on a calendar expression; optionally spread by a random delay. */
export type Schedule =
  | { kind: 'interval'; span: string; randomizedDelay?: string }
  | { kind: 'calendar'; expression: string; randomizedDelay?: string };

// ---- Time spans (systemd.time(7)) ----------------------------------------------------------------

const minute = 60;
const hour = 3600;
const day = 86_400;
const week = 604_800;
/** systemd's year is 365.25 days and its month a twelfth of that (time-util.h). */
const year = 31_557_600;
const month = 2_629_800;

/**
 * Every unit spelling systemd's parser accepts, in the order it tries them (time-util.c, extract_multiplier()):
 * the first that the text starts with wins, so "ms" is milliseconds and "m" minutes. Case matters ("M" is months).
 */
const spanSuffixes: readonly (readonly [suffix: string, seconds: number])[] = [
  ['seconds', 1],
  ['second', 1],
  ['sec', 1],
  ['s', 1],
  ['minutes', minute],
  ['minute', minute],
  ['min', minute],
  ['months', month],
  ['month', month],
  ['M', month],
  ['msec', 1e-3],
  ['ms', 1e-3],
  ['m', minute],
  ['hours', hour],
  ['hour', hour],
  ['hr', hour],
  ['h', hour],
  ['days', day],
  ['day', day],
  ['d', day],
  ['weeks', week],
  ['week', week],
  ['w', week],
  ['years', year],
  ['year', year],
  ['y', year],
  ['usec', 1e-6],
  ['us', 1e-6],
  ['μs', 1e-6], // U+03BC GREEK SMALL LETTER MU
  ['µs', 1e-6], // U+00B5 MICRO SIGN
];

/** The units a span is printed in, largest first, as systemd prints them (format_timespan()). */
export const spanDisplayUnits: readonly (readonly [name: string, seconds: number])[] = [
  ['y', year],
  ['month', month],
  ['w', week],
  ['d', day],
  ['h', hour],
  ['min', minute],
  ['s', 1],
];

/** One part of a time span: "1.5h", "30min", or a bare number of seconds. */
export interface SpanPart {
  /** The part as svcctl writes it back: the number (without a leading "+") and the unit as given, no space between. */
  text: string;
  seconds: number;
}

const spanWhitespace = ' \t\n\r';
const spanNumber = /\+?(?:\d+(?:\.\d+)?|\.\d+)/y;
/** systemd's usec_t: a span longer than this is out of range. */
const maxSpanSeconds = 18_446_744_073_709.551615;

/**
 * The parts of a time span as systemd 252's parse_time() reads them, or undefined when it is not one: numbers
 * (a fraction allowed, "+" allowed, "-" never), each followed by an optional unit, with or without whitespace
 * between ("5 10min" is 605 s; "1h30min", "25 h", "2.5h", ".5s" are spans; "5.s", "5mins", "5S" are not).
 */
export function timespanParts(text: string): SpanPart[] | undefined {
  const parts: SpanPart[] = [];
  let position = 0;
  const skipWhitespace = () => {
    while (position < text.length && spanWhitespace.includes(text[position]!)) position++;
  };
  for (;;) {
    skipWhitespace();
    if (position >= text.length) break;
    spanNumber.lastIndex = position;
    const number = spanNumber.exec(text)?.[0];
    if (number === undefined) return undefined;
    const afterNumber = position + number.length;
    // "12.34.56" and "5.s": a dot right after a number starts nothing systemd accepts.
    if (text[afterNumber] === '.') return undefined;
    position = afterNumber;
    skipWhitespace();
    const unit = spanSuffixes.find(([suffix]) => text.startsWith(suffix, position));
    if (unit) position += unit[0].length;
    // A bare number is seconds, but "5x" is nothing (with a space, "5 x" fails at "x" as the next number).
    else if (position === afterNumber && position < text.length) return undefined;
    const value = number.replace(/^\+/, '');
    parts.push({ text: unit ? `${value}${unit[0]}` : value, seconds: Number(value) * (unit ? unit[1] : 1) });
  }
  if (parts.length === 0) return undefined;
  const total = parts.reduce((sum, part) => sum + part.seconds, 0);
  return total <= maxSpanSeconds ? parts : undefined;
}

/**
 * A systemd time span ("10s", "1h 30min", "2.5h", "25 h", a bare number of seconds) in seconds, or undefined when
 * it is not one. "infinity" is Infinity (what `systemctl show` prints for "never").
 */
export function parseTimespan(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^[ \t\n\r]*infinity[ \t\n\r]*$/.test(text)) return Infinity;
  const parts = timespanParts(text);
  return parts === undefined ? undefined : parts.reduce((sum, part) => sum + part.seconds, 0);
}

/**
 * A duration the way systemctl list-timers shows it, to two units: "4min 12s", "3h 2min", "1month 2w".
 * Below a second it shows milliseconds ("350ms"), so a timer firing every second does not read "0s".
 */
export function formatSpan(usec: number): string {
  const total = Math.abs(Math.round(usec));
  if (total < 1_000_000) return `${Math.floor(total / 1000)}ms`;
  const parts: string[] = [];
  let rest = total;
  for (const [name, seconds] of spanDisplayUnits) {
    if (parts.length === 2) break;
    const size = seconds * 1_000_000;
    const count = Math.floor(rest / size);
    if (count > 0) {
      parts.push(`${count}${name}`);
      rest -= count * size;
    } else if (parts.length > 0) {
      break; // "1h 0min 5s" reads worse than "1h": stop at the first gap after the leading unit
    }
  }
  return parts.join(' ');
}

/** "1h 30min" for 5400: the shortest honest way to say a span given in seconds. */
export function formatSeconds(seconds: number): string {
  return formatSpan(seconds * 1_000_000);
}

// ---- Schedules ----------------------------------------------------------------------------------

/**
 * Splits a schedule into an interval ("5min", "every 15min", "15 min", "1h 30min"; a bare number is seconds)
 * or a calendar expression (anything else: "daily", "Mon *-*-* 03:00"). Syntax only: systemd-analyze
 * validates later. Intervals are normalised ("1 h 30 min" → "1h 30min"). `randomizedDelay` (a time span)
 * becomes the timer's RandomizedDelaySec=.
 */
export function parseSchedule(expression: string, randomizedDelay?: string): Schedule {
  const trimmed = expression.trim();
  if (trimmed.length === 0) throw new UserError('the schedule is empty', 'give an interval such as 15min or a calendar expression such as "*-*-* 02:00:00"');
  const delay = randomizedDelay === undefined ? {} : { randomizedDelay: normalizedSpan(randomizedDelay, 'randomized delay') };
  const parts = timespanParts(trimmed.replace(/^every\s+/i, ''));
  if (parts) return { kind: 'interval', span: parts.map((part) => part.text).join(' '), ...delay };
  return { kind: 'calendar', expression: trimmed, ...delay };
}

/** A randomized delay (RandomizedDelaySec=) as a normalized time span; "0" turns a bundle's off. */
export function parseRandomizedDelay(text: string): string {
  return normalizedSpan(text.trim(), 'randomized delay');
}

function normalizedSpan(text: string, what: string): string {
  const parts = timespanParts(text);
  if (!parts) throw new UserError(`the ${what} "${text}" is not a time span`, 'give a systemd time span such as 30s, 5min or 1h (see systemd.time(7))');
  return parts.map((part) => part.text).join(' ');
}

/** The text systemd-analyze checks: the interval's span or the calendar expression. */
export function scheduleText(schedule: Schedule): string {
  return schedule.kind === 'interval' ? schedule.span : schedule.expression;
}

/**
 * Roughly how often a schedule elapses, in seconds: an interval's span; a calendar expression's longest gap
 * between two elapses ("daily" and "*-*-* 02:00:00 Europe/Paris" a day, "Mon..Fri 09:00" three days, "*:0/15"
 * 15 minutes). Undefined when svcctl cannot tell (systemd may still accept the expression).
 */
export function schedulePeriod(schedule: Schedule): number | undefined {
  if (schedule.kind === 'interval') {
    const seconds = parseTimespan(schedule.span);
    return seconds !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
  }
  return calendarPeriod(schedule.expression);
}

// ---- Calendar expressions (systemd.time(7), "Calendar Events") ------------------------------------

/** One item of a calendar field: a value (from = to), a range "a..b", a repetition "a/s" or "a..b/s". */
export interface FieldItem {
  from: number;
  to: number;
  step: number;
}

/** A calendar field: undefined is "*" (every value). */
export type CalendarField = readonly FieldItem[] | undefined;

export interface CalendarSpec {
  /** 0 = Monday … 6 = Sunday; undefined: any day of the week. */
  weekdays?: readonly number[];
  year: CalendarField;
  month: CalendarField;
  day: CalendarField;
  /** "*-02~03": the day counts back from the end of the month (~01 is the last day). */
  fromMonthEnd: boolean;
  hour: CalendarField;
  minute: CalendarField;
  second: CalendarField;
  /** The time zone the expression names ("UTC", "Europe/Paris"); undefined: the host's. */
  timeZone?: string;
}

/** systemd 252's shorthands (calendarspec.c), as their normalized forms. */
const calendarShorthands: Record<string, string> = {
  minutely: '*-*-* *:*:00',
  hourly: '*-*-* *:00:00',
  daily: '*-*-* 00:00:00',
  monthly: '*-*-01 00:00:00',
  weekly: 'Mon *-*-* 00:00:00',
  yearly: '*-01-01 00:00:00',
  annually: '*-01-01 00:00:00',
  quarterly: '*-01,04,07,10-01 00:00:00',
  semiannually: '*-01,07-01 00:00:00',
  'semi-annually': '*-01,07-01 00:00:00',
};

const weekdayNames = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

function weekdayOf(name: string): number | undefined {
  const lower = name.toLowerCase();
  const index = weekdayNames.findIndex((full) => lower === full || lower === full.slice(0, 3));
  return index < 0 ? undefined : index;
}

function parseWeekdays(text: string): number[] | undefined {
  const days = new Set<number>();
  for (const item of text.split(',')) {
    const [from, to, ...rest] = item.split('..');
    if (rest.length > 0 || from === undefined) return undefined;
    const first = weekdayOf(from);
    const last = to === undefined ? first : weekdayOf(to);
    // systemd refuses a range that wraps ("Sat..Mon").
    if (first === undefined || last === undefined || last < first) return undefined;
    for (let d = first; d <= last; d++) days.add(d);
  }
  return [...days].sort((a, b) => a - b);
}

function parseField(text: string, min: number, max: number): CalendarField | null {
  if (text === '*') return undefined;
  const items: FieldItem[] = [];
  for (const item of text.split(',')) {
    const match = /^(\d+)(?:\.\.(\d+))?(?:\/(\d+))?$/.exec(item);
    if (!match) return null;
    const from = Number(match[1]);
    const to = match[2] !== undefined ? Number(match[2]) : match[3] !== undefined ? max : from;
    const step = match[3] !== undefined ? Number(match[3]) : 1;
    if (from < min || to > max || from > to || step < 1) return null;
    items.push({ from, to, step });
  }
  return items;
}

/** A word that names a time zone rather than a part of the expression ("UTC", "Europe/Paris", "EST5EDT"). */
function isZoneWord(word: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(word) && parseWeekdays(word) === undefined && !(word.toLowerCase() in calendarShorthands);
}

/**
 * The structure of a calendar expression — weekdays, date, time, zone — or undefined when svcctl does not
 * understand it (systemd may: "@1700000000", fractional seconds). Syntax only; systemd-analyze validates.
 */
export function parseCalendar(expression: string): CalendarSpec | undefined {
  let words = expression.trim().split(/\s+/).filter(Boolean);
  let timeZone: string | undefined;
  if (words.length > 1 && isZoneWord(words[words.length - 1]!)) timeZone = words.pop();
  if (words.length === 1) {
    const shorthand = Object.hasOwn(calendarShorthands, words[0]!.toLowerCase()) ? calendarShorthands[words[0]!.toLowerCase()] : undefined;
    if (shorthand) words = shorthand.split(' ');
  }
  let index = 0;
  let weekdays: number[] | undefined;
  if (words[index] !== undefined && /^[A-Za-z]/.test(words[index]!)) {
    weekdays = parseWeekdays(words[index]!);
    if (!weekdays) return undefined;
    index++;
  }
  let date = { year: undefined as CalendarField, month: undefined as CalendarField, day: undefined as CalendarField, fromMonthEnd: false };
  if (words[index] !== undefined && !words[index]!.includes(':')) {
    const parsed = parseDate(words[index]!);
    if (!parsed) return undefined;
    date = parsed;
    index++;
  }
  let time: { hour: CalendarField; minute: CalendarField; second: CalendarField } = { hour: [{ from: 0, to: 0, step: 1 }], minute: [{ from: 0, to: 0, step: 1 }], second: [{ from: 0, to: 0, step: 1 }] };
  if (words[index] !== undefined && words[index]!.includes(':')) {
    const parsed = parseTime(words[index]!);
    if (!parsed) return undefined;
    time = parsed;
    index++;
  }
  if (index === 0 || index !== words.length) return undefined;
  return { ...(weekdays && weekdays.length < 7 ? { weekdays } : {}), ...date, ...time, ...(timeZone !== undefined ? { timeZone } : {}) };
}

function parseDate(text: string): { year: CalendarField; month: CalendarField; day: CalendarField; fromMonthEnd: boolean } | undefined {
  const fromMonthEnd = text.includes('~');
  if (!fromMonthEnd && !text.includes('-')) return undefined;
  const [head, dayText] = fromMonthEnd ? text.split('~') : [text.slice(0, text.lastIndexOf('-')), text.slice(text.lastIndexOf('-') + 1)];
  if (head === undefined || dayText === undefined || head === '' || (fromMonthEnd && text.split('~').length !== 2)) return undefined;
  const front = head.split('-');
  if (front.length > 2) return undefined;
  const yearText = front.length === 2 ? front[0]! : '*';
  const monthText = front[front.length - 1]!;
  const yearField = parseField(yearText, 1970, 2199);
  const monthField = parseField(monthText, 1, 12);
  const dayField = parseField(dayText, 1, 31);
  if (yearField === null || monthField === null || dayField === null) return undefined;
  return { year: yearField, month: monthField, day: dayField, fromMonthEnd };
}

function parseTime(text: string): { hour: CalendarField; minute: CalendarField; second: CalendarField } | undefined {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) return undefined;
  const hourField = parseField(parts[0]!, 0, 23);
  const minuteField = parseField(parts[1]!, 0, 59);
  const secondField = parts[2] === undefined ? [{ from: 0, to: 0, step: 1 }] : parseField(parts[2], 0, 59);
  if (hourField === null || minuteField === null || secondField === null) return undefined;
  return { hour: hourField, minute: minuteField, second: secondField };
}

function inField(field: CalendarField, value: number): boolean {
  return field === undefined || field.some((item) => value >= item.from && value <= item.to && (value - item.from) % item.step === 0);
}

/** The seconds of a day at which the expression elapses (sorted). */
function timesOfDay(spec: CalendarSpec): number[] {
  const times: number[] = [];
  for (let h = 0; h < 24; h++) {
    if (!inField(spec.hour, h)) continue;
    for (let m = 0; m < 60; m++) {
      if (!inField(spec.minute, m)) continue;
      for (let s = 0; s < 60; s++) if (inField(spec.second, s)) times.push(h * hour + m * minute + s);
    }
  }
  return times;
}

/** The expression matches this day (UTC midnight, in seconds since the epoch). */
function matchesDay(spec: CalendarSpec, midnight: number): boolean {
  const date = new Date(midnight * 1000);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth() + 1;
  const d = date.getUTCDate();
  if (!inField(spec.year, y) || !inField(spec.month, m)) return false;
  const monthLength = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (!inField(spec.day, spec.fromMonthEnd ? monthLength - d + 1 : d)) return false;
  return spec.weekdays === undefined || spec.weekdays.includes((date.getUTCDay() + 6) % 7);
}

/** How far ahead calendarPeriod looks: far enough for leap years and for the rarest weekday-and-date combinations. */
const horizonDays = 8 * 366;
/** systemd's calendar events end with the year 2199 (calendarspec.c). */
const lastMidnight = Date.UTC(2200, 0, 1) / 1000;

/**
 * The next `count` elapses of a calendar expression after `afterUsec` (exclusive), in µs since the epoch, read as
 * UTC wall-clock time: a zone in the expression is not applied (it shifts elapses, not their spacing). Undefined
 * when svcctl does not understand the expression; fewer than `count` when it stops elapsing before 2200.
 */
export function calendarElapses(expression: string, afterUsec: number, count: number): number[] | undefined {
  const spec = parseCalendar(expression);
  if (!spec) return undefined;
  const times = timesOfDay(spec);
  const after = Math.floor(afterUsec / 1_000_000);
  const out: number[] = [];
  const firstDay = Math.floor(after / day) * day;
  for (let midnight = firstDay; out.length < count && midnight < lastMidnight; midnight += day) {
    if (!matchesDay(spec, midnight)) continue;
    for (const time of times) {
      if (midnight + time > after) out.push((midnight + time) * 1_000_000);
      if (out.length === count) break;
    }
  }
  return out;
}

/** A fixed starting point keeps calendarPeriod pure (it depends on the expression only). */
const periodBase = Date.UTC(2026, 0, 1) / 1000;

/**
 * The longest gap between two elapses of a calendar expression, in seconds, over eight years: "daily" is a day,
 * "Mon..Fri 09:00" three days (the weekend), "monthly" 31 days, "yearly" 366. Undefined when it does not repeat
 * or svcctl does not understand it.
 */
export function calendarPeriod(expression: string): number | undefined {
  const spec = parseCalendar(expression);
  if (!spec) return undefined;
  const times = timesOfDay(spec);
  if (times.length === 0) return undefined;
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i]! - times[i - 1]!);
  let previousDay: number | undefined;
  let days = 0;
  for (let midnight = periodBase; midnight < periodBase + horizonDays * day; midnight += day) {
    if (!matchesDay(spec, midnight)) continue;
    days++;
    if (previousDay !== undefined) longest = Math.max(longest, midnight - previousDay - times[times.length - 1]! + times[0]!);
    previousDay = midnight;
  }
  if (days === 0 || (days === 1 && times.length === 1)) return undefined;
  return longest;
}

// ---- Timer triggers ---------------------------------------------------------------------------------

/** Every trigger a timer can have; one empty assignment resets them all, listing each says so to a reader. */
export const timerTriggerDirectives = ['OnActiveSec', 'OnBootSec', 'OnStartupSec', 'OnUnitActiveSec', 'OnUnitInactiveSec', 'OnCalendar'] as const;
export type TimerTriggerDirective = (typeof timerTriggerDirectives)[number];

/** The monotonic triggers that repeat: each counts from the service's last start or stop. */
const repeatingMonotonic: readonly TimerTriggerDirective[] = ['OnUnitActiveSec', 'OnUnitInactiveSec'];

/**
 * The [Timer] lines that make a timer elapse on `schedule`. An interval sets OnActiveSec= as well as
 * OnUnitActiveSec=: with only the latter the timer never fires until its service has run once. A calendar
 * expression is Persistent=true: a run missed while the machine was off happens at the next boot.
 */
export function renderTimerTriggers(schedule: Schedule, declaredAccuracy?: string): string[] {
  const lines =
    schedule.kind === 'interval'
      ? [directiveLine('OnActiveSec', schedule.span), directiveLine('OnUnitActiveSec', schedule.span)]
      : [directiveLine('OnCalendar', schedule.expression), 'Persistent=true'];
  if (schedule.randomizedDelay !== undefined) lines.push(directiveLine('RandomizedDelaySec', schedule.randomizedDelay));
  const accuracy = timerAccuracy(schedule, declaredAccuracy);
  if (accuracy !== undefined) lines.push(directiveLine('AccuracySec', accuracy));
  return lines;
}

/** Below this period systemd's default AccuracySec= (1min) would be a large part of it. */
const coarseAccuracyBelowSeconds = 600;

/**
 * AccuracySec= for a schedule that elapses more often than every 10 minutes: a tenth of its period, so that
 * "every 30s" fires within 3 s and not up to a minute late (systemd's default accuracy, meant to let timers of
 * different units wake the machine together). Longer schedules keep the default. A timer that declares a finer
 * accuracy of its own (`declaredAccuracy`, its AccuracySec=) keeps it: undefined then.
 */
export function timerAccuracy(schedule: Schedule, declaredAccuracy?: string): string | undefined {
  const period = schedulePeriod(schedule);
  if (period === undefined || period >= coarseAccuracyBelowSeconds) return undefined;
  const usec = Math.max(1000, Math.floor((period * 1_000_000) / 10 / 1000) * 1000);
  const declared = declaredAccuracy === undefined ? undefined : parseTimespan(declaredAccuracy);
  if (declared !== undefined && declared * 1_000_000 <= usec) return undefined;
  return formatSpan(usec);
}

/**
 * The [Timer] section of a drop-in that replaces a timer's triggers with `schedule`: every trigger reset, then the
 * schedule's. `timerUnitText` is the timer's own file: its AccuracySec=, when finer than the schedule's, is kept.
 */
export function scheduleDropInLines(schedule: Schedule, timerUnitText?: string): string[] {
  const declared = timerUnitText === undefined ? undefined : timerTriggersOf(timerUnitText).accuracy;
  return [...timerTriggerDirectives.map((trigger) => `${trigger}=`), ...renderTimerTriggers(schedule, declared)];
}

export interface TimerTriggers {
  /** OnCalendar= expressions, in order. */
  calendar: string[];
  /** OnActiveSec=, OnBootSec=, OnStartupSec=, OnUnitActiveSec=, OnUnitInactiveSec= with their spans. */
  monotonic: { directive: Exclude<TimerTriggerDirective, 'OnCalendar'>; span: string }[];
  randomizedDelay?: string;
  /** AccuracySec=, when the timer sets one. */
  accuracy?: string;
  persistent: boolean;
}

/**
 * The triggers a .timer file's [Timer] section sets, as systemd reads it: comments and other sections skipped,
 * lines ending in a backslash joined (the backslash becomes a space), and an empty trigger assignment resetting
 * every trigger, calendar and monotonic alike (timer.c, timer_free_values()). For a unit with drop-ins, pass the
 * unit file and then each drop-in, concatenated: a later [Timer] section continues the earlier one, as in systemd.
 */
export function timerTriggersOf(timerUnitText: string): TimerTriggers {
  const triggers: TimerTriggers = { calendar: [], monotonic: [], persistent: false };
  for (const { key, value } of unitFileEntries(timerUnitText).filter((e) => e.section === 'Timer')) {
    if ((timerTriggerDirectives as readonly string[]).includes(key) && value === '') {
      triggers.calendar = [];
      triggers.monotonic = [];
    } else if (key === 'OnCalendar') {
      triggers.calendar.push(value);
    } else if ((timerTriggerDirectives as readonly string[]).includes(key)) {
      triggers.monotonic.push({ directive: key as Exclude<TimerTriggerDirective, 'OnCalendar'>, span: value });
    } else if (key === 'RandomizedDelaySec') {
      if (value === '') delete triggers.randomizedDelay;
      else triggers.randomizedDelay = value;
    } else if (key === 'AccuracySec') {
      if (value === '') delete triggers.accuracy;
      else triggers.accuracy = value;
    } else if (key === 'Persistent') {
      triggers.persistent = /^(1|yes|y|true|t|on)$/i.test(value);
    }
  }
  return triggers;
}

function describeTriggers(triggers: TimerTriggers): string {
  const all = [...triggers.monotonic.map((t) => `${t.directive}=${t.span}`), ...triggers.calendar.map((c) => `OnCalendar=${c}`)];
  return all.length > 0 ? all.join(', ') : 'no trigger';
}

/** A fixed starting point for comparing two calendar expressions by their elapses. */
const comparisonBase = Date.UTC(2026, 0, 1) * 1000;

/** The elapses of several calendar expressions together (a timer fires on each), or undefined when one is not understood. */
function mergedElapses(expressions: string[], count: number): number[] | undefined {
  const all: number[] = [];
  for (const expression of expressions) {
    const elapses = calendarElapses(expression, comparisonBase, count);
    if (!elapses) return undefined;
    all.push(...elapses);
  }
  return [...new Set(all)].sort((a, b) => a - b).slice(0, count);
}

/**
 * What is wrong with a bundle's declared default schedule against its timer file (the schedule in effect when
 * svcctl writes no drop-in): nothing, or one sentence. A manifest saying "6h" with a timer firing every second is
 * reported; a difference svcctl cannot judge (an expression it does not understand) is not.
 */
export function declaredScheduleProblem(timer: string, declared: string, timerUnitText: string): string | undefined {
  let schedule: Schedule;
  try {
    schedule = parseSchedule(declared);
  } catch {
    return `the declared schedule of ${timer} is empty`;
  }
  const triggers = timerTriggersOf(timerUnitText);
  const repeating = triggers.monotonic.filter((t) => repeatingMonotonic.includes(t.directive));
  const fires = describeTriggers(triggers);
  const mismatch = (why: string) => `the bundle declares the schedule "${declared}", but ${timer} ${why} (${fires})`;
  if (repeating.length === 0 && triggers.calendar.length === 0) return mismatch(triggers.monotonic.length > 0 ? 'fires once and never again' : 'has no trigger');
  if (schedule.kind === 'interval') {
    const seconds = parseTimespan(schedule.span);
    if (triggers.calendar.length > 0) return mismatch('fires on a calendar');
    const other = repeating.find((t) => parseTimespan(t.span) !== seconds);
    if (other) return mismatch(`fires every ${other.span}`);
    return undefined;
  }
  if (repeating.length > 0) return mismatch(`fires every ${repeating[0]!.span}`);
  if (triggers.calendar.length === 1 && triggers.calendar[0]!.replace(/\s+/g, ' ') === schedule.expression.replace(/\s+/g, ' ')) return undefined;
  const compared = 50;
  const want = mergedElapses([schedule.expression], compared);
  const have = mergedElapses(triggers.calendar, compared);
  if (!want || !have) return undefined;
  const zones = (expressions: string[]) => [...new Set(expressions.map((e) => parseCalendar(e)?.timeZone ?? ''))].join(',');
  if (zones([schedule.expression]) !== zones(triggers.calendar)) return mismatch('fires in another time zone');
  if (want.length !== have.length || want.some((at, i) => at !== have[i])) return mismatch('fires at other times');
  return undefined;
}

// ---- Cron (crontab(5) as Debian's cron reads it) ------------------------------------------------------

export interface CronFields {
  minute: string;
  hour: string;
  dayOfMonth: string;
  month: string;
  dayOfWeek: string;
}

/** The five fields (and the line they make), with what differs from the timer; or why cron cannot express the schedule. */
export type CronSchedule = { fields: CronFields; line: string; notes: string[] } | { reason: string };

/** Names of UTC itself in the zone database (`date +%Z` prints UTC for each); GMT and Etc/GMT print GMT. */
const utcZones = new Set(['UTC', 'Etc/UTC', 'UCT', 'Etc/UCT', 'Universal', 'Etc/Universal', 'Zulu', 'Etc/Zulu']);
export function isUtcZone(zone: string): boolean {
  return utcZones.has(zone);
}

function sameZone(a: string, b: string): boolean {
  return a === b || (isUtcZone(a) && isUtcZone(b)) || (a.toLowerCase() === 'utc' && isUtcZone(b));
}

const cronSpellings: Record<'minute' | 'hour' | 'day' | 'month', { min: number; max: number }> = {
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  day: { min: 1, max: 31 },
  month: { min: 1, max: 12 },
};

function cronField(field: CalendarField, kind: keyof typeof cronSpellings): string {
  if (field === undefined) return '*';
  const { min, max } = cronSpellings[kind];
  return field
    .map(({ from, to, step }) => {
      if (step === 1) return from === to ? String(from) : `${from}-${to}`;
      return from === min && to === max ? `*/${step}` : `${from}-${to}/${step}`;
    })
    .join(',');
}

/** Cron's day of week (0 = Sunday) from systemd's weekdays (0 = Monday), runs of days as ranges. */
function cronWeekdays(weekdays: readonly number[] | undefined): string {
  if (weekdays === undefined) return '*';
  const cron = [...new Set(weekdays.map((d) => (d + 1) % 7))].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < cron.length; ) {
    let j = i;
    while (j + 1 < cron.length && cron[j + 1] === cron[j]! + 1) j++;
    runs.push(j - i >= 2 ? `${cron[i]}-${cron[j]}` : cron.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return runs.join(',');
}

function fieldsResult(fields: CronFields, notes: string[]): CronSchedule {
  return { fields, line: [fields.minute, fields.hour, fields.dayOfMonth, fields.month, fields.dayOfWeek].join(' '), notes };
}

/**
 * The five cron fields of a schedule in the host's zone `hostTimeZone`, or the reason cron cannot express it: a
 * time to the second, a time zone other than the host's (Debian's cron has no CRON_TZ), a randomized delay, an
 * interval that does not divide its unit evenly, a year, days counted from the month's end, or weekdays together
 * with days of the month (cron runs when either matches, systemd when both do).
 */
export function cronScheduleOf(schedule: Schedule, hostTimeZone: string): CronSchedule {
  if (schedule.randomizedDelay !== undefined) return { reason: `Debian's cron has no randomized delay (RandomizedDelaySec=${schedule.randomizedDelay})` };
  return schedule.kind === 'interval' ? cronOfInterval(schedule.span) : cronOfCalendar(schedule.expression, hostTimeZone);
}

function cronOfInterval(span: string): CronSchedule {
  const seconds = parseTimespan(span);
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return { reason: `"${span}" is not an interval cron can repeat` };
  const notes = [`cron runs on the clock; the timer runs ${span} after each start of the previous run`];
  if (seconds % minute !== 0) return { reason: `an interval of ${span} is not a whole number of minutes (cron's smallest unit)` };
  const minutes = seconds / minute;
  if (minutes < 60) {
    if (60 % minutes !== 0) return { reason: `an interval of ${span} does not divide an hour evenly` };
    return fieldsResult({ minute: minutes === 1 ? '*' : `*/${minutes}`, hour: '*', dayOfMonth: '*', month: '*', dayOfWeek: '*' }, notes);
  }
  if (minutes % 60 !== 0) return { reason: `an interval of ${span} is not a whole number of hours, nor divides one` };
  const hours = minutes / 60;
  if (hours < 24) {
    if (24 % hours !== 0) return { reason: `an interval of ${span} does not divide a day evenly` };
    return fieldsResult({ minute: '0', hour: hours === 1 ? '*' : `*/${hours}`, dayOfMonth: '*', month: '*', dayOfWeek: '*' }, notes);
  }
  if (hours === 24) return fieldsResult({ minute: '0', hour: '0', dayOfMonth: '*', month: '*', dayOfWeek: '*' }, notes);
  if (hours === 168) return fieldsResult({ minute: '0', hour: '0', dayOfMonth: '*', month: '*', dayOfWeek: '1' }, notes);
  return { reason: `an interval of ${span} is not a day or a week, and cron cannot count longer intervals evenly` };
}

function cronOfCalendar(expression: string, hostTimeZone: string): CronSchedule {
  const spec = parseCalendar(expression);
  if (!spec) return { reason: `svcctl cannot read "${expression}" as a calendar expression it can translate` };
  if (spec.timeZone !== undefined && !sameZone(spec.timeZone, hostTimeZone)) {
    return { reason: `"${expression}" runs in ${spec.timeZone}, the host in ${hostTimeZone}, and Debian's cron has no CRON_TZ` };
  }
  if (spec.second === undefined || spec.second.length !== 1 || spec.second[0]!.from !== 0 || spec.second[0]!.to !== 0) {
    return { reason: `"${expression}" elapses at seconds other than :00, and cron counts in minutes` };
  }
  if (spec.year !== undefined) return { reason: `"${expression}" names years, which cron has no field for` };
  if (spec.fromMonthEnd) return { reason: `"${expression}" counts days from the end of the month, which cron cannot` };
  if (spec.weekdays !== undefined && spec.day !== undefined) {
    return { reason: `"${expression}" needs a weekday and a day of the month at once; cron runs when either matches` };
  }
  return fieldsResult(
    { minute: cronField(spec.minute, 'minute'), hour: cronField(spec.hour, 'hour'), dayOfMonth: cronField(spec.day, 'day'), month: cronField(spec.month, 'month'), dayOfWeek: cronWeekdays(spec.weekdays) },
    ['cron does not make up a run missed while the machine was off (the timer, Persistent=true, does)'],
  );
}
