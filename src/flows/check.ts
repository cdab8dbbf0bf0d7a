// The check flow: one `systemctl show`, the health URL, then the pure evaluation; never throws (UNKNOWN instead).
import path from 'node:path';
import { evaluateCheck, notInstalled, previousLastSuccess, renderTextfileMetrics, resolveMaxAge, type CheckResult, type CheckSubject } from '../core/health.js';
import { unitStateProperties } from '../core/unit-state.js';
import { probeUrl } from '../system/http.js';
import { atomicWrite, readTextIfExists } from '../system/fs.js';
import { clockNow, SystemdClient } from '../system/systemd.js';
import { bundleNameOf, findInstalled, NotInstalledError, type InstalledBundle } from './installed.js';
import { targetFor, type ScopeOptions } from './target.js';

export interface CheckOptions extends ScopeOptions {
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
 * Checks one bundle. Without root the receipt (0600) cannot be read: the public index names the units instead, and
 * without an index the bundle's manifest (found by name on the search path, or by path) does, with its defaults.
 */
export async function check(reference: string, options: CheckOptions): Promise<CheckOutput> {
  let result: CheckResult;
  let name = reference;
  try {
    name = await bundleNameOf(reference);
    result = await evaluate(reference, options);
  } catch (error) {
    result = error instanceof NotInstalledError ? notInstalled(name) : notInstalled(name, `cannot check: ${(error as Error).message.split('\n')[0]}`);
  }
  if (options.textfile === undefined) return result;
  try {
    return { ...result, textfile: await writeTextfile(options.textfile, result) };
  } catch (error) {
    return { ...result, textfileError: `cannot write the textfile in ${options.textfile}: ${(error as Error).message}` };
  }
}

async function evaluate(reference: string, options: CheckOptions): Promise<CheckResult> {
  const target = await targetFor(options);
  const systemd = new SystemdClient(target);
  const installed = await findInstalled(reference, { command: 'svcctl check', needs: 'public', accept: 'live', manifest: true, target });
  const subject = subjectOf(installed);
  if (options.maxAge !== undefined) resolveMaxAge(subject, options.maxAge); // an invalid --max-age is UNKNOWN before any probe
  if (!(await systemd.running())) return notInstalled(subject.bundle, target.scope === 'user' ? `no systemd user manager is running for ${target.user}` : 'systemd is not running on this host (not PID 1)');
  const units = [...new Set([...subject.units, ...(subject.service ? [subject.service] : []), ...(subject.timer ? [subject.timer] : [])])];
  const [properties, url] = await Promise.all([
    systemd.show(units, unitStateProperties, { utc: true }),
    subject.health?.url ? probeUrl(subject.health.url, options.urlTimeoutMs ?? 2000) : Promise.resolve(undefined),
  ]);
  return evaluateCheck({ subject, units: properties, ...(url ? { url } : {}), ...clockNow(), ...(options.maxAge !== undefined ? { maxAge: options.maxAge } : {}) });
}

/** What check looks at, from wherever the installed bundle was found. */
function subjectOf(installed: InstalledBundle): CheckSubject {
  return {
    bundle: installed.bundle,
    from: installed.from,
    units: installed.units,
    enabled: installed.enabled,
    ...(installed.enableDeferred ? { deferred: true } : {}),
    ...(installed.service ? { service: installed.service } : {}),
    ...(installed.timer ? { timer: installed.timer } : {}),
    ...(installed.schedule ? { schedule: installed.schedule } : {}),
    ...(installed.health ? { health: installed.health } : {}),
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
