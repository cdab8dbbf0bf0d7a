// The status flow: how each installed bundle is doing, from its receipt, a few systemd calls (however many units) and the files on disk.
import { NeedsRootError, UserError } from '../core/errors.js';
import { formatTable, style } from '../views/output.js';
import { formatRelative, formatSpan, formatWhen, nowUsec, parseSystemdTimestamp, usecOrUndefined, usecToIso, type Usec } from '../core/time.js';
import type { Receipt, ReceiptArtifact } from '../core/receipt.js';
import { readHostKey } from '../system/receipts.js';
import { inspectPath } from '../system/fs.js';
import { systemTarget, onHost } from '../core/target.js';
import { listReceipts, readReceipt } from '../system/receipts.js';
import { SystemdClient } from '../system/systemd.js';
import { bundleNameOf } from './installed.js';
import { userTimeZone } from '../system/timezone.js';

// ---- Receipts by bundle name, shared by status, list-timers, logs and run ----------------------

/** Receipts are 0600 root (they list every file and its checksum): without root, say so and exit 77. */
function receiptsNeedRoot(error: unknown, command: string): never {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'EACCES' && code !== 'EPERM') throw error;
  const denied = new NeedsRootError(command);
  denied.message = `${command} needs root: it reads the receipts in /var/lib/svcctl, which only root may read${command === 'svcctl list-timers' ? ' (list-timers --all needs no root)' : ''}`;
  throw denied;
}

/** The receipt of an installed bundle, by name (or by the path of its bundle directory); exit 2 when it is not installed. */
export async function installedReceipt(reference: string, command: string): Promise<Receipt> {
  const name = await bundleNameOf(reference);
  const receipt = await readReceipt(systemTarget(), name).catch((error: unknown) => receiptsNeedRoot(error, command));
  if (!receipt) throw new UserError(`bundle ${name} is not installed`, 'see `svcctl status` for the installed bundles, or install it with `svcctl install`');
  return receipt;
}

export async function installedReceipts(command: string): Promise<Receipt[]> {
  return listReceipts(systemTarget()).catch((error: unknown) => receiptsNeedRoot(error, command));
}

/**
 * When whoever reads our stdout goes away (`svcctl status | head -1`), stop quietly instead of dying
 * on an unhandled EPIPE with a stack trace. `onClose` defaults to exiting 0 at once.
 */
export function whenStdoutCloses(onClose: () => void = () => process.exit(0)): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') onClose();
    else throw error;
  });
}

/** Colour for data on stdout: only when stdout is a terminal too (style already checks stderr and NO_COLOR). */
export const paint = (colour: 'red' | 'green' | 'yellow' | 'dim', text: string): string => (process.stdout.isTTY ? style[colour](text) : text);

// ---- What the last run of a service was ---------------------------------------------------------

/** Everything status, list-timers and run ask systemd about a unit, in one `systemctl show`. */
export const unitProperties = [
  'LoadState',
  'ActiveState',
  'SubState',
  'UnitFileState',
  'Type',
  'Result',
  'ExecMainCode',
  'ExecMainStatus',
  'ExecMainStartTimestamp',
  'ExecMainExitTimestamp',
  'ExecMainStartTimestampMonotonic',
  'ExecMainExitTimestampMonotonic',
  'ActiveEnterTimestamp',
  'InvocationID',
  'MainPID',
  'ExecMainPID',
  'Unit',
  'LastTriggerUSec',
] as const;
export type UnitProperties = Partial<Record<(typeof unitProperties)[number], string>>;

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

const signalNames: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
  10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};
const signalNumbers: Record<string, number> = Object.fromEntries(Object.entries(signalNames).map(([n, name]) => [name, Number(n)]));

/** The exit code a run maps to for `svcctl run`: its exit status, 128+signal when killed, 1 for any other failure. */
export function exitCodeOf(run: LastRun): number {
  if (run.state === 'success' || run.state === 'running') return 0;
  if (run.exitStatus !== null) return run.exitStatus === 0 ? 1 : run.exitStatus;
  if (run.signal !== null) return 128 + (signalNumbers[run.signal] ?? 0);
  return 1;
}

