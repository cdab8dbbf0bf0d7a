// Reading and writing receipts (/var/lib/svcctl/<bundle>.json, 0600 root) under a host root.
import path from 'node:path';
import { paths, type Receipt } from '../core/types.js';
import { atomicWrite, ensureDirectory, listDirectory, readTextIfExists, removeEmptyDirectory, removeFile } from './fs.js';
import { onHost, type Target } from '../core/target.js';
import { OperationError } from '../core/errors.js';

export async function readReceipt(host: Target, bundle: string): Promise<Receipt | undefined> {
  const file = onHost(host, paths.receipt(bundle));
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Receipt;
  } catch {
    throw new OperationError(`the receipt ${file} is not valid JSON`, `inspect it; if the bundle is gone, remove the file`);
  }
}

export async function writeReceipt(host: Target, receipt: Receipt): Promise<void> {
  const dir = onHost(host, paths.stateDir);
  await ensureDirectory(dir, 0o700);
  await atomicWrite(onHost(host, paths.receipt(receipt.bundle)), `${JSON.stringify(receipt, null, 2)}\n`, { mode: 0o600, uid: 0, gid: 0 });
}

/** Removes a receipt, and svcctl's state directories once they are empty. */
export async function removeReceipt(host: Target, bundle: string): Promise<void> {
  await removeFile(onHost(host, paths.receipt(bundle)));
  await removeEmptyDirectory(onHost(host, paths.backupDir(bundle)));
  await removeEmptyDirectory(onHost(host, path.posix.dirname(paths.backupDir(bundle))));
  await removeEmptyDirectory(onHost(host, paths.stateDir));
  await removeEmptyDirectory(onHost(host, paths.configDir));
}

export async function listReceipts(host: Target): Promise<Receipt[]> {
  const names = (await listDirectory(onHost(host, paths.stateDir))).filter((n) => n.endsWith('.json')).sort();
  const receipts = await Promise.all(names.map((n) => readReceipt(host, n.slice(0, -'.json'.length))));
  return receipts.filter((r): r is Receipt => r !== undefined);
}
