// Table tests for the pure time helpers: systemd's timestamps in, absolute and relative times out.
import fc from 'fast-check';
import { formatRelative, formatTimestamp, formatWhen, isUtcZone, parseSystemdTimestamp, usecOrUndefined, usecToIso } from '../../src/core/time.js';
import { userTimeZone } from '../../src/system/timezone.js';

const s = 1_000_000;
const at = (iso: string) => Date.parse(iso) * 1000;

describe('parseSystemdTimestamp', () => {
  test.each([
    ['Sun 2026-11-22 00:03:54.721290 UTC', at('2026-11-22T00:03:54Z') + 721_290],
    ['Sun 2026-11-22 00:03:54 UTC', at('2026-11-22T00:03:54Z')],
    ['2026-11-22 00:03:54.5 UTC', at('2026-11-22T00:03:54Z') + 500_000],
    ['Mon 2024-02-29 23:59:59.000001 GMT', at('2024-02-29T23:59:59Z') + 1],
    ['@1795305834', 1_795_305_834 * s],
    ['@1795305834.000123', 1_795_305_834 * s + 123],
    ['  Sun 2026-11-22 00:03:54 UTC\n', at('2026-11-22T00:03:54Z')],
  ])('%j', (text, expected) => {
    expect(parseSystemdTimestamp(text)).toBe(expected);
  });

  test.each([[''], ['n/a'], ['0'], [undefined], ['Sun 2026-11-22 01:03:54 CET'], ['yesterday'], ['2026-11-22']])('%j is no time', (text) => {
    expect(parseSystemdTimestamp(text)).toBeUndefined();
  });

  test('round-trips any instant printed the way systemd prints it in UTC', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800 * s }), (usec) => {
        const date = new Date(Math.floor(usec / 1000));
        const micro = String(usec % s).padStart(6, '0');
        const text = `Sun ${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 19)}.${micro} UTC`;
        expect(parseSystemdTimestamp(text)).toBe(usec);
      }),
    );
  });
});

describe('usecOrUndefined / usecToIso', () => {
  test.each([
    [1_795_305_834_707_711, 1_795_305_834_707_711],
    [0, undefined],
    [null, undefined],
    ['12', undefined],
    [-5, undefined],
  ])('%j → %j', (value, expected) => {
    expect(usecOrUndefined(value)).toBe(expected);
  });

  test('ISO strings in UTC, null for none', () => {
    expect(usecToIso(at('2026-11-22T00:03:54.721Z') + 290)).toBe('2026-11-22T00:03:54.721Z');
    expect(usecToIso(undefined)).toBeNull();
  });
});

describe('formatRelative', () => {
  const now = at('2026-11-22T00:00:00Z');
  test.each([
    [now + 252 * s, 'in 4min 12s'],
    [now - 3 * 3600 * s, '3h ago'],
    [now + 400_000, 'in 400ms'],
    [now - 1500 * 1000, '1s ago'],
    [now + 500, 'now'],
    [now, 'now'],
  ])('%d → %s', (usec, text) => {
    expect(formatRelative(usec, now)).toBe(text);
  });
});

describe('formatTimestamp (in the user\'s time zone)', () => {
  const instant = at('2026-11-22T00:03:54Z');
  const summer = at('2026-07-01T12:00:00Z');
  test.each([
    [instant, 'UTC', 'Sun 2026-11-22 00:03:54 UTC'],
    [instant, 'Europe/Paris', 'Sun 2026-11-22 01:03:54 CET'],
    [summer, 'Europe/Paris', 'Wed 2026-07-01 14:00:00 CEST'],
    [instant, 'America/New_York', 'Sat 2026-11-21 19:03:54 EST'],
    [summer, 'America/New_York', 'Wed 2026-07-01 08:00:00 EDT'],
    [instant, 'Asia/Kolkata', 'Sun 2026-11-22 05:33:54 +05:30'],
    [instant, 'Australia/Sydney', 'Sun 2026-11-22 11:03:54 +11:00'],
    [instant + 999_999, 'UTC', 'Sun 2026-11-22 00:03:54 UTC'],
  ])('%d in %s', (usec, zone, text) => {
    expect(formatTimestamp(usec, zone)).toBe(text);
  });

  test.each([
    ['2026-03-29T00:59:59Z', 'Europe/Paris', 'Sun 2026-03-29 01:59:59 CET'],
    ['2026-03-29T01:00:00Z', 'Europe/Paris', 'Sun 2026-03-29 03:00:00 CEST'],
    ['2026-10-25T00:59:59Z', 'Europe/Paris', 'Sun 2026-10-25 02:59:59 CEST'],
    ['2026-10-25T01:00:00Z', 'Europe/Paris', 'Sun 2026-10-25 02:00:00 CET'],
    ['2026-04-04T14:59:59Z', 'Australia/Lord_Howe', 'Sun 2026-04-05 01:59:59 +11:00'],
    ['2026-04-04T15:00:00Z', 'Australia/Lord_Howe', 'Sun 2026-04-05 01:30:00 +10:30'],
  ])('across a daylight-saving change: %s in %s', (instant, zone, text) => {
    expect(formatTimestamp(at(instant), zone)).toBe(text);
  });

  test('agrees with Intl for any instant and zone (the quarter-hour offset cache is sound)', () => {
    const zones = ['Europe/Paris', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/St_Johns', 'UTC', 'Etc/UTC', 'Zulu'];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.constantFrom(...zones), (ms, zone) => {
        const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ms));
        const p = (type: string) => parts.find((x) => x.type === type)!.value;
        expect(formatTimestamp(ms * 1000, zone).slice(4, 23)).toBe(`${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}:${p('second')}`);
      }),
      { numRuns: 2000 },
    );
  });

  test('midnight is 00, not 24', () => {
    expect(formatTimestamp(at('2026-11-22T00:00:00Z'), 'UTC')).toBe('Sun 2026-11-22 00:00:00 UTC');
  });

  test('formatWhen joins both, or says never', () => {
    expect(formatWhen(instant + 60 * s, instant, 'UTC')).toBe('Sun 2026-11-22 00:04:54 UTC (in 1min)');
    expect(formatWhen(undefined, instant, 'UTC')).toBe('never');
    expect(formatWhen(undefined, instant, 'UTC', 'not scheduled')).toBe('not scheduled');
  });
});

describe('userTimeZone (TZ, else /etc/localtime; UTC without Intl)', () => {
  const instant = at('2026-11-22T00:03:54Z');
  const saved = process.env.TZ;
  afterEach(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });

  test.each([
    ['UTC', 'UTC'],
    [':Etc/UTC', 'UTC'],
    ['Etc/Universal', 'UTC'],
    ['Europe/Paris', 'Europe/Paris'],
    [':America/New_York', 'America/New_York'],
  ])('TZ=%s → %s', (tz, zone) => {
    process.env.TZ = tz;
    expect(userTimeZone()).toBe(zone);
  });

  test('without TZ, times print as ICU would print them in the system zone', () => {
    delete process.env.TZ;
    const zone = userTimeZone();
    const icu = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(isUtcZone(zone) ? isUtcZone(icu) : zone === icu).toBe(true);
    for (const usec of [instant, at('2026-07-01T12:00:00Z')]) expect(formatTimestamp(usec, zone)).toBe(formatTimestamp(usec, icu));
  });

  test('UTC and its aliases print as UTC, like date +%Z', () => {
    for (const zone of ['UTC', 'Etc/UTC', 'Zulu', 'Etc/UCT']) expect(formatTimestamp(instant, zone)).toBe('Sun 2026-11-22 00:03:54 UTC');
  });
});
