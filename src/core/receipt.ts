// The receipt (/var/lib/svcctl/<bundle>.json): what an install put on the host, in a versioned format that is
// checked on every read — shape, version, and that every path lies in svcctl's own places — and upgraded from older
// formats. Pure: the reading and writing are in src/system/receipts.ts.
import path from 'node:path';
import { BUNDLE_NAME_PATTERN } from './bundle/names.js';
import type { Layout } from './target.js';
import { systemDirectories } from './target.js';
import { alertConfigDir, alertKinds, validateEmailAddress, type AlertChannelSummary } from './alerts/channels.js';

export const RECEIPT_FORMAT = 2;

export type ArtifactRole = 'unit' | 'drop-in' | 'schedule' | 'payload' | 'config' | 'secrets' | 'sysusers' | 'tmpfiles' | 'alert-drop-in' | 'alert-config';

export interface ReceiptArtifact {
  path: string;
  role: ArtifactRole;
  /**
   * Checksum of the content: "sha256:HEX" for ordinary files; a secret-holding file gets "hmac-sha256:HEX", keyed
   * with the host's own root-only key, so the receipt never reveals a weak secret; "" when not known (migrated).
   */
  checksum: string;
  mode: number;
  owner: string;
  group: string;
  /** Where the file that was there before svcctl is kept, to restore on uninstall. */
  backup?: string;
  /** Holds secret values (kept by a plain uninstall, like the secrets file; removed by --purge). */
  secret?: boolean;
}

export interface ReceiptDirectory {
  path: string;
  /** svcctl created it (did not exist before): uninstall --purge removes it. */
  created: boolean;
  /** svcctl's own directories (drop-in dirs, /etc/svcctl/<bundle>) are removed by every uninstall. */
  own: boolean;
  /** Shared by several bundles (/etc/svcctl, /etc/sysusers.d, …): removed by the last bundle out, when empty. */
  shared?: boolean;
  /** Declared by the bundle (data, logs): kept by a plain uninstall, removed with all it holds by --purge. */
  data?: boolean;
  /** An existing directory whose mode or owner svcctl changed (with --force): restored on uninstall. */
  previous?: { mode: number; uid: number; gid: number };
}

export interface Authorization {
  /** What the operator wrote (--authorize TEXT), or the bundle name typed at the prompt. */
  text: string;
  /** Who: SUDO_USER when run through sudo, else the user. */
  by: string;
  at: string;
}

export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  bundle: string;
  scope: 'system' | 'user';
  description: string;
  source: string;
  digest: string;
  svcctlVersion: string;
  installedAt: string;
  updatedAt: string;
  /** installing: a transaction is (or was, if svcctl died) under way; retained: uninstalled but --purge pending. */
  state: 'installing' | 'installed' | 'uninstalling' | 'retained';
  units: string[];
  enabled: string[];
  /** Installed with --no-enable: units in place, nothing enabled or started (svcctl enable BUNDLE later). */
  enableDeferred?: boolean;
  /** The main service (run, logs, check). */
  service?: string;
  timer?: string;
  schedule?: string;
  /** True when the schedule was set by `svcctl schedule` or --schedule (kept on reinstall). */
  scheduleOverridden?: boolean;
  /** RandomizedDelaySec= set by `svcctl schedule --randomized-delay` (kept on reinstall; "0": none). */
  scheduleRandomizedDelay?: string;
  settings: Record<string, string>;
  secrets: { key: string; changedAt: string }[];
  health?: { maxAge?: string; url?: string; startTimeout?: string };
  authorization?: Authorization;
  /** Failure alert channels (--alert): kinds, and an email channel's address; the secrets are only in the channel files. */
  alerts?: AlertChannelSummary[];
  /** --alert-on-restart: a failed run of a daemon that systemd restarts is alerted too (kept on reinstall). */
  alertOnRestart?: boolean;
  artifacts: ReceiptArtifact[];
  directories: ReceiptDirectory[];
  user?: { name: string; created: boolean; groupCreated: boolean };
}

