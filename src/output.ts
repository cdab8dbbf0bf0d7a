// Human output on stderr: colour only on a TTY and never with NO_COLOR; progress marks per step.
const useColor = Boolean(process.stderr.isTTY) && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';

const paint = (open: number, close: number) => (text: string) => (useColor ? `\u001b[${open}m${text}\u001b[${close}m` : text);

export const style = {
  red: paint(31, 39),
  green: paint(32, 39),
  yellow: paint(33, 39),
  cyan: paint(36, 39),
  dim: paint(2, 22),
  bold: paint(1, 22),
};

/** A line for the human on stderr (stdout is kept for data and --json). */
export function say(line = ''): void {
  process.stderr.write(`${line}\n`);
}

export function stepDone(description: string): void {
  say(`${style.green('✔')} ${description}`);
}

export function stepFailed(description: string): void {
  say(`${style.red('✖')} ${description}`);
}

/** The progress line of a transaction step (the StepReporter every flow hands to applyTransaction). */
export function reportStep(description: string, status: 'done' | 'failed' | 'undone' | 'undo-failed'): void {
  if (status === 'done' || status === 'undone') stepDone(description);
  else stepFailed(description);
}

/** Prints a table (for stdout): columns padded to the widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
