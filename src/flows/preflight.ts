// The checks install makes before its first change, shared with `svcctl verify`: the schedule with systemd's own
// parser, and the rendered units with the drop-ins svcctl would write through systemd-analyze verify.
import path from 'node:path';
import type { Bundle } from '../core/bundle/types.js';
import type { DesiredState } from '../core/desired.js';
import { UserError } from '../core/errors.js';
import { parseSchedule } from '../core/schedule.js';
import { layout, type Target } from '../core/target.js';
import type { SystemdClient } from '../system/systemd.js';
import { checkSysusersText, checkTmpfilesText, type LineProblem } from '../system/line-check.js';

/** --schedule is for bundles with a timer. */
export function refuseScheduleWithoutTimer(bundle: Bundle, schedule: string | undefined): void {
  if (schedule !== undefined && !bundle.schedule) throw new UserError(`bundle ${bundle.name} has no timer to schedule`, 'drop --schedule');
}

/** Every problem systemd finds in what an install would write; empty when there is none. */
export async function preflightProblems(systemd: SystemdClient, desired: DesiredState, target: Target, options: { defaultSchedule: boolean }): Promise<string[]> {
  const l = layout(target);
  const problems: string[] = [];
  // The default schedule is the bundle's own (verify checks it); install checks one given on the command line.
  if (desired.schedule && (desired.schedule.overridden || options.defaultSchedule)) {
    const parsed = parseSchedule(desired.schedule.expression);
    try {
      await systemd.checkSchedule(parsed.kind, parsed.kind === 'interval' ? parsed.span : parsed.expression);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(error.message);
    }
  }
  const units = desired.files.filter((f) => f.role === 'unit');
  const dropIns = desired.files
    .filter((f) => f.role === 'drop-in' || f.role === 'schedule')
    .map((f) => ({ unit: path.posix.basename(path.posix.dirname(f.path)).replace(/\.d$/, ''), name: path.posix.basename(f.path), content: f.content.toString('utf8') }));
  const [unitProblems, lineProblems] = await Promise.all([
    systemd.verifyUnits({
      files: units.map((f) => ({ name: f.path.slice(l.unitDir.length + 1), content: f.content.toString('utf8') })),
      dropIns,
      futureExecutables: desired.executables,
    }),
    checkAccountAndDirectoryLines(desired, target),
  ]);
  return [...problems, ...unitProblems, ...lineProblems];
}

/**
 * The sysusers.d and tmpfiles.d lines an install would write, run through systemd-sysusers and systemd-tmpfiles
 * themselves in a scratch root (the users first, so the directories' owners resolve): a line the tools would misread
 * or ignore is refused before anything changes.
 */
async function checkAccountAndDirectoryLines(desired: DesiredState, target: Target): Promise<string[]> {
  const file = (role: 'sysusers' | 'tmpfiles') => desired.files.find((f) => f.role === role);
  const sysusers = file('sysusers');
  const tmpfiles = file('tmpfiles');
  if (!sysusers && !tmpfiles) return [];
  const shown = (f: { path: string } | undefined, p: LineProblem) => `${p.tool === 'systemd-sysusers' ? sysusers?.path : f?.path}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`;
  const found = tmpfiles
    ? await checkTmpfilesText(tmpfiles.content.toString('utf8'), {
        ...(sysusers ? { sysusers: sysusers.content.toString('utf8') } : {}),
        // In user scope the directories are the user's own: the scratch root knows him (root is always known).
        ...(target.scope === 'user' && target.uid !== 0 ? { passwd: `root:x:0:0::/root:/bin/sh\n${target.user}:x:${target.uid}:${target.gid}::${target.home}:/bin/sh\n`, group: `root:x:0:\n${target.group}:x:${target.gid}:\n` } : {}),
      })
    : await checkSysusersText(sysusers!.content.toString('utf8'));
  return found.map((p) => shown(tmpfiles, p));
}

/** Install's preflight: every problem at once, exit 2, nothing changed. */
export async function preflight(systemd: SystemdClient, desired: DesiredState, target: Target, bundleDirectory: string): Promise<void> {
  const problems = await preflightProblems(systemd, desired, target, { defaultSchedule: false });
  if (problems.length > 0) throw UserError.many(`systemd-analyze verify found problems in bundle ${desired.bundle}:`, problems, [`fix the unit files in ${bundleDirectory}; nothing was changed`]);
}
