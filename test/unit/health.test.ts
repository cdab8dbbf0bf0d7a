// Table tests for the pure health evaluation behind `svcctl check`: unit properties as systemctl prints them, no systemd.
import {
  evaluateCheck,
  formatCheckLine,
  previousLastSuccess,
  renderTextfileMetrics,
  resolveMaxAge,
  subjectFromReceipt,
  type CheckInput,
  type CheckStatus,
  type CheckSubject,
  type UnitProperties,
} from '../../src/core/health.js';
import type { Receipt } from '../../src/core/receipt.js';

const s = 1_000_000;
const now = Date.parse('2026-11-22T12:00:00Z') * 1000;
/** A timestamp `seconds` before now, printed the way `TZ=UTC systemctl show` prints it. */
const ago = (seconds: number) => {
  const iso = new Date((now - seconds * s) / 1000).toISOString();
  return `Sun ${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
};
const later = (seconds: number) => ago(-seconds);

const timerJob: CheckSubject = {
  bundle: 'tick',
  from: 'receipt',
  units: ['tick.service', 'tick.timer'],
  enabled: ['tick.timer'],
  service: 'tick.service',
  timer: 'tick.timer',
  schedule: '5min',
  health: { maxAge: '10min' },
};
const daemon: CheckSubject = {
  bundle: 'daemon',
  from: 'receipt',
  units: ['daemon.service'],
  enabled: ['daemon.service'],
  service: 'daemon.service',
  health: { url: 'http://127.0.0.1:18080/' },
};

const activeTimer: UnitProperties = {
  LoadState: 'loaded',
  ActiveState: 'active',
  SubState: 'waiting',
  UnitFileState: 'enabled',
  ActiveEnterTimestamp: ago(3600),
  LastTriggerUSec: ago(60),
  NextElapseUSecRealtime: later(240),
  NextElapseUSecMonotonic: '0',
};
const succeeded = (seconds: number): UnitProperties => ({
  LoadState: 'loaded',
  ActiveState: 'inactive',
  SubState: 'dead',
  Result: 'success',
  UnitFileState: 'static',
  Type: 'oneshot',
  ExecMainStartTimestamp: ago(seconds + 1),
  ExecMainExitTimestamp: ago(seconds),
  ExecMainStatus: '0',
  ExecMainCode: '1',
});
const neverRan: UnitProperties = { LoadState: 'loaded', ActiveState: 'inactive', SubState: 'dead', Result: 'success', UnitFileState: 'static', Type: 'oneshot', ExecMainStartTimestamp: '', ExecMainExitTimestamp: '', ExecMainStatus: '0' };
const runningDaemon = (overrides: UnitProperties = {}): UnitProperties => ({
  LoadState: 'loaded',
  ActiveState: 'active',
  SubState: 'running',
  Result: 'success',
  UnitFileState: 'enabled',
  Type: 'simple',
  ActiveEnterTimestamp: ago(120),
  NRestarts: '0',
  ...overrides,
});

function job(service: UnitProperties, timer: UnitProperties = activeTimer, extra: Partial<CheckInput> = {}): CheckInput {
  return { subject: timerJob, units: { 'tick.service': service, 'tick.timer': timer }, now, monotonicNow: 1000 * s, ...extra };
}

describe('resolveMaxAge', () => {
  const subject = (schedule: string | undefined, maxAge?: string): CheckSubject => ({
    ...timerJob,
    ...(schedule !== undefined ? { schedule } : { schedule: undefined }),
    health: maxAge !== undefined ? { maxAge } : {},
  });
  test.each<[string, CheckSubject, string | undefined, { seconds: number; source: string } | undefined]>([
    ['the flag wins', subject('5min', '1h'), '2h', { seconds: 7200, source: 'flag' }],
    ['then the manifest', subject('5min', '1h'), undefined, { seconds: 3600, source: 'manifest' }],
    ['an interval: twice it', subject('5min'), undefined, { seconds: 600, source: 'schedule' }],
    ['"every 15min" too', subject('every 15min'), undefined, { seconds: 1800, source: 'schedule' }],
    ['a tiny interval: at least interval + 1 min', subject('1s'), undefined, { seconds: 61, source: 'schedule' }],
    ['a daily calendar: 25 h', subject('*-*-* 02:00:00 America/New_York'), undefined, { seconds: 90_000, source: 'schedule' }],
    ['daily shorthand: 25 h', subject('daily'), undefined, { seconds: 90_000, source: 'schedule' }],
    ['hourly: 2 h', subject('hourly'), undefined, { seconds: 7200, source: 'schedule' }],
    ['weekly: a week and an hour', subject('weekly'), undefined, { seconds: 608_400, source: 'schedule' }],
    ['no schedule, no manifest: none', subject(undefined), undefined, undefined],
  ])('%s', (_title, subj, flag, expected) => {
    expect(resolveMaxAge(subj, flag)).toEqual(expected);
  });

  test('an invalid --max-age is refused', () => {
    expect(() => resolveMaxAge(timerJob, 'a while')).toThrow(/not a time span/);
  });
});

describe('evaluateCheck', () => {
  test.each<[string, CheckInput, CheckStatus, RegExp]>([
    ['timer job: last run succeeded recently', job(succeeded(30)), 'OK', /last run succeeded 30s ago \(max age 10min\), next run in 4min/],
    ['timer job: late, within twice the max age', job(succeeded(15 * 60)), 'WARNING', /late: last success 15min ago \(max age 10min\)/],
    ['timer job: last success too old', job(succeeded(25 * 60)), 'CRITICAL', /last success 25min ago, more than twice the max age 10min/],
    [
      'timer job: last run failed',
      job({ ...succeeded(30), ActiveState: 'failed', SubState: 'failed', Result: 'exit-code', ExecMainStatus: '3' }),
      'CRITICAL',
      /last run failed \(exit status 3, 30s ago\); see journalctl -u tick.service/,
    ],
    ['timer job: killed by a signal', job({ ...succeeded(30), ActiveState: 'failed', Result: 'signal', ExecMainStatus: '9' }), 'CRITICAL', /last run failed \(signal/],
    ['timer job: never ran yet', job(neverRan, { ...activeTimer, LastTriggerUSec: '', ActiveEnterTimestamp: ago(60) }), 'WARNING', /never ran yet/],
    [
      'timer job: never ran although the timer has waited more than twice the max age',
      job(neverRan, { ...activeTimer, LastTriggerUSec: '', ActiveEnterTimestamp: ago(3 * 3600) }),
      'CRITICAL',
      /never ran, though the timer has been active for 3h/,
    ],
    ['timer job: no run since boot, the timer fired before', job(neverRan, { ...activeTimer, LastTriggerUSec: ago(7200) }), 'WARNING', /no run since boot \(timer last fired 2h ago/],
    ['timer job: running now', job({ ...neverRan, ActiveState: 'activating', SubState: 'start', ExecMainStartTimestamp: ago(2) }), 'OK', /running now \(started 2s ago\)/],
    ['timer job: running for longer than the max age', job({ ...neverRan, ActiveState: 'activating', ExecMainStartTimestamp: ago(3600) }), 'WARNING', /running for 1h/],
    ['timer job: timer inactive', job(succeeded(30), { ...activeTimer, ActiveState: 'inactive', SubState: 'dead', NextElapseUSecRealtime: '' }), 'CRITICAL', /timer tick.timer is inactive/],
    ['timer job: timer running but not enabled', job(succeeded(30), { ...activeTimer, UnitFileState: 'disabled' }), 'WARNING', /tick.timer is disabled \(it will not start at boot\)/],
    ['timer job: unit file gone', job({ LoadState: 'not-found', ActiveState: 'inactive' }), 'CRITICAL', /tick.service is not-found/],
    [
      'timer job: next elapse on the monotonic clock',
      job(succeeded(30), { ...activeTimer, NextElapseUSecRealtime: '', NextElapseUSecMonotonic: '16min 42s' }),
      'OK',
      /next run in 2s/,
    ],
    [
      'timer job: the timer re-arming right after a run',
      job(succeeded(0.2), { ...activeTimer, SubState: 'running', NextElapseUSecRealtime: '', NextElapseUSecMonotonic: 'infinity' }),
      'OK',
      /last run succeeded \S+ ago \(max age 10min\), next run after the current one$/,
    ],
    [
      'timer job: a one-time timer that has elapsed',
      job(succeeded(30), { ...activeTimer, SubState: 'elapsed', NextElapseUSecRealtime: '', NextElapseUSecMonotonic: '0' }),
      'OK',
      /no next run \(the timer has elapsed\)$/,
    ],
    ['systemd did not answer', { subject: timerJob, units: {}, now, monotonicNow: 0 }, 'UNKNOWN', /systemd did not answer/],
    ['not installed', { units: {}, now, monotonicNow: 0 }, 'UNKNOWN', /not installed/],
    ['an invalid --max-age is UNKNOWN', job(succeeded(30), activeTimer, { maxAge: 'forever-ish' }), 'UNKNOWN', /not a time span/],
    ['--max-age overrides the manifest', job(succeeded(15 * 60), activeTimer, { maxAge: '1h' }), 'OK', /max age 1h/],
    [
      'daemon: active and its URL answers',
      { subject: daemon, units: { 'daemon.service': runningDaemon() }, url: { url: 'http://127.0.0.1:18080/', ok: true, status: 200, ms: 3 }, now, monotonicNow: 0 },
      'OK',
      /daemon.service active for 2min, http:\/\/127.0.0.1:18080\/ answered 200 in 3 ms/,
    ],
    [
      'daemon: active but its URL is down',
      { subject: daemon, units: { 'daemon.service': runningDaemon() }, url: { url: 'http://127.0.0.1:18080/', ok: false, error: 'connection refused', ms: 1 }, now, monotonicNow: 0 },
      'CRITICAL',
      /http:\/\/127.0.0.1:18080\/ is down \(connection refused\)/,
    ],
    ['daemon: failed', { subject: daemon, units: { 'daemon.service': runningDaemon({ ActiveState: 'failed', Result: 'exit-code', ExecMainCode: '1', ExecMainStatus: '1' }) }, now, monotonicNow: 0 }, 'CRITICAL', /daemon.service failed \(exit status 1\)/],
    ['daemon: killed', { subject: daemon, units: { 'daemon.service': runningDaemon({ ActiveState: 'failed', Result: 'signal', ExecMainStatus: '9' }) }, now, monotonicNow: 0 }, 'CRITICAL', /daemon.service failed \(signal\)/],
    [
      'daemon: crash loop',
      { subject: daemon, units: { 'daemon.service': runningDaemon({ ActiveState: 'activating', SubState: 'auto-restart', NRestarts: '4' }) }, now, monotonicNow: 0 },
      'CRITICAL',
      /keeps failing and is being restarted \(4 restarts\)/,
    ],
    ['daemon: stopped', { subject: daemon, units: { 'daemon.service': runningDaemon({ ActiveState: 'inactive', SubState: 'dead' }) }, now, monotonicNow: 0 }, 'CRITICAL', /daemon.service is not running \(inactive\)/],
    ['daemon: starting', { subject: daemon, units: { 'daemon.service': runningDaemon({ ActiveState: 'activating', SubState: 'start' }) }, now, monotonicNow: 0 }, 'WARNING', /daemon.service is activating/],
    [
      'daemon: disabled',
      { subject: daemon, units: { 'daemon.service': runningDaemon({ UnitFileState: 'disabled' }) }, now, monotonicNow: 0 },
      'WARNING',
      /daemon.service is disabled/,
    ],
  ])('%s', (_title, input, status, summary) => {
    const result = evaluateCheck(input);
    expect(result.status).toBe(status);
    expect(result.exitCode).toBe({ OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 }[status]);
    expect(result.summary).toMatch(summary);
  });

  test('the worst problem comes first and decides the status', () => {
    const result = evaluateCheck(job({ ...succeeded(30), ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '1' }, { ...activeTimer, UnitFileState: 'disabled' }));
    expect(result.status).toBe('CRITICAL');
    expect(result.problems.map((p) => p.status)).toEqual(['CRITICAL', 'WARNING']);
    expect(result.problems.map((p) => p.topic)).toEqual(['service', 'enabled']);
  });

  test('a subject read from the manifest says so', () => {
    const result = evaluateCheck({ ...job(succeeded(30)), subject: { ...timerJob, from: 'manifest' } });
    expect(result.summary).toMatch(/receipt unreadable without root/);
  });

  test('metrics: last run, last success, next run, up', () => {
    const result = evaluateCheck(job(succeeded(30)));
    expect(result.metrics).toEqual({ up: true, lastRun: now - 31 * s, lastSuccess: now - 30 * s, nextRun: now + 240 * s, lastExitStatus: 0 });
    const failed = evaluateCheck(job({ ...succeeded(30), ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '3' }));
    expect(failed.metrics.up).toBe(false);
    expect(failed.metrics.lastSuccess).toBeUndefined();
    expect(failed.metrics.lastExitStatus).toBe(3);
  });
});

describe('a bundle installed with --no-enable', () => {
  const deferred: CheckSubject = { ...timerJob, enabled: [], deferred: true };
  const stoppedTimer: UnitProperties = { LoadState: 'loaded', ActiveState: 'inactive', SubState: 'dead', UnitFileState: 'disabled' };
  test('left so: OK, saying how to enable it (not CRITICAL for a timer that was never meant to run yet)', () => {
    const result = evaluateCheck({ subject: deferred, units: { 'tick.service': neverRan, 'tick.timer': stoppedTimer }, now, monotonicNow: 1000 * s });
    expect(result).toMatchObject({ status: 'OK', exitCode: 0, summary: 'tick: installed, not enabled (--no-enable; svcctl enable tick starts it)' });
    // The same units without the flag: the stopped timer is CRITICAL.
    expect(evaluateCheck({ subject: timerJob, units: { 'tick.service': neverRan, 'tick.timer': stoppedTimer }, now, monotonicNow: 1000 * s }).status).toBe('CRITICAL');
  });
  test('a run started by hand that failed, or a unit file gone, is judged as usual', () => {
    const failed = { ...succeeded(30), ActiveState: 'failed', SubState: 'failed', Result: 'exit-code', ExecMainStatus: '3' };
    expect(evaluateCheck({ subject: deferred, units: { 'tick.service': failed, 'tick.timer': stoppedTimer }, now, monotonicNow: 1000 * s }).status).toBe('CRITICAL');
    expect(evaluateCheck({ subject: deferred, units: { 'tick.service': { ...neverRan, LoadState: 'not-found' }, 'tick.timer': stoppedTimer }, now, monotonicNow: 1000 * s }).status).toBe('CRITICAL');
  });
  test('subjectFromReceipt carries it, with nothing counted as enabled', () => {
    const receipt = { bundle: 'tick', units: ['tick.service', 'tick.timer'], enabled: ['tick.timer'], enableDeferred: true } as unknown as Receipt;
    expect(subjectFromReceipt(receipt)).toMatchObject({ enabled: [], deferred: true });
  });
});

describe('formatCheckLine', () => {
  test('one line, Nagios perfdata after a pipe', () => {
    const line = formatCheckLine(evaluateCheck(job(succeeded(30))));
    expect(line).toBe(
      'SVCCTL OK - tick: last run succeeded 30s ago (max age 10min), next run in 4min | last_success_age=30s;600;1200;0 exit_status=0;;;0 next_run_in=240s;;;0 max_age=600s;;;0',
    );
  });

  test('a pipe or newline in the text cannot break the format', () => {
    const result = { ...evaluateCheck(job(succeeded(30))), summary: 'a | b\nc' };
    expect(formatCheckLine(result)).toMatch(/^SVCCTL OK - a \/ b c \| /);
    expect(formatCheckLine(result).split('\n')).toHaveLength(1);
  });

  test('UNKNOWN without perfdata has no pipe', () => {
    expect(formatCheckLine(evaluateCheck({ units: {}, now, monotonicNow: 0 }))).toBe('SVCCTL UNKNOWN - ?: not installed');
  });
});

describe('textfile metrics', () => {
  test('node_exporter format, one sample per known metric', () => {
    const text = renderTextfileMetrics(evaluateCheck(job(succeeded(30))));
    expect(text).toContain('# TYPE svcctl_up gauge\nsvcctl_up{bundle="tick"} 1\n');
    expect(text).toContain(`svcctl_last_success_timestamp_seconds{bundle="tick"} ${Math.floor((now - 30 * s) / s)}\n`);
    expect(text).toContain(`svcctl_next_run_timestamp_seconds{bundle="tick"} ${Math.floor((now + 240 * s) / s)}\n`);
    expect(text).toContain('svcctl_check_status{bundle="tick"} 0\n');
    expect(text).toContain('svcctl_max_age_seconds{bundle="tick"} 600\n');
    expect(text.endsWith('\n')).toBe(true);
  });

  test('the last success survives a failed run through the previous file', () => {
    const before = renderTextfileMetrics(evaluateCheck(job(succeeded(30))));
    const failed = evaluateCheck(job({ ...succeeded(5), ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '3' }));
    const after = renderTextfileMetrics(failed, previousLastSuccess(before));
    expect(previousLastSuccess(after)).toBe(Math.floor((now - 30 * s) / s));
    expect(after).toContain('svcctl_up{bundle="tick"} 0');
    expect(after).toContain('svcctl_check_status{bundle="tick"} 2');
  });

  test('not installed: status 3 and up 0 only', () => {
    expect(renderTextfileMetrics(evaluateCheck({ units: {}, now, monotonicNow: 0 })).split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      'svcctl_check_status{bundle="?"} 3',
      'svcctl_up{bundle="?"} 0',
    ]);
  });
});

test('subjectFromReceipt takes what check needs from a receipt', () => {
  const receipt = {
    bundle: 'tick',
    units: ['tick.service', 'tick.timer'],
    enabled: ['tick.timer'],
    service: 'tick.service',
    timer: 'tick.timer',
    schedule: '1s',
    health: { maxAge: '10s' },
  } as Receipt;
  expect(subjectFromReceipt(receipt)).toEqual({ ...timerJob, schedule: '1s', health: { maxAge: '10s' } });
});
