// Confirmation before changing the host: --yes, or a question on a TTY; never a prompt without one.
import { UserError } from '../errors.js';
import { canPrompt, promptConfirm } from '../system/prompt.js';

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
