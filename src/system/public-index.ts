// The public index of installed bundles (.installed.json beside the receipts, mode 0644): what every local user may
// know anyway — bundle names, their units, schedule and health URL — so read-only commands work without root.
// Receipts (paths, checksums, settings) stay 0600.
import { atomicWrite, readTextIfExists } from './fs.js';
import { layout, onHost, trustsOwner, type Target } from '../core/target.js';
import type { Receipt } from '../core/receipt.js';

/** A receipt's public fields (state as text: an index written by another version may know other states). */
export type PublicEntry = Pick<Receipt, 'bundle' | 'description' | 'units' | 'enabled' | 'enableDeferred' | 'service' | 'timer' | 'schedule' | 'health' | 'updatedAt'> & { state: string };

export interface PublicIndex {
  format: 1;
  bundles: PublicEntry[];
}

export function publicIndexPath(target: Target): string {
  return `${layout(target).stateDir}/.installed.json`;
}

/** The index, or undefined when there is none (nothing installed, or an svcctl before it existed). */
export async function readPublicIndex(target: Target): Promise<PublicEntry[] | undefined> {
  const text = await readTextIfExists(onHost(target, publicIndexPath(target)));
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as PublicIndex;
    if (parsed?.format !== 1 || !Array.isArray(parsed.bundles)) return undefined;
    return parsed.bundles.filter((b) => typeof b?.bundle === 'string' && Array.isArray(b.units));
  } catch {
    return undefined;
  }
}

/** Rewrites the index from the receipts (called by the transaction once its receipts are final). */
export async function writePublicIndex(target: Target, entries: PublicEntry[]): Promise<void> {
  const sorted = [...entries].sort((a, b) => (a.bundle < b.bundle ? -1 : a.bundle > b.bundle ? 1 : 0));
  const index: PublicIndex = { format: 1, bundles: sorted };
  await atomicWrite(onHost(target, publicIndexPath(target)), `${JSON.stringify(index, null, 2)}\n`, { mode: 0o644, uid: target.uid, gid: target.gid, owners: (dir, uid) => trustsOwner(target, dir, uid) });
}