/** A receipt that does not hold together: the file, the field and what is wrong with it. */
export class ReceiptProblem extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'ReceiptProblem';
  }
}

const roles: readonly ArtifactRole[] = ['unit', 'drop-in', 'schedule', 'payload', 'config', 'secrets', 'sysusers', 'tmpfiles', 'alert-drop-in', 'alert-config'];
const states: readonly Receipt['state'][] = ['installing', 'installed', 'uninstalling', 'retained'];

/** Places no receipt may name, whatever the bundle said: removing or replacing them would break the host. */
const criticalFiles = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/fstab', '/etc/hosts', '/etc/hostname', '/etc/machine-id', '/etc/os-release', '/etc/login.defs', '/etc/nsswitch.conf', '/etc/resolv.conf', '/etc/crypttab'];
const criticalTrees = ['/etc/ssh', '/etc/sudoers.d', '/etc/pam.d', '/etc/security', '/root/.ssh', '/boot', '/proc', '/sys', '/dev', '/etc/systemd/system.conf', '/etc/systemd/user.conf'];

/** A path no bundle may install to or remove (also used by the manifest rules). */
export function criticalPath(p: string): string | undefined {
  if (criticalFiles.includes(p)) return p;
  return criticalTrees.find((tree) => p === tree || p.startsWith(`${tree}/`));
}

/**
 * Validates parsed JSON as a receipt for `bundle` under `layout`, upgrading older formats. Throws a ReceiptProblem
 * naming the field. Paths must be absolute, normalised, and where their role says (units under the unit
 * directory, secrets in the bundle's own secrets directory, …); none may be one of the host's critical files
 * or the system's own directories.
 */
