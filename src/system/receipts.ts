// Reading and writing receipts (<state dir>/<bundle>.json, 0600) under a target: every read is validated
// (core/receipt.ts parseReceipt), so a receipt of the wrong shape is a clear error naming the file and field.
// Also the host key that keys the checksums of secret-holding files, and the public index.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { OperationError } from '../core/errors.js';
import { parseReceipt, ReceiptProblem, serializeReceipt, type Receipt } from '../core/receipt.js';
import { layout, onHost, trustsOwner, type Target } from '../core/target.js';
import { BUNDLE_NAME_PATTERN } from '../core/bundle/names.js';
import { atomicWrite, ensureDirectory, inspectPath, type Owners, listDirectory, readFileIfExists, readTextIfExists, readTrustedFile, removeEmptyDirectory, removeFile } from './fs.js';
import { publicIndexPath, writePublicIndex, type PublicEntry } from './public-index.js';

/** The owners trusted on the way to svcctl's own files: root, and in user scope the user inside his home. */
export function trustedOwners(target: Target): Owners {
  return (dir, uid) => trustsOwner(target, dir, uid);
}

/** A receipt too large to be one is refused before it is parsed. */
const MAX_RECEIPT_BYTES = 4 * 1024 * 1024;

export async function readReceipt(target: Target, bundle: string): Promise<Receipt | undefined> {
  if (!BUNDLE_NAME_PATTERN.test(bundle)) throw new OperationError(`"${bundle}" is not a bundle name: no receipt is read for it`);
  const file = onHost(target, layout(target).receipt(bundle));
  // Only a receipt root (or, in user scope, the user) wrote is believed: one in a directory someone else can write
  // to, or owned by someone else, could list any path for uninstall --purge to remove. The invoking user trusts
  // their own files (a dry run over a --root tree they own).
  const self = process.getuid?.() ?? 0;
  const owners: Owners = (dir, uid) => uid === self || trustsOwner(target, dir, uid);
  const bytes = await readTrustedFile(file, { owners, maxBytes: MAX_RECEIPT_BYTES });
  if (bytes === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new OperationError(`the receipt ${file} is not valid JSON`, `inspect it; if the bundle is gone, move the file away`);
  }
  try {
    return parseReceipt(data, bundle, layout(target));
  } catch (error) {
    if (!(error instanceof ReceiptProblem)) throw error;
    throw new OperationError(`the receipt ${file} is not valid: ${error.field}: ${error.problem}`, 'svcctl does not act on a receipt it cannot trust; inspect it (svcctl doctor), restore it, or move it away and clean up by hand');
  }
}

export async function writeReceipt(target: Target, receipt: Receipt): Promise<void> {
  await writeReceipts(target, [receipt]);
}

/**
 * Writes several receipts side by side (each its own file: 20 bundles cost about one write's time, not 20), the state
 * directory made once for all; waits for every write to end before it throws the first failure, so that a rollback
 * never races a write still under way.
 */
