// The doctor flow: the seeds' troubleshooting steps run for you. Each finding says what is wrong and the command that fixes it.
import path from 'node:path';
import { parseEnvFile } from '../core/escape/index.js';
import { formatRelative, formatTimestamp, nowUsec } from '../core/time.js';
import type { Receipt } from '../core/receipt.js';
import { lastValues, unitStateOf, unitStateProperties, type UnitState } from '../core/unit-state.js';
import type { Bundle } from '../core/bundle/types.js';
import { exec } from '../system/exec.js';
import { inspectPath, listDirectory, programState, readTextIfExists, type PathState } from '../system/fs.js';
import { layout, systemTarget, type Target } from '../core/target.js';
import { inspectLock, type LockState } from '../system/lock.js';
import { requireRoot } from '../system/privileges.js';
import { probeUrl } from '../system/http.js';
import { clockNow, SystemdClient } from '../system/systemd.js';
import { findInstalled, listInstalled, sourceBundle } from './installed.js';
import { targetFor, type ScopeOptions } from './target.js';
import { lingerOf } from '../system/user-manager.js';
import { userTimeZone } from '../system/timezone.js';
import { readAccounts, type Account } from '../system/accounts.js';

// The target of this run (system, or --user): doctor runs once per process, and every check below reads these.
let target: Target = systemTarget();
let systemd = new SystemdClient(target);
let paths = layout(target);

export interface Finding {
  /** What was looked at: "timer", "last run", "daemon-reload", "environment file", "secrets file", ... */
  check: string;
  ok: boolean;
  /** ok: what was found; not ok: what is wrong. */
  message: string;
  /** The command that fixes it (not ok only). */
  fix?: string;
  /** Supporting lines, e.g. the tail of the journal. */
  details?: string[];
}

export interface DoctorReport {
  ok: boolean;
  host: Finding[];
  bundles: { bundle: string; findings: Finding[] }[];
}

export async function doctor(reference: string | undefined, scope: ScopeOptions = {}): Promise<DoctorReport> {
  if (!scope.user) requireRoot('svcctl doctor (receipts, secrets files and other users\' processes are visible to root only)');
  target = await targetFor(scope);
  systemd = new SystemdClient(target);
  paths = layout(target);
  const host: Finding[] = [];
  const lock = await inspectLock(target);
  host.push(...lockFindings(lock));
  const running = await systemd.running();
  if (!running && target.scope === 'user') host.push({ check: 'systemd', ok: false, message: `no systemd user manager is running for ${target.user} (${target.runtimeDir}/systemd/private is missing): units cannot be checked`, fix: 'log in through a session that starts one (ssh or a console login, not su), or: loginctl enable-linger' });
  else if (!running) host.push({ check: 'systemd', ok: false, message: 'systemd is not running on this host (it is not PID 1): units cannot be checked', fix: 'run svcctl on a host booted with systemd, or try it in `svcctl sandbox start`' });
  if (target.scope === 'user') host.push(lingerFinding(await lingerOf(target)));
  const options = { command: 'svcctl doctor', needs: 'receipt', target } as const;
  const installed = reference !== undefined ? [await findInstalled(reference, options)] : await listInstalled(options);
  const receipts = installed.map((bundle) => bundle.receipt!);
  if (reference === undefined && receipts.length === 0) host.push({ check: 'bundles', ok: true, message: 'no bundles installed' });
  const bundles: DoctorReport['bundles'] = [];
  for (const receipt of receipts) bundles.push({ bundle: receipt.bundle, findings: await examine(receipt, running, lock.held) });
  const ok = [...host, ...bundles.flatMap((b) => b.findings)].every((f) => f.ok);
  if (target.scope === 'user') for (const finding of [...host, ...bundles.flatMap((b) => b.findings)]) inUserScope(finding);
  return { ok, host, bundles };
}