/** Interprets a service's Result/ExecMain* properties (read with showUnits(..., { utc: true })). */
export function lastRunOf(props: UnitProperties): LastRun {
  const started = parseSystemdTimestamp(props.ExecMainStartTimestamp);
  const ended = parseSystemdTimestamp(props.ExecMainExitTimestamp);
  const result = props.Result || 'success';
  const code = props.ExecMainCode ?? '0';
  const status = Number(props.ExecMainStatus ?? '0');
  const exitStatus = code === '1' ? status : null;
  const signal = code === '2' || code === '3' ? (signalNames[status] ?? `signal ${status}`) : null;
  const startedMono = Number(props.ExecMainStartTimestampMonotonic ?? '0');
  const endedMono = Number(props.ExecMainExitTimestampMonotonic ?? '0');
  const durationMs = ended !== undefined && startedMono > 0 && endedMono >= startedMono ? (endedMono - startedMono) / 1000 : null;
  const base = { result, exitStatus, signal, startedAt: usecToIso(started), endedAt: usecToIso(ended), durationMs };
  const active = props.ActiveState ?? '';
  const restarting = active === 'activating' && props.SubState === 'auto-restart';
  if (!restarting && (active === 'activating' || active === 'deactivating' || (active === 'active' && props.SubState !== 'exited')) && started !== undefined && ended === undefined) {
    return { ...base, state: 'running', text: 'running' };
  }
  if (started === undefined && result === 'success') return { ...base, state: 'never', text: 'never run' };
  if (result === 'success' && (exitStatus === null || exitStatus === 0)) return { ...base, state: 'success', text: 'success' };
  const why = result === 'exit-code' && exitStatus !== null ? `exit ${exitStatus}` : signal && (result === 'signal' || result === 'core-dump') ? signal : result;
  return { ...base, state: 'failed', text: restarting ? `${why}, restarting` : why };
}

// ---- Status of one bundle -----------------------------------------------------------------------

export type Health = 'ok' | 'failed' | 'missing' | 'stopped' | 'drifted' | 'incomplete' | 'retained';

export interface UnitStatus {
  unit: string;
  load: string;
  active: string;
  sub: string;
  /** UnitFileState: enabled, disabled, static, ... (asked in the one-bundle view only: it costs systemd a lookup per unit). */
  enabled?: string;
  /** Services: their last (or current) run, and the main PID while one runs. */
  lastRun?: LastRun;
  mainPid?: number;
  /** Timers: the unit they activate, last trigger and next elapse (ISO 8601, UTC). */
  activates?: string;
  lastTrigger?: string | null;
  nextElapse?: string | null;
}

export interface DriftedFile {
  path: string;
  role: string;
  problem: 'modified' | 'missing' | 'not-a-file' | 'mode';
  detail?: string;
}

export interface Drift {
  /** Files compared with the receipt's checksum. */
  checked: number;
  changed: DriftedFile[];
  /** Files this user may not read: drift unknown. */
  unknown: string[];
}

export interface BundleStatus {
  bundle: string;
  description: string;
  health: Health;
  /** The receipt's state: installed, or a transaction that did not finish (installing/uninstalling), or retained. */
  state: Receipt['state'];
  installedAt: string;
  updatedAt: string;
  source: string;
  digest: string;
  svcctlVersion: string;
  service?: string;
  timer?: string;
  schedule?: string;
  /** The main service's last run, and the main timer's next elapse. */
  lastRun?: LastRun;
  nextRun?: string | null;
  units: UnitStatus[];
  drift: Drift;
  /** Secrets that are set: names and when they last changed, never values. */
  secrets: { key: string; changedAt: string }[];
  settings: Record<string, string>;
}

export type StatusResult = BundleStatus | { bundles: BundleStatus[] };

/** `svcctl status [BUNDLE]`: one bundle in detail, or every installed bundle. */
export async function status(reference: string | undefined): Promise<StatusResult> {
  const receipts = reference === undefined ? await installedReceipts('svcctl status') : [await installedReceipt(reference, 'svcctl status')];
  await new SystemdClient(systemTarget()).requireRunning();
  const statuses = await statusOf(receipts, reference !== undefined);
  return reference === undefined ? { bundles: statuses } : statuses[0]!;
}

/**
 * Status of many bundles with a fixed number of systemd calls however many units they have (see
 * snapshotUnits). `detailed`: every service's last run (one bundle's view), else only each main
 * service's (the one-line overview).
 */
