// "The installed bundle NAME" for every day-2 command: found by name or path, through its receipt (root), the public
// index (anyone: names, units, schedule, health URL), or — for check — its manifest; one policy for which states count.
import type { Bundle } from '../core/bundle/types.js';
import { findBundle, isPathReference } from '../system/bundles/lookup.js';
import { loadBundle } from '../system/bundles/load.js';
import { BUNDLE_NAME_PATTERN } from '../core/bundle/manifest.js';
import { mainService } from '../core/desired.js';
import { NeedsRootError, UserError } from '../core/errors.js';
import type { Receipt } from '../core/receipt.js';
import { layout, systemTarget, type Target } from '../core/target.js';
import { listReceipts, readReceipt } from '../system/receipts.js';
import { publicIndexPath, readPublicIndex, type PublicEntry } from '../system/public-index.js';
import { SystemdClient } from '../system/systemd.js';

/** An installed bundle as the read-only commands see it. `receipt` is there only when it could be read (root). */
export type InstalledBundle = Omit<PublicEntry, 'updatedAt'> & {
  /** When the last transaction changed it (ISO 8601), when known. */
  updatedAt?: string;
  /**
   * receipt: everything is known. index: the public index (.installed.json, 0644) — no drift, secrets or settings.
   * manifest: the bundle's own manifest (check without root and without an index): defaults, not a changed schedule.
   */
  from: 'receipt' | 'index' | 'manifest';
  receipt?: Receipt;
};

/**
 * Which receipt states count as installed. any: every receipt (status, doctor and logs show unfinished and
 * retained ones too); live: not uninstalled (check); complete: a finished install (run, schedule, secret).
 */
export type AcceptedStates = 'any' | 'live' | 'complete';

export interface FindOptions {
  /** The command, for messages ("svcctl status"). */
  command: string;
  /** receipt: root only (run, doctor, schedule, secret); public: the public index stands in without root. */
  needs: 'receipt' | 'public';
  accept?: AcceptedStates;
  /** check: without a receipt or an index, the bundle's manifest says what to look at, when its units are installed. */
  manifest?: boolean;
  target?: Target;
}

/** A bundle is named on the command line by name (its receipt) or by path (its manifest gives the name). */
export async function bundleNameOf(reference: string): Promise<string> {
  if (BUNDLE_NAME_PATTERN.test(reference)) return reference;
  if (isPathReference(reference)) return (await findBundle(reference)).name;
  throw new UserError(`invalid bundle name "${reference}"`, 'bundle names are lowercase letters, digits and "-" (see svcctl status for what is installed)');
}

/** True for an error from reading a root-only file as another user. */
export function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/** The bundle is not installed (exit 2): `check` answers UNKNOWN "not installed" to it. */
export class NotInstalledError extends UserError {
  constructor(readonly bundle: string) {
    super(`bundle ${bundle} is not installed`, `see \`svcctl status\` for the installed bundles, or install it: svcctl install ${bundle}`);
  }
}

function notInstalled(name: string): NotInstalledError {
  return new NotInstalledError(name);
}

/** The one policy: is a bundle in this state installed, for a command that accepts `accept`? Throws when not. */
function requireState(name: string, state: string, accept: AcceptedStates, source: string): void {
  if (accept === 'any') return;
  if (state === 'retained' || state === 'uninstalling') throw notInstalled(name);
  if (accept === 'complete' && state === 'installing') {
    throw new UserError(
      `bundle ${name} has an unfinished transaction (its receipt says "installing")`,
      `run \`svcctl install ${source} --yes\` to finish it, or \`svcctl doctor ${name}\` to see what is wrong`,
    );
  }
}

/** Receipts are 0600 root (they list every file and its checksum): without root and without the public index, say so. */
function receiptsNeedRoot(options: Pick<FindOptions, 'command' | 'needs' | 'target'>, extra = ''): NeedsRootError {
  const target = options.target ?? systemTarget();
  const denied = new NeedsRootError(options.command);
  const why = options.needs === 'public' ? `, and the public index of installed bundles (${publicIndexPath(target)}, written by svcctl with every change) is not there to read instead` : '';
  denied.message = `${options.command} needs root: it reads the receipts in ${layout(target).stateDir}, which only root may read${why}${extra}`;
  return denied;
}

/** A receipt as read, or undefined when it is not one (.installed.json, the public index, lives beside the receipts). */
function asReceipt(value: Receipt | undefined): Receipt | undefined {
  return value && typeof value.bundle === 'string' && Array.isArray(value.units) ? value : undefined;
}

function fromReceipt(receipt: Receipt): InstalledBundle {
  return { ...essentials(receipt), from: 'receipt', receipt };
}

function fromIndex(entry: PublicEntry): InstalledBundle {
  return { ...essentials(entry), from: 'index' };
}

