// The "cron" export: the seeds' "Alternative: Cron" done right, for Debian's cron — an /etc/cron.d file whose entry
// runs the bundle's job as its user, with the unit's environment (settings as cron environment lines, secrets and
// config files read only when root alone can write them), output to the journal (systemd-cat) or a log file, and
// flock against overlapping runs; the payload, the user and directories as the units export has them. What cron
// cannot express — a daemon, a calendar in another zone than the host's, a randomized delay, seconds — is refused.
import type { Bundle } from '../bundle/types.js';
import { UserError } from '../errors.js';
import { managedHeader, type DesiredFile, type DesiredState } from '../desired.js';
import { commentLine, crontabCommand, crontabEntryLine, crontabEnvLine, shellQuote } from '../escape/index.js';
import { cronScheduleOf, parseSchedule, timerTriggersOf } from '../schedule.js';
import { layout, type Target } from '../target.js';
import { environmentAssignments, execArgv, lastValue, sectionDirectives } from './service-unit.js';
import { describeSecretFile, manifestEntryOf, manifestExportFile, manifestOf, octal, relativeOf, type ExportFile, type ExportTree, type ManifestEntry } from './tree.js';

export interface CronOptions {
  /** The zone the host's cron runs in (Debian's cron has no CRON_TZ). */
  hostTimeZone: string;
  /** Append the job's output to this file instead of sending it to the journal. */
  logFile?: string;
}

/** systemd's default PATH for services (a cron job otherwise gets only /usr/bin:/bin). */
const servicePath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** [Service] directives the cron entry carries over; any other is listed as what cron does not do. */
const translated = new Set(['Type', 'User', 'Group', 'ExecStart', 'WorkingDirectory', 'Environment', 'EnvironmentFile', 'UMask', 'SyslogIdentifier']);
/** Directives with no cron equivalent that change what the job does, not only how safely: refused. */
const untranslatable = ['ExecStartPre', 'ExecStartPost', 'ExecCondition', 'ExecStop', 'ExecStopPost', 'Restart', 'DynamicUser', 'LoadCredential', 'SetCredential', 'RuntimeDirectory', 'StateDirectory', 'CacheDirectory', 'LogsDirectory', 'StandardInput'];

export function cronFileName(bundle: string): string {
  // run-parts(8) naming: Debian's cron skips /etc/cron.d files with a dot in their name.
  return `/etc/cron.d/svcctl-${bundle}`;
}

