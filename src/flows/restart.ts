// `svcctl restart` and `svcctl reload` of a daemon bundle: one systemctl call for its running services, then the
// same health check as install's (units active, the health URL answering) before saying it worked.
import { OperationError, UserError } from '../core/errors.js';
import { subjectFromReceipt } from '../core/health.js';
import { parseTimespan } from '../core/schedule.js';
import { checkHealth } from '../apply/check-health.js';
import { StepContext } from '../apply/context.js';
import { requireRoot } from '../system/privileges.js';
import { SystemdClient } from '../system/systemd.js';
import { bundleNameOf, requireInstalled } from './installed.js';
import { targetFor, type ScopeOptions } from './target.js';

export interface RestartResult {
  bundle: string;
  verb: 'restart' | 'reload';
  units: string[];
  /** What the health check found afterwards ("OK - …"). */
  health?: string;
}

export async function restartBundle(reference: string, verb: 'restart' | 'reload', options: { timeoutMs?: number } & ScopeOptions = {}): Promise<RestartResult> {
  if (!options.user) requireRoot(`svcctl ${verb}`);
  const target = await targetFor(options);
  const systemd = new SystemdClient(target);
  await systemd.requireRunning();
  const receipt = await requireInstalled(target, await bundleNameOf(reference));
  // A timer's job is run, not restarted: `svcctl run`. A daemon is every enabled service (the main one first).
  const services = [...new Set([...(receipt.service && !receipt.timer ? [receipt.service] : []), ...receipt.enabled.filter((u) => u.endsWith('.service'))])];
  if (services.length === 0) throw new UserError(`bundle ${receipt.bundle} runs no daemon to ${verb}`, receipt.timer ? `its job runs on a timer: run it now with svcctl run ${receipt.bundle}` : `see svcctl status ${receipt.bundle}`);
  if (verb === 'reload') {
    const props = await systemd.show(services, ['CanReload'] as const);
    const cannot = services.filter((u) => props[u]?.CanReload !== 'yes');
    if (cannot.length > 0) throw new UserError(`${cannot.join(', ')} ${cannot.length === 1 ? 'has' : 'have'} no ExecReload=: systemd cannot reload ${cannot.length === 1 ? 'it' : 'them'}`, `restart instead: svcctl restart ${receipt.bundle}`);
  }
  await systemd.unitVerb(verb, services);
  const result: RestartResult = { bundle: receipt.bundle, verb, units: services };
  const seconds = parseTimespan(receipt.health?.startTimeout);
  const timeoutMs = options.timeoutMs ?? (seconds !== undefined && seconds > 0 && Number.isFinite(seconds) ? seconds * 1000 : 30_000);
  try {
    const outcome = await checkHealth.perform({ kind: 'check-health', subject: subjectFromReceipt(receipt), timeoutMs, once: false }, new StepContext(target), undefined);
    if (outcome) result.health = outcome;
  } catch (error) {
    throw new OperationError(`${receipt.bundle} is not healthy after the ${verb}: ${(error as Error).message}`, `see svcctl logs ${receipt.bundle} and svcctl status ${receipt.bundle}`);
  }
  return result;
}
