// plan(): the pure heart of svcctl. From a bundle, the observed host and the resolved inputs it
// derives the ordered Actions of an install or uninstall, and the receipt that will describe the result.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { UserError } from './errors.js';
import type { Bundle } from './bundle/types.js';
import { renderEnvFile, renderOverride, renderScheduleDropIn, parseScheduleExpression, type OverrideSpec } from './render.js';
import { unitDirectiveValue } from './escape/systemd.js';
import {
  byPath,
  paths,
  type Action,
  type ArtifactRole,
  type FileAction,
  type Inputs,
  type Observed,
  type Plan,
  type Receipt,
  type ReceiptArtifact,
  type ReceiptDirectory,
} from './types.js';

export const managedHeader = (bundle: string) => `Managed by svcctl (bundle ${bundle}). Changes here are overwritten by \`svcctl install\`.`;

interface DesiredFile {
  path: string;
  content: Buffer;
  mode: number;
  role: ArtifactRole;
  secret: boolean;
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The main service of a bundle: the one its schedule's timer activates, else its first .service. */
export function mainService(bundle: Pick<Bundle, 'units' | 'schedule'>): string | undefined {
  const services = bundle.units.map((u) => u.name).filter((n) => n.endsWith('.service'));
  if (bundle.schedule) {
    const timer = bundle.units.find((u) => u.name === bundle.schedule?.timer);
    const explicit = timer?.content.match(/^\s*Unit\s*=\s*(\S+)\s*$/m)?.[1];
    const implied = bundle.schedule.timer.replace(/\.timer$/, '.service');
    const target = explicit ?? implied;
    if (services.includes(target)) return target;
  }
  return services[0];
}

/** Every path an install of `bundle` writes, and their ancestors: what observe() must look at. */
export function installTargets(bundle: Bundle): string[] {
  // Every path an install could write, whatever the inputs: each unit's drop-in and the schedule drop-in too.
  const files = [
    ...desiredFiles(bundle, { settings: {}, secrets: {}, schedule: bundle.schedule?.default }).map((f) => f.path),
    ...bundle.units.map((u) => paths.override(u.name)),
    ...(bundle.schedule ? [paths.scheduleDropIn(bundle.schedule.timer)] : []),
    ...(bundle.secrets.length > 0 ? [paths.secretsFile(bundle.name)] : []),
  ];
  const dirs = bundle.directories.map((d) => d.path);
  const all = new Set<string>();
  for (const p of [...files, ...dirs]) {
    all.add(p);
    for (const a of ancestors(p)) all.add(a);
  }
  all.add(paths.secretsDir(bundle.name));
  return [...all].sort();
}

function ancestors(p: string): string[] {
  const out: string[] = [];
  let dir = path.posix.dirname(p);
  while (dir !== '/' && dir !== '.') {
    out.push(dir);
    dir = path.posix.dirname(dir);
  }
  return out;
}

function desiredFiles(bundle: Bundle, inputs: { settings: Record<string, string>; secrets: Inputs['secrets']; schedule?: string | undefined }): DesiredFile[] {
  const files: DesiredFile[] = [];
  const header = managedHeader(bundle.name);
  for (const payload of bundle.payload) {
    files.push({ path: payload.destination, content: payload.content, mode: payload.mode, role: 'payload', secret: false });
  }
  if (bundle.user) {
    const u = bundle.user;
    const lines = [`# ${header}`, `u ${u.name} - "svcctl bundle ${bundle.name}" ${u.home} ${u.shell}`, ...u.groups.map((g) => `m ${u.name} ${g}`)];
    files.push({ path: paths.sysusers(bundle.name), content: Buffer.from(`${lines.join('\n')}\n`), mode: 0o644, role: 'sysusers', secret: false });
  }
  if (bundle.directories.length > 0) {
    const lines = [`# ${header}`, ...bundle.directories.map((d) => `d ${d.path} ${d.mode.toString(8).padStart(4, '0')} ${d.owner} ${d.group} -`)];
    files.push({ path: paths.tmpfiles(bundle.name), content: Buffer.from(`${lines.join('\n')}\n`), mode: 0o644, role: 'tmpfiles', secret: false });
  }
  if (bundle.secrets.length > 0) {
    const entries = bundle.secrets.filter((s) => inputs.secrets[s.key] !== undefined).map((s) => ({ key: s.key, value: inputs.secrets[s.key]!.value }));
    files.push({ path: paths.secretsFile(bundle.name), content: Buffer.from(renderEnvFile(entries, header)), mode: 0o600, role: 'secrets', secret: true });
  }
  for (const unit of bundle.units) {
    files.push({ path: paths.unitFile(unit.name), content: Buffer.from(unit.content), mode: 0o644, role: 'unit', secret: false });
  }
  for (const unit of bundle.units) {
    const spec = overrideFor(bundle, unit.name, inputs.settings);
    if (spec) files.push({ path: paths.override(unit.name), content: Buffer.from(renderOverride(spec, header)), mode: 0o600, role: 'drop-in', secret: false });
  }
  if (bundle.schedule && inputs.schedule !== undefined && inputs.schedule !== bundle.schedule.default) {
    const content = renderScheduleDropIn(parseScheduleExpression(inputs.schedule), header);
    files.push({ path: paths.scheduleDropIn(bundle.schedule.timer), content: Buffer.from(content), mode: 0o644, role: 'schedule', secret: false });
  }
  return files;
}

/** The drop-in svcctl writes for one unit: settings and the secrets EnvironmentFile=, or none. */
function overrideFor(bundle: Bundle, unit: string, settings: Record<string, string>): OverrideSpec | undefined {
  const isService = unit.endsWith('.service');
  const spec: OverrideSpec = { environmentFiles: [], environment: [], directives: [] };
  if (isService && bundle.secrets.length > 0) spec.environmentFiles.push(paths.secretsFile(bundle.name));
  for (const setting of bundle.settings) {
    const appliesTo = setting.units ?? bundle.units.map((u) => u.name).filter((n) => n.endsWith('.service'));
    if (!appliesTo.includes(unit)) continue;
    const value = settings[setting.key];
    if (value === undefined) continue;
    if (setting.target.kind === 'environment') spec.environment.push({ name: setting.target.name, value });
    else spec.directives.push({ section: setting.target.section, directive: setting.target.directive, value: unitDirectiveValue(setting.target.directive, value) });
  }
  const empty = spec.environmentFiles.length + spec.environment.length + spec.directives.length === 0;
  return empty ? undefined : spec;
}

/** Checks the settings against the bundle (unknown keys, patterns, required ones). Pure. */
export function validateSettings(bundle: Bundle, settings: Record<string, string>): void {
  for (const key of Object.keys(settings)) {
    if (!bundle.settings.some((s) => s.key === key)) {
      const known = bundle.settings.map((s) => s.key).join(', ') || 'none';
      throw new UserError(`bundle ${bundle.name} has no setting ${key}`, `settings it knows: ${known}`);
    }
  }
  for (const setting of bundle.settings) {
    const value = settings[setting.key];
    if (value === undefined) throw new UserError(`setting ${setting.key} of bundle ${bundle.name} needs a value`, `pass --set ${setting.key}=VALUE`);
    if (setting.pattern && !new RegExp(`^(?:${setting.pattern})$`, 'u').test(value)) {
      throw new UserError(`setting ${setting.key}=${JSON.stringify(value)} does not match ${setting.pattern}`, `${setting.description}; pass --set ${setting.key}=VALUE`);
    }
  }
}

export function planInstall(bundle: Bundle, observed: Observed, inputs: Inputs): Plan {
  validateSettings(bundle, inputs.settings);
  const previous = observed.receipt;
  const ours = new Map((previous?.artifacts ?? []).map((a) => [a.path, a]));
  const files = desiredFiles(bundle, inputs);
  const desiredPaths = new Set(files.map((f) => f.path));
  const actions: Action[] = [];
  const conflicts: string[] = [];
  const changedRoles = new Set<ArtifactRole>();
  const changedUnits = new Set<string>();
  const artifacts: ReceiptArtifact[] = [];

  // Directories: every missing ancestor of a file we write (the secrets directory is 0700).
  const directories = new Map<string, ReceiptDirectory>((previous?.directories ?? []).map((d) => [d.path, d]));
  const makeDirs: Action[] = [];
  const plannedDirs = new Set<string>();
  for (const file of files) {
    for (const dir of ancestors(file.path).reverse()) {
      if (plannedDirs.has(dir)) continue;
      plannedDirs.add(dir);
      if (observed.paths[dir] === null || observed.paths[dir] === undefined) {
        const mode = dir === paths.secretsDir(bundle.name) ? 0o700 : 0o755;
        makeDirs.push({ kind: 'make-directory', path: dir, mode });
        directories.set(dir, { path: dir, created: true, own: true });
      } else if (!directories.has(dir) && isOwnDirectory(bundle, dir)) {
        directories.set(dir, { path: dir, created: false, own: true });
      }
    }
  }
  for (const dir of bundle.directories) {
    const existed = observed.paths[dir.path] !== null && observed.paths[dir.path] !== undefined;
    if (!directories.has(dir.path)) directories.set(dir.path, { path: dir.path, created: !existed, own: false });
    for (const a of ancestors(dir.path)) {
      const ancestorExisted = observed.paths[a] !== null && observed.paths[a] !== undefined;
      if (!directories.has(a) && !ancestorExisted) directories.set(a, { path: a, created: true, own: false });
    }
  }
  actions.push(...makeDirs);

  const fileActions: FileAction[] = [];
  for (const file of files) {
    const sha = sha256(file.content);
    const current = observed.paths[file.path];
    const mine = ours.get(file.path);
    let backup = mine?.backup;
    let change: FileAction['change'] | undefined;
    if (current === null || current === undefined) change = 'create';
    else if (current.kind !== 'file') conflicts.push(`${file.path} exists and is a ${current.kind}`);
    else if (!mine) {
      // Even a byte-identical file is not adopted: uninstall would then delete what someone else put there.
      if (inputs.force) {
        change = 'replace';
        backup = `${paths.backupDir(bundle.name)}${file.path}`;
      } else conflicts.push(`${file.path} exists and was not created by svcctl`);
    } else if (current.sha256 === sha && current.mode === file.mode && current.uid === 0 && current.gid === 0) change = undefined;
    else change = 'update';
    artifacts.push({ path: file.path, role: file.role, sha256: sha, mode: file.mode, owner: 'root', group: 'root', ...(backup ? { backup } : {}) });
    if (!change) continue;
    changedRoles.add(file.role);
    const unit = unitOfPath(file.path);
    if (unit) changedUnits.add(unit);
    fileActions.push({
      kind: 'write-file',
      path: file.path,
      content: file.content,
      sha256: sha,
      mode: file.mode,
      owner: 'root',
      group: 'root',
      role: file.role,
      secret: file.secret,
      change,
      ...(change === 'replace' && backup ? { backupTo: backup } : {}),
    });
  }
  if (conflicts.length > 0) {
    throw new UserError(
      `cannot install ${bundle.name}: ${conflicts.length === 1 ? 'a target path is' : 'target paths are'} in the way:\n  ${conflicts.join('\n  ')}`,
      'remove or move them, or pass --force to back them up (restored on uninstall) and replace them',
    );
  }

  // Artifacts of the previous install that this one no longer writes (e.g. a schedule reset): removed.
  const stale = (previous?.artifacts ?? []).filter((a) => !desiredPaths.has(a.path));
  const byRole = (role: ArtifactRole) => fileActions.filter((a) => a.role === role);
  actions.push(...byRole('payload'));
  if (bundle.user) {
    const userExists = observed.users.includes(bundle.user.name);
    actions.push(...byRole('sysusers'));
    if (!userExists || changedRoles.has('sysusers')) {
      const createdBefore = previous?.user?.created ?? false;
      actions.push({
        kind: 'apply-sysusers',
        path: paths.sysusers(bundle.name),
        user: bundle.user.name,
        userExisted: userExists && !createdBefore,
        groupExisted: observed.groups.includes(bundle.user.name) && !(previous?.user?.groupCreated ?? false),
      });
    }
  }
  if (bundle.directories.length > 0) {
    actions.push(...byRole('tmpfiles'));
    const missing = bundle.directories.filter((d) => observed.paths[d.path] === null || observed.paths[d.path] === undefined);
    if (missing.length > 0 || changedRoles.has('tmpfiles')) {
      const created = [...directories.values()].filter((d) => !d.own && d.created && (observed.paths[d.path] ?? null) === null).map((d) => d.path).sort(); // parents first, as the plan reads
      actions.push({ kind: 'apply-tmpfiles', path: paths.tmpfiles(bundle.name), created });
    }
  }
  actions.push(...byRole('secrets'), ...byRole('unit'), ...byRole('drop-in'), ...byRole('schedule'));
  for (const gone of stale) {
    actions.push({ kind: 'remove-file', path: gone.path, role: gone.role, ...(gone.backup ? { restoreFrom: gone.backup } : {}) });
    const unit = unitOfPath(gone.path);
    if (unit) changedUnits.add(unit);
  }

  const unitNames = bundle.units.map((u) => u.name);
  const unitFilesChanged = fileActions.some((a) => ['unit', 'drop-in', 'schedule'].includes(a.role)) || stale.some((a) => ['unit', 'drop-in', 'schedule'].includes(a.role));
  if (!inputs.offline && unitFilesChanged) actions.push({ kind: 'daemon-reload' });
  const service = mainService(bundle);
  {
    const now = inputs.start && !inputs.offline;
    const toEnable = bundle.enable.filter((u) => {
      const state = observed.units[u];
      return inputs.offline || !state || state.unitFileState !== 'enabled' || (now && state.activeState !== 'active');
    });
    if (toEnable.length > 0) actions.push({ kind: 'enable', units: toEnable, now, offline: inputs.offline });
    if (now) {
      // Running units whose configuration changed pick it up with a restart; a timer's service runs fresh each time.
      const secretsOrSettingsChanged = changedRoles.has('secrets');
      const toRestart = bundle.enable.filter((u) => {
        if (toEnable.includes(u) || observed.units[u]?.activeState !== 'active') return false;
        if (changedUnits.has(u)) return true;
        return u.endsWith('.service') && (secretsOrSettingsChanged || changedRoles.has('payload'));
      });
      if (toRestart.length > 0) actions.push({ kind: 'restart', units: toRestart });
      if (toEnable.length + toRestart.length > 0) actions.push({ kind: 'check-active', units: [...toEnable, ...toRestart] });
    }
  }

  const secretTimes = new Map((previous?.secrets ?? []).map((s) => [s.key, s.changedAt]));
  const receipt: Receipt = {
    format: 1,
    bundle: bundle.name,
    description: bundle.description,
    source: bundle.directory,
    digest: bundle.digest,
    svcctlVersion: inputs.svcctlVersion,
    installedAt: previous?.state === 'installed' || previous?.state === 'installing' ? previous.installedAt : inputs.now,
    updatedAt: inputs.now,
    state: 'installed',
    units: unitNames,
    enabled: [...bundle.enable],
    ...(service ? { service } : {}),
    ...(bundle.schedule ? { timer: bundle.schedule.timer, schedule: inputs.schedule ?? bundle.schedule.default, scheduleOverridden: inputs.schedule !== undefined && inputs.schedule !== bundle.schedule.default } : {}),
    settings: Object.fromEntries(bundle.settings.map((s) => [s.key, inputs.settings[s.key]!])),
    secrets: bundle.secrets
      .filter((s) => inputs.secrets[s.key] !== undefined)
      .map((s) => ({ key: s.key, changedAt: inputs.secrets[s.key]!.source === 'existing' ? (secretTimes.get(s.key) ?? inputs.now) : inputs.now })),
    ...(bundle.health ? { health: { ...bundle.health } } : {}),
    artifacts,
    directories: [...directories.values()].sort(byPath),
    ...(bundle.user
      ? {
          user: {
            name: bundle.user.name,
            created: previous?.user?.created ?? !observed.users.includes(bundle.user.name),
            groupCreated: previous?.user?.groupCreated ?? !observed.groups.includes(bundle.user.name),
          },
        }
      : {}),
  };
  return { bundle: bundle.name, operation: 'install', actions, receipt, upToDate: actions.length === 0 };
}

function isOwnDirectory(bundle: Bundle, dir: string): boolean {
  return dir === paths.secretsDir(bundle.name) || (dir.startsWith(`${paths.unitDir}/`) && dir.endsWith('.d'));
}

/** The unit a file under /etc/systemd/system configures (the unit itself or one of its drop-ins). */
function unitOfPath(p: string): string | undefined {
  if (!p.startsWith(`${paths.unitDir}/`)) return undefined;
  const rest = p.slice(paths.unitDir.length + 1);
  return rest.split('/')[0]!.replace(/\.d$/, '');
}

export interface UninstallOptions {
  purge: boolean;
  force: boolean;
  offline: boolean;
}

export interface UninstallPlan extends Plan {
  /** Files changed since install (by checksum) and left in place (without --force). */
  drifted: string[];
  /** What stays after a plain uninstall (user, data directories, secrets): removed by --purge. */
  retained: string[];
}

/** Roles kept by a plain uninstall: they describe the user, data and secrets --purge removes. */
const retainedRoles: ArtifactRole[] = ['secrets', 'sysusers', 'tmpfiles'];

export function planUninstall(receipt: Receipt, observed: Observed, options: UninstallOptions): UninstallPlan {
  const actions: Action[] = [];
  const drifted: string[] = [];
  const retained: string[] = [];
  const running = !options.offline;
  const wasInstalled = receipt.state !== 'retained';
  if (wasInstalled) actions.push({ kind: 'stop-disable', units: [...receipt.units], enabled: [...receipt.enabled], offline: options.offline });

  const keptArtifacts: ReceiptArtifact[] = [];
  for (const artifact of receipt.artifacts) {
    const keep = !options.purge && retainedRoles.includes(artifact.role);
    const current = observed.paths[artifact.path];
    if (keep) {
      if (current) {
        keptArtifacts.push(artifact);
        retained.push(artifact.path);
      }
      continue;
    }
    if (current === null || current === undefined) {
      if (artifact.backup) actions.push({ kind: 'remove-file', path: artifact.path, role: artifact.role, restoreFrom: artifact.backup });
      continue;
    }
    // A half-finished install may have left the old content: not drift.
    const changed = receipt.state === 'installed' && (current.kind !== 'file' || current.sha256 !== artifact.sha256);
    if (changed && !options.force) {
      drifted.push(artifact.path);
      continue;
    }
    actions.push({ kind: 'remove-file', path: artifact.path, role: artifact.role, ...(artifact.backup ? { restoreFrom: artifact.backup } : {}) });
  }
  if (running && wasInstalled) {
    actions.push({ kind: 'daemon-reload' });
    actions.push({ kind: 'reset-failed', units: [...receipt.units] });
  }
  let keptUser: Receipt['user'];
  if (receipt.user?.created && observed.users.includes(receipt.user.name)) {
    if (options.purge) actions.push({ kind: 'remove-user', user: receipt.user.name, removeGroup: receipt.user.groupCreated });
    else {
      keptUser = receipt.user;
      retained.push(`user ${receipt.user.name}`);
    }
  }
  // Directories deepest first: data directories only with --purge, svcctl's own ones always, unless
  // they hold what a plain uninstall keeps (the secrets file, the sysusers.d and tmpfiles.d entries).
  const keptDirectories: ReceiptDirectory[] = [];
  const holdsRetained = (dir: string) => keptArtifacts.some((a) => a.path.startsWith(`${dir}/`));
  for (const dir of [...receipt.directories].sort((a, b) => b.path.length - a.path.length)) {
    const exists = observed.paths[dir.path] !== null && observed.paths[dir.path] !== undefined;
    if (!dir.created || !exists) continue;
    const removeNow = options.purge || (dir.own && !holdsRetained(dir.path));
    if (removeNow) actions.push({ kind: 'remove-directory', path: dir.path, recursive: options.purge && !dir.own });
    else {
      keptDirectories.push(dir);
      if (!dir.own) retained.push(`${dir.path}/`);
    }
  }
  const remainder: Receipt | undefined =
    keptArtifacts.length + keptDirectories.length > 0 || keptUser || drifted.length > 0
      ? {
          ...receipt,
          state: 'retained',
          artifacts: [...keptArtifacts, ...receipt.artifacts.filter((a) => drifted.includes(a.path))],
          directories: keptDirectories,
          ...(keptUser ? { user: keptUser } : { user: undefined }),
        }
      : undefined;
  return { bundle: receipt.bundle, operation: 'uninstall', actions, receipt: remainder, upToDate: actions.length === 0, drifted, retained };
}

/** Combines the plans of several bundles into one transaction: one daemon-reload, one enable --now. */
export function mergePlans(plans: Plan[]): Action[] {
  const collective = new Set(['daemon-reload', 'enable', 'restart', 'check-active', 'stop-disable', 'reset-failed']);
  const actions: Action[] = [];
  const stop = plans.flatMap((p) => p.actions.filter((a) => a.kind === 'stop-disable'));
  if (stop.length > 0) {
    actions.push({
      kind: 'stop-disable',
      units: stop.flatMap((a) => (a.kind === 'stop-disable' ? a.units : [])),
      enabled: stop.flatMap((a) => (a.kind === 'stop-disable' ? a.enabled : [])),
      offline: stop.some((a) => a.kind === 'stop-disable' && a.offline),
    });
  }
  for (const plan of plans) actions.push(...plan.actions.filter((a) => !collective.has(a.kind)));
  if (plans.some((p) => p.actions.some((a) => a.kind === 'daemon-reload'))) actions.push({ kind: 'daemon-reload' });
  const units = (kind: 'restart' | 'check-active' | 'reset-failed') => plans.flatMap((p) => p.actions.flatMap((a) => (a.kind === kind ? a.units : [])));
  // One `systemctl enable` call for every unit of every bundle (they share --now and --root by construction).
  const enables = plans.flatMap((p) => p.actions.flatMap((a) => (a.kind === 'enable' ? [a] : [])));
  const first = enables[0];
  if (first) actions.push({ kind: 'enable', units: enables.flatMap((a) => a.units), now: first.now, offline: first.offline });
  const restart = units('restart');
  if (restart.length > 0) actions.push({ kind: 'restart', units: restart });
  const check = units('check-active');
  if (check.length > 0) actions.push({ kind: 'check-active', units: check });
  const reset = units('reset-failed');
  if (reset.length > 0) actions.push({ kind: 'reset-failed', units: reset });
  return actions;
}

/** One line per Action for the plan display; secret values are never part of it. */
export function describeAction(action: Action): string {
  const octal = (mode: number) => mode.toString(8).padStart(4, '0');
  switch (action.kind) {
    case 'write-file': {
      const verb = { create: 'create', update: 'update', replace: 'replace (original backed up)' }[action.change];
      const what = action.secret ? ' (secret values hidden)' : '';
      return `${verb} ${action.path} (${octal(action.mode)} ${action.owner}:${action.group})${what}`;
    }
    case 'make-directory':
      return `create directory ${action.path} (${octal(action.mode)})`;
    case 'remove-file':
      return action.restoreFrom ? `remove ${action.path} and restore the original` : `remove ${action.path}`;
    case 'remove-directory':
      return action.recursive ? `remove directory ${action.path} and its contents` : `remove directory ${action.path}`;
    case 'apply-sysusers':
      return action.userExisted ? `check system user ${action.user} (systemd-sysusers)` : `create system user ${action.user} (systemd-sysusers)`;
    case 'apply-tmpfiles':
      return `create directories ${action.created.join(', ') || '(adjust modes)'} (systemd-tmpfiles)`;
    case 'remove-user':
      return `remove system user ${action.user}${action.removeGroup ? ' and its group' : ''}`;
    case 'daemon-reload':
      return 'systemctl daemon-reload';
    case 'enable':
      return `systemctl enable${action.now ? ' --now' : ''} ${action.units.join(' ')}`;
    case 'restart':
      return `systemctl restart ${action.units.join(' ')}`;
    case 'stop-disable':
      if (action.offline) return `systemctl disable ${action.enabled.join(' ')}`;
      return `systemctl stop ${action.units.join(' ')}${action.enabled.length > 0 ? `; systemctl disable ${action.enabled.join(' ')}` : ''}`;
    case 'check-active':
      return `check that ${action.units.join(', ')} ${action.units.length === 1 ? 'is' : 'are'} active`;
    case 'reset-failed':
      return `systemctl reset-failed ${action.units.join(' ')}`;
    case 'check-timer':
      return `check that systemd reads the new schedule of ${action.timer}`;
    case 'run-job':
      return `run ${action.service} now (systemctl start)`;
    case 'check-health':
      return `check the health of ${action.subject.bundle}`;
  }
}

/** The plan as data for --json: file contents are replaced by their checksum. */
export function actionAsData(action: Action): Record<string, unknown> {
  if (action.kind !== 'write-file') return { ...action, description: describeAction(action) };
  const { content: _content, ...rest } = action;
  return { ...rest, description: describeAction(action) };
}