export function exportCron(desired: DesiredState, bundle: Bundle, target: Target, options: CronOptions): ExportTree {
  const l = layout(target);
  const refuse = (why: string, hint = 'keep the systemd timer (svcctl install, or --format units / ansible)') => new UserError(`cron cannot run ${bundle.name}: ${why}`, hint);
  if (!desired.timer || !desired.service || !desired.schedule) throw refuse('it has no timer: cron runs jobs on a schedule, not daemons');
  const daemons = desired.enable.filter((u) => !u.endsWith('.timer'));
  if (daemons.length > 0) throw refuse(`it starts ${daemons.join(', ')} at boot (a daemon), which cron does not supervise`);
  const timers = desired.units.filter((u) => u.endsWith('.timer'));
  if (timers.length > 1) throw refuse(`it has ${timers.length} timers; one cron file here carries one job`);

  const unitText = (unit: string) => desired.files.filter((f) => (f.role === 'unit' || f.role === 'drop-in' || f.role === 'schedule') && f.path.startsWith(l.unitFile(unit))).sort((a, b) => (a.role === 'unit' ? -1 : b.role === 'unit' ? 1 : a.path < b.path ? -1 : 1)).map((f) => f.content.toString('utf8'));

  // The schedule as the timer has it: the manifest's expression (or --schedule), with the timer's own randomized delay.
  const triggers = timerTriggersOf(unitText(desired.timer).join('\n'));
  const schedule = parseSchedule(desired.schedule.expression, triggers.randomizedDelay);
  const cron = cronScheduleOf(schedule, options.hostTimeZone);
  if ('reason' in cron) throw refuse(cron.reason, 'choose a schedule cron can express (--schedule), or keep the systemd timer (--format units / ansible)');

  const service = sectionDirectives(unitText(desired.service), 'Service');
  const type = lastValue(service, 'Type') ?? 'simple';
  if (type !== 'oneshot' && type !== 'simple' && type !== 'exec') throw refuse(`${desired.service} is Type=${type}, a daemon`);
  for (const key of untranslatable) if (service.some((d) => d.key === key)) throw refuse(`${desired.service} sets ${key}=, which cron has no equivalent for`, 'move that step into the script, or keep the systemd timer (--format units / ansible)');
  const user = lastValue(service, 'User') ?? 'root';
  const group = lastValue(service, 'Group') ?? (desired.user?.name === user ? user : user === 'root' ? 'root' : undefined);
  if (group === undefined) throw refuse(`${desired.service} runs as ${user} without Group=, and svcctl cannot tell that user's group from here`, `add Group= to ${desired.service}`);
  if (/[%$]/.test(user) || /[%$]/.test(group)) throw refuse(`${desired.service} names its user or group with a specifier or variable`);
  const commands = service.filter((d) => d.key === 'ExecStart').map((d) => execArgv(d.value, `ExecStart= of ${desired.service}`));
  if (commands.length === 0) throw refuse(`${desired.service} has no ExecStart=`);
  const environment = service.filter((d) => d.key === 'Environment').flatMap((d) => environmentAssignments(d.value, `Environment= of ${desired.service}`));
  const environmentFiles = service.filter((d) => d.key === 'EnvironmentFile').map((d) => d.value);
  const workingDirectory = lastValue(service, 'WorkingDirectory');
  const umask = lastValue(service, 'UMask');
  const identifier = lastValue(service, 'SyslogIdentifier') ?? desired.service.replace(/\.service$/, '');
  for (const [what, value] of [['WorkingDirectory', workingDirectory], ['UMask', umask], ['SyslogIdentifier', identifier]] as const) {
    if (value !== undefined && /[%$]/.test(value.replace(/%%/g, ''))) throw refuse(`${what}= of ${desired.service} uses a specifier or variable`);
  }
  if (workingDirectory !== undefined && !workingDirectory.replace(/^-/, '').startsWith('/')) throw refuse(`WorkingDirectory=${workingDirectory} is not an absolute path`);

  // The environment files, each readable by the job's user: svcctl's own secrets file is the group's to read
  // (0640 root:GROUP in a 0750 directory) when the job does not run as root; a bundle's config file keeps its own.
  const header = managedHeader(bundle.name);
  const secretsFile = l.secretsFile(bundle.name);
  const files: ExportFile[] = [];
  const entries: ManifestEntry[] = [];
  const directories = desired.directories.map((d) => (d.path === l.secretsDir(bundle.name) && user !== 'root' ? { ...d, mode: 0o750, group } : d));
  for (const file of desired.files.filter((f) => f.role !== 'unit' && f.role !== 'drop-in' && f.role !== 'schedule')) {
    const placed: DesiredFile = file.path === secretsFile && user !== 'root' ? { ...file, mode: 0o640, group } : file;
    if ((placed.role === 'config' || placed.role === 'secrets') && environmentFiles.some((e) => e.replace(/^-/, '') === placed.path) && !readableBy(placed, user, group)) {
      throw refuse(`${placed.path} (${octal(placed.mode)} ${placed.owner}:${placed.group}) is an environment file the job's user ${user} cannot read`, 'give the config file a mode or group that lets the service user read it');
    }
    files.push({ path: relativeOf(placed.path), content: placed.secret ? describeSecretFile(placed, bundle, header) : placed.content, mode: placed.mode, kind: 'file' });
    entries.push(manifestEntryOf(placed));
  }

  const script = jobScript({ environmentFiles, commands, umask, workingDirectory, logFile: options.logFile });
  const argv = [...(options.logFile ? [] : ['/usr/bin/systemd-cat', '-t', identifier]), '/usr/bin/flock', '-n', commands[0]![0]!, '/bin/sh', '-c', script, identifier];
  const ignored = [...new Set(service.map((d) => d.key).filter((k) => !translated.has(k)))];
  const lines = [
    commentLine(header),
    commentLine(`The cron alternative of ${desired.timer} (svcctl export ${bundle.name} --format cron): ${desired.service} on "${desired.schedule.expression}", in the host's time zone (${options.hostTimeZone}).`),
    ...cron.notes.map((n) => commentLine(`Differs from the timer: ${n}.`)),
    ...(ignored.length > 0 ? [commentLine(`Not applied by cron (the unit's sandboxing and limits): ${ignored.join(' ')}.`)] : []),
    commentLine(`Runs skip while the previous one still holds the lock (flock -n ${commands[0]![0]!}); output goes to ${options.logFile ?? `the journal (journalctl -t ${identifier})`}.`),
    'SHELL=/bin/sh',
    crontabEnvLine('PATH', servicePath),
    crontabEnvLine('MAILTO', ''),
    ...environment.map((e) => crontabEnvLine(e.name, e.value)),
    crontabEntryLine({ schedule: cron.line, user, command: argv }),
  ];
  const cronFile = cronFileName(bundle.name);
  files.push({ path: relativeOf(cronFile), content: Buffer.from(`${lines.join('\n')}\n`), mode: 0o644, kind: 'file' });
  entries.push({ path: cronFile, role: 'cron', mode: '0644', owner: 'root', group: 'root' });
  const notes = [
    `${cronFile} runs ${desired.service}'s command as ${user} on "${cron.line}" (host time zone ${options.hostTimeZone})`,
    ...cron.notes,
    ...(ignored.length > 0 ? [`not applied by cron: ${ignored.join(', ')}`] : []),
    ...(desired.user ? [`create user ${desired.user.name} first: systemd-sysusers ${l.sysusers(bundle.name)}`] : []),
    ...(desired.directories.some((d) => d.kind === 'data') ? [`make the directories: systemd-tmpfiles --create ${l.tmpfiles(bundle.name)}`] : []),
    ...(desired.files.some((f) => f.secret) ? ['secret files carry a description of the secrets that fill them, never a value: fill them on the host (mode and owner as the manifest says)'] : []),
  ];
  const manifest = manifestOf('cron', { ...desired, directories }, entries, notes, { enable: [] });
  const ownDirectories = directories.filter((d) => d.kind === 'own' && files.some((f) => f.path.startsWith(`${relativeOf(d.path)}/`))).map((d) => ({ path: relativeOf(d.path), mode: d.mode }));
  return { format: 'cron', bundle: bundle.name, files: [...files, manifestExportFile(manifest)], directories: ownDirectories, manifest, notes };
}

