// The status flow: how each installed bundle is doing — its units' state (a few systemd calls however many units), its
// health URL, and with root the drift of its files from the receipt. Without root: what the public index names.
import { systemTarget, onHost, type Target } from '../core/target.js';
import { nowUsec, usecToIso } from '../core/time.js';
import type { ReceiptArtifact } from '../core/receipt.js';
import { readHostKey } from '../system/receipts.js';
import { propertiesOfListing, unitStateOf, unitStateProperties, type LastRun, type Restarts, type UnitProperties, type UnitState } from '../core/unit-state.js';
import type { UrlProbe } from '../core/health.js';
import { inspectPath } from '../system/fs.js';
import { probeUrl } from '../system/http.js';
import { clockNow, SystemdClient } from '../system/systemd.js';
import { lingerOf } from '../system/user-manager.js';
import { isRoot } from '../system/privileges.js';
import { findInstalled, listInstalled, type InstalledBundle } from './installed.js';
import { targetFor, type ScopeOptions } from './target.js';

export type Health = 'ok' | 'failed' | 'missing' | 'stopped' | 'unhealthy' | 'drifted' | 'incomplete' | 'retained';

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
  /** Daemons: how systemd restarts them, how often it has, and its start limit. */
  restarts?: Restarts;
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
  state: string;
  /** From the receipt (root): when and from what it was installed. */
  installedAt?: string;
  updatedAt?: string;
  /** Installed with --no-enable: nothing enabled or started yet. */
  enableDeferred?: boolean;
  /** From the receipt (root): who authorized the install of a bundle that requires it, when, and the text given. */
  authorization?: { text: string; by: string; at: string };
  source?: string;
  digest?: string;
  svcctlVersion?: string;
  service?: string;
  timer?: string;
  schedule?: string;
  /** The main service's last run, and the main timer's next elapse. */
  lastRun?: LastRun;
  nextRun?: string | null;
  units: UnitStatus[];
  /** The answer of the health URL (a daemon's), asked as `check` asks it. */
  url?: UrlProbe;
  /** From the receipt (root): files changed since install, and the secrets set (names only) and settings. */
  drift?: Drift;
  secrets?: { key: string; changedAt: string }[];
  settings?: Record<string, string>;
  /** From the receipt (root): the failure alert channels, by kind only (svcctl alert list shows more). */
  alerts?: string[];
  /** --alert-on-restart: a daemon's restarts are alerted too. */
  alertOnRestart?: boolean;
  /** Without root: what is not shown, and why. */
  restricted?: { reason: string; hidden: string[] };
  /** When systemd answered (ISO 8601, UTC): relative times are relative to it. */
  observedAt: string;
}

/** --user: whose manager, and whether it lingers (without linger his timers stop when he logs out). */
export interface UserManagerState {
  name: string;
  linger?: boolean;
}

export type StatusResult = (BundleStatus | { bundles: BundleStatus[]; userScopeHint?: string }) & { user?: UserManagerState };

/** How long a health URL may take to answer (as `check`). */
const urlTimeoutMs = 2000;

/** `svcctl status [BUNDLE]`: one bundle in detail, or every installed bundle. */
export async function status(reference: string | undefined, scope: ScopeOptions = {}): Promise<StatusResult> {
  const target = await targetFor(scope);
  const options = { command: 'svcctl status', needs: 'public', target } as const;
  const installed = reference === undefined ? await listInstalled(options) : [await findInstalled(reference, options)];
  const systemd = new SystemdClient(target);
  await systemd.requireRunning();
  const [statuses, user] = await Promise.all([statusOf(systemd, installed, reference !== undefined), userManagerState(target)]);
  // Nothing in the system's manager, asked by a user: his own bundles are in his user manager.
  const userScopeHint = reference === undefined && statuses.length === 0 && target.scope === 'system' && !isRoot() ? 'yours, in your own user manager: svcctl status --user' : undefined;
  return { ...(reference === undefined ? { bundles: statuses, ...(userScopeHint ? { userScopeHint } : {}) } : statuses[0]!), ...(user ? { user } : {}) };
}