export async function statusOf(receipts: Receipt[], detailed: boolean): Promise<BundleStatus[]> {
  const units = [...new Set(receipts.flatMap((r) => r.units))];
  const showAll = detailed ? units : receipts.flatMap((r) => (r.service ? [r.service] : []));
  const [snapshot, drifts] = await Promise.all([snapshotUnits(units, showAll), Promise.all(receipts.map((r) => driftOf(r.artifacts)))]);
  return receipts.map((receipt, i) => {
    const unitStatuses = receipt.units.map((unit) => unitStatusOf(unit, snapshot[unit] ?? {}, detailed || unit === receipt.service));
    const main = unitStatuses.find((u) => u.unit === receipt.service);
    const timer = unitStatuses.find((u) => u.unit === receipt.timer);
    const drift = drifts[i]!;
    return {
      bundle: receipt.bundle,
      description: receipt.description,
      health: healthOf(receipt, unitStatuses, main?.lastRun, drift),
      state: receipt.state,
      installedAt: receipt.installedAt,
      updatedAt: receipt.updatedAt,
      source: receipt.source,
      digest: receipt.digest,
      svcctlVersion: receipt.svcctlVersion,
      ...(receipt.service ? { service: receipt.service } : {}),
      ...(receipt.timer ? { timer: receipt.timer } : {}),
      ...(receipt.schedule ? { schedule: receipt.schedule } : {}),
      ...(main?.lastRun ? { lastRun: main.lastRun } : {}),
      ...(timer ? { nextRun: timer.nextElapse ?? null } : {}),
      units: unitStatuses,
      drift,
      secrets: receipt.secrets,
      settings: receipt.settings,
    };
  });
}

/** A unit as snapshotUnits sees it: systemd's property names, plus a timer's next/last elapse in µs. */
export type UnitSnapshot = UnitProperties & { next?: Usec; last?: Usec; activates?: string };

/**
 * What systemd says about many units in three calls side by side, whatever their number: `list-timers
 * --output=json` (next/last elapse in µs, the activated unit), `list-units` (load/active/sub of the units
 * not `detailed`) — one D-Bus call each — and `systemctl show` for the `detailed` units (enabled state,
 * Result, exit status, run times). A fourth, only when some unit is not loaded (list-units leaves those
 * out), asks `show` for it.
 * `show` costs a D-Bus round trip, a full property dump and an enablement lookup per unit (2-4 ms each:
 * 0.5-1 s for 400 units), so the overview asks it only for each bundle's main service.
 */
export async function snapshotUnits(units: string[], detailed: string[]): Promise<Record<string, UnitSnapshot>> {
  if (units.length === 0) return {};
  const wanted = new Set(detailed);
  const rest = units.filter((u) => !wanted.has(u));
  const timers = units.filter((u) => u.endsWith('.timer'));
  const systemd = new SystemdClient(systemTarget());
  const show = (list: string[]) => systemd.show(list, unitProperties, { utc: true }) as Promise<Record<string, UnitProperties>>;
  const [states, listing, detail] = await Promise.all([systemd.listUnits(rest), timers.length > 0 ? systemd.listTimers(timers) : Promise.resolve([]), show([...wanted])]);
  const shown = { ...detail, ...(await show(rest.filter((u) => !states.has(u)))) };
  const timerOf = new Map(listing.map((t) => [t.unit, t]));
  const out: Record<string, UnitSnapshot> = {};
  for (const unit of units) {
    const state = states.get(unit);
    const timer = timerOf.get(unit);
    const next = usecOrUndefined(timer?.next);
    const last = usecOrUndefined(timer?.last);
    out[unit] = {
      ...(state ? { LoadState: state.load, ActiveState: state.active, SubState: state.sub } : {}),
      ...shown[unit],
      ...(next !== undefined ? { next } : {}),
      ...(last !== undefined ? { last } : {}),
      ...(timer?.activates ? { activates: timer.activates } : {}),
    };
  }
  return out;
}

function unitStatusOf(unit: string, props: UnitSnapshot, withRun: boolean): UnitStatus {
  const base: UnitStatus = {
    unit,
    load: props.LoadState || 'unknown',
    active: props.ActiveState || 'unknown',
    sub: props.SubState || 'unknown',
    ...(props.UnitFileState !== undefined ? { enabled: props.UnitFileState || '-' } : {}),
  };
  if (unit.endsWith('.timer')) {
    const last = props.last ?? parseSystemdTimestamp(props.LastTriggerUSec);
    return { ...base, activates: props.activates ?? props.Unit ?? '', lastTrigger: usecToIso(last), nextElapse: usecToIso(props.next) };
  }
  if (unit.endsWith('.service') && withRun) {
    const pid = Number(props.MainPID ?? '0');
    return { ...base, lastRun: lastRunOf(props), ...(pid > 0 ? { mainPid: pid } : {}) };
  }
  return base;
}

