// What a flow may ask of the person running it, without printing anything itself: show a plan, ask to confirm,
// report each step, pass on a note. src/views/progress.ts implements it for a terminal (or a pipe).
import type { StepReporter } from '../apply/transaction.js';

export interface FlowUi {
  /** The numbered steps of a plan before it is applied (or instead, with --dry-run), and what a reader must know. */
  plan(title: string, steps: { text: string; detail: string[] }[], notes: string[]): void;
  /** A yes/no question; only ever called when stdin and stderr are terminals. */
  confirm(question: string): Promise<boolean>;
  /** Each step of a transaction as it is done, fails, or is undone. */
  step: StepReporter;
  /** A line for the human while the flow runs: progress, a warning. */
  note(text: string, level?: 'info' | 'warning' | 'done'): void;
}

/** A UI that shows nothing and confirms nothing (tests, and callers that pass --yes and read only the result). */
export const silentUi: FlowUi = {
  plan: () => undefined,
  confirm: async () => false,
  step: () => undefined,
  note: () => undefined,
};