export function parseReceipt(data: unknown, bundle: string, layout: Layout): Receipt {
  const value = migrate(data);
  const r = object(value, '(receipt)');
  // Whose receipt, and for which scope, before anything it names is believed.
  const named = str(r, 'bundle');
  if (named !== bundle || !BUNDLE_NAME_PATTERN.test(named)) throw new ReceiptProblem('bundle', `is ${JSON.stringify(named)}, but the receipt is the one of bundle ${bundle}`);
  const scope = oneOf(r, 'scope', ['system', 'user'] as const);
  if (scope !== layout.scope) throw new ReceiptProblem('scope', `is ${scope}, but it was read from the ${layout.scope} scope's receipts`);
  const receipt: Receipt = {
    format: RECEIPT_FORMAT,
    bundle: str(r, 'bundle'),
    scope: oneOf(r, 'scope', ['system', 'user'] as const),
    description: str(r, 'description', true),
    source: str(r, 'source'),
    digest: str(r, 'digest', true),
    svcctlVersion: str(r, 'svcctlVersion', true),
    installedAt: str(r, 'installedAt'),
    updatedAt: str(r, 'updatedAt'),
    state: oneOf(r, 'state', states),
    units: strings(r, 'units'),
    enabled: strings(r, 'enabled'),
    settings: record(r, 'settings'),
    secrets: list(r, 'secrets').map((s, i) => {
      const o = object(s, `secrets[${i}]`);
      return { key: str(o, 'key', false, `secrets[${i}].`), changedAt: str(o, 'changedAt', false, `secrets[${i}].`) };
    }),
    artifacts: list(r, 'artifacts').map((a, i) => artifact(a, i, bundle, layout)),
    directories: list(r, 'directories').map((d, i) => directory(d, i, layout)),
  };
  for (const [field, unit] of [...receipt.units.map((u) => ['units', u] as const), ...receipt.enabled.map((u) => ['enabled', u] as const)]) {
    if (!/^[A-Za-z0-9:_.\\@-]+\.(service|timer|socket|path|target|mount)$/.test(unit)) throw new ReceiptProblem(field, `${JSON.stringify(unit)} is not a unit name`);
  }
  if (r.enableDeferred === true) receipt.enableDeferred = true;
  for (const key of ['service', 'timer', 'schedule'] as const) if (r[key] !== undefined) receipt[key] = str(r, key);
  if (r.scheduleOverridden !== undefined) receipt.scheduleOverridden = bool(r, 'scheduleOverridden');
  if (r.scheduleRandomizedDelay !== undefined) receipt.scheduleRandomizedDelay = str(r, 'scheduleRandomizedDelay');
  if (r.health !== undefined) {
    const h = object(r.health, 'health');
    receipt.health = {};
    if (h.maxAge !== undefined) receipt.health.maxAge = str(h, 'maxAge', false, 'health.');
    if (h.url !== undefined) receipt.health.url = str(h, 'url', false, 'health.');
    if (h.startTimeout !== undefined) receipt.health.startTimeout = str(h, 'startTimeout', false, 'health.');
  }
  if (r.authorization !== undefined) {
    const a = object(r.authorization, 'authorization');
    receipt.authorization = { text: str(a, 'text', false, 'authorization.'), by: str(a, 'by', false, 'authorization.'), at: str(a, 'at', false, 'authorization.') };
  }
  if (r.alerts !== undefined) {
    receipt.alerts = list(r, 'alerts').map((value, i) => {
      const o = object(value, `alerts[${i}]`);
      const kind = oneOf(o, 'kind', alertKinds, `alerts[${i}].`);
      if (o.to === undefined) {
        if (kind === 'email') throw new ReceiptProblem(`alerts[${i}].to`, 'an email channel needs its address');
        return { kind };
      }
      const to = str(o, 'to', false, `alerts[${i}].`);
      if (kind !== 'email') throw new ReceiptProblem(`alerts[${i}].to`, `only an email channel has an address, not ${kind}`);
      try {
        return { kind, to: validateEmailAddress(to) };
      } catch {
        throw new ReceiptProblem(`alerts[${i}].to`, `${JSON.stringify(to)} is not an email address`);
      }
    });
  }
  if (r.alertOnRestart !== undefined) receipt.alertOnRestart = bool(r, 'alertOnRestart');
  if (r.user !== undefined) {
    const u = object(r.user, 'user');
    const name = str(u, 'name', false, 'user.');
    if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(name) || name === 'root') throw new ReceiptProblem('user.name', `${JSON.stringify(name)} is not a user svcctl would have created`);
    receipt.user = { name, created: bool(u, 'created', 'user.'), groupCreated: bool(u, 'groupCreated', 'user.') };
  }
  return receipt;
}

/** Format 1 (svcctl 0.1): no scope, no format on checks, plain sha256 checksums (a secrets file's too). */
function migrate(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const r = data as Record<string, unknown>;
  if (r.format === RECEIPT_FORMAT) return r;
  if (r.format !== 1) throw new ReceiptProblem('format', `is ${JSON.stringify(r.format)}; this svcctl reads formats 1 and ${RECEIPT_FORMAT} (a newer svcctl wrote it?)`);
  const artifacts = Array.isArray(r.artifacts)
    ? r.artifacts.map((a: unknown) => {
        if (a === null || typeof a !== 'object') return a;
        const { sha256, ...rest } = a as Record<string, unknown>;
        // A format-1 receipt kept a plain sha256 of the secrets file, which gives a weak secret away: dropped.
        const checksum = (rest.role === 'secrets' || typeof sha256 !== 'string') ? '' : `sha256:${sha256}`;
        return { ...rest, checksum };
      })
    : r.artifacts;
  // Format 1 told svcctl's own directories apart, nothing else: the shared places are known by path; any other
  // directory it made (own: false) was a declared data directory or one on the way to it.
  const shared = ['/etc/svcctl', '/etc/sysusers.d', '/etc/tmpfiles.d', '/var/lib/svcctl', '/var/lib/svcctl/backups', '/etc/systemd/system'];
  const directories = Array.isArray(r.directories)
    ? r.directories.map((d: unknown) => {
        if (d === null || typeof d !== 'object') return d;
        const dir = d as Record<string, unknown>;
        if (shared.includes(String(dir.path))) return { ...dir, own: false, shared: true };
        return dir.own === true ? dir : { ...dir, data: true };
      })
    : r.directories;
  return { ...r, format: RECEIPT_FORMAT, scope: 'system', artifacts, directories };
}