/** In user scope: the user and whether his manager lingers. */
export async function userManagerState(target: Target): Promise<UserManagerState | undefined> {
  if (target.scope !== 'user') return undefined;
  const linger = await lingerOf(target);
  return { name: target.user, ...(linger !== undefined ? { linger } : {}) };
}

/**
 * Status of many bundles with a fixed number of systemd calls however many units they have (see snapshotUnits),
 * the health URLs side by side. `detailed`: every service's last run (one bundle's view), else only each main
 * service's (the one-line overview).
 */
export async function statusOf(systemd: SystemdClient, bundles: InstalledBundle[], detailed: boolean): Promise<BundleStatus[]> {
  const units = [...new Set(bundles.flatMap((b) => b.units))];
  const showAll = detailed ? units : bundles.flatMap((b) => (b.service ? [b.service] : []));
  let observedAt = nowUsec();
  const [snapshot, drifts, probes] = await Promise.all([
    snapshotUnits(systemd, units, showAll).then((states) => {
      observedAt = nowUsec(); // a health URL may take seconds more: "last run 3s ago" is as systemd said it
      return states;
    }),
    Promise.all(bundles.map((b) => (b.receipt ? driftOf(b.receipt.artifacts, systemd.target) : Promise.resolve(undefined)))),
    Promise.all(bundles.map((b) => (b.health?.url ? probeUrl(b.health.url, urlTimeoutMs) : Promise.resolve(undefined)))),
  ]);
  return bundles.map((bundle, i) => {
    const states = bundle.units.map((unit) => snapshot[unit]!);
    const unitStatuses = states.map((state) => unitStatusOf(state, detailed || state.unit === bundle.service));
    const main = unitStatuses.find((u) => u.unit === bundle.service);
    const timer = unitStatuses.find((u) => u.unit === bundle.timer);
    const drift = drifts[i];
    const url = probes[i];
    const receipt = bundle.receipt;
    return {
      bundle: bundle.bundle,
      description: bundle.description,
      health: healthOf(bundle, states, drift, url),
      state: bundle.state,
      ...(bundle.enableDeferred ? { enableDeferred: true } : {}),
      ...(receipt?.authorization ? { authorization: receipt.authorization } : {}),
      ...(receipt
        ? { installedAt: receipt.installedAt, updatedAt: receipt.updatedAt, source: receipt.source, digest: receipt.digest, svcctlVersion: receipt.svcctlVersion }
        : bundle.updatedAt
          ? { updatedAt: bundle.updatedAt }
          : {}),
      ...(bundle.service ? { service: bundle.service } : {}),
      ...(bundle.timer ? { timer: bundle.timer } : {}),
      ...(bundle.schedule ? { schedule: bundle.schedule } : {}),
      ...(main?.lastRun ? { lastRun: main.lastRun } : {}),
      ...(timer ? { nextRun: timer.nextElapse ?? null } : {}),
      units: unitStatuses,
      ...(url ? { url } : {}),
      ...(receipt && drift ? { drift, secrets: receipt.secrets, settings: receipt.settings } : {}),
      ...(receipt ? { alerts: (receipt.alerts ?? []).map((a) => a.kind) } : {}),
      ...(receipt?.alertOnRestart ? { alertOnRestart: true } : {}),
      ...(receipt ? {} : { restricted: { reason: 'the receipt is readable by root only', hidden: ['drift', 'secrets', 'settings', 'alerts', 'where it was installed from'] } }),
      observedAt: usecToIso(observedAt)!,
    };
  });
}

/**
 * What systemd says about many units in three calls side by side, whatever their number: `list-timers
 * --output=json` (next/last elapse in µs, the activated unit), `list-units` (load/active/sub of the units
 * not `detailed`) — one D-Bus call each — and `systemctl show` for the `detailed` units (enabled state,
 * Result, exit status, run times, restarts). A fourth, only when some unit is not loaded (list-units leaves those
 * out), asks `show` for it. `show` costs a D-Bus round trip, a full property dump and an enablement lookup per
 * unit (2-4 ms each: 0.5-1 s for 400 units), so the overview asks it only for each bundle's main service.
 */
