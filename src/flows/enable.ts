// `svcctl enable` and `svcctl disable`: a bundle installed with --no-enable is enabled (and started) later, and an
// enabled one disabled (and stopped), each as one transaction recorded in the receipt.
import { UserError } from '../core/errors.js';
import type { Plan } from '../core/plan.js';
import { installLinks } from '../core/plan.js';
import { intentReceipt, type Receipt } from '../core/receipt.js';
import { actionAsData } from '../core/steps/index.js';
import type { Action } from '../core/steps/types.js';
import { layout, onHost } from '../core/target.js';
import { readFileIfExists } from '../system/fs.js';
import { acquireLock } from '../system/lock.js';
import { observeUnits } from '../system/observe.js';
import { requireRoot } from '../system/privileges.js';
import { readHostKey } from '../system/receipts.js';
import { SystemdClient } from '../system/systemd.js';
import { showConfirmApply } from './change.js';
import { bundleNameOf, requireInstalled } from './installed.js';
import { targetFor, type ScopeOptions } from './target.js';
import type { FlowUi } from './ui.js';

export interface EnableOptions extends ScopeOptions {
  dryRun: boolean;
  /** enable: start the units too (--no-start: only enable them). */
  start: boolean;
}

export interface EnableResult {
  bundle: string;
  operation: 'enable' | 'disable';
  dryRun: boolean;
  /** Something was (or, with --dry-run, would be) changed. */
  changed: boolean;
  units: string[];
  actions: Record<string, unknown>[];
}

export async function setEnabled(reference: string, wanted: boolean, options: EnableOptions, ui: FlowUi): Promise<EnableResult> {
  const command = wanted ? 'svcctl enable' : 'svcctl disable';
  if (!options.dryRun && !options.user) requireRoot(command);
  const target = await targetFor(options);
  const systemd = new SystemdClient(target);
  await systemd.requireRunning();
  const name = await bundleNameOf(reference);
  const lock = options.dryRun ? undefined : await acquireLock(target);
  try {
    const receipt = await requireInstalled(target, name, { finishing: !options.dryRun });
    const units = receipt.enabled;
    if (units.length === 0) throw new UserError(`bundle ${name} lists no units to enable`, `see svcctl status ${name}`);
    const before = await observeUnits(target, units);
    const plan = wanted ? await enablePlan(receipt, before, options.start) : disablePlan(receipt, before);
    const result: EnableResult = { bundle: name, operation: wanted ? 'enable' : 'disable', dryRun: options.dryRun, changed: !plan.upToDate, units, actions: plan.actions.map(actionAsData) };
    if (plan.upToDate) return result;
    await showConfirmApply(
      { target, actions: plan.actions, receipts: [{ bundle: name, before: receipt, intent: intentReceipt(receipt, plan.receipt, 'installing'), after: plan.receipt! }], hostKey: await readHostKey(target) },
      { dryRun: options.dryRun, yes: true, title: `Plan to ${wanted ? 'enable' : 'disable'} ${name}:`, showPlan: 'dry-run' },
      ui,
    );
    return result;
  } finally {
    await lock?.release();
  }

  async function enablePlan(receipt: Receipt, before: Record<string, { enabled: string; active: string }>, start: boolean): Promise<Plan> {
    const l = layout(target);
    const pending = receipt.enabled.filter((u) => before[u]?.enabled !== 'enabled' || (start && before[u]?.active !== 'active'));
    const files = await Promise.all(receipt.units.map(async (u) => ({ path: l.unitFile(u), role: 'unit' as const, content: (await readFileIfExists(onHost(target, l.unitFile(u)))) ?? Buffer.alloc(0) })));
    const actions: Action[] = pending.length === 0 ? [] : [{ kind: 'enable', units: pending, now: start, before: Object.fromEntries(pending.map((u) => [u, before[u] ?? { enabled: '', active: '' }])), links: installLinks({ files: files.map((f) => ({ ...f, mode: 0o644, owner: 'root', group: 'root', secret: false })), enable: pending }, l) }];
    if (pending.length > 0 && start) actions.push({ kind: 'check-active', units: pending });
    const after: Receipt = { ...receipt, state: 'installed', updatedAt: new Date().toISOString() };
    delete after.enableDeferred;
    return { bundle: receipt.bundle, operation: 'change', actions, receipt: after, upToDate: actions.length === 0 && !receipt.enableDeferred && receipt.state === 'installed', notes: [] };
  }

  function disablePlan(receipt: Receipt, before: Record<string, { enabled: string; active: string }>): Plan {
    const running = receipt.enabled.filter((u) => ['enabled', 'enabled-runtime'].includes(before[u]?.enabled ?? '') || ['active', 'activating'].includes(before[u]?.active ?? ''));
    const actions: Action[] = running.length === 0 ? [] : [{ kind: 'stop-disable', units: running, enabled: running, before: Object.fromEntries(running.map((u) => [u, before[u] ?? { enabled: '', active: '' }])) }];
    const after: Receipt = { ...receipt, state: 'installed', updatedAt: new Date().toISOString(), enableDeferred: true };
    return { bundle: receipt.bundle, operation: 'change', actions, receipt: after, upToDate: actions.length === 0 && receipt.enableDeferred === true && receipt.state === 'installed', notes: [] };
  }
}
