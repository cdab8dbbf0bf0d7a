// The one unit-state model (pure): the properties every command asks `systemctl show` for, the parser of its output,
// and the one reading of a unit's state — enabled, running, last run, next elapse, restarts — with the verdicts
// ("failed?", "last run", "next elapse", "restarts") decided here and nowhere else.
import { parseTimespan } from './schedule.js';
import { parseSystemdTimestamp, usecToIso, type Usec } from './time.js';

/** One unit's properties as `systemctl show` printed them: each name with every value it printed, in order. */
export type ShowBlock = Record<string, string[]>;

/**
 * Splits `systemctl show` output for `units` (asked in that order) into one block per unit. Blocks are
 * separated by an empty line; a value may itself contain "=", so each line splits at its first one.
 */
export function parseShowOutput(stdout: string, units: readonly string[]): Record<string, ShowBlock> {
  const out: Record<string, ShowBlock> = {};
  stdout.split(/\n\n/).forEach((text, index) => {
    const block: ShowBlock = {};
    for (const line of text.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) (block[line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
    }
    const unit = units[index];
    if (unit !== undefined) out[unit] = block;
  });
  return out;
}

/** One value per property, the last printed (as `systemctl show -p X --value` prints a repeated one). */
export function lastValues(block: ShowBlock): Record<string, string> {
  return Object.fromEntries(Object.entries(block).map(([name, values]) => [name, values[values.length - 1] ?? '']));
}

/**
 * Every property svcctl reads to know a unit's state, asked in one `systemctl show` (run with TZ=UTC, so that
 * timestamps parse without a zone database). A property a unit type does not have is simply not printed.
 */
export const unitStateProperties = [
  'LoadState',
  'ActiveState',
  'SubState',
  'UnitFileState',
  'NeedDaemonReload',
  'Type',
  'Result',
  'ExecMainCode',
  'ExecMainStatus',
  'ExecMainPID',
  'ExecMainStartTimestamp',
  'ExecMainExitTimestamp',
  'ExecMainStartTimestampMonotonic',
  'ExecMainExitTimestampMonotonic',
  'ActiveEnterTimestamp',
  'InactiveEnterTimestamp',
  'InvocationID',
  'MainPID',
  'NRestarts',
  'Restart',
  'RestartUSec',
  'StartLimitBurst',
  'StartLimitIntervalUSec',
  'Unit',
  'LastTriggerUSec',
  'NextElapseUSecRealtime',
  'NextElapseUSecMonotonic',
] as const;

export type UnitStateProperty = (typeof unitStateProperties)[number];
/** One value per property (the last printed), as `SystemdClient.show` returns them. */
export type UnitProperties = Partial<Record<UnitStateProperty | 'Id', string>>;

/** "Now" on both clocks: a timer's monotonic next elapse is placed relative to them. */
export interface Clock {
  /** CLOCK_REALTIME, µs since the epoch. */
  now: Usec;
  /** CLOCK_MONOTONIC, µs. */
  monotonicNow: Usec;
}

export interface LastRun {
  /** never: not run since boot (or since the unit was loaded); running: a process is running now. */
  state: 'never' | 'running' | 'success' | 'failed';
  /** systemd's Result: success, exit-code, signal, core-dump, timeout, start-limit-hit, ... */
  result: string;
  /** The main process's exit status when it exited (ExecMainCode=exited). */
  exitStatus: number | null;
  /** The signal that killed it (ExecMainCode=killed/dumped). */
  signal: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** From the monotonic timestamps, to the µs (the realtime ones come to the second). */
  durationMs: number | null;
  /** One phrase for humans: "success", "exit 3", "SIGKILL", "timeout", "running", "never run". */
  text: string;
}

/** How systemd restarts a service that stops, and how often it has. */
export interface Restarts {
  /** NRestarts: automatic restarts since the service was last started by hand. */
  count: number;
  /** Restart=: no, on-failure, on-abnormal, on-abort, on-watchdog, on-success, always. */
  policy: string;
  /** RestartUSec=: how long systemd waits before restarting, in seconds. */
  delaySeconds: number | null;
  /** More than `burst` starts within `intervalSeconds` and systemd stops trying (Result=start-limit-hit). */
  startLimit: { burst: number; intervalSeconds: number } | null;
}

/** Why a timer has no next elapse. */
export type NoNextElapse = 'service-running' | 're-arming' | 'elapsed' | 'inactive';

export interface UnitState {
  unit: string;
  /** systemd printed anything for the unit (a unit it does not know is answered "not-found"). */
  answered: boolean;
  load: string;
  active: string;
  sub: string;
  /** UnitFileState (enabled, disabled, static, …; "" when it has none) when it was asked (a `list-units` row does not carry it). */
  enabled?: string;
  /** Enabled in a way that starts it at boot (or it needs no enabling: static, alias). */
  enabledAtBoot?: boolean;
  /** NeedDaemonReload: its files changed since systemd last read them. */
  needsReload: boolean;
  /** The verdict: the unit failed, a service's last run failed, or systemd is restarting a service that keeps dying. */
  failed: boolean;
  /** activating/auto-restart: the service died and systemd waits to start it again. */
  restarting: boolean;
  /** A process of the unit runs now (starting, running, stopping, reloading). */
  running: boolean;
  activeSince?: Usec;
  // Services
  type?: string;
  /** systemd's Result of the last run: success, exit-code, signal, timeout, start-limit-hit, … */
  result?: string;
  lastRun?: LastRun;
  /** The last run's start and end in µs (the same as lastRun's, unrounded). */
  started?: Usec;
  ended?: Usec;
  mainPid?: number;
  invocationId?: string;
  restarts?: Restarts;
  // Timers
  activates?: string;
  lastTrigger?: Usec;
  nextElapse?: Usec;
  noNextElapse?: NoNextElapse;
}

const signalNames: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
  10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};
