// What the unit steps share: a stop or disable of a unit that is not loaded, or whose file is already gone, is not a
// failure (uninstall, and the undo of a failed enable).
import { OperationError } from '../core/errors.js';
import type { ExecResult } from '../system/exec.js';

export async function tolerateMissingUnits(run: Promise<ExecResult>): Promise<void> {
  const result = await run;
  if (result.exitCode === 0) return;
  const lines = result.stderr.split('\n').filter((l) => l.trim() && !/not loaded|does not exist|No such file|not found/i.test(l));
  if (lines.length > 0) throw new OperationError(`systemctl exited with ${result.exitCode}: ${lines.join(' ')}`);
}
