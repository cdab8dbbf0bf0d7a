// The terminal's side of a flow (FlowUi): the numbered plan, the confirmation question, a ✔/✖ line per step (with
// what a check found), notes — all on stderr, so stdout stays data.
import type { FlowUi } from '../flows/ui.js';
import { promptConfirm } from '../system/prompt.js';
import { say, style } from './output.js';

export const terminalUi: FlowUi = {
  plan(title, steps, notes) {
    say(style.bold(title));
    steps.forEach((step, i) => {
      say(`  ${String(i + 1).padStart(2)}. ${step.text}`);
      for (const line of step.detail) say(`        ${style.dim(line)}`);
    });
    for (const note of notes) say(`  ${note}`);
  },
  confirm: (question) => promptConfirm(question),
  step(description, status, step) {
    const ok = status === 'done' || status === 'undone';
    say(`${ok ? style.green('✔') : style.red('✖')} ${description}`);
    if (step.outcome && step.phase === 'apply' && ok) say(`  ${style.dim(step.outcome)}`);
  },
  note(text, level = 'info') {
    say(level === 'warning' ? `  ${style.yellow('!')} ${text}` : level === 'done' ? `${style.green('✔')} ${text}` : `  ${text}`);
  },
};

/** The line after a --dry-run plan. */
export function dryRunLine(): string {
  return style.dim('dry run: nothing was changed');
}
