// Table tests for the one unit-state model: `systemctl show` output (as systemd 252 prints it, TZ=UTC) in, the verdicts out.
import fc from 'fast-check';
import {
  exitCodeOf,
  lastRunOf,
  parseShowOutput,
  propertiesOfListing,
  startVerdictOf,
  timerNextElapse,
  unitStateOf,
  unitStateProperties,
  type UnitProperties,
} from '../../src/core/unit-state.js';

const s = 1_000_000;
const now = Date.parse('2026-11-22T12:00:00Z') * 1000;
const clock = { now, monotonicNow: 1000 * s };
const ago = (seconds: number) => {
  const iso = new Date((now - seconds * s) / 1000).toISOString();
  return `Sun ${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
};

const oneshot = (overrides: UnitProperties = {}): UnitProperties => ({
  LoadState: 'loaded',
  ActiveState: 'inactive',
  SubState: 'dead',
  UnitFileState: 'static',
  Type: 'oneshot',
  Result: 'success',
  ExecMainCode: '1',
  ExecMainStatus: '0',
  ExecMainStartTimestamp: ago(31),
  ExecMainExitTimestamp: ago(30),
  ExecMainStartTimestampMonotonic: '900000000',
  ExecMainExitTimestampMonotonic: '900250000',
  InvocationID: '0123456789abcdef0123456789abcdef',
  MainPID: '0',
  NRestarts: '0',
  Restart: 'no',
  RestartUSec: '100ms',
  StartLimitBurst: '5',
  StartLimitIntervalUSec: '10s',
  NeedDaemonReload: 'no',
  ...overrides,
});
const daemon = (overrides: UnitProperties = {}): UnitProperties =>
  oneshot({ ActiveState: 'active', SubState: 'running', Type: 'simple', UnitFileState: 'enabled', ExecMainCode: '0', ExecMainExitTimestamp: '', ExecMainExitTimestampMonotonic: '0', MainPID: '4242', Restart: 'on-failure', RestartUSec: '1s', ActiveEnterTimestamp: ago(120), ...overrides });

describe('parseShowOutput', () => {
  test('one block per unit in the order asked; repeated properties keep every value; "=" inside values survives', () => {
    const stdout = 'Id=a.service\nExecStart={ path=/bin/x ; argv[]=/bin/x a=b }\nExecStart={ path=/bin/y }\n\nId=b.timer\nLoadState=loaded\n';
    expect(parseShowOutput(stdout, ['a.service', 'b.timer'])).toEqual({
      'a.service': { Id: ['a.service'], ExecStart: ['{ path=/bin/x ; argv[]=/bin/x a=b }', '{ path=/bin/y }'] },
      'b.timer': { Id: ['b.timer'], LoadState: ['loaded'] },
    });
  });

  test('the one property list asks for what every reader needs', () => {
    for (const property of ['UnitFileState', 'NRestarts', 'Restart', 'RestartUSec', 'StartLimitBurst', 'StartLimitIntervalUSec', 'NeedDaemonReload', 'InvocationID', 'LastTriggerUSec', 'NextElapseUSecMonotonic']) {
      expect(unitStateProperties).toContain(property);
    }
  });
});

describe('unitStateOf: the verdicts', () => {
  test.each<[string, string, UnitProperties, { failed: boolean; running: boolean; lastRun?: string; verdict: string }]>([
    ['a oneshot that succeeded', 'job.service', oneshot(), { failed: false, running: false, lastRun: 'success', verdict: 'finished' }],
    ['a oneshot that exited 3', 'job.service', oneshot({ ActiveState: 'failed', SubState: 'failed', Result: 'exit-code', ExecMainStatus: '3' }), { failed: true, running: false, lastRun: 'exit 3', verdict: 'failed' }],
    ['a oneshot killed by SIGKILL', 'job.service', oneshot({ ActiveState: 'failed', Result: 'signal', ExecMainCode: '2', ExecMainStatus: '9' }), { failed: true, running: false, lastRun: 'SIGKILL', verdict: 'failed' }],
    ['a oneshot that timed out', 'job.service', oneshot({ ActiveState: 'failed', Result: 'timeout', ExecMainCode: '2', ExecMainStatus: '15' }), { failed: true, running: false, lastRun: 'timeout', verdict: 'failed' }],
    ['exit 3 that SuccessExitStatus=3 makes a success', 'job.service', oneshot({ ExecMainStatus: '3' }), { failed: false, running: false, lastRun: 'success', verdict: 'finished' }],
    ['never run', 'job.service', oneshot({ ExecMainStartTimestamp: '', ExecMainExitTimestamp: '', ExecMainCode: '0' }), { failed: false, running: false, lastRun: 'never run', verdict: 'pending' }],
    ['a oneshot running now', 'job.service', oneshot({ ActiveState: 'activating', SubState: 'start', ExecMainExitTimestamp: '', ExecMainCode: '0' }), { failed: false, running: true, lastRun: 'running', verdict: 'pending' }],
    ['starting before its main process forked', 'job.service', oneshot({ ActiveState: 'activating', SubState: 'start-pre', ExecMainStartTimestamp: '', ExecMainExitTimestamp: '' }), { failed: false, running: true, lastRun: 'never run', verdict: 'pending' }],
    ['a daemon running', 'web.service', daemon(), { failed: false, running: true, lastRun: 'running', verdict: 'active' }],
    ['a daemon being restarted after a crash', 'web.service', daemon({ ActiveState: 'activating', SubState: 'auto-restart', Result: 'exit-code', ExecMainCode: '1', ExecMainStatus: '1', ExecMainExitTimestamp: ago(1) }), { failed: true, running: false, lastRun: 'exit 1, restarting', verdict: 'failed' }],
    ['a run that failed counts, whatever state the unit is left in', 'job.service', oneshot({ Result: 'exit-code', ExecMainStatus: '2' }), { failed: true, running: false, lastRun: 'exit 2', verdict: 'failed' }],
    ['a crash loop seen in a listing only', 'web.service', propertiesOfListing({ load: 'loaded', active: 'activating', sub: 'auto-restart' }), { failed: true, running: false, verdict: 'failed' }],
    ['a daemon that hit its start limit', 'web.service', daemon({ ActiveState: 'failed', SubState: 'failed', Result: 'start-limit-hit', ExecMainCode: '1', ExecMainStatus: '1', ExecMainExitTimestamp: ago(1) }), { failed: true, running: false, lastRun: 'start-limit-hit', verdict: 'failed' }],
    ['a daemon stopped by hand', 'web.service', daemon({ ActiveState: 'inactive', SubState: 'dead', ExecMainCode: '2', ExecMainStatus: '15', ExecMainExitTimestamp: ago(5) }), { failed: false, running: false, lastRun: 'success', verdict: 'finished' }],
    ['a timer waiting', 'job.timer', { LoadState: 'loaded', ActiveState: 'active', SubState: 'waiting' }, { failed: false, running: false, verdict: 'active' }],
    ['a failed timer', 'job.timer', { LoadState: 'loaded', ActiveState: 'failed', SubState: 'failed' }, { failed: true, running: false, verdict: 'failed' }],
    ['a unit systemd does not know', 'gone.service', { LoadState: 'not-found', ActiveState: 'inactive', SubState: 'dead', Result: 'success', ExecMainStartTimestamp: '' }, { failed: false, running: false, lastRun: 'never run', verdict: 'pending' }],
  ])('%s', (_title, unit, properties, expected) => {
    const state = unitStateOf(unit, properties, clock);
    expect(state.failed).toBe(expected.failed);
    expect(state.running).toBe(expected.running);
    expect(state.lastRun?.text).toBe(expected.lastRun);
    expect(startVerdictOf(state)).toBe(expected.verdict);
  });

  test('a service: last run times, duration to the µs, main PID, invocation, restarts and start limit', () => {
    const state = unitStateOf('job.service', oneshot(), clock);
    expect(state).toMatchObject({ load: 'loaded', active: 'inactive', sub: 'dead', enabled: 'static', enabledAtBoot: true, type: 'oneshot', result: 'success', started: now - 31 * s, ended: now - 30 * s, invocationId: '0123456789abcdef0123456789abcdef', needsReload: false });
    expect(state.lastRun).toEqual({ state: 'success', result: 'success', exitStatus: 0, signal: null, startedAt: '2026-11-22T11:59:29.000Z', endedAt: '2026-11-22T11:59:30.000Z', durationMs: 250, text: 'success' });
    expect(state.mainPid).toBeUndefined();
    expect(state.restarts).toEqual({ count: 0, policy: 'no', delaySeconds: 0.1, startLimit: { burst: 5, intervalSeconds: 10 } });
    const web = unitStateOf('web.service', daemon({ NRestarts: '3', StartLimitIntervalUSec: '0', UnitFileState: 'disabled', NeedDaemonReload: 'yes' }), clock);
    expect(web).toMatchObject({ mainPid: 4242, activeSince: now - 120 * s, enabled: 'disabled', enabledAtBoot: false, needsReload: true, restarts: { count: 3, policy: 'on-failure', delaySeconds: 1, startLimit: null } });
  });

  test('a service that never forked its main process ended when it went inactive', () => {
    const state = unitStateOf('job.service', oneshot({ ActiveState: 'failed', Result: 'exit-code', ExecMainCode: '1', ExecMainStatus: '203', ExecMainExitTimestamp: '', InactiveEnterTimestamp: ago(7) }), clock);
    expect(state.ended).toBe(now - 7 * s);
    expect(state.lastRun?.endedAt).toBe('2026-11-22T11:59:53.000Z');
  });

  test('a timer: what it activates, last trigger, next elapse, and why there is none', () => {
    const timer = (overrides: UnitProperties) => unitStateOf('job.timer', { LoadState: 'loaded', ActiveState: 'active', SubState: 'waiting', Unit: 'job.service', LastTriggerUSec: ago(60), ...overrides }, clock);
    expect(timer({ NextElapseUSecRealtime: ago(-240) })).toMatchObject({ activates: 'job.service', lastTrigger: now - 60 * s, nextElapse: now + 240 * s });
    expect(timer({ NextElapseUSecRealtime: '', NextElapseUSecMonotonic: '16min 42s' }).nextElapse).toBe(now + 2 * s);
    expect(timer({ SubState: 'running', NextElapseUSecMonotonic: 'infinity' }).noNextElapse).toBe('service-running');
    expect(timer({ SubState: 'elapsed', NextElapseUSecMonotonic: '0' }).noNextElapse).toBe('elapsed');
    expect(timer({}).noNextElapse).toBe('re-arming');
    expect(timer({ ActiveState: 'inactive', SubState: 'dead' }).noNextElapse).toBe('inactive');
  });

  test('a listing row reads the same way as `show` for what it carries', () => {
    const listed = unitStateOf('job.timer', propertiesOfListing({ load: 'loaded', active: 'active', sub: 'waiting' }, { next: now + 5 * s + 7, last: now - 3 * s, activates: 'job.service' }), clock);
    expect(listed).toMatchObject({ load: 'loaded', active: 'active', activates: 'job.service', nextElapse: now + 5 * s + 7, lastTrigger: now - 3 * s });
    const service = unitStateOf('job.service', propertiesOfListing({ load: 'loaded', active: 'failed', sub: 'failed' }), clock);
    expect(service).toMatchObject({ failed: true, running: false });
    expect(service.lastRun).toBeUndefined();
    expect(unitStateOf('job.service', propertiesOfListing(undefined), clock)).toMatchObject({ answered: false, load: 'unknown' });
  });

  test('property: any properties at all give a state, never an exception', () => {
    const value = fc.oneof(fc.constantFrom('', 'n/a', '0', 'yes', 'active', 'failed', 'auto-restart', 'infinity', ago(5), '@1795305834.5'), fc.string({ maxLength: 12 }));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...unitStateProperties), value), fc.constantFrom('a.service', 'a.timer', 'a.socket'), (properties, unit) => {
        const state = unitStateOf(unit, properties, clock);
        expect(typeof state.failed).toBe('boolean');
        expect(['active', 'finished', 'failed', 'pending']).toContain(startVerdictOf(state));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('lastRunOf / exitCodeOf (svcctl run exits with the service\'s status)', () => {
  test.each<[string, UnitProperties, number]>([
    ['success', oneshot(), 0],
    ['exit 3', oneshot({ Result: 'exit-code', ExecMainStatus: '3' }), 3],
    ['SIGKILL', oneshot({ Result: 'signal', ExecMainCode: '2', ExecMainStatus: '9' }), 137],
    ['core dump of SIGSEGV', oneshot({ Result: 'core-dump', ExecMainCode: '3', ExecMainStatus: '11' }), 139],
    ['timeout', oneshot({ Result: 'timeout', ExecMainCode: '0', ExecMainStatus: '0' }), 1],
  ])('%s → %d', (_title, properties, code) => {
    expect(exitCodeOf(lastRunOf(properties))).toBe(code);
  });
});

test('timerNextElapse: the earlier of the realtime and the monotonic elapse', () => {
  expect(timerNextElapse({ NextElapseUSecRealtime: ago(-10), NextElapseUSecMonotonic: '16min 50s' }, now, 1000 * s)).toBe(now + 10 * s);
  expect(timerNextElapse({ NextElapseUSecRealtime: ago(-100), NextElapseUSecMonotonic: '16min 50s' }, now, 1000 * s)).toBe(now + 10 * s);
  expect(timerNextElapse({}, now, 0)).toBeUndefined();
});
