// An installed bundle as the day-2 commands (schedule, secret, check, doctor) find it: by name or path, through its receipt.
import type { Bundle } from '../core/bundle/types.js';
import { findBundle, isPathReference } from '../system/bundles/lookup.js';
import { loadBundle } from '../system/bundles/load.js';
import { BUNDLE_NAME_PATTERN } from '../core/bundle/manifest.js';
import { UserError } from '../core/errors.js';
import type { Receipt } from '../core/receipt.js';
import type { Target } from '../core/target.js';
import { readReceipt } from '../system/receipts.js';

/** A bundle is named on the command line by name (its receipt) or by path (its manifest gives the name). */
export async function bundleNameOf(reference: string): Promise<string> {
  if (BUNDLE_NAME_PATTERN.test(reference)) return reference;
  if (isPathReference(reference)) return (await findBundle(reference)).name;
  throw new UserError(`invalid bundle name "${reference}"`, 'bundle names are lowercase letters, digits and "-" (see svcctl status for what is installed)');
}

/**
 * The receipt of an installed bundle; a UserError (nothing changed) when it is not installed. `finishing`: the caller
 * holds the transaction lock, so an "installing" receipt is a transaction that died, which the caller's completes.
 */
export async function requireInstalled(host: Target, name: string, options: { finishing?: boolean } = {}): Promise<Receipt> {
  const receipt = await readReceipt(host, name);
  if (!receipt || receipt.state === 'retained' || receipt.state === 'uninstalling') {
    throw new UserError(`bundle ${name} is not installed`, `install it first: svcctl install ${name}`);
  }
  if (receipt.state === 'installing' && !options.finishing) {
    throw new UserError(
      `bundle ${name} has an unfinished transaction (its receipt says "installing")`,
      `run \`svcctl install ${receipt.source} --yes\` to finish it, or \`svcctl doctor ${name}\` to see what is wrong`,
    );
  }
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

/** True for an error from reading a root-only file as another user. */
export function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'EACCES' || code === 'EPERM';
}
