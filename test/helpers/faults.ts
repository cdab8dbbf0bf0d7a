// Aiming the test build's faults (src/apply/faults.ts) at a command's transaction: its steps, and its step boundaries.
import type { Sandbox } from './sandbox.js';

/** The step kinds of a command's transaction in order: the test build lists them, and fails before step 1. */
export async function stepsOf(sandbox: Sandbox, args: string[]): Promise<string[]> {
  const result = await sandbox.svcctlTest(args, { env: { SVCCTL_FAULT_INJECTION: 'list-steps,fail-before:1' } });
  const line = /^svcctl-test steps: (.*)$/m.exec(result.stderr)?.[1];
  if (!line) throw new Error(`${args.join(' ')} listed no steps (exit ${result.exitCode}): ${result.stderr}`);
  return line.split(' ');
}

/**
 * A SIGKILL at each boundary of a transaction of `steps` steps: before the first, between each two, after the last.
 * Between two steps the host is the same whether the kill comes after one or before the next: both spellings are
 * used, in turn.
 */
export function killsAtEveryBoundary(steps: number): string[] {
  const kills = ['kill-before:1'];
  for (let step = 1; step < steps; step++) kills.push(step % 2 === 1 ? `kill-after:${step}` : `kill-before:${step + 1}`);
  kills.push(`kill-after:${steps}`);
  return kills;
}

/** The number of the step that begins with `text` in the plan `args --dry-run` prints (the transaction's own order). */
export async function stepNumber(sandbox: Sandbox, args: string[], text: string): Promise<number> {
  const plan = await sandbox.svcctl([...args, '--dry-run']);
  const found = plan.stderr.split('\n').map((line) => /^\s*(\d+)\. (.*)$/.exec(line)).find((m) => m?.[2]?.startsWith(text));
  if (!found) throw new Error(`no step "${text}" in the plan of ${args.join(' ')}: ${plan.stderr}`);
  return Number(found[1]);
}