const runningStates = new Set(['active', 'activating', 'reloading']);

/** One word for a bundle, worst first: failed/missing (red), stopped/drifted/incomplete (yellow), ok (green). */
export function healthOf(receipt: Receipt, units: UnitStatus[], lastRun: LastRun | undefined, drift: Drift): Health {
  if (receipt.state === 'retained') return 'retained';
  if (receipt.state !== 'installed') return 'incomplete';
  if (units.some((u) => u.load !== 'loaded')) return 'missing';
  if (units.some((u) => u.active === 'failed') || lastRun?.state === 'failed') return 'failed';
  if (units.some((u) => receipt.enabled.includes(u.unit) && !runningStates.has(u.active))) return 'stopped';
  if (drift.changed.length > 0) return 'drifted';
  return 'ok';
}

const healthColour: Record<Health, 'red' | 'green' | 'yellow' | 'dim'> = {
  ok: 'green',
  failed: 'red',
  missing: 'red',
  stopped: 'yellow',
  drifted: 'yellow',
  incomplete: 'yellow',
  retained: 'dim',
};

/** Compares every file the receipt lists with its checksum and mode. */
export async function driftOf(artifacts: ReceiptArtifact[]): Promise<Drift> {
  const drift: Drift = { checked: 0, changed: [], unknown: [] };
  const hostKey = readHostKey(systemTarget()).then((k) => (k.stored ? k.key : undefined), () => undefined);
  await Promise.all(
    artifacts.map(async (artifact) => {
      const key = artifact.secret === true || artifact.role === 'secrets' ? await hostKey : undefined;
      const state = await inspectPath(onHost(systemTarget(), artifact.path), { content: true, ...(key ? { key } : {}) }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EACCES' || error.code === 'EPERM') return 'unreadable' as const;
        throw error;
      });
      if (state === 'unreadable') {
        drift.unknown.push(artifact.path);
        return;
      }
      drift.checked += 1;
      const changed = (problem: DriftedFile['problem'], detail?: string) => drift.changed.push({ path: artifact.path, role: artifact.role, problem, ...(detail ? { detail } : {}) });
      if (!state) changed('missing');
      else if (state.kind !== 'file') changed('not-a-file', `a ${state.kind} is there now`);
      else if (artifact.checksum !== '' && state.checksum !== artifact.checksum) changed('modified', 'content differs from what was installed');
      else if (state.mode !== artifact.mode) changed('mode', `mode ${octal(state.mode)}, installed ${octal(artifact.mode)}`);
    }),
  );
  const order = new Map(artifacts.map((a, i) => [a.path, i]));
  drift.changed.sort((a, b) => order.get(a.path)! - order.get(b.path)!);
  drift.unknown.sort((a, b) => order.get(a)! - order.get(b)!);
  return drift;
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;

// ---- Rendering ----------------------------------------------------------------------------------

const iso = (value: string | null | undefined): Usec | undefined => (value ? Date.parse(value) * 1000 : undefined);

function lastRunPhrase(run: LastRun | undefined, now: Usec): string {
  if (!run) return '-';
  if (run.state === 'never') return 'never run';
  const started = iso(run.startedAt);
  // Start times come to the second: under a second "running" says enough.
  if (run.state === 'running') return started !== undefined && now - started >= 1_000_000 ? `running for ${formatSpan(now - started)}` : 'running';
  const ended = iso(run.endedAt) ?? started;
  return `${run.text}, ${ended !== undefined ? formatRelative(ended, now) : 'at an unknown time'}`;
}

/** A timer with no next elapse: its unit is running now, it is about to re-arm, or it is stopped. */
function noNextElapse(timer: UnitStatus | undefined): string {
  if (timer?.sub === 'running') return 'running now';
  if (timer?.active === 'active') return 're-arming';
  return `not scheduled (timer ${timer?.active ?? 'unknown'})`;
}

/** One line per bundle: name, coloured health word, last run, next run. */
export function renderOverview(statuses: BundleStatus[], now: Usec = nowUsec()): string {
  const rows = statuses.map((s) => {
    const next = iso(s.nextRun);
    const timer = s.units.find((u) => u.unit === s.timer);
    return [s.bundle, s.health, lastRunPhrase(s.lastRun, now), s.timer ? (next !== undefined ? formatRelative(next, now) : noNextElapse(timer)) : '-', s.description];
  });
  const table = formatTable(['BUNDLE', 'HEALTH', 'LAST RUN', 'NEXT RUN', 'DESCRIPTION'], rows);
  // Colour the health word after padding, so escape codes do not upset the column widths.
  const column = Math.max('BUNDLE'.length, ...statuses.map((s) => s.bundle.length)) + 2;
  return table
    .split('\n')
    .map((line, i) => {
      const health = statuses[i - 1]?.health;
      return health ? line.slice(0, column) + paint(healthColour[health], health) + line.slice(column + health.length) : line;
    })
    .join('\n');
}

