// The schedule model against systemd's own answers (recorded from systemd-analyze, see test/fixtures/schedule/record.mjs),
// plus property tests over generated spans and expressions.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { UserError } from '../../src/core/errors.js';
import {
  calendarElapses,
  calendarPeriod,
  cronScheduleOf,
  declaredScheduleProblem,
  formatSpan,
  parseCalendar,
  parseSchedule,
  parseTimespan,
  renderTimerTriggers,
  scheduleDropInLines,
  schedulePeriod,
  timerTriggersOf,
  timespanParts,
  type CronFields,
} from '../../src/core/schedule.js';

interface Recorded {
  recorded: string;
  base: string;
  timespans: { text: string; usec: string | null }[];
  calendars: { expression: string; normalized: string | null; elapses: string[] }[];
}
const recorded = JSON.parse(readFileSync(new URL('../fixtures/schedule/systemd-analyze.json', import.meta.url), 'utf8')) as Recorded;
const base = Date.parse('2026-01-01T00:00:00Z') * 1000;
const s = 1_000_000;
const iso = (usec: number) => new Date(usec / 1000).toISOString().replace('.000Z', 'Z');
const zoned = (expression: string) => parseCalendar(expression)?.timeZone !== undefined;

describe('time spans, as systemd-analyze timespan reads them', () => {
  test.each(recorded.timespans.map((row) => [row.text, row.usec] as const))('%j → %s µs', (text, usec) => {
    const seconds = parseTimespan(text);
    if (usec === null) expect(seconds).toBeUndefined();
    else expect(Math.round(seconds! * s)).toBe(Number(usec));
  });

  test('"infinity" is Infinity, alone only', () => {
    expect(parseTimespan('infinity')).toBe(Infinity);
    expect(parseTimespan(' infinity ')).toBe(Infinity);
    expect(parseTimespan('infinity 5s')).toBeUndefined();
    expect(parseTimespan(undefined)).toBeUndefined();
  });

  test('property: any span of parts, however spaced and spelled, parses to their sum', () => {
    const unit = fc.constantFrom(
      ['s', 1], ['sec', 1], ['seconds', 1], ['min', 60], ['m', 60], ['minutes', 60], ['h', 3600], ['hr', 3600], ['hours', 3600],
      ['d', 86_400], ['days', 86_400], ['w', 604_800], ['weeks', 604_800], ['M', 2_629_800], ['month', 2_629_800], ['y', 31_557_600],
      ['ms', 1e-3], ['msec', 1e-3], ['us', 1e-6], ['µs', 1e-6], ['', 1],
    );
    const part = fc.record({ whole: fc.integer({ min: 0, max: 999 }), fraction: fc.option(fc.integer({ min: 0, max: 99 }), { nil: undefined }), unit, gap: fc.constantFrom('', ' ', '  ', '\t') });
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), fc.constantFrom(' ', '', '\t '), (parts, joiner) => {
        // Without a separator a bare number would run into the next part's digits: systemd reads those as one number too.
        const separator = (i: number) => (i === 0 ? '' : parts[i - 1]!.unit[0] === '' && joiner === '' ? ' ' : joiner);
        const text = parts.map((p, i) => `${separator(i)}${p.whole}${p.fraction !== undefined ? `.${String(p.fraction).padStart(2, '0')}` : ''}${p.unit[0] === '' ? '' : p.gap}${p.unit[0]}`).join('');
        const expected = parts.reduce((sum, p) => sum + (p.whole + (p.fraction ?? 0) / 100) * (p.unit[1] as number), 0);
        expect(parseTimespan(text)).toBeCloseTo(expected, 6);
        const schedule = parseSchedule(text);
        expect(schedule.kind).toBe('interval');
        if (schedule.kind !== 'interval') return;
        // Normalised once, it stays the same and means the same.
        expect(parseSchedule(schedule.span)).toEqual(schedule);
        expect(parseTimespan(schedule.span)).toBeCloseTo(expected, 6);
        expect(schedule.span).not.toMatch(/\s{2}|^\s|\s$/);
      }),
      { numRuns: 2000 },
    );
  });

  test('property: arbitrary text never throws; what parses has parts that parse alone', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('1', '2', '0', '.', '+', '-', ' ', '\t', 's', 'm', 'i', 'n', 'h', 'M', 'u', 'µ', 'd', 'e', 'c', 'x'), maxLength: 16 }), (text) => {
        const parts = timespanParts(text);
        if (parts === undefined) return;
        for (const part of parts) expect(parseTimespan(part.text)).toBeCloseTo(part.seconds, 9);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('formatSpan (two units, as list-timers shows them)', () => {
  test.each([
    [0, '0ms'],
    [350_000, '350ms'],
    [999_999, '999ms'],
    [1 * s, '1s'],
    [12 * s + 400_000, '12s'],
    [4 * 60 * s + 12 * s, '4min 12s'],
    [3600 * s, '1h'],
    [3600 * s + 5 * s, '1h'],
    [3 * 3600 * s + 2 * 60 * s + 7 * s, '3h 2min'],
    [59 * 60 * s + 48 * s, '59min 48s'],
    [86_400 * s + 3600 * s, '1d 1h'],
    [8 * 86_400 * s, '1w 1d'],
    [40 * 86_400 * s, '1month 1w'],
    [400 * 86_400 * s, '1y 1month'],
    [-(4 * 60 * s + 12 * s), '4min 12s'],
  ])('%d µs → %s', (usec, text) => {
    expect(formatSpan(usec)).toBe(text);
  });

  test('property: what formatSpan prints is a span systemd reads, within the units it dropped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000_000, max: 100 * 31_557_600 * s }), (usec) => {
        const seconds = parseTimespan(formatSpan(usec))!;
        expect(seconds).toBeLessThanOrEqual(usec / s);
        expect(seconds).toBeGreaterThan((usec / s) * 0.4);
      }),
    );
  });
});

