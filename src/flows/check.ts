// The check flow: one `systemctl show`, the health URL, then the pure evaluation; never throws (UNKNOWN instead).
import path from 'node:path';
import { findBundle } from '../system/bundles/lookup.js';
import { mainService } from '../core/desired.js';
import {
  checkProperties,
  evaluateCheck,
  notInstalled,
  previousLastSuccess,
  renderTextfileMetrics,
  resolveMaxAge,
  subjectFromReceipt,
  type CheckResult,
  type CheckSubject,
} from '../core/health.js';
import { nowUsec } from '../core/time.js';
import { probeUrl } from '../system/http.js';
import { atomicWrite, readTextIfExists } from '../system/fs.js';
import { systemTarget } from '../core/target.js';
import { readReceipt } from '../system/receipts.js';
import { SystemdClient } from '../system/systemd.js';
import { bundleNameOf, isPermissionError } from './installed.js';

export interface CheckOptions {
  maxAge?: string;
  textfile?: string;
  /** How long the health URL may take to answer. */
  urlTimeoutMs?: number;
}

export interface CheckOutput extends CheckResult {
  /** The textfile written with --textfile. */
  textfile?: string;
  /** Why it could not be written (the check's status stands: it is about the bundle, not the file). */
  textfileError?: string;
}

/**
 * Checks one bundle. Without root the receipt (0600) cannot be read: the bundle's manifest (found by
 * name on the search path, or by path) then says which units to look at, with its default schedule.
 */
export async function check(reference: string, options: CheckOptions): Promise<CheckOutput> {
  let result: CheckResult;
  let name = reference;
  try {
    name = await bundleNameOf(reference);
    result = await evaluate(reference, name, options);
  } catch (error) {
    result = notInstalled(name, `cannot check: ${(error as Error).message.split('\n')[0]}`);
  }
  if (options.textfile === undefined) return result;
  try {
    return { ...result, textfile: await writeTextfile(options.textfile, result) };
  } catch (error) {
    return { ...result, textfileError: `cannot write the textfile in ${options.textfile}: ${(error as Error).message}` };
  }
}

async function evaluate(reference: string, name: string, options: CheckOptions): Promise<CheckResult> {
  const subject = await findSubject(reference, name);
  if (!subject) return notInstalled(name);
  if (options.maxAge !== undefined) resolveMaxAge(subject, options.maxAge); // an invalid --max-age is UNKNOWN before any probe
  const systemd = new SystemdClient(systemTarget());
  if (!(await systemd.running())) return notInstalled(name, 'systemd is not running on this host (not PID 1)');
  const units = [...new Set([...subject.units, ...(subject.service ? [subject.service] : []), ...(subject.timer ? [subject.timer] : [])])];
  const [properties, url] = await Promise.all([
    systemd.show(units, checkProperties, { utc: true }),
    subject.health?.url ? probeUrl(subject.health.url, options.urlTimeoutMs ?? 2000) : Promise.resolve(undefined),
  ]);
  return evaluateCheck({
    subject,
    units: properties,
    ...(url ? { url } : {}),
    now: nowUsec(),
    monotonicNow: Number(process.hrtime.bigint() / 1000n),
    ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}),
  });
}

/** What to check: the receipt; without root, the manifest when its units are loaded; undefined when not installed. */
async function findSubject(reference: string, name: string): Promise<CheckSubject | undefined> {
  try {
    const receipt = await readReceipt(systemTarget(), name);
    if (!receipt || receipt.state === 'retained' || receipt.state === 'uninstalling') return undefined;
    return subjectFromReceipt(receipt);
  } catch (error) {
    if (!isPermissionError(error)) throw error;
  }
  const bundle = await findBundle(reference);
  const service = mainService(bundle);
  const units = bundle.units.map((u) => u.name);
  const loaded = await new SystemdClient(systemTarget()).show(units, ['LoadState', 'FragmentPath'] as const);
  // Installed by svcctl means the unit files are in /etc/systemd/system, where install writes them.
  if (!units.some((u) => loaded[u]?.LoadState === 'loaded' && loaded[u]?.FragmentPath?.startsWith('/etc/systemd/system/'))) return undefined;
  return {
    bundle: bundle.name,
    from: 'manifest',
    units,
    enabled: bundle.enable,
    ...(service ? { service } : {}),
    ...(bundle.schedule ? { timer: bundle.schedule.timer, schedule: bundle.schedule.default } : {}),
    ...(bundle.health ? { health: bundle.health } : {}),
  };
}


/** Writes DIR/svcctl_<bundle>.prom atomically (node_exporter must never read half a file). */
async function writeTextfile(dir: string, result: CheckResult): Promise<string> {
  const file = path.join(path.resolve(dir), `svcctl_${result.bundle.replace(/[^a-z0-9-]/g, '_')}.prom`);
  const previous = previousLastSuccess(await readTextIfExists(file).catch(() => undefined));
  // The collector's directory is the operator's choice (often owned by its exporter's user): a 0644 metrics file is
  // written there atomically, never through a symlink, whoever owns the directories on the way.
  await atomicWrite(file, renderTextfileMetrics(result, previous), { mode: 0o644, looseParents: true });
  return file;
}
