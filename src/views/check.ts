// The text of `svcctl check`: the one Nagios line on stdout, and a note on stderr when the textfile could not be written.
import { formatCheckLine, type CheckResult } from '../core/health.js';
import type { CheckOutput } from '../flows/check.js';
import { style } from './output.js';

/** "SVCCTL OK - tick: … | perfdata": what a monitoring agent reads. */
export function renderCheck(result: CheckResult): string {
  return formatCheckLine(result);
}

/** The stderr line about the textfile, when writing it failed. */
export function textfileNote(result: CheckOutput): string | undefined {
  return result.textfileError ? `${style.yellow('!')} ${result.textfileError}` : undefined;
}