/** The detailed view of one bundle. */
export function renderBundleStatus(s: BundleStatus, now: Usec = nowUsec(), timeZone: string = userTimeZone()): string {
  const when = (value: string | null | undefined, none?: string) => formatWhen(iso(value), now, timeZone, none);
  const out: string[] = [];
  const field = (name: string, value: string) => out.push(`  ${`${name}:`.padEnd(14)}${value}`);
  out.push(`${style.bold(s.bundle)} ${paint('dim', `— ${s.description}`)}`);
  field('health', paint(healthColour[s.health], s.health) + (s.state !== 'installed' ? ` (receipt state: ${s.state})` : ''));
  field('installed', `${when(s.installedAt)}${s.updatedAt !== s.installedAt ? `, updated ${when(s.updatedAt)}` : ''}`);
  field('from', `${s.source} (digest ${s.digest.slice(0, 12)}, svcctl ${s.svcctlVersion})`);
  out.push('');
  const table = formatTable(
    ['UNIT', 'LOAD', 'ACTIVE', 'SUB', 'ENABLED'],
    s.units.map((u) => [u.unit, u.load, u.active, u.sub, u.enabled ?? '-']),
  );
  out.push(...table.trimEnd().split('\n').map((line) => `  ${line}`));
  for (const unit of s.units) {
    if (unit.lastRun) {
      const run = unit.lastRun;
      out.push('', `  ${unit.unit}${unit.unit === s.service ? ' (main service)' : ''}`);
      if (run.state === 'never') {
        field('  last run', 'never run since it was loaded');
        continue;
      }
      field('  started', when(run.startedAt, '-'));
      if (run.state === 'running') field('  state', `running (${unit.active}/${unit.sub})${unit.mainPid ? `, main PID ${unit.mainPid}` : ''}`);
      else {
        field('  ended', `${when(run.endedAt, '-')}${run.durationMs !== null ? `, took ${formatSpan(run.durationMs * 1000)}` : ''}`);
        const detail = run.exitStatus !== null ? `exit status ${run.exitStatus}` : run.signal ? `killed by ${run.signal}` : '';
        field('  result', `${paint(run.state === 'success' ? 'green' : 'red', run.result)}${detail ? ` (${detail})` : ''}`);
      }
    }
    if (unit.activates !== undefined) {
      out.push('', `  ${unit.unit}${unit.activates ? ` → ${unit.activates}` : ''}${unit.unit === s.timer && s.schedule ? ` (schedule ${s.schedule})` : ''}`);
      field('  last', when(unit.lastTrigger, 'never triggered'));
      field('  next', when(unit.nextElapse, noNextElapse(unit)));
    }
  }
  out.push('');
  field('drift', driftPhrase(s.drift));
  for (const file of s.drift.changed) out.push(`    ${paint('yellow', file.problem.padEnd(10))} ${file.path}${file.detail ? ` (${file.detail})` : ''}`);
  for (const file of s.drift.unknown) out.push(`    ${paint('dim', 'unknown'.padEnd(10))} ${file} (not readable without root)`);
  field('secrets', s.secrets.length === 0 ? 'none set' : s.secrets.map((secret) => `${secret.key} (changed ${formatRelative(iso(secret.changedAt) ?? now, now)})`).join(', '));
  const settings = Object.entries(s.settings);
  field('settings', settings.length === 0 ? 'none' : settings.map(([k, v]) => `${k}=${v}`).join(', '));
  return `${out.join('\n')}\n`;
}

function driftPhrase(drift: Drift): string {
  const unknown = drift.unknown.length > 0 ? `; ${drift.unknown.length} unknown` : '';
  if (drift.changed.length === 0) return `${paint('green', 'none')} (${drift.checked} file${drift.checked === 1 ? '' : 's'} match the receipt${unknown})`;
  return `${paint('yellow', `${drift.changed.length} file${drift.changed.length === 1 ? '' : 's'} changed since install`)}${unknown}`;
}
