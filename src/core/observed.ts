// Observed: what the host looks like before a plan, as read-only probes saw it (src/system/observe.ts fills it).
import type { Receipt } from './receipt.js';
import type { UnitBefore } from './steps/types.js';

export interface PathState {
  kind: 'file' | 'directory' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  /** A regular file's checksum as the receipt writes it ("sha256:…", or "hmac-sha256:…" for a secret-holding one). */
  checksum?: string;
  /** A symlink's target. */
  linkTarget?: string;
}

export interface Observed {
  /** This bundle's receipt, if it was installed (or partly installed) before. */
  receipt?: Receipt;
  /** Every other installed bundle's: shared directories, users in use, files they own. */
  otherReceipts: Receipt[];
  /** Every path the plan may touch and each of its ancestors; null when absent. */
  paths: Record<string, PathState | null>;
  users: Record<string, { uid: number; gid: number }>;
  groups: Record<string, { gid: number }>;
  /** Values already in the bundle's secrets file (kept unless new ones are given). In memory only. */
  existingSecrets: Record<string, string>;
  /** Unit states, when systemd is running (not with --root). */
  units: Record<string, UnitBefore>;
  /** The bundle's unit names that a unit of the distribution also has (/lib/systemd/system …). */
  vendorUnits: string[];
  /** Temporary files an interrupted write left next to the target paths. */
  tempFiles: string[];
}

/** A host with nothing on it: every file and directory to be created, as on a fresh install (verify, export). */
export function emptyHost(): Observed {
  return { otherReceipts: [], paths: {}, users: { root: { uid: 0, gid: 0 } }, groups: { root: { gid: 0 } }, existingSecrets: {}, units: {}, vendorUnits: [], tempFiles: [] };
}

/** The name of a uid or gid as observed (for comparing an observed owner with a declared one). */
export function nameOfUid(observed: Observed, uid: number): string | undefined {
  return Object.entries(observed.users).find(([, u]) => u.uid === uid)?.[0];
}

export function nameOfGid(observed: Observed, gid: number): string | undefined {
  return Object.entries(observed.groups).find(([, g]) => g.gid === gid)?.[0];
}

export function exists(observed: Observed, p: string): boolean {
  return observed.paths[p] !== null && observed.paths[p] !== undefined;
}
