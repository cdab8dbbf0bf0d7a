// The uninstall flow: read the receipt → observe → plan → show, confirm, apply; removes exactly what the receipt lists.
import { UserError } from '../core/errors.js';
import { planUninstall, type UninstallPlan } from '../core/plan.js';
import { intentReceipt, type Receipt } from '../core/receipt.js';
import { actionAsData, mergeActions } from '../core/steps/index.js';
import { acquireLock } from '../system/lock.js';
import { asRoot, observeUninstall } from '../system/observe.js';
import { readHostKey, readReceipt } from '../system/receipts.js';
import { requireRoot } from '../system/privileges.js';
import { SystemdClient } from '../system/systemd.js';
import { requireConfirmationSource, showConfirmApply } from './change.js';
import { bundleNameOf } from './installed.js';
import { withAlertsBundle } from './alert.js';
import { targetFor, type ScopeOptions } from './target.js';
import type { FlowUi } from './ui.js';

export interface UninstallOptions extends ScopeOptions {
  purge: boolean;
  force: boolean;
  dryRun: boolean;
  yes: boolean;
  root?: string;
}

export interface UninstalledBundle {
  name: string;
  installed: boolean;
  actions: Record<string, unknown>[];
  drifted: string[];
  retained: string[];
  notes: string[];
  /** What each step found (a directory kept because it is not empty), by step description. */
  outcomes?: Record<string, string>;
}

export interface UninstallResult {
  dryRun: boolean;
  applied: boolean;
  purge: boolean;
  bundles: UninstalledBundle[];
}

export async function uninstall(references: string[], options: UninstallOptions, ui: FlowUi): Promise<UninstallResult> {
  if (references.length === 0) throw new UserError('no bundle given', 'name the bundles to uninstall (see svcctl status)');
  if (!options.dryRun && !options.user) requireRoot('svcctl uninstall');
  if (!options.dryRun) requireConfirmationSource(options.yes);
  const target = await targetFor({ ...(options.root !== undefined ? { root: options.root } : {}), user: options.user ?? false });
  // svcctl-alerts leaves with the last bundle that has alerts, and not before.
  const names = await withAlertsBundle(target, await Promise.all(references.map(bundleNameOf)), options.purge);
  if (!target.offline && !options.dryRun) await new SystemdClient(target).requireRunning();
  const lock = options.dryRun ? undefined : await acquireLock(target);
  try {
    const hostKey = await readHostKey(target);
    const result: UninstallResult = { dryRun: options.dryRun, applied: false, purge: options.purge, bundles: [] };
    const plans: { plan: UninstallPlan; receipt: Receipt }[] = [];
    for (const name of names) {
      const receipt = await asRoot('svcctl uninstall --dry-run', () => readReceipt(target, name));
      if (!receipt) {
        result.bundles.push({ name, installed: false, actions: [], drifted: [], retained: [], notes: [] });
        continue;
      }
      const observed = await asRoot('svcctl uninstall --dry-run', () => observeUninstall(target, receipt, hostKey.key));
      const plan = planUninstall(receipt, observed, { purge: options.purge, force: options.force }, target);
      plans.push({ plan, receipt });
      result.bundles.push({ name, installed: true, actions: plan.actions.map(actionAsData), drifted: plan.drifted, retained: plan.retained, notes: plan.notes });
    }
    const actions = mergeActions(plans.map((p) => p.plan.actions));
    if (actions.length === 0) return result;
    const receipts = plans.map(({ plan, receipt }) => ({ bundle: plan.bundle, before: receipt, intent: intentReceipt(receipt, undefined, 'uninstalling'), ...(plan.receipt ? { after: plan.receipt } : {}) }));
    const applied = await showConfirmApply(
      { target, actions, receipts, hostKey },
      { dryRun: options.dryRun, yes: options.yes, title: `Plan to uninstall ${plans.map((p) => p.plan.bundle).join(', ')}${options.purge ? ' (purge)' : ''}:`, notes: plans.flatMap((p) => p.plan.notes) },
      ui,
    );
    if (!applied) return result;
    result.applied = true;
    const outcomes = Object.fromEntries([...applied.outcomes].map(([index, outcome]) => [String(actionAsData(actions[index]!).description), outcome]));
    for (const entry of result.bundles) if (entry.installed) entry.outcomes = outcomes;
    return result;
  } finally {
    await lock?.release();
  }
}