/** Without linger the user's manager, timers included, stops at his last logout. */
function lingerFinding(linger: boolean | undefined): Finding {
  if (linger === true) return { check: 'linger', ok: true, message: `linger is on for ${target.user}: the units keep running after logout` };
  if (linger === false) return { check: 'linger', ok: false, message: `linger is off for ${target.user}: the units (timers included) stop when ${target.user} logs out`, fix: `loginctl enable-linger   # may need root: sudo loginctl enable-linger ${target.user}` };
  return { check: 'linger', ok: true, message: 'linger unknown (loginctl did not answer)' };
}

/** The fixes of a user-scope finding, in their --user form (systemctl --user, journalctl --user, svcctl ... --user). */
function inUserScope(finding: Finding): void {
  const reword = (text: string) =>
    text
      .replace(/\b(systemctl|journalctl) (?!--user)/g, '$1 --user ')
      .replace(/\bsvcctl (secret (?:set|rotate|list)|[a-z][a-z-]*)\b(?! --user)/g, 'svcctl $1 --user');
  if (finding.fix && finding.check !== 'linger') finding.fix = reword(finding.fix);
  if (finding.details) finding.details = finding.details.map(reword);
}

/** Whether a transaction runs is the kernel's answer (a flock); what the lock file says does not matter. */
function lockFindings(lock: LockState): Finding[] {
  if (lock.held) return [{ check: 'lock', ok: true, message: `a transaction is running (pid ${lock.pid ?? 'unknown'}, ${lock.path})` }];
  return [{ check: 'lock', ok: true, message: `no transaction is running (${lock.path})` }];
}

/** What doctor reads of a unit's configuration, beside its state; several (ExecStart, EnvironmentFiles) repeat, one line per entry. */
const configurationProperties = ['EnvironmentFiles', 'Environment', 'ExecStart', 'User', 'ControlGroup', 'DropInPaths', 'FragmentPath'];

type Properties = Record<string, string[]>;

/** One `systemctl show` for every unit: its state (the one unit-state model) and its configuration, every line kept. */
async function showAll(units: string[]): Promise<{ states: Record<string, UnitState>; config: Record<string, Properties> }> {
  if (units.length === 0) return { states: {}, config: {} };
  const config = await systemd.showBlocks(units, [...unitStateProperties, ...configurationProperties], { utc: true });
  const clock = clockNow();
  return { states: Object.fromEntries(units.map((unit) => [unit, unitStateOf(unit, lastValues(config[unit] ?? {}), clock)])), config };
}

const one = (props: Properties | undefined, name: string): string => props?.[name]?.[0] ?? '';

