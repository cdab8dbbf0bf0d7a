// Confirmation before changing the host (--yes, or a question on a TTY; never a prompt without one), and the
// show-plan → confirm → apply tail that install and uninstall share.
import { UserError } from '../core/errors.js';
import { applyTransaction, type Transaction, type TransactionResult } from '../apply/transaction.js';
import { describeAction } from '../core/plan.js';
import type { Target } from '../core/target.js';
import { canPrompt, promptConfirm } from '../system/prompt.js';
import { reportStep, say, style } from '../views/output.js';

/** Fails early (before any work) when there will be no way to confirm. */
export function requireConfirmationSource(yes: boolean): void {
  if (!yes && !canPrompt()) {
    throw new UserError('this changes the host and needs confirmation, but stdin is not a terminal', 'review the plan with --dry-run, then pass --yes');
  }
}

export async function confirmOrRefuse(yes: boolean, question: string): Promise<void> {
  if (yes) return;
  requireConfirmationSource(yes);
  if (!(await promptConfirm(question))) throw new UserError('cancelled: nothing was changed');
}

/**
 * The shared tail of install and uninstall: the numbered plan (and notes) on stderr, then nothing more
 * for --dry-run, else confirmation and the transaction. Resolves to its result, or undefined when it was not applied.
 */
export async function showConfirmApply(
  host: Target,
  title: string,
  transaction: Transaction,
  options: { dryRun: boolean; yes: boolean },
  notes: string[] = [],
): Promise<TransactionResult | undefined> {
  say(title);
  transaction.actions.forEach((action, i) => say(`  ${String(i + 1).padStart(2)}. ${describeAction(action)}`));
  for (const note of notes) say(`  ${note}`);
  if (options.dryRun) {
    say(style.dim('dry run: nothing was changed'));
    return undefined;
  }
  await confirmOrRefuse(options.yes, `Apply these ${transaction.actions.length} steps?`);
  return applyTransaction(host, transaction, reportStep);
}
