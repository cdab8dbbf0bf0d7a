// The uninstall flow: read the receipt → observe → plan → confirm → apply; removes exactly what the receipt lists.
import { UserError } from '../core/errors.js';
import { actionAsData, mergePlans, planUninstall, type UninstallPlan } from '../core/plan.js';
import { intentReceipt } from '../apply/transaction.js';
import { systemTarget, type Target } from '../core/target.js';
import { acquireLock } from '../system/lock.js';
import { observeUninstall } from '../system/observe.js';
import { readReceipt } from '../system/receipts.js';
import { requireRoot } from '../system/privileges.js';
import { SystemdClient } from '../system/systemd.js';
import { say, style } from '../views/output.js';
import { requireConfirmationSource, showConfirmApply } from './confirm.js';
import { bundleNameOf } from './installed.js';
import type { Receipt } from '../core/types.js';

export interface UninstallOptions {
  purge: boolean;
  force: boolean;
  dryRun: boolean;
  yes: boolean;
  root?: string;
}

export interface UninstallResult {
  dryRun: boolean;
  applied: boolean;
  bundles: { name: string; installed: boolean; actions: Record<string, unknown>[]; drifted: string[]; retained: string[] }[];
}

export async function uninstall(references: string[], options: UninstallOptions): Promise<UninstallResult> {
  if (references.length === 0) throw new UserError('no bundle given', 'name the bundles to uninstall (see svcctl status)');
  const host: Target = options.root ? systemTarget(options.root) : systemTarget();
  if (!options.dryRun) requireRoot('svcctl uninstall');
  if (!options.dryRun) requireConfirmationSource(options.yes);
  const names = await Promise.all(references.map(bundleNameOf));
  if (!options.root && !options.dryRun) await new SystemdClient(host).requireRunning();
  const lock = options.dryRun ? undefined : await acquireLock(host);
  try {
    const result: UninstallResult = { dryRun: options.dryRun, applied: false, bundles: [] };
    const plans: { plan: UninstallPlan; receipt: Receipt }[] = [];
    for (const name of names) {
      const receipt = await readReceipt(host, name);
      if (!receipt) {
        say(`${style.green('✔')} ${name} is not installed: nothing to do`);
        result.bundles.push({ name, installed: false, actions: [], drifted: [], retained: [] });
        continue;
      }
      const observed = await observeUninstall(host, receipt);
      const plan = planUninstall(receipt, observed, { purge: options.purge, force: options.force, offline: host.offline });
      plans.push({ plan, receipt });
      result.bundles.push({ name, installed: true, actions: plan.actions.map(actionAsData), drifted: plan.drifted, retained: plan.retained });
    }
    if (plans.length === 0) return result;
    const actions = mergePlans(plans.map((p) => p.plan));
    if (actions.length === 0) {
      for (const { plan } of plans) say(`${style.green('✔')} ${plan.bundle} is already uninstalled${plan.retained.length > 0 ? `; kept ${plan.retained.join(', ')} (remove with --purge)` : ''}`);
      return result;
    }
    const title = `${style.bold('Plan')} to uninstall ${plans.map((p) => p.plan.bundle).join(', ')}${options.purge ? ' (purge)' : ''}:`;
    const notes = plans.flatMap(({ plan }) => plan.drifted.map((file) => `${style.yellow('!')} ${file} changed since install: left in place (pass --force to remove it)`));
    const receipts = plans.map(({ plan, receipt }) => ({ bundle: plan.bundle, before: receipt, intent: intentReceipt(receipt, undefined, 'uninstalling'), ...(plan.receipt ? { after: plan.receipt } : {}) }));
    if (!(await showConfirmApply(host, title, { actions, receipts }, options, notes))) return result;
    result.applied = true;
    for (const { plan } of plans) {
      const kept = plan.retained.length > 0 ? `; kept ${plan.retained.join(', ')} (remove with --purge)` : '';
      say(`${style.green('✔')} ${plan.bundle} uninstalled${kept}`);
    }
    return result;
  } finally {
    await lock?.release();
  }
}