async function examine(receipt: Receipt, systemdRunning: boolean, transactionRunning: boolean): Promise<Finding[]> {
  const findings: Finding[] = [];
  const name = receipt.bundle;
  const reinstall = `svcctl install ${receipt.source} --yes`;
  if (receipt.state === 'retained') {
    findings.push({ check: 'receipt', ok: true, message: `uninstalled; kept: ${[...receipt.artifacts.map((a) => a.path), ...(receipt.user ? [`user ${receipt.user.name}`] : [])].join(', ') || 'nothing'} (svcctl uninstall ${name} --purge removes them)` });
    return findings;
  }
  if (receipt.state !== 'installed') {
    if (transactionRunning) findings.push({ check: 'receipt', ok: true, message: `a transaction is under way (receipt state "${receipt.state}")` });
    else {
      findings.push({
        check: 'receipt',
        ok: false,
        message: `an ${receipt.state === 'installing' ? 'install' : 'uninstall'} was interrupted (receipt state "${receipt.state}"): the host may be half changed`,
        fix: receipt.state === 'installing' ? reinstall : `svcctl uninstall ${name} --yes`,
      });
    }
  }
  const bundle = await sourceBundle(receipt);
  if (!bundle) findings.push({ check: 'source', ok: false, message: `the bundle directory ${receipt.source} does not load any more: install cannot repair ${name} from it`, fix: `restore ${receipt.source}, or reinstall from where the bundle is now: svcctl install DIR --yes` });

  findings.push(...(await artifactFindings(receipt, reinstall)));
  findings.push(...(await secretsFileFindings(receipt, bundle, reinstall)));
  findings.push(...(await tempFileFindings(receipt)));
  if (!systemdRunning) return findings;

  const services = receipt.units.filter((u) => u.endsWith('.service'));
  const { states, config } = await showAll(receipt.units);
  const stateOf = (unit: string) => states[unit]!;
  const { users } = await readAccounts(target);

  // Loaded, and systemd has read the files as they are now.
  for (const unit of receipt.units.map(stateOf).filter((u) => u.load !== 'loaded')) {
    findings.push({ check: 'unit', ok: false, message: `${unit.unit} is ${unit.answered ? unit.load : 'unknown to systemd'}`, fix: reinstall, details: [`systemctl status ${unit.unit}`] });
  }
  const stale = receipt.units.filter((u) => stateOf(u).needsReload);
  findings.push(
    stale.length > 0
      ? { check: 'daemon-reload', ok: false, message: `systemd runs an old version of ${stale.join(', ')}: the files changed since it last read them`, fix: 'systemctl daemon-reload' }
      : { check: 'daemon-reload', ok: true, message: 'systemd has read the current unit files' },
  );

  // Enabled and active.
  for (const name of receipt.enabled) {
    const unit = states[name] ?? stateOf(name);
    if (unit.load !== 'loaded') continue;
    const enabled = unit.enabledAtBoot ?? false;
    const active = unit.active;
    if (name === receipt.service && unit.failed) continue; // the last-run finding says it, with the journal
    const isActive = active === 'active' || (name.endsWith('.service') && receipt.timer !== undefined);
    const kind = name.endsWith('.timer') ? 'timer' : 'service';
    if (enabled && isActive) {
      const next = unit.nextElapse;
      findings.push({ check: kind, ok: true, message: `${name} is enabled and ${active}${next ? `, next run ${formatRelative(next, nowUsec())}` : ''}` });
    } else if (!enabled && !isActive) findings.push({ check: 'enabled', ok: false, message: `${name} is ${unit.enabled || 'not enabled'} and ${active}`, fix: `systemctl enable --now ${name}` });
    else if (!enabled) findings.push({ check: 'enabled', ok: false, message: `${name} is ${unit.enabled || 'not enabled'}: it will not start at boot`, fix: `systemctl enable ${name}` });
    else if (unit.failed) findings.push({ check: kind, ok: false, message: `${name} failed (${unit.result ?? 'unknown'})`, fix: `systemctl reset-failed ${name} && systemctl start ${name}`, details: await journalTail(name) });
    else findings.push({ check: kind, ok: false, message: `${name} is ${active}`, fix: `systemctl start ${name}` });
  }

  // The last run of the main service, with the tail of its journal when it failed.
  const main = receipt.service ? states[receipt.service] : undefined;
  if (main && main.load === 'loaded' && (receipt.timer !== undefined || main.failed)) findings.push(await lastRunFinding(main, receipt.timer !== undefined));

  for (const service of services) {
    const props = config[service];
    if (stateOf(service).load !== 'loaded') continue;
    findings.push(...(await environmentFileFindings(service, props!, receipt, bundle, reinstall)));
    findings.push(...(await environmentSecretFindings(service, props!, name, (bundle?.secrets ?? receipt.secrets).map((s) => s.key))));
    findings.push(...(await userFindings(service, props!, receipt, users)));
    findings.push(...(await execStartFindings(service, props!, receipt, reinstall)));
  }
  if (!receipt.timer && main && receipt.health?.url) {
    findings.push(...(await portFindings(main, config[main.unit], receipt.health.url)));
    findings.push(...(await healthUrlFindings(main, receipt.health.url)));
  }
  return findings;
}

async function journalTail(unit: string, lines = 10): Promise<string[]> {
  const result = await systemd.journal(['-u', unit, '-n', String(lines), '--no-pager', '-o', 'short-iso']);
  const tail = result.stdout.trimEnd().split('\n').filter(Boolean);
  return tail.length > 0 ? [`journalctl -u ${unit} -n ${lines}:`, ...tail.map((l) => `  ${l}`)] : [`journalctl -u ${unit}: no entries`];
}

