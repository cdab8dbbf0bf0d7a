// observe(): read-only probes of the host a plan needs — every path it may touch and their ancestors, users and
// groups, the secrets already set, unit states, the distribution's units, other bundles' receipts, temp files left
// by an interrupted write. Also the re-observation a verified rollback compares with.
import path from 'node:path';
import { NeedsRootError } from '../core/errors.js';
import { ancestors, observationTargets, purgeAsides } from '../core/plan.js';
import type { DesiredState } from '../core/desired.js';
import type { Observed, PathState } from '../core/observed.js';
import type { Receipt } from '../core/receipt.js';
import { parseEnvFile } from '../core/escape/index.js';
import { layout, onHost, type Target } from '../core/target.js';
import type { UnitBefore } from '../core/steps/types.js';
import { readAccounts, type Accounts } from './accounts.js';
import { inspectPath, listDirectory, readTextIfExists, tempPrefix } from './fs.js';
import { readReceipt, receiptNames } from './receipts.js';
import { SystemdClient } from './systemd.js';

/** True for an error from reading a root-only file as another user. */
export function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/** A read that needs root: without it, exit 77 naming what could not be read. */
export async function asRoot<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isPermissionError(error)) throw new NeedsRootError(`${what} needs root: it reads ${(error as NodeJS.ErrnoException).path ?? 'files'} that only root may read`);
    throw error;
  }
}

/**
 * The reads one observation pass shares between the bundles of an install: each path, directory listing and receipt,
 * and the accounts, are read once however many bundles ask (20 bundles share /etc/systemd/system and its ancestors,
 * the passwd file, the receipts). Made under the transaction's lock, so nothing it read changes while it is in use.
 */
export class ObservationPass {
  private readonly reads = new Map<string, Promise<unknown>>();

  constructor(readonly target: Target) {}

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let found = this.reads.get(key) as Promise<T> | undefined;
    if (!found) this.reads.set(key, (found = read()));
    return found;
  }

  receipt(bundle: string): Promise<Receipt | undefined> {
    return this.once(`receipt:${bundle}`, () => readReceipt(this.target, bundle));
  }

  /** Every valid receipt, as listReceipts reads them. */
  receipts(): Promise<Receipt[]> {
    return this.once('receipts', async () => (await Promise.all((await receiptNames(this.target)).map((n) => this.receipt(n)))).filter((r): r is Receipt => r !== undefined));
  }

  accounts(): Promise<Accounts> {
    return this.once('accounts', () => readAccounts(this.target));
  }

  /** A path's state; a secret-holding file's checksum keyed with `key`. */
  path(p: string, key?: Buffer): Promise<PathState | undefined> {
    return this.once(key ? `keyed:${key.toString('hex')}:${p}` : `path:${p}`, () => inspectPath(onHost(this.target, p), { content: true, ...(key ? { key } : {}) }));
  }

  listing(dir: string): Promise<string[]> {
    return this.once(`listing:${dir}`, () => listDirectory(onHost(this.target, dir)));
  }
}

/** Everything planInstall() looks at for `desired`; `pass` shares the reads of several bundles' observations. */
export async function observeInstall(
  target: Target,
  desired: DesiredState,
  hostKey: Buffer,
  command = 'svcctl install --dry-run',
  knownUnits?: Record<string, UnitBefore>,
  pass = new ObservationPass(target),
): Promise<Observed> {
  return asRoot(command, async () => {
    const l = layout(target);
    const receipt = await pass.receipt(desired.bundle);
    const secretPaths = new Set([...desired.files.filter((f) => f.secret).map((f) => f.path), ...(receipt?.artifacts.filter((a) => a.secret === true || a.role === 'secrets').map((a) => a.path) ?? [])]);
    const targets = observationTargets(desired, receipt, target);
    const [paths, base, units, vendorUnits, existingSecrets] = await Promise.all([
      observePaths(target, targets, secretPaths, hostKey, pass),
      observeBase(target, desired.bundle, pass),
      // Several bundles of one install are asked about in one systemctl show (knownUnits).
      knownUnits ? Object.fromEntries(desired.units.flatMap((u) => (knownUnits[u] ? [[u, knownUnits[u]!] as const] : []))) : observeUnits(target, desired.units),
      findVendorUnits(target, desired.units),
      readTextIfExists(onHost(target, l.secretsFile(desired.bundle))).then((text) => (text ? Object.fromEntries(parseEnvFile(text)) : {})),
    ]);
    const tempFiles = await findTempFiles(target, [...desired.files.map((f) => f.path), ...(receipt?.artifacts.map((a) => a.path) ?? []), l.receipt(desired.bundle)], pass);
    return { ...(receipt ? { receipt } : {}), ...base, paths, existingSecrets, units, vendorUnits, tempFiles };
  });
}