function artifact(value: unknown, i: number, bundle: string, layout: Layout): ReceiptArtifact {
  const at = `artifacts[${i}].`;
  const o = object(value, `artifacts[${i}]`);
  const role = oneOf(o, 'role', roles, at);
  const p = absolutePath(o, 'path', at);
  const a: ReceiptArtifact = { path: p, role, checksum: str(o, 'checksum', true, at), mode: mode(o, 'mode', at), owner: str(o, 'owner', false, at), group: str(o, 'group', false, at) };
  if (o.secret === true || role === 'secrets') a.secret = true;
  if (!/^((sha256|hmac-sha256):[0-9a-f]{64})?$/.test(a.checksum)) throw new ReceiptProblem(`${at}checksum`, `${JSON.stringify(a.checksum)} is not a checksum`);
  const inside = (dir: string) => p.startsWith(`${dir}/`);
  const where: Record<ArtifactRole, boolean> = {
    unit: path.posix.dirname(p) === layout.unitDir,
    'drop-in': inside(layout.unitDir) && /\.d$/.test(path.posix.dirname(p)) && path.posix.dirname(path.posix.dirname(p)) === layout.unitDir,
    'alert-drop-in': /\.service\.d$/.test(path.posix.dirname(p)) && path.posix.dirname(path.posix.dirname(p)) === layout.unitDir && path.posix.basename(p) === 'svcctl-alerts.conf',
    'alert-config': path.posix.dirname(p) === alertConfigDir(layout) && /^[A-Za-z0-9:_.\\@-]+\.service\.json$/.test(path.posix.basename(p)),
    schedule: inside(layout.unitDir) && p.endsWith('.d/schedule.conf'),
    secrets: p === layout.secretsFile(bundle),
    sysusers: p === layout.sysusers(bundle),
    tmpfiles: p === layout.tmpfiles(bundle),
    payload: !inside(layout.stateDir) && !inside(layout.unitDir) && layout.payloadRoots.some((root) => root === '/' || inside(root)),
    config: !inside(layout.stateDir) && !inside(layout.unitDir) && layout.payloadRoots.some((root) => root === '/' || inside(root)),
  };
  if (!where[role] || criticalPath(p) || systemDirectories.has(p)) throw new ReceiptProblem(`${at}path`, `${p} is not a place where svcctl puts a ${role} file`);
  if (o.backup !== undefined) {
    const backup = absolutePath(o, 'backup', at);
    if (!backup.startsWith(`${layout.backupDir(bundle)}/`)) throw new ReceiptProblem(`${at}backup`, `${backup} is outside ${layout.backupDir(bundle)}`);
    a.backup = backup;
  }
  return a;
}

function directory(value: unknown, i: number, layout: Layout): ReceiptDirectory {
  const at = `directories[${i}].`;
  const o = object(value, `directories[${i}]`);
  const p = absolutePath(o, 'path', at);
  const d: ReceiptDirectory = { path: p, created: bool(o, 'created', at), own: bool(o, 'own', at) };
  if (o.shared === true) d.shared = true;
  if (o.data === true) d.data = true;
  if (criticalPath(p) || (systemDirectories.has(p) && d.created)) throw new ReceiptProblem(`${at}path`, `${p} is one of the system's own directories, which svcctl never creates or removes`);
  if (!layout.payloadRoots.some((root) => root === '/' || p === root || p.startsWith(`${root}/`))) throw new ReceiptProblem(`${at}path`, `${p} is outside the places this scope installs to`);
  if (o.previous !== undefined) {
    const prev = object(o.previous, `${at}previous`);
    d.previous = { mode: mode(prev, 'mode', `${at}previous.`), uid: int(prev, 'uid', `${at}previous.`), gid: int(prev, 'gid', `${at}previous.`) };
  }
  return d;
}