const signalNumbers: Record<string, number> = Object.fromEntries(Object.entries(signalNames).map(([n, name]) => [name, Number(n)]));

const enabledStates = new Set(['enabled', 'enabled-runtime', 'static', 'alias']);
const inMotion = new Set(['activating', 'deactivating', 'reloading']);

/** The reading of one unit's properties (from `show`, or a listing through `propertiesOfListing`). */
export function unitStateOf(unit: string, properties: UnitProperties, clock: Clock): UnitState {
  const active = properties.ActiveState ?? '';
  const sub = properties.SubState ?? '';
  const restarting = active === 'activating' && sub === 'auto-restart';
  const state: UnitState = {
    unit,
    answered: properties.LoadState !== undefined && properties.LoadState !== '',
    load: properties.LoadState || 'unknown',
    active: active || 'unknown',
    sub: sub || 'unknown',
    needsReload: properties.NeedDaemonReload === 'yes',
    failed: active === 'failed' || restarting,
    restarting,
    running: false,
  };
  if (properties.UnitFileState !== undefined) {
    state.enabled = properties.UnitFileState;
    state.enabledAtBoot = enabledStates.has(properties.UnitFileState);
  }
  const activeSince = parseSystemdTimestamp(properties.ActiveEnterTimestamp);
  if (activeSince !== undefined) state.activeSince = activeSince;

  if (unit.endsWith('.timer')) {
    if (properties.Unit) state.activates = properties.Unit;
    const lastTrigger = parseSystemdTimestamp(properties.LastTriggerUSec);
    if (lastTrigger !== undefined) state.lastTrigger = lastTrigger;
    const next = timerNextElapse(properties, clock.now, clock.monotonicNow);
    if (next !== undefined) state.nextElapse = next;
    else state.noNextElapse = sub === 'running' ? 'service-running' : active === 'active' ? (sub === 'elapsed' ? 'elapsed' : 're-arming') : 'inactive';
    return state;
  }
  if (!unit.endsWith('.service')) {
    state.running = inMotion.has(active);
    return state;
  }
  if (properties.Type) state.type = properties.Type;
  if (properties.Result) state.result = properties.Result;
  const mainPid = Number(properties.MainPID ?? '0');
  if (mainPid > 0) state.mainPid = mainPid;
  if (properties.InvocationID) state.invocationId = properties.InvocationID;
  if (properties.NRestarts !== undefined || properties.Restart !== undefined) state.restarts = restartsOf(properties);
  // A listing row says no more than the states; `show` says how the last run went.
  if (properties.Result === undefined && properties.ExecMainStartTimestamp === undefined) {
    state.running = (inMotion.has(active) && !restarting) || (active === 'active' && sub !== 'exited');
    return state;
  }
  const run = lastRunOf(properties);
  state.lastRun = run;
  state.failed ||= run.state === 'failed';
  // Starting counts as running before the main process has forked (ExecStartPre=, ExecCondition=).
  state.running = run.state === 'running' || (inMotion.has(active) && !restarting);
  const started = parseSystemdTimestamp(properties.ExecMainStartTimestamp);
  const ended = endOf(properties);
  if (started !== undefined) state.started = started;
  if (ended !== undefined) state.ended = ended;
  return state;
}