/** Everything planUninstall() looks at for an installed bundle. */
export async function observeUninstall(target: Target, receipt: Receipt, hostKey: Buffer): Promise<Observed> {
  const targets = new Set<string>();
  // Where --purge moves data directories: an uninstall killed after the move left them there.
  const asides = [...purgeAsides(receipt).values()];
  for (const p of [...receipt.artifacts.flatMap((a) => [a.path, ...(a.backup ? [a.backup] : [])]), ...receipt.directories.map((d) => d.path), ...asides]) {
    targets.add(p);
    for (const a of ancestors(p)) targets.add(a);
  }
  const secretPaths = new Set(receipt.artifacts.filter((a) => a.secret === true || a.role === 'secrets').map((a) => a.path));
  const [paths, base, units, vendorUnits] = await Promise.all([
    observePaths(target, [...targets], secretPaths, hostKey),
    observeBase(target, receipt.bundle),
    observeUnits(target, receipt.units),
    findVendorUnits(target, receipt.units),
  ]);
  const tempFiles = await findTempFiles(target, [...receipt.artifacts.map((a) => a.path), layout(target).receipt(receipt.bundle)]);
  return { receipt, ...base, paths, existingSecrets: {}, units, vendorUnits, tempFiles };
}

/** Users, groups and the other bundles' receipts. */
async function observeBase(target: Target, bundle: string, pass = new ObservationPass(target)): Promise<Pick<Observed, 'users' | 'groups' | 'otherReceipts'>> {
  const [accounts, receipts] = await Promise.all([pass.accounts(), pass.receipts()]);
  return {
    users: Object.fromEntries([...accounts.users].map(([name, u]) => [name, { uid: u.uid, gid: u.gid }])),
    groups: Object.fromEntries([...accounts.groups].map(([name, g]) => [name, { gid: g.gid }])),
    otherReceipts: receipts.filter((r) => r.bundle !== bundle),
  };
}

/** The state of each path (checksums of secret-holding files keyed with the host key); null when absent. */
export async function observePaths(target: Target, targets: string[], secretPaths: ReadonlySet<string> = new Set(), hostKey?: Buffer, pass = new ObservationPass(target)): Promise<Record<string, PathState | null>> {
  const entries = await Promise.all(targets.map(async (p) => [p, (await pass.path(p, secretPaths.has(p) ? hostKey : undefined)) ?? null] as const));
  return Object.fromEntries(entries);
}

/** Whether each unit is enabled and active, in one `systemctl show` call (none with --root). */
export async function observeUnits(target: Target, units: string[]): Promise<Record<string, UnitBefore>> {
  if (target.offline || units.length === 0) return {};
  const systemd = new SystemdClient(target);
  if (!(await systemd.running())) return {};
  const states = await systemd.show(units, ['ActiveState', 'UnitFileState'] as const);
  return Object.fromEntries(Object.entries(states).map(([unit, props]) => [unit, { active: props.ActiveState ?? '', enabled: props.UnitFileState ?? '' }]));
}

/** The bundle's unit names that the distribution (or a package) also ships. */
async function findVendorUnits(target: Target, units: string[]): Promise<string[]> {
  const dirs = layout(target).vendorUnitDirs;
  const found = await Promise.all(units.map(async (u) => ((await Promise.all(dirs.map((d) => inspectPath(onHost(target, `${d}/${u}`), { content: false })))).some(Boolean) ? u : undefined)));
  return found.filter((u): u is string => u !== undefined);
}

/** Temporary files an interrupted atomic write left next to any of these paths. */
async function findTempFiles(target: Target, paths: string[], pass = new ObservationPass(target)): Promise<string[]> {
  const byDir = new Map<string, Set<string>>();
  for (const p of paths) {
    const dir = path.posix.dirname(p);
    if (!byDir.has(dir)) byDir.set(dir, new Set());
    byDir.get(dir)!.add(path.posix.basename(p));
  }
  const found: string[] = [];
  for (const [dir, names] of byDir) {
    for (const entry of await pass.listing(dir)) {
      if ([...names].some((n) => entry.startsWith(tempPrefix(n)) && /^[0-9a-f]{12}$/.test(entry.slice(tempPrefix(n).length)))) found.push(`${dir}/${entry}`);
    }
  }
  return found.sort();
}