function readableBy(file: Pick<DesiredFile, 'mode' | 'owner' | 'group'>, user: string, group: string): boolean {
  if (user === 'root') return true;
  if (file.owner === user) return (file.mode & 0o400) !== 0;
  if (file.group === group) return (file.mode & 0o040) !== 0;
  return (file.mode & 0o004) !== 0;
}

/**
 * The shell the entry runs (as `sh -c SCRIPT NAME`): each environment file is read only when it is a regular file
 * that root owns and nobody else can write, in a directory of the same kind — svcctl writes these files so that a
 * POSIX shell reads the same values as systemd — then the unit's umask and working directory, then the commands.
 */
function jobScript(job: { environmentFiles: string[]; commands: string[][]; umask?: string; workingDirectory?: string; logFile?: string }): string {
  const parts = ['set -e'];
  if (job.environmentFiles.length > 0) {
    const optional = job.environmentFiles.filter((f) => f.startsWith('-')).map((f) => f.slice(1));
    const all = job.environmentFiles.map((f) => f.replace(/^-/, ''));
    const body = [
      ...(optional.length > 0 ? [`case $f in ${optional.map(shellQuote).join('|')}) [ -e "$f" ] || continue;; esac`] : []),
      `[ -f "$f" ] && [ ! -L "$f" ] && [ -z "$(find "$f" "\${f%/*}" -maxdepth 0 \\( ! -user root -o -perm /022 \\) -print)" ] || { echo "$0: not reading $f: only a file that root alone can write is read" >&2; exit 78; }`,
      'set -a',
      '. "$f"',
      'set +a',
    ];
    parts.push(`for f in ${all.map(shellQuote).join(' ')}; do ${body.join('; ')}; done`);
  }
  if (job.umask !== undefined) parts.push(`umask ${shellQuote(job.umask)}`);
  if (job.workingDirectory !== undefined) {
    const dir = job.workingDirectory.replace(/^-/, '');
    parts.push(job.workingDirectory.startsWith('-') ? `cd ${shellQuote(dir)} 2>/dev/null || true` : `cd ${shellQuote(dir)}`);
  }
  if (job.logFile !== undefined) parts.push(`exec >>${shellQuote(job.logFile)} 2>&1`);
  const commands = job.commands.map((argv) => argv.map(shellQuote).join(' '));
  parts.push(...commands.slice(0, -1), `exec ${commands[commands.length - 1]!}`);
  // One line: a crontab entry cannot hold a newline.
  const script = parts.join('; ');
  // The entry must fit cron's line: the script is one word of it.
  crontabCommand(['/bin/sh', '-c', script]);
  return script;
}