/** When the last run ended: the main process's exit, or (none recorded, e.g. it never forked) when the unit went inactive. */
function endOf(properties: UnitProperties): Usec | undefined {
  const exited = parseSystemdTimestamp(properties.ExecMainExitTimestamp);
  if (exited !== undefined) return exited;
  return properties.ActiveState === 'inactive' || properties.ActiveState === 'failed' ? parseSystemdTimestamp(properties.InactiveEnterTimestamp) : undefined;
}

function restartsOf(properties: UnitProperties): Restarts {
  const delay = parseTimespan(properties.RestartUSec);
  const burst = Number(properties.StartLimitBurst ?? '');
  const interval = parseTimespan(properties.StartLimitIntervalUSec);
  return {
    count: Number(properties.NRestarts ?? '0') || 0,
    policy: properties.Restart || 'no',
    delaySeconds: delay !== undefined && Number.isFinite(delay) ? delay : null,
    // StartLimitIntervalSec=0 (or a burst of 0) turns the limit off.
    startLimit: Number.isFinite(burst) && burst > 0 && interval !== undefined && Number.isFinite(interval) && interval > 0 ? { burst, intervalSeconds: interval } : null,
  };
}

/** A service's last (or current) run, from its Result and ExecMain* properties (read with `show`, TZ=UTC). */
export function lastRunOf(properties: UnitProperties): LastRun {
  const started = parseSystemdTimestamp(properties.ExecMainStartTimestamp);
  const ended = parseSystemdTimestamp(properties.ExecMainExitTimestamp);
  const result = properties.Result || 'success';
  const code = properties.ExecMainCode ?? '0';
  const status = Number(properties.ExecMainStatus ?? '0');
  const exitStatus = code === '1' ? status : null;
  const signal = code === '2' || code === '3' ? (signalNames[status] ?? `signal ${status}`) : null;
  const startedMono = Number(properties.ExecMainStartTimestampMonotonic ?? '0');
  const endedMono = Number(properties.ExecMainExitTimestampMonotonic ?? '0');
  const durationMs = ended !== undefined && startedMono > 0 && endedMono >= startedMono ? (endedMono - startedMono) / 1000 : null;
  const base = { result, exitStatus, signal, startedAt: usecToIso(started), endedAt: usecToIso(ended ?? endOf(properties)), durationMs };
  const active = properties.ActiveState ?? '';
  const restarting = active === 'activating' && properties.SubState === 'auto-restart';
  if (!restarting && (inMotion.has(active) || (active === 'active' && properties.SubState !== 'exited')) && started !== undefined && ended === undefined) {
    return { ...base, state: 'running', text: 'running' };
  }
  if (started === undefined && result === 'success') return { ...base, state: 'never', text: 'never run' };
  // systemd's Result is the verdict: SuccessExitStatus= and a "-" before the command are its to judge.
  if (result === 'success') return { ...base, state: 'success', text: 'success' };
  const why = result === 'exit-code' && exitStatus !== null ? `exit ${exitStatus}` : signal && (result === 'signal' || result === 'core-dump') ? signal : result;
  return { ...base, state: 'failed', text: restarting ? `${why}, restarting` : why };
}

