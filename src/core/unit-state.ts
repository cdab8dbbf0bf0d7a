// The one reading of `systemctl show`: its output parsed into blocks per unit (every value of a repeated property kept).

/** One unit's properties as `systemctl show` printed them: each name with every value it printed, in order. */
export type ShowBlock = Record<string, string[]>;

/**
 * Splits `systemctl show` output for `units` (asked in that order) into one block per unit. Blocks are
 * separated by an empty line; a value may itself contain "=", so each line splits at its first one.
 */
export function parseShowOutput(stdout: string, units: readonly string[]): Record<string, ShowBlock> {
  const out: Record<string, ShowBlock> = {};
  stdout.split(/\n\n/).forEach((text, index) => {
    const block: ShowBlock = {};
    for (const line of text.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) (block[line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
    }
    const unit = units[index];
    if (unit !== undefined) out[unit] = block;
  });
  return out;
}