function essentials(source: Receipt | PublicEntry): Omit<InstalledBundle, 'from' | 'receipt'> {
  return {
    bundle: source.bundle,
    description: source.description,
    state: source.state,
    units: source.units,
    enabled: source.enableDeferred ? [] : source.enabled,
    ...(source.enableDeferred ? { enableDeferred: true } : {}),
    ...(source.service ? { service: source.service } : {}),
    ...(source.timer ? { timer: source.timer } : {}),
    ...(source.schedule ? { schedule: source.schedule } : {}),
    ...(source.health ? { health: source.health } : {}),
    ...(source.updatedAt ? { updatedAt: source.updatedAt } : {}),
  };
}

/** The public index, or undefined when there is none or it cannot be read. */
async function publicIndex(target: Target): Promise<PublicEntry[] | undefined> {
  return readPublicIndex(target).catch((error: unknown) => {
    if (isPermissionError(error)) return undefined;
    throw error;
  });
}

/** The installed bundle a command names (by name or path); a UserError (exit 2) when it is not installed. */
export async function findInstalled(reference: string, options: FindOptions): Promise<InstalledBundle> {
  const target = options.target ?? systemTarget();
  const accept = options.accept ?? 'any';
  const name = await bundleNameOf(reference);
  let receipt: Receipt | undefined;
  try {
    receipt = asReceipt(await readReceipt(target, name));
  } catch (error) {
    if (!isPermissionError(error)) throw error;
    if (options.needs === 'receipt') throw receiptsNeedRoot(options);
    const index = await publicIndex(target);
    if (index) {
      const entry = index.find((e) => e.bundle === name);
      if (!entry) throw notInstalled(name);
      requireState(name, entry.state, accept, name);
      return fromIndex(entry);
    }
    if (options.manifest) {
      const found = await installedFromManifest(reference, target);
      if (found) return found;
      throw notInstalled(name);
    }
    throw receiptsNeedRoot(options);
  }
  if (!receipt) throw notInstalled(name);
  requireState(name, receipt.state, accept, receipt.source);
  return fromReceipt(receipt);
}

/** Every installed bundle (in every state), from the receipts, or without root from the public index. */
export async function listInstalled(options: Pick<FindOptions, 'command' | 'needs' | 'target'> & { hint?: string }): Promise<InstalledBundle[]> {
  const target = options.target ?? systemTarget();
  try {
    return (await listReceipts(target)).map(asReceipt).filter((r): r is Receipt => r !== undefined).map(fromReceipt);
  } catch (error) {
    if (!isPermissionError(error)) throw error;
  }
  if (options.needs === 'public') {
    const index = await publicIndex(target);
    if (index) return index.map(fromIndex);
  }
  throw receiptsNeedRoot(options, options.hint ?? '');
}

/** Without root and without an index: the manifest says which units to look at, when they are where install writes them. */
async function installedFromManifest(reference: string, target: Target): Promise<InstalledBundle | undefined> {
  const bundle = await findBundle(reference);
  const units = bundle.units.map((u) => u.name);
  const loaded = await new SystemdClient(target).show(units, ['LoadState', 'FragmentPath'] as const);
  const unitDir = `${layout(target).unitDir}/`;
  if (!units.some((u) => loaded[u]?.LoadState === 'loaded' && loaded[u]?.FragmentPath?.startsWith(unitDir))) return undefined;
  const service = mainService(bundle);
  return {
    bundle: bundle.name,
    description: bundle.description,
    state: 'installed',
    units,
    enabled: bundle.enable,
    ...(service ? { service } : {}),
    ...(bundle.schedule ? { timer: bundle.schedule.timer, schedule: bundle.schedule.default } : {}),
    ...(bundle.health ? { health: bundle.health } : {}),
    from: 'manifest',
  };
}

/**
 * The receipt of an installed bundle (a finished install); a UserError (nothing changed) when it is not installed.
 * `finishing`: the caller holds the transaction lock, so an "installing" receipt is a transaction that died, which
 * the caller's completes.
 */
export async function requireInstalled(host: Target, name: string, options: { finishing?: boolean } = {}): Promise<Receipt> {
  // The permission error itself goes up: the caller says which command needs root.
  const receipt = asReceipt(await readReceipt(host, name));
  if (!receipt) throw notInstalled(name);
  requireState(name, receipt.state, options.finishing ? 'live' : 'complete', receipt.source);
  return receipt;
}

/**
 * The bundle the receipt was installed from, when its directory still loads: it knows what the receipt
 * does not (declared secrets that are unset, the default schedule). Undefined when it is gone or invalid.
 */
export async function sourceBundle(receipt: Receipt): Promise<Bundle | undefined> {
  try {
    return await loadBundle(receipt.source, { expectedName: receipt.bundle });
  } catch {
    return undefined;
  }
}
