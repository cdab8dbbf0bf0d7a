// The checks install makes before its first change, shared with `svcctl verify`: the schedule with systemd's
// own parser, and the rendered units and drop-ins with systemd-analyze verify.
import type { Bundle } from '../core/bundle/types.js';
import { UserError } from '../core/errors.js';
import { parseScheduleExpression } from '../core/render.js';
import { paths, type Plan } from '../core/types.js';
import type { SystemdClient } from '../system/systemd.js';

/** --schedule is for bundles with a timer. */
export function refuseScheduleWithoutTimer(bundle: Bundle, schedule: string | undefined): void {
  if (schedule !== undefined && !bundle.schedule) throw new UserError(`bundle ${bundle.name} has no timer to schedule`, 'drop --schedule');
}

/** Checks everything that can be checked before the first change: rendered units and the schedule. */
export async function preflight(systemd: SystemdClient, bundle: Bundle, plan: Plan, schedule: string | undefined): Promise<void> {
  if (schedule !== undefined) {
    const parsed = parseScheduleExpression(schedule);
    await systemd.checkSchedule(parsed.kind, parsed.kind === 'interval' ? parsed.span : parsed.expression);
  }
  const dropIns: { unit: string; name: string; content: string }[] = [];
  for (const action of plan.actions) {
    if (action.kind !== 'write-file' || (action.role !== 'drop-in' && action.role !== 'schedule')) continue;
    const [unitDir, name] = action.path.slice(paths.unitDir.length + 1).split('/');
    dropIns.push({ unit: unitDir!.replace(/\.d$/, ''), name: name!, content: action.content.toString('utf8') });
  }
  const problems = await systemd.verifyUnits({
    files: bundle.units.map((u) => ({ name: u.name, content: u.content })),
    dropIns,
    futureExecutables: bundle.payload.map((p) => p.destination),
  });
  if (problems.length > 0) {
    throw new UserError(`systemd-analyze verify found problems in bundle ${bundle.name}:\n  ${problems.join('\n  ')}`, `fix the unit files in ${bundle.directory}; nothing was changed`);
  }
}

