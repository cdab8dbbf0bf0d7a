// Human output on stderr: colour only on a TTY and never with NO_COLOR; progress marks per step.
import { importModule } from '../modules.js';

const useColor = Boolean(process.stderr.isTTY) && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';

// chalk is loaded only when colour is on: on a pipe (scripts, CI, monitoring) it would be ~20 ms of start-up
// for nothing. The CLI calls loadColours() once before any output; until then (and without it) text is plain.
let chalk: import('chalk').ChalkInstance | undefined;

export async function loadColours(): Promise<void> {
  if (useColor && !chalk) chalk = new (await importModule<typeof import('chalk')>('chalk')).Chalk({ level: 1 });
}

type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold';
const paint = (colour: Colour) => (text: string) => (chalk ? chalk[colour](text) : text);

export const style = {
  red: paint('red'),
  green: paint('green'),
  yellow: paint('yellow'),
  cyan: paint('cyan'),
  dim: paint('dim'),
  bold: paint('bold'),
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

/** Colour for data on stdout: only when stdout is a terminal too (style already checks stderr and NO_COLOR). */
export function paintStdout(colour: Colour, text: string): string {
  return process.stdout.isTTY ? style[colour](text) : text;
}

let readerGone: (() => void) | undefined;

/**
 * What to do when the reader of stdout goes away (`svcctl run B | head -1`) instead of what src/cli.ts does by
 * default, which is to end at once with exit 0 (`svcctl status | head -1`).
 */
export function onReaderGone(handler: () => void): void {
  readerGone = handler;
}

/** The handler a command set with onReaderGone, if any (src/cli.ts asks). */
export function readerGoneHandler(): (() => void) | undefined {
  return readerGone;
}
