// The checks install makes before its first change, shared with `svcctl verify`: the schedule with systemd's own
// parser, and the rendered units with the drop-ins svcctl would write through systemd-analyze verify; and the
// exposure score of the same rendered services (systemd-analyze security), which verify and install --dry-run show.
import path from 'node:path';
import type { Bundle } from '../core/bundle/types.js';
import type { DesiredState } from '../core/desired.js';
import { UserError } from '../core/errors.js';
import { parseSchedule } from '../core/schedule.js';
import { layout, type Target } from '../core/target.js';
import { parseSecurityOutput, type ServiceExposure } from '../core/exposure.js';
import { isTemplateName, templateOfInstance } from '../core/unit-name.js';
import type { SystemdClient, UnitTree } from '../system/systemd.js';
import { checkSysusersText, checkTmpfilesText, type LineProblem } from '../system/line-check.js';

/** --schedule is for bundles with a timer. */
export function refuseScheduleWithoutTimer(bundle: Bundle, schedule: string | undefined): void {
  if (schedule !== undefined && !bundle.schedule) throw new UserError(`bundle ${bundle.name} has no timer to schedule`, 'drop --schedule');
}

/** Every problem systemd finds in what an install would write; empty when there is none. */
export async function preflightProblems(systemd: SystemdClient, desired: DesiredState, target: Target, options: { defaultSchedule: boolean }): Promise<string[]> {
  return (await preflightProblemsOf(systemd, [desired], target, options))[0]!;
}

/**
 * The same for several bundles, each one's problems apart. Their units go through one systemd-analyze verify: the
 * process costs more than checking a unit (about 80 ms against 3 ms a bundle), so 20 bundles take one start, not 20.
 */
export async function preflightProblemsOf(systemd: SystemdClient, desired: DesiredState[], target: Target, options: { defaultSchedule: boolean }): Promise<string[][]> {
  const [schedules, units, lines] = await Promise.all([
    Promise.all(desired.map((d) => scheduleProblems(systemd, d, options))),
    unitProblems(systemd, desired, target),
    Promise.all(desired.map((d) => checkAccountAndDirectoryLines(d, target))),
  ]);
  return desired.map((_, i) => [...schedules[i]!, ...units[i]!, ...lines[i]!]);
}

async function scheduleProblems(systemd: SystemdClient, desired: DesiredState, options: { defaultSchedule: boolean }): Promise<string[]> {
  // The default schedule is the bundle's own (verify checks it); install checks one given on the command line.
  if (!desired.schedule || !(desired.schedule.overridden || options.defaultSchedule)) return [];
  const parsed = parseSchedule(desired.schedule.expression);
  try {
    await systemd.checkSchedule(parsed.kind, parsed.kind === 'interval' ? parsed.span : parsed.expression);
    return [];
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return [error.message];
  }
}

/** The rendered units with their drop-ins through systemd-analyze verify, once for bundles whose unit names differ. */
async function unitProblems(systemd: SystemdClient, desired: DesiredState[], target: Target): Promise<string[][]> {
  const inputs = desired.map((d) => ({ ...unitTree(d, target), futureExecutables: d.executables }));
  const names = inputs.flatMap((i) => i.files.map((f) => f.name));
  // Two bundles with a unit of the same name cannot share a directory (the install refuses them together later).
  if (inputs.length === 1 || new Set(names).size !== names.length) return Promise.all(inputs.map((i) => systemd.verifyUnits(i)));
  const found = await systemd.verifyUnits({ files: inputs.flatMap((i) => i.files), dropIns: inputs.flatMap((i) => i.dropIns), futureExecutables: inputs.flatMap((i) => i.futureExecutables) });
  // Each line starts with the unit or drop-in it is about; a line about none (verify itself failed) concerns them all.
  const owner = (line: string) => inputs.findIndex((i) => i.files.some((f) => line.startsWith(`${f.name}:`) || line.startsWith(`${f.name}.d/`)));
  return inputs.map((_, index) => found.filter((line) => owner(line) === index || owner(line) === -1));
}

/** What an install writes that systemd reads as the units: the unit files and svcctl's drop-ins (settings, directives, schedule). */
export function unitTree(desired: DesiredState, target: Target): UnitTree {
  const l = layout(target);
  return {
    files: desired.files.filter((f) => f.role === 'unit').map((f) => ({ name: f.path.slice(l.unitDir.length + 1), content: f.content.toString('utf8') })),
    dropIns: desired.files
      .filter((f) => f.role === 'drop-in' || f.role === 'schedule')
      .map((f) => ({ unit: path.posix.basename(path.posix.dirname(f.path)).replace(/\.d$/, ''), name: path.posix.basename(f.path), content: f.content.toString('utf8') })),
  };
}

/**
 * The exposure score of every service an install writes, as installed: one systemd-analyze process for all of them.
 * `templates` (a template unit's file name → its content, e.g. svcctl-alerts' from the same transaction): an instance
 * of one that the install gives a drop-in of its own (the alert instances of a unit with an email channel) is scored
 * too, as that instance will run — its template with that drop-in.
 */
export async function exposureOf(systemd: SystemdClient, desired: DesiredState, target: Target, templates: ReadonlyMap<string, string> = new Map()): Promise<ServiceExposure[]> {
  const tree = unitTree(desired, target);
  const own = tree.files.map((f) => f.name).filter((name) => name.endsWith('.service'));
  const instances: string[] = [];
  for (const file of desired.files.filter((f) => f.role === 'alert-drop-in')) {
    const unit = path.posix.basename(path.posix.dirname(file.path)).replace(/\.d$/, '');
    const template = templates.get(templateOfInstance(unit) ?? '');
    if (template === undefined || own.includes(unit)) continue;
    if (!instances.includes(unit)) {
      instances.push(unit);
      tree.files.push({ name: unit, content: template });
    }
    tree.dropIns.push({ unit, name: path.posix.basename(file.path), content: file.content.toString('utf8') });
  }
  const services = [...own, ...instances];
  if (services.length === 0) return [];
  return parseSecurityOutput(await systemd.securityOffline(tree, services), services);
}

/** The template units among the files of some installs, by file name: what exposureOf scores their instances from. */
export function templateUnits(desired: DesiredState[], target: Target): Map<string, string> {
  return new Map(desired.flatMap((d) => unitTree(d, target).files.filter((f) => f.name.endsWith('.service') && isTemplateName(f.name)).map((f): [string, string] => [f.name, f.content])));
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

/** Install's preflight: every problem at once, exit 2, nothing changed (the first bundle with problems is named). */
export async function preflight(systemd: SystemdClient, bundles: { desired: DesiredState; directory: string }[], target: Target): Promise<void> {
  const problems = await preflightProblemsOf(systemd, bundles.map((b) => b.desired), target, { defaultSchedule: false });
  const index = problems.findIndex((p) => p.length > 0);
  if (index < 0) return;
  const { desired, directory } = bundles[index]!;
  throw UserError.many(`systemd-analyze verify found problems in bundle ${desired.bundle}:`, problems[index]!, [`fix the unit files in ${directory}; nothing was changed`]);
}