export async function snapshotUnits(systemd: SystemdClient, units: string[], detailed: string[]): Promise<Record<string, UnitState>> {
  if (units.length === 0) return {};
  const wanted = new Set(detailed);
  const rest = units.filter((u) => !wanted.has(u));
  const timers = units.filter((u) => u.endsWith('.timer'));
  const show = (list: string[]) => systemd.show(list, unitStateProperties, { utc: true }) as Promise<Record<string, UnitProperties>>;
  const [listed, timerRows, detail] = await Promise.all([systemd.listUnits(rest), timers.length > 0 ? systemd.listTimers(timers) : Promise.resolve([]), show([...wanted])]);
  const shown = { ...detail, ...(await show(rest.filter((u) => !listed.has(u)))) };
  const timerOf = new Map(timerRows.map((t) => [t.unit, t]));
  const clock = clockNow();
  // The listings' next and last elapse win over show's: list-timers has already placed a monotonic one in time.
  return Object.fromEntries(units.map((unit) => [unit, unitStateOf(unit, { ...propertiesOfListing(listed.get(unit)), ...shown[unit], ...propertiesOfListing(undefined, timerOf.get(unit)) }, clock)]));
}

function unitStatusOf(state: UnitState, withRun: boolean): UnitStatus {
  const base: UnitStatus = {
    unit: state.unit,
    load: state.load,
    active: state.active,
    sub: state.sub,
    ...(state.enabled !== undefined ? { enabled: state.enabled || '-' } : {}),
  };
  if (state.unit.endsWith('.timer')) {
    return { ...base, activates: state.activates ?? '', lastTrigger: usecToIso(state.lastTrigger), nextElapse: usecToIso(state.nextElapse) };
  }
  if (state.unit.endsWith('.service') && withRun && state.lastRun) {
    const daemon = state.type !== undefined && state.type !== 'oneshot';
    return { ...base, lastRun: state.lastRun, ...(state.mainPid ? { mainPid: state.mainPid } : {}), ...(daemon && state.restarts ? { restarts: state.restarts } : {}) };
  }
  return base;
}

const runningStates = new Set(['active', 'activating', 'reloading']);

/** One word for a bundle, worst first: failed/missing (red), stopped/unhealthy/drifted/incomplete (yellow), ok (green). */
export function healthOf(bundle: Pick<InstalledBundle, 'state' | 'enabled'>, units: UnitState[], drift: Drift | undefined, url: UrlProbe | undefined): Health {
  if (bundle.state === 'retained') return 'retained';
  if (bundle.state !== 'installed') return 'incomplete';
  if (units.some((u) => u.load !== 'loaded')) return 'missing';
  if (units.some((u) => u.failed)) return 'failed';
  if (units.some((u) => bundle.enabled.includes(u.unit) && !runningStates.has(u.active))) return 'stopped';
  if (url && !url.ok) return 'unhealthy';
  if (drift && drift.changed.length > 0) return 'drifted';
  return 'ok';
}

/** Compares every file the receipt lists with its checksum and mode. */
export async function driftOf(artifacts: ReceiptArtifact[], target: Target = systemTarget()): Promise<Drift> {
  const drift: Drift = { checked: 0, changed: [], unknown: [] };
  // A secret-holding file's checksum is keyed with the host's own key (it never reveals a weak secret).
  const hostKey = readHostKey(target).then((k) => (k.stored ? k.key : undefined), () => undefined);
  await Promise.all(
    artifacts.map(async (artifact) => {
      const key = artifact.secret === true || artifact.role === 'secrets' ? await hostKey : undefined;
      const state = await inspectPath(onHost(target, artifact.path), { content: true, ...(key ? { key } : {}) }).catch((error: NodeJS.ErrnoException) => {
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
