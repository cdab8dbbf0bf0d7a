// The one path every changing command takes once it has a plan: show it, stop there for --dry-run, confirm (--yes,
// or a question on a terminal; never a prompt without one), apply it as one transaction.
import { UserError } from '../core/errors.js';
import { describeAction, detailOf } from '../core/steps/index.js';
import { applyTransaction, type Transaction, type TransactionResult } from '../apply/transaction.js';
import { canPrompt } from '../system/prompt.js';
import type { FlowUi } from './ui.js';

/** Fails early (before any work) when there will be no way to confirm. */
export function requireConfirmationSource(yes: boolean): void {
  if (!yes && !canPrompt()) {
    throw new UserError('this changes the host and needs confirmation, but stdin is not a terminal', 'review the plan with --dry-run, then pass --yes');
  }
}

export interface ChangeOptions {
  dryRun: boolean;
  yes: boolean;
  title: string;
  notes?: string[];
  /** `dry-run`: the plan is shown only for --dry-run (a command that names its one change, e.g. schedule). */
  showPlan?: 'always' | 'dry-run';
}

/** Shows the plan, then (unless --dry-run) confirms and applies it. Undefined when it was not applied. */
export async function showConfirmApply(tx: Transaction, options: ChangeOptions, ui: FlowUi): Promise<TransactionResult | undefined> {
  if (options.showPlan !== 'dry-run' || options.dryRun) ui.plan(options.title, tx.actions.map((a) => ({ text: describeAction(a), detail: detailOf(a) })), options.notes ?? []);
  if (options.dryRun) return undefined;
  if (!options.yes) {
    requireConfirmationSource(false);
    if (!(await ui.confirm(`Apply these ${tx.actions.length} steps?`))) throw new UserError('cancelled: nothing was changed');
  }
  return applyTransaction(tx, ui.step);
}