// ---- small typed readers that name the field they reject -------------------------------------------------

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ReceiptProblem(field, `must be an object, not ${describe(value)}`);
  return value as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, emptyOk = false, at = ''): string {
  const v = o[key];
  if (typeof v !== 'string' || (!emptyOk && v === '')) throw new ReceiptProblem(`${at}${key}`, `must be a${emptyOk ? '' : ' non-empty'} string, not ${describe(v)}`);
  if (/[\0\n]/.test(v) && key !== 'description') throw new ReceiptProblem(`${at}${key}`, 'holds a NUL or newline');
  return v;
}

function bool(o: Record<string, unknown>, key: string, at = ''): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new ReceiptProblem(`${at}${key}`, `must be true or false, not ${describe(v)}`);
  return v;
}

function int(o: Record<string, unknown>, key: string, at = ''): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ReceiptProblem(`${at}${key}`, `must be a whole number, not ${describe(v)}`);
  return v;
}

function mode(o: Record<string, unknown>, key: string, at = ''): number {
  const v = int(o, key, at);
  if (v > 0o7777) throw new ReceiptProblem(`${at}${key}`, `${v} is not a file mode`);
  return v;
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, allowed: readonly T[], at = ''): T {
  const v = o[key];
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new ReceiptProblem(`${at}${key}`, `must be one of ${allowed.join(', ')}, not ${describe(v)}`);
  return v as T;
}

function list(o: Record<string, unknown>, key: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new ReceiptProblem(key, `must be a list, not ${describe(v)}`);
  return v;
}

function strings(o: Record<string, unknown>, key: string): string[] {
  return list(o, key).map((v, i) => {
    if (typeof v !== 'string' || v === '') throw new ReceiptProblem(`${key}[${i}]`, `must be a non-empty string, not ${describe(v)}`);
    return v;
  });
}

function record(o: Record<string, unknown>, key: string): Record<string, string> {
  const v = object(o[key], key);
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') throw new ReceiptProblem(`${key}.${k}`, `must be a string, not ${describe(x)}`);
  return v as Record<string, string>;
}

function absolutePath(o: Record<string, unknown>, key: string, at: string): string {
  const p = str(o, key, false, at);
  if (!p.startsWith('/') || path.posix.normalize(p) !== p || p.split('/').includes('..') || (p.length > 1 && p.endsWith('/'))) throw new ReceiptProblem(`${at}${key}`, `${JSON.stringify(p)} is not an absolute, normalised path`);
  return p;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'object' ? 'an object' : String(value);
}

/** The write-ahead receipt: the union of before and after, so a crash at any point leaves every artifact accounted for. */
export function intentReceipt(before: Receipt | undefined, after: Receipt | undefined, state: 'installing' | 'uninstalling'): Receipt {
  const base = after ?? before;
  if (!base) throw new Error('intentReceipt: nothing to describe');
  const artifacts = new Map((before?.artifacts ?? []).map((a) => [a.path, a]));
  for (const a of after?.artifacts ?? []) artifacts.set(a.path, { ...a, ...(artifacts.get(a.path)?.backup && !a.backup ? { backup: artifacts.get(a.path)!.backup } : {}) });
  const directories = new Map((before?.directories ?? []).map((d) => [d.path, d]));
  for (const d of after?.directories ?? []) directories.set(d.path, { ...d, created: d.created || (directories.get(d.path)?.created ?? false) });
  const user = after?.user ?? before?.user;
  return { ...base, state, artifacts: [...artifacts.values()], directories: [...directories.values()], ...(user ? { user } : {}) };
}

/** A receipt as it is written: keys in a fixed (sorted) order, so the same receipt is always the same bytes. */
export function serializeReceipt(receipt: Receipt): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sorted(v)]),
    );
  };
  return `${JSON.stringify(sorted(receipt), null, 2)}\n`;
}