/**
 * The last run of a service known only from a listing: an inactive (dead) service is not failed, so its last run,
 * if it had one, succeeded. `ran`: its timer has triggered it, or systemd has given it an invocation.
 */
export function lastRunOfInactive(ran: boolean): LastRun {
  const none = { signal: null, startedAt: null, endedAt: null, durationMs: null };
  return ran ? { ...none, state: 'success', result: 'success', exitStatus: 0, text: 'success' } : { ...none, state: 'never', result: 'success', exitStatus: null, text: 'never run' };
}

/** The exit code a run maps to for `svcctl run`: its exit status, 128+signal when killed, 1 for any other failure. */
export function exitCodeOf(run: LastRun): number {
  if (run.state === 'success' || run.state === 'running') return 0;
  if (run.exitStatus !== null) return run.exitStatus === 0 ? 1 : run.exitStatus;
  if (run.signal !== null) return 128 + (signalNumbers[run.signal] ?? 0);
  return 1;
}

/**
 * When a timer fires next, from `systemctl show` (in UTC): its realtime elapse, or its monotonic one placed
 * relative to now (as `systemctl list-timers` places it), whichever comes first.
 */
export function timerNextElapse(timer: Partial<Record<'NextElapseUSecRealtime' | 'NextElapseUSecMonotonic', string>>, now: Usec, monotonicNow: Usec): Usec | undefined {
  const realtime = parseSystemdTimestamp(timer.NextElapseUSecRealtime);
  const monotonicSeconds = parseTimespan(timer.NextElapseUSecMonotonic);
  const monotonic = monotonicSeconds !== undefined && Number.isFinite(monotonicSeconds) && monotonicSeconds > 0 ? now + (monotonicSeconds * 1_000_000 - monotonicNow) : undefined;
  if (realtime !== undefined && monotonic !== undefined) return Math.min(realtime, monotonic);
  return realtime ?? monotonic;
}

/** A `list-units --output=json` row. */
export interface ListedUnit {
  load: string;
  active: string;
  sub: string;
}

/** A `list-timers --output=json` row: µs since the epoch, 0 for none. */
export interface ListedTimer {
  next: number;
  last: number;
  activates: string;
}

/** A µs value from systemd's JSON as a `show`-style timestamp ("@SECONDS.USEC"); 0 and garbage are none. */
function unixTimestamp(usec: number | undefined): string | undefined {
  if (typeof usec !== 'number' || !Number.isFinite(usec) || usec <= 0) return undefined;
  return `@${Math.floor(usec / 1_000_000)}.${String(usec % 1_000_000).padStart(6, '0')}`;
}

/** What a listing row says, as properties unitStateOf reads (so a listed unit is interpreted the same way as a shown one). */
export function propertiesOfListing(row: ListedUnit | undefined, timer?: ListedTimer): UnitProperties {
  const next = unixTimestamp(timer?.next);
  const last = unixTimestamp(timer?.last);
  return {
    ...(row ? { LoadState: row.load, ActiveState: row.active, SubState: row.sub } : {}),
    ...(timer?.activates ? { Unit: timer.activates } : {}),
    ...(next !== undefined ? { NextElapseUSecRealtime: next } : {}),
    ...(last !== undefined ? { LastTriggerUSec: last } : {}),
  };
}

/** What a unit just started has come to: the transaction's post-check and health wait read it. */
export type StartVerdict = 'active' | 'finished' | 'failed' | 'pending';

/**
 * active: running (a daemon, an active timer); finished: a oneshot that ran to success; failed: it failed or
 * keeps dying; pending: still starting, or not (yet) run.
 */
export function startVerdictOf(state: UnitState): StartVerdict {
  if (state.failed) return 'failed';
  if ((state.active === 'active' || state.active === 'reloading') && !state.restarting) return 'active';
  if (state.active === 'inactive' && state.lastRun?.state === 'success') return 'finished';
  return 'pending';
}