async function lastRunFinding(service: UnitState, timerJob: boolean): Promise<Finding> {
  const run = service.lastRun;
  const now = nowUsec();
  const name = service.unit;
  if (service.failed) {
    const how = service.result === 'exit-code' ? `exit status ${run?.exitStatus ?? '?'}` : (service.result ?? run?.result ?? 'unknown');
    return {
      check: 'last run',
      ok: false,
      message: `the last run of ${name} failed (${how}${service.ended !== undefined ? `, ${formatRelative(service.ended, now)}` : ''})`,
      fix: `journalctl -u ${name} -n 50 --no-pager   # find the cause, fix it, then: systemctl reset-failed ${name} && systemctl start ${name}`,
      details: await journalTail(name),
    };
  }
  if (service.started === undefined) return { check: 'last run', ok: true, message: `${name} has not run since boot${timerJob ? ' (its timer starts it)' : ''}` };
  const exited = service.lastRun?.state === 'running' ? undefined : service.ended;
  return { check: 'last run', ok: true, message: `the last run of ${name} ${exited ? `succeeded at ${formatTimestamp(exited, userTimeZone())} (${formatRelative(exited, now)})` : `started at ${formatTimestamp(service.started, userTimeZone())}`}` };
}

/** Files of the receipt still there, unchanged, with their mode (payload scripts executable). */
async function artifactFindings(receipt: Receipt, reinstall: string): Promise<Finding[]> {
  const changed: string[] = [];
  const modes: Finding[] = [];
  let checked = 0;
  for (const artifact of receipt.artifacts) {
    if (artifact.role === 'secrets') continue; // its content changes with `secret set`; checked on its own
    checked++;
    const state = await inspectPath(artifact.path);
    if (!state) changed.push(`${artifact.path} is missing`);
    else if (state.kind !== 'file') changed.push(`${artifact.path} is a ${state.kind}, not a file`);
    else if (artifact.checksum !== '' && state.checksum !== artifact.checksum) changed.push(`${artifact.path} changed since install`);
    else if (state.mode !== artifact.mode) {
      const lostExec = (artifact.mode & 0o111) !== 0 && (state.mode & 0o111) === 0;
      modes.push({ check: artifact.role, ok: false, message: `${artifact.path} has mode ${octal(state.mode)}, installed as ${octal(artifact.mode)}${lostExec ? ' (not executable)' : ''}`, fix: `chmod ${octal(artifact.mode)} ${artifact.path}` });
    }
  }
  const findings: Finding[] = [...modes];
  if (changed.length > 0) findings.push({ check: 'files', ok: false, message: changed.join('; '), fix: `${reinstall}   # puts back the installed files` });
  else if (modes.length === 0 && checked > 0) findings.push({ check: 'files', ok: true, message: `${checked} installed file${checked === 1 ? '' : 's'} present and unchanged (payload, units, drop-ins)` });
  return findings;
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/** The secrets file: a regular 0600 root file in a 0700 root directory, parseable, with every required secret. */
async function secretsFileFindings(receipt: Receipt, bundle: Bundle | undefined, reinstall: string): Promise<Finding[]> {
  const declared = bundle?.secrets ?? [];
  const file = paths.secretsFile(receipt.bundle);
  const dir = paths.secretsDir(receipt.bundle);
  const ours = receipt.artifacts.some((a) => a.path === file);
  if (declared.length === 0 && !ours) return [];
  const findings: Finding[] = [];
  const dirState = await inspectPath(dir, { content: false });
  const fileState = await inspectPath(file, { content: false });
  // Owned by svcctl's own owner: root, or in user scope the user.
  const owner = `${target.user}:${target.group}`;
  const modeProblem = (what: string, state: PathState | undefined, mode: number, p: string): Finding | undefined => {
    if (!state) return undefined;
    if (state.kind === 'symlink') return { check: 'secrets file', ok: false, message: `${p} is a symlink: svcctl never writes secrets through one`, fix: `rm ${p} && ${reinstall}` };
    if (state.mode !== mode || state.uid !== target.uid || state.gid !== target.gid) {
      return { check: 'secrets file', ok: false, message: `${what} ${p} is ${octal(state.mode)} uid ${state.uid} gid ${state.gid}: it must be ${octal(mode)} ${owner}`, fix: `chown ${owner} ${p} && chmod ${octal(mode)} ${p}` };
    }
    return undefined;
  };
  const dirProblem = modeProblem('directory', dirState, 0o700, dir);
  if (dirProblem) findings.push(dirProblem);
  if (!fileState) {
    findings.push({ check: 'secrets file', ok: false, message: `${file} is missing: the services that read it fail to start`, fix: declared.length > 0 ? `svcctl secret set ${receipt.bundle} ${declared[0]!.key}   # once per secret` : reinstall });
    return findings;
  }
  const fileProblem = modeProblem('file', fileState, 0o600, file);
  if (fileProblem) findings.push(fileProblem);
  if (fileState.kind !== 'file') return findings;
  const text = (await readTextIfExists(file)) ?? '';
  const values = parseEnvFile(text);
  // Never quote the file's lines: a quoted value may span lines, and any fragment of it may be secret.
  // What systemd would drop shows up as a declared secret that is not set.
  const missing = declared.filter((s) => s.required && (values.get(s.key) ?? '') === '');
  for (const spec of missing) findings.push({ check: 'secrets', ok: false, message: `required secret ${spec.key} is not set`, fix: `svcctl secret set ${receipt.bundle} ${spec.key}${spec.generate ? ' --generate' : ''}` });
  if (!dirProblem && !fileProblem && missing.length === 0) {
    findings.push({ check: 'secrets file', ok: true, message: `${file}: 0600 ${owner} in a 0700 directory, ${values.size} value${values.size === 1 ? '' : 's'} parsed${declared.length > 0 ? `, required ones set` : ''}` });
  }
  return findings;
}

/** Leftovers of an interrupted atomic write (".NAME.svcctl-XXXXXXXXXXXX"); next to the secrets file they may hold secrets. */
async function tempFileFindings(receipt: Receipt): Promise<Finding[]> {
  const dirs = new Set([paths.secretsDir(receipt.bundle), paths.stateDir, ...receipt.artifacts.map((a) => path.posix.dirname(a.path))]);
  const leftovers: string[] = [];
  for (const dir of dirs) {
    for (const entry of await listDirectory(dir).catch(() => [] as string[])) if (/^\..+\.svcctl-[0-9a-f]{12}$/.test(entry)) leftovers.push(path.posix.join(dir, entry));
  }
  if (leftovers.length === 0) return [];
  return [{ check: 'temp files', ok: false, message: `left by an interrupted write: ${leftovers.join(', ')}`, fix: `rm -f ${leftovers.join(' ')}` }];
}

async function environmentFileFindings(service: string, props: Properties, receipt: Receipt, bundle: Bundle | undefined, reinstall: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  const entries = (props.EnvironmentFiles ?? []).filter(Boolean).map((line) => ({ file: line.replace(/ \(ignore_errors=(yes|no)\)$/, ''), optional: line.endsWith('(ignore_errors=yes)') }));
  const ours = paths.secretsFile(receipt.bundle);
  if ((bundle?.secrets.length ?? receipt.secrets.length) > 0 && !entries.some((e) => e.file === ours)) {
    findings.push({ check: 'environment file', ok: false, message: `${service} does not read ${ours} (EnvironmentFile= missing from its drop-in)`, fix: reinstall });
  }
  for (const entry of entries) {
    if (entry.file === ours) continue; // checked with the secrets file
    const state = await inspectPath(entry.file, { content: false });
    if (!state && !entry.optional) findings.push({ check: 'environment file', ok: false, message: `${service} needs ${entry.file}, which is missing: it fails to start`, fix: `touch ${entry.file} && chmod 0600 ${entry.file}   # then put its KEY=value lines in it` });
    else if (state && state.kind !== 'file' && state.kind !== 'symlink') findings.push({ check: 'environment file', ok: false, message: `${entry.file} is a ${state.kind}`, fix: `rm -r ${entry.file}` });
  }
  if (findings.length === 0 && entries.length > 0) findings.push({ check: 'environment file', ok: true, message: `${service} reads ${entries.map((e) => e.file).join(', ')}` });
  return findings;
}

/** A secret in Environment= is readable by every local user through `systemctl show` (seed 000's override.conf). */
async function environmentSecretFindings(service: string, props: Properties, bundle: string, keys: string[]): Promise<Finding[]> {
  const environment = (props.Environment ?? []).join(' ');
  const leaked = keys.filter((key) => new RegExp(`(?:^|\\s)"?${key}=`).test(environment));
  if (leaked.length === 0) return [];
  const sources = [one(props, 'FragmentPath'), ...(props.DropInPaths ?? []).join(' ').split(' ')].filter(Boolean);
  const files: string[] = [];
  for (const file of sources) {
    const text = (await readTextIfExists(file).catch(() => undefined)) ?? '';
    if (leaked.some((key) => new RegExp(`^\\s*Environment\\s*=.*\\b${key}=`, 'm').test(text))) files.push(file);
  }
  const where = files.length > 0 ? files.join(' ') : `the unit's drop-ins (systemctl cat ${service} shows them)`;
  return [
    {
      check: 'secrets',
      ok: false,
      message: `${leaked.join(', ')} ${leaked.length === 1 ? 'is' : 'are'} set with Environment= for ${service}: every local user can read ${leaked.length === 1 ? 'it' : 'them'} with systemctl show`,
      fix: `delete the Environment= line${leaked.length === 1 ? '' : 's'} for ${leaked.join(', ')} from ${where}, then: systemctl daemon-reload && svcctl secret set ${bundle} ${leaked[0]}`,
    },
  ];
}

async function userFindings(service: string, props: Properties, receipt: Receipt, users: ReadonlyMap<string, Account>): Promise<Finding[]> {
  const user = one(props, 'User');
  if (!user || /^\d+$/.test(user)) return [];
  if (users.has(user)) return [{ check: 'user', ok: true, message: `user ${user} (${service}) exists` }];
  const viaNss = await exec(['getent', 'passwd', user], { check: false });
  if (viaNss.exitCode === 0) return [{ check: 'user', ok: true, message: `user ${user} (${service}) exists` }];
  const sysusers = paths.sysusers(receipt.bundle);
  const fix = receipt.artifacts.some((a) => a.path === sysusers) ? `systemd-sysusers ${sysusers}` : `useradd --system --no-create-home --shell /usr/sbin/nologin ${user}`;
  return [{ check: 'user', ok: false, message: `${service} runs as ${user}, which does not exist: it fails to start (status 217/USER)`, fix }];
}

/** Every ExecStart= program exists and is executable (a missing interpreter or an uninstalled script). */
async function execStartFindings(service: string, props: Properties, receipt: Receipt, reinstall: string): Promise<Finding[]> {
  const programs = (props.ExecStart ?? []).map((line) => /path=([^ ;]+)/.exec(line)?.[1]).filter((p): p is string => Boolean(p));
  const findings: Finding[] = [];
  for (const program of new Set(programs)) {
    const payload = receipt.artifacts.some((a) => a.path === program && a.role === 'payload');
    const { exists, executable } = await programState(program);
    if (executable) findings.push({ check: 'ExecStart', ok: true, message: `${service} runs ${program} (present, executable)` });
    else if (payload) continue; // an installed file: the file findings above say what is wrong with it
    else if (exists) findings.push({ check: 'ExecStart', ok: false, message: `${program} (ExecStart of ${service}) is not executable`, fix: payload ? reinstall : `chmod 0755 ${program}` });
    else findings.push({ check: 'ExecStart', ok: false, message: `${program} (ExecStart of ${service}) does not exist: it fails to start (status 203/EXEC)`, fix: payload ? reinstall : `apt-get install PACKAGE   # the package that provides ${program} (apt-file search ${program}), or fix ExecStart= in the bundle` });
  }
  return findings;
}

/** For a daemon: its health URL's port is free (when stopped) or held by the daemon's own processes. */
async function portFindings(state: UnitState, props: Properties | undefined, url: string): Promise<Finding[]> {
  const service = state.unit;
  let port: number;
  try {
    const parsed = new URL(url);
    port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  } catch {
    return [];
  }
  const result = await exec(['ss', '-Htlnp', `sport = :${port}`], { check: false }).catch(() => undefined);
  if (!result || result.exitCode !== 0) return [{ check: 'port', ok: true, message: `port ${port} not checked (ss is not available)` }];
  const holders = [...result.stdout.matchAll(/\("([^"]*)",pid=(\d+)/g)].map((m) => ({ command: m[1]!, pid: Number(m[2]) }));
  const active = state.active === 'active';
  const group = one(props, 'ControlGroup');
  const ours: typeof holders = [];
  const others: typeof holders = [];
  for (const holder of holders) ((await inGroup(holder.pid, group)) ? ours : others).push(holder);
  if (others.length > 0) {
    const who = others.map((h) => `${h.command} (pid ${h.pid})`).join(', ');
    return [{ check: 'port', ok: false, message: `port ${port} is held by ${who}, not by ${service}`, fix: `kill ${others.map((h) => h.pid).join(' ')} && systemctl restart ${service}   # after checking what it is: ss -tlnp 'sport = :${port}'` }];
  }
  if (active && ours.length === 0 && result.stdout.trim() === '') return [{ check: 'port', ok: false, message: `${service} is active but nothing listens on port ${port}`, fix: `journalctl -u ${service} -n 50 --no-pager   # then fix the listen address or the health URL` }];
  return [{ check: 'port', ok: true, message: ours.length > 0 ? `port ${port} is held by ${service} (pid ${ours.map((h) => h.pid).join(', ')})` : `port ${port} is free` }];
}

/**
 * For a running daemon: its health URL answers, as `svcctl check` asks it. A daemon stopped with SIGSTOP (or stuck)
 * is active to systemd and still holds its port, but never answers.
 */
async function healthUrlFindings(service: UnitState, url: string): Promise<Finding[]> {
  if (service.active !== 'active') return []; // not running: the findings above say so, with the command that starts it
  const probe = await probeUrl(url, healthUrlTimeoutMs);
  if (probe.ok) return [{ check: 'health URL', ok: true, message: `${url} answered${probe.status !== undefined ? ` ${probe.status}` : ''} in ${Math.round(probe.ms)} ms` }];
  const stopped = service.mainPid !== undefined && (await processState(service.mainPid)) === 'T';
  if (stopped) {
    return [
      {
        check: 'health URL',
        ok: false,
        message: `${url} does not answer (${probe.error ?? 'no answer'}): the main process of ${service.unit} (pid ${service.mainPid}) is stopped (SIGSTOP)`,
        fix: `kill -CONT ${service.mainPid}`,
      },
    ];
  }
  return [
    {
      check: 'health URL',
      ok: false,
      message: `${service.unit} is active but ${url} does not answer (${probe.error ?? 'no answer'})`,
      fix: `journalctl -u ${service.unit} -n 50 --no-pager   # find the cause, then: systemctl restart ${service.unit}`,
    },
  ];
}

const healthUrlTimeoutMs = 2000;

/** The state letter of a process (/proc/PID/stat: R running, S sleeping, T stopped, Z zombie, …). */
async function processState(pid: number): Promise<string | undefined> {
  const stat = await readTextIfExists(`/proc/${pid}/stat`).catch(() => undefined);
  // "PID (COMMAND) STATE ...": the command may hold spaces and parentheses, so read after the last ")".
  return stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || undefined;
}

async function inGroup(pid: number, group: string): Promise<boolean> {
  if (!group) return false;
  const text = (await readTextIfExists(`/proc/${pid}/cgroup`).catch(() => undefined)) ?? '';
  return text.split('\n').some((line) => line.endsWith(`:${group}`) || line.includes(`:${group}/`));
}