describe('parseSchedule', () => {
  test.each([
    ['5min', '5min'],
    ['every 15min', '15min'],
    ['Every 15min', '15min'],
    ['15 min', '15min'],
    ['1 h 30 min', '1h 30min'],
    ['1h30min', '1h 30min'],
    ['  2hours  ', '2hours'],
    ['300', '300'],
    ['every 300', '300'],
    ['+5s', '5s'],
    ['5 10min', '5 10min'],
  ])('%j is the interval %j', (text, span) => {
    expect(parseSchedule(text)).toEqual({ kind: 'interval', span });
  });

  test.each(['daily', 'Mon *-*-* 03:00', '*:0/15', 'every day', '5 fortnights', '-5min', 'infinity'])('%j is a calendar expression', (text) => {
    expect(parseSchedule(text)).toEqual({ kind: 'calendar', expression: text });
  });

  test('a randomized delay is part of the schedule, normalised; a bad one is refused', () => {
    expect(parseSchedule('daily', '30 min')).toEqual({ kind: 'calendar', expression: 'daily', randomizedDelay: '30min' });
    expect(parseSchedule('1h', '5min')).toEqual({ kind: 'interval', span: '1h', randomizedDelay: '5min' });
    expect(() => parseSchedule('daily', 'a bit')).toThrow(UserError);
    expect(() => parseSchedule('  ')).toThrow(UserError);
  });

  test('property: any text is an interval or a calendar expression, never an exception (unless empty)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 30 }), (text) => {
        if (text.trim() === '') expect(() => parseSchedule(text)).toThrow(UserError);
        else expect(['interval', 'calendar']).toContain(parseSchedule(text).kind);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('calendar expressions, against systemd-analyze calendar', () => {
  const understood = recorded.calendars.filter((row) => row.normalized !== null);
  const refused = recorded.calendars.filter((row) => row.normalized === null);

  test.each(understood.filter((row) => !zoned(row.expression)).map((row) => [row.expression, row] as const))('%j: the same twelve elapses', (expression, row) => {
    expect(calendarElapses(expression, base, 12)!.map(iso)).toEqual(row.elapses);
  });

  test.each(understood.filter((row) => zoned(row.expression)).map((row) => [row.expression, row] as const))('%j (zoned): the same spacing', (expression, row) => {
    const ours = calendarElapses(expression, base, 12)!;
    const theirs = row.elapses.map((e) => Date.parse(e) * 1000);
    const gaps = (list: number[]) => list.slice(1).map((at, i) => at - list[i]!);
    expect(gaps(ours)).toEqual(gaps(theirs));
  });

  test.each(refused.map((row) => [row.expression]))('%j, which systemd refuses, is not understood', (expression) => {
    expect(parseCalendar(expression)).toBeUndefined();
  });

  test.each(understood.map((row) => [row.expression, row] as const))('%j: the period covers every recorded gap', (expression, row) => {
    const elapses = row.elapses.map((e) => Date.parse(e) / 1000);
    const longest = Math.max(...elapses.slice(1).map((at, i) => at - elapses[i]!));
    expect(calendarPeriod(expression)).toBeGreaterThanOrEqual(longest);
  });

  test.each<[string, number | undefined]>([
    ['daily', 86_400],
    ['hourly', 3600],
    ['weekly', 604_800],
    ['monthly', 31 * 86_400],
    ['quarterly', 92 * 86_400],
    ['semiannually', 184 * 86_400],
    ['yearly', 366 * 86_400],
    ['*-*-* 02:00:00', 86_400],
    ['*-*-* 02:00:00 America/New_York', 86_400],
    ['*-*-* 02:00', 86_400],
    ['Mon..Fri 09:00', 3 * 86_400],
    ['Mon..Fri *-*-* 09..17:00:00', 64 * 3600],
    ['Mon *-*-* 03:00:00', 7 * 86_400],
    ['Sat,Sun 10:00', 6 * 86_400],
    ['*:0/15', 900],
    ['*-*-* *:00:00', 3600],
    ['*-*-* 06,18:00:00', 12 * 3600],
    ['*-*-* *:*:00', 60],
    ['*-*-01 04:00:00', 31 * 86_400],
    ['*-01-01 00:00:00', 366 * 86_400],
    ['Fri *-*-13 12:00', 427 * 86_400],
    ['2030-01-01 00:00:00', undefined],
    ['not a calendar', undefined],
  ])('period of %j: %p s', (expression, seconds) => {
    expect(calendarPeriod(expression)).toBe(seconds);
  });

  test('schedulePeriod: an interval is its span', () => {
    expect(schedulePeriod(parseSchedule('every 15min'))).toBe(900);
    expect(schedulePeriod(parseSchedule('daily'))).toBe(86_400);
    expect(schedulePeriod({ kind: 'interval', span: '0' })).toBeUndefined();
  });

  test('property: generated expressions elapse in order, each matching its own structure', () => {
    const list = (max: number) => fc.uniqueArray(fc.integer({ min: 0, max }), { minLength: 1, maxLength: 3 }).map((values) => values.sort((a, b) => a - b));
    const weekday = fc.option(fc.subarray(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], { minLength: 1 }), { nil: undefined });
    fc.assert(
      fc.property(weekday, list(23), list(59), fc.integer({ min: 1, max: 6 }), (days, hours, minutes, step) => {
        const expression = `${days ? `${days.join(',')} ` : ''}*-*-* ${hours.join(',')}:${minutes.join(',')}/${step}:00`;
        const elapses = calendarElapses(expression, base, 20)!;
        expect(elapses.length).toBe(20);
        for (let i = 1; i < elapses.length; i++) expect(elapses[i]!).toBeGreaterThan(elapses[i - 1]!);
        for (const at of elapses) {
          const date = new Date(at / 1000);
          expect(hours).toContain(date.getUTCHours());
          expect(minutes.some((m) => date.getUTCMinutes() >= m && (date.getUTCMinutes() - m) % step === 0)).toBe(true);
          if (days) expect(days).toContain(['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][date.getUTCDay()]);
        }
        expect(calendarPeriod(expression)).toBeGreaterThanOrEqual(Math.max(...elapses.slice(1).map((at, i) => (at - elapses[i]!) / s)));
      }),
      { numRuns: 300 },
    );
  });
});

/** When cron would run the fields, from `after` (exclusive), to the minute: crontab(5)'s rules, day of month OR day of week. */
function cronMatches(fields: CronFields, after: number, count: number): number[] {
  const matcher = (field: string, min: number, max: number) => {
    const values = new Set<number>();
    for (const item of field.split(',')) {
      const [range, stepText] = item.split('/');
      const step = stepText === undefined ? 1 : Number(stepText);
      const [from, to] = range === '*' ? [min, max] : range!.includes('-') ? range!.split('-').map(Number) : [Number(range), stepText === undefined ? Number(range) : max];
      for (let v = from!; v <= to!; v += step) values.add(v === 7 && max === 7 ? 0 : v);
    }
    return values;
  };
  const minutes = matcher(fields.minute, 0, 59);
  const hours = matcher(fields.hour, 0, 23);
  const doms = matcher(fields.dayOfMonth, 1, 31);
  const months = matcher(fields.month, 1, 12);
  const dows = matcher(fields.dayOfWeek, 0, 7);
  const out: number[] = [];
  for (let midnight = Math.floor(after / (86_400 * s)) * 86_400 * s; out.length < count; midnight += 86_400 * s) {
    const date = new Date(midnight / 1000);
    const domRestricted = fields.dayOfMonth !== '*';
    const dowRestricted = fields.dayOfWeek !== '*';
    const dayOk = domRestricted && dowRestricted ? doms.has(date.getUTCDate()) || dows.has(date.getUTCDay()) : doms.has(date.getUTCDate()) && dows.has(date.getUTCDay());
    if (!dayOk || !months.has(date.getUTCMonth() + 1)) continue;
    for (const h of [...hours].sort((a, b) => a - b)) {
      for (const m of [...minutes].sort((a, b) => a - b)) {
        const at = midnight + (h * 3600 + m * 60) * s;
        if (at > after && out.length < count) out.push(at);
      }
    }
  }
  return out;
}

describe('cron', () => {
  test.each(recorded.calendars.filter((row) => row.normalized !== null && !zoned(row.expression)).map((row) => [row.expression, row] as const))(
    '%j: where cron can express it, cron runs at the times systemd recorded',
    (expression, row) => {
      const cron = cronScheduleOf(parseSchedule(expression), 'UTC');
      if ('reason' in cron) {
        expect(cron.reason).toMatch(/seconds|years|end of the month|weekday and a day of the month/);
        return;
      }
      expect(cronMatches(cron.fields, base, 12).map(iso)).toEqual(row.elapses);
    },
  );

  test.each<[string, string]>([
    ['daily', '0 0 * * *'],
    ['hourly', '0 * * * *'],
    ['weekly', '0 0 * * 1'],
    ['monthly', '0 0 1 * *'],
    ['quarterly', '0 0 1 1,4,7,10 *'],
    ['Mon..Fri 09:00', '0 9 * * 1-5'],
    ['Sat,Sun 10:00', '0 10 * * 0,6'],
    ['Mon,Tue 10:00', '0 10 * * 1,2'],
    ['*:0/15', '*/15 * * * *'],
    ['*:5/15', '5-59/15 * * * *'],
    ['*-*-1/2 04:30', '30 4 */2 * *'],
    ['1..10/3:00', '0 1-10/3 * * *'],
    ['*-*-* 02:00:00 UTC', '0 2 * * *'],
    ['*-*-* 02:00:00 Etc/UTC', '0 2 * * *'],
    ['15min', '*/15 * * * *'],
    ['1min', '* * * * *'],
    ['1h', '0 * * * *'],
    ['6h', '0 */6 * * *'],
    ['1d', '0 0 * * *'],
    ['24h', '0 0 * * *'],
    ['1w', '0 0 * * 1'],
  ])('%j → %s', (text, line) => {
    const cron = cronScheduleOf(parseSchedule(text), 'Etc/UTC');
    expect(cron).toMatchObject({ line });
  });

  test.each<[string, string | undefined, RegExp]>([
    ['10s', undefined, /not a whole number of minutes/],
    ['7min', undefined, /does not divide an hour/],
    ['1h 30min', undefined, /not a whole number of hours/],
    ['5h', undefined, /does not divide a day/],
    ['2d', undefined, /not a day or a week/],
    ['1M', undefined, /not a whole number of hours/],
    ['*-*-* *:*:0/10', undefined, /seconds other than :00/],
    ['10:00:30', undefined, /seconds other than :00/],
    ['*-*-* 02:00:00 America/New_York', undefined, /runs in America\/New_York.*no CRON_TZ/],
    ['2026-*-* 10:00', undefined, /years/],
    ['*-*~1', undefined, /end of the month/],
    ['Fri *-*-13 12:00', undefined, /either matches/],
    ['@1700000000', undefined, /cannot read/],
    ['daily', '1h', /randomized delay \(RandomizedDelaySec=1h\)/],
  ])('%j (delay %j): cron cannot, and says why', (text, delay, reason) => {
    const cron = cronScheduleOf(parseSchedule(text, delay), 'UTC');
    expect('reason' in cron && cron.reason).toMatch(reason);
  });

  test('a zone is fine when it is the host\'s', () => {
    expect(cronScheduleOf(parseSchedule('*-*-* 02:00:00 America/New_York'), 'America/New_York')).toMatchObject({ line: '0 2 * * *' });
  });
});

describe('timer triggers', () => {
  test('an interval: OnActiveSec and OnUnitActiveSec; a calendar: OnCalendar and Persistent; a randomized delay when given', () => {
    expect(renderTimerTriggers(parseSchedule('15 min'))).toEqual(['OnActiveSec=15min', 'OnUnitActiveSec=15min']);
    expect(renderTimerTriggers(parseSchedule('daily'))).toEqual(['OnCalendar=daily', 'Persistent=true']);
    expect(renderTimerTriggers(parseSchedule('daily', '1h'))).toEqual(['OnCalendar=daily', 'Persistent=true', 'RandomizedDelaySec=1h']);
    // More often than every 10 minutes: a tenth of the period as AccuracySec= (systemd's default is a minute).
    expect(renderTimerTriggers(parseSchedule('30s'))).toEqual(['OnActiveSec=30s', 'OnUnitActiveSec=30s', 'AccuracySec=3s']);
    expect(renderTimerTriggers(parseSchedule('1s'))).toEqual(['OnActiveSec=1s', 'OnUnitActiveSec=1s', 'AccuracySec=100ms']);
    expect(renderTimerTriggers(parseSchedule('*:0/5'))).toEqual(['OnCalendar=*:0/5', 'Persistent=true', 'AccuracySec=30s']);
    expect(renderTimerTriggers(parseSchedule('9min 59s')).at(-1)).toBe('AccuracySec=59s');
    expect(renderTimerTriggers(parseSchedule('10min'))).toEqual(['OnActiveSec=10min', 'OnUnitActiveSec=10min']);
    // A timer's own finer AccuracySec= is kept; a coarser one is replaced.
    expect(scheduleDropInLines(parseSchedule('30s'), '[Timer]\nOnCalendar=daily\nAccuracySec=1ms\n')).not.toContainEqual(expect.stringMatching(/^AccuracySec=/));
    expect(scheduleDropInLines(parseSchedule('30s'), '[Timer]\nOnCalendar=daily\nAccuracySec=10s\n').at(-1)).toBe('AccuracySec=3s');
    expect(scheduleDropInLines(parseSchedule('30s'), '[Unit]\nAccuracySec=1ms\n[Timer]\nOnCalendar=daily\n').at(-1)).toBe('AccuracySec=3s');
    expect(scheduleDropInLines(parseSchedule('1h')).slice(0, 6)).toEqual(['OnActiveSec=', 'OnBootSec=', 'OnStartupSec=', 'OnUnitActiveSec=', 'OnUnitInactiveSec=', 'OnCalendar=']);
  });

  test('timerTriggersOf reads a timer file as systemd does', () => {
    const text = [
      '[Unit]',
      'OnCalendar=ignored (not [Timer])',
      '[Timer]',
      '# OnCalendar=commented',
      'OnBootSec=5min',
      'OnCalendar=Mon..Fri \\',
      '; a comment inside a continued line is skipped',
      '  09:00',
      'RandomizedDelaySec=10min',
      'Persistent=yes',
      '[Install]',
      'WantedBy=timers.target',
    ].join('\n');
    // The backslash becomes a space and the next line's indentation goes: "Mon..Fri " + " " + "09:00", as systemd joins it.
    expect(timerTriggersOf(text)).toEqual({ calendar: ['Mon..Fri  09:00'], monotonic: [{ directive: 'OnBootSec', span: '5min' }], randomizedDelay: '10min', persistent: true });
  });

  test('an empty trigger assignment resets every trigger, so a drop-in replaces the unit\'s schedule', () => {
    const unit = '[Timer]\nOnCalendar=daily\nOnUnitActiveSec=1h\n';
    const dropIn = `[Timer]\n${scheduleDropInLines(parseSchedule('15min')).join('\n')}\n`;
    expect(timerTriggersOf(unit + dropIn)).toEqual({ calendar: [], monotonic: [{ directive: 'OnActiveSec', span: '15min' }, { directive: 'OnUnitActiveSec', span: '15min' }], persistent: false });
  });

  test('property: what renderTimerTriggers writes, timerTriggersOf reads back', () => {
    fc.assert(
      fc.property(fc.constantFrom('15min', '1h 30min', 'daily', 'Mon..Fri 09:00', '*-*-* 02:00:00 Europe/Paris', '300'), fc.option(fc.constantFrom('5min', '1h'), { nil: undefined }), (text, delay) => {
        const schedule = parseSchedule(text, delay);
        const read = timerTriggersOf(`[Timer]\n${scheduleDropInLines(schedule).join('\n')}\n`);
        if (schedule.kind === 'interval') expect(read.monotonic.map((t) => t.span)).toEqual([schedule.span, schedule.span]);
        else expect(read.calendar).toEqual([schedule.expression]);
        expect(read.randomizedDelay).toBe(delay);
      }),
    );
  });
});

describe('declaredScheduleProblem (a bundle\'s default schedule against its timer file)', () => {
  const timer = (body: string) => `[Unit]\nDescription=t\n\n[Timer]\n${body}\n\n[Install]\nWantedBy=timers.target\n`;
  test.each<[string, string, string, RegExp | undefined]>([
    ['the tick fixture', '1s', 'OnActiveSec=1s\nOnUnitActiveSec=1s\nAccuracySec=100ms', undefined],
    ['the same interval, spelled otherwise', '90min', 'OnBootSec=1min\nOnUnitActiveSec=1h 30min', undefined],
    ['a manifest saying 6h, a timer firing every second', '6h', 'OnActiveSec=1s\nOnUnitActiveSec=1s', /declares the schedule "6h", but x.timer fires every 1s \(OnActiveSec=1s, OnUnitActiveSec=1s\)/],
    ['an interval against a calendar timer', '1h', 'OnCalendar=hourly', /fires on a calendar/],
    ['the same calendar, spelled otherwise', 'daily', 'OnCalendar=*-*-* 00:00:00\nPersistent=true', undefined],
    ['another time of day', 'daily', 'OnCalendar=*-*-* 03:00:00', /fires at other times/],
    ['another zone', '*-*-* 02:00:00 UTC', 'OnCalendar=*-*-* 02:00:00 Europe/Paris', /another time zone/],
    ['a calendar against a repeating interval', 'daily', 'OnUnitActiveSec=1d', /fires every 1d/],
    ['a timer that fires once', 'daily', 'OnBootSec=5min', /fires once and never again/],
    ['a timer with no trigger', 'daily', 'AccuracySec=1s', /has no trigger/],
    ['an expression svcctl does not read is not judged', '@1700000000', 'OnCalendar=daily', undefined],
  ])('%s', (_title, declared, body, problem) => {
    const found = declaredScheduleProblem('x.timer', declared, timer(body));
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  test('the built-in bundle and the fixtures declare what their timers do', () => {
    const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
    expect(declaredScheduleProblem('tick.timer', '1s', read('test/fixtures/lifecycle/tick/tick.timer'))).toBeUndefined();
    expect(declaredScheduleProblem('failing.timer', '1h', read('test/fixtures/lifecycle/failing/failing.timer'))).toBeUndefined();
    expect(declaredScheduleProblem('cleanup-blocking-coordination.timer', '5min', read('units/cleanup-blocking/cleanup-blocking-coordination.timer'))).toBeUndefined();
  });
});