export async function writeReceipts(target: Target, receipts: Receipt[]): Promise<void> {
  if (receipts.length === 0) return;
  const l = layout(target);
  await ensureStateDirectory(target);
  const settled = await Promise.allSettled(
    receipts.map((receipt) => atomicWrite(onHost(target, l.receipt(receipt.bundle)), serializeReceipt(receipt), { mode: 0o600, uid: target.uid, gid: target.gid, owners: trustedOwners(target) })),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Removes a receipt, and svcctl's state directories once they are empty. */
export async function removeReceipt(target: Target, bundle: string): Promise<void> {
  const l = layout(target);
  const options = { owners: trustedOwners(target) };
  await removeFile(onHost(target, l.receipt(bundle)), options);
  await removeEmptyDirectory(onHost(target, l.backupDir(bundle)), options);
  await removeEmptyDirectory(onHost(target, `${l.stateDir}/backups`), options);
}

/** Names of the bundles with a receipt (valid or not). */
export async function receiptNames(target: Target): Promise<string[]> {
  const names = await listDirectory(onHost(target, layout(target).stateDir));
  return names.filter((n) => n.endsWith('.json') && BUNDLE_NAME_PATTERN.test(n.slice(0, -5))).map((n) => n.slice(0, -5)).sort();
}

export async function listReceipts(target: Target): Promise<Receipt[]> {
  const receipts = await Promise.all((await receiptNames(target)).map((n) => readReceipt(target, n)));
  return receipts.filter((r): r is Receipt => r !== undefined);
}

/**
 * Rewrites the public index from every receipt (after a transaction), and removes the state directory when empty.
 * `written`: receipts this process has just written, by bundle; those files are not read and validated again (a
 * transaction of 20 bundles would otherwise parse back the 20 receipts it wrote a moment before, under its lock).
 */
export async function refreshPublicIndex(target: Target, written: ReadonlyMap<string, Receipt> = new Map()): Promise<void> {
  // A written receipt counts as read back: what parseReceipt makes of the bytes written, without the reads.
  const asRead = (r: Receipt) => parseReceipt(JSON.parse(serializeReceipt(r)), r.bundle, layout(target));
  const receipts = (await Promise.all((await receiptNames(target)).map((n) => (written.has(n) ? asRead(written.get(n)!) : readReceipt(target, n))))).filter((r): r is Receipt => r !== undefined);
  const l = layout(target);
  const index = onHost(target, publicIndexPath(target));
  if (receipts.length === 0) {
    const made = (await readTextIfExists(onHost(target, madeParentsPath(target))))?.split('\n').filter((d) => d !== '' && l.stateDir.startsWith(`${d}/`)) ?? [];
    await removeFile(index, { owners: trustedOwners(target) });
    await removeFile(onHost(target, hostKeyPath(target)), { owners: trustedOwners(target) });
    await removeFile(onHost(target, madeParentsPath(target)), { owners: trustedOwners(target) });
    if (!(await removeEmptyDirectory(onHost(target, l.stateDir), { owners: trustedOwners(target) }))) return;
    for (const dir of made.sort((a, b) => b.length - a.length)) await removeEmptyDirectory(onHost(target, dir), { owners: trustedOwners(target) });
    return;
  }
  const entries: PublicEntry[] = receipts.map((r) => ({
    bundle: r.bundle,
    description: r.description,
    state: r.state,
    units: r.units,
    enabled: r.enableDeferred ? [] : r.enabled,
    ...(r.enableDeferred ? { enableDeferred: true } : {}),
    ...(r.service ? { service: r.service } : {}),
    ...(r.timer ? { timer: r.timer } : {}),
    ...(r.schedule ? { schedule: r.schedule } : {}),
    ...(r.health ? { health: r.health } : {}),
    updatedAt: r.updatedAt,
  }));
  await writePublicIndex(target, entries);
}

/** The directories above the state directory that svcctl made for it (~/.local/state in a new home): removed with it. */
function madeParentsPath(target: Target): string {
  return `${layout(target).stateDir}/.made-directories`;
}

/**
 * The state directory (0755: the public index in it is for every user; receipts are 0600), made with its missing
 * parents; those parents are written down so that the last uninstall removes them too, and only them.
 */
async function ensureStateDirectory(target: Target): Promise<void> {
  const l = layout(target);
  const missing: string[] = [];
  for (let dir = l.stateDir; dir !== '/' && !(await inspectPath(onHost(target, dir), { content: false })); dir = path.posix.dirname(dir)) missing.unshift(dir);
  if (missing.length === 0) return;
  await ensureDirectory(onHost(target, l.stateDir), { mode: 0o755, uid: target.uid, gid: target.gid, owners: trustedOwners(target) });
  // Only a home's (user scope): /var/lib is the system's, and a --root tree keeps the skeleton it was given.
  const parents = target.scope === 'user' ? missing.filter((d) => d !== l.stateDir) : [];
  if (parents.length > 0) await atomicWrite(onHost(target, madeParentsPath(target)), `${parents.join('\n')}\n`, { mode: 0o644, uid: target.uid, gid: target.gid, owners: trustedOwners(target) });
}

function hostKeyPath(target: Target): string {
  return `${layout(target).stateDir}/.host-key`;
}

/**
 * The host's own key for the checksums of secret-holding files in receipts (a keyed hash reveals nothing of a weak
 * secret). Read when present; otherwise a new one that `saveHostKey` stores with the first receipt.
 */
export async function readHostKey(target: Target): Promise<{ key: Buffer; stored: boolean }> {
  const key = await readFileIfExists(onHost(target, hostKeyPath(target))).catch(() => undefined);
  if (key && key.length === 32) return { key, stored: true };
  return { key: randomBytes(32), stored: false };
}

export async function saveHostKey(target: Target, key: Buffer): Promise<void> {
  await ensureStateDirectory(target);
  await atomicWrite(onHost(target, hostKeyPath(target)), key, { mode: 0o600, uid: target.uid, gid: target.gid, owners: trustedOwners(target) });
}

export { readTextIfExists };
