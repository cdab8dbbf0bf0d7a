// desire(): what should exist on the target once a bundle is installed with these inputs — files with their role,
// owner, group, mode and content; directories; the system user; units to enable — derived from the bundle, the
// inputs and the target's layout. Pure: verify, preflight, install and export read it; nothing plans twice.
import { createHash, createHmac } from 'node:crypto';
import path from 'node:path';
import { UserError } from './errors.js';
import type { Bundle, ConfigFile } from './bundle/types.js';
import { directoryPathProblem, fillTemplate, formatFieldPath, templateKeys } from './bundle/manifest.js';
import { scopeManifestOf, userScopeProblems } from './bundle/scope.js';
import type { ArtifactRole, Authorization } from './receipt.js';
import { expandHome, layout as layoutOf, type Layout, type Target } from './target.js';
import { renderEnvFile, renderOverride, renderScheduleDropIn, type OverrideSpec } from './render.js';
import { parseSchedule } from './schedule.js';
import { commentLine, sysusersMemberLine, sysusersUserLine, tmpfilesLine } from './escape/index.js';
import { alertConfigDir, alertConfigPath, alertDropInPath, alertEmailDropInPaths, renderAlertConfig, renderAlertDropIn, renderAlertEmailDropIn, restartsAfterFailure, summarizeChannel, watchedUnits, type AlertChannel, type AlertChannelSummary } from './alerts/channels.js';
import { isTemplateName } from './unit-name.js';

export const managedHeader = (bundle: string) => `Managed by svcctl (bundle ${bundle}). Changes here are overwritten by \`svcctl install\`.`;

export interface SecretInput {
  value: string;
  source: 'file' | 'stdin' | 'environment' | 'existing' | 'generated' | 'prompt';
}

/** What the user asked for, resolved (flags, environment, prompts, defaults). */
export interface Inputs {
  settings: Record<string, string>;
  secrets: Record<string, SecretInput>;
  /** A schedule expression that replaces the bundle's default (undefined: the default). */
  schedule?: string;
  /** A randomized delay that replaces the bundle's (svcctl schedule --randomized-delay; "0": none). */
  randomizedDelay?: string;
  /** --force: replace files svcctl did not create (backed up), change existing directories' modes. */
  force: boolean;
  /** Start what is enabled (--no-start: only enable). */
  start: boolean;
  /** --no-enable: install the units, enable and start nothing. */
  enable: boolean;
  authorization?: Authorization;
  /** Failure alert channels (--alert), secrets included: they reach only the 0600 channel files. */
  alerts?: AlertChannel[];
  /** --alert-on-restart: a failed run of a daemon that systemd restarts is alerted too. */
  alertOnRestart?: boolean;
  now: string;
  svcctlVersion: string;
}

export interface DesiredFile {
  path: string;
  role: ArtifactRole;
  content: Buffer;
  mode: number;
  /** Owner and group by name: resolved to ids when the step runs (the group may be created in the same transaction). */
  owner: string;
  group: string;
  /** Holds secret values: never shown, never logged, checksummed with the host's key. */
  secret: boolean;
  /** The secrets that fill it (an export renders these as variables, never their values). */
  secretKeys?: string[];
}

/** Where a directory comes from, which decides who removes it. */
export type DirectoryKind =
  /** svcctl's own per-bundle directory (a unit's drop-in directory, /etc/svcctl/<bundle>): removed by every uninstall. */
  | 'own'
  /** Declared by the bundle (data, logs): made by systemd-tmpfiles, removed only by --purge. */
  | 'data';

export interface DesiredDirectory {
  path: string;
  mode: number;
  owner: string;
  group: string;
  kind: DirectoryKind;
}

export interface DesiredUser {
  name: string;
  home: string;
  shell: string;
  /** Supplementary groups (must exist already). */
  groups: string[];
}

export interface DesiredState {
  bundle: string;
  description: string;
  source: string;
  digest: string;
  scope: Target['scope'];
  files: DesiredFile[];
  directories: DesiredDirectory[];
  user?: DesiredUser;
  units: string[];
  /** The units the bundle enables (and, with start, starts), in one `systemctl enable --now`. */
  enable: string[];
  start: boolean;
  /** --no-enable: nothing is enabled or started now (`svcctl enable` later). */
  enableDeferred: boolean;
  service?: string;
  timer?: string;
  schedule?: { expression: string; overridden: boolean; randomizedDelay?: string };
  health?: { maxAge?: string; url?: string; startTimeout?: string };
  settings: Record<string, string>;
  /** The secrets that are set, by name and source; values only ever in the secret files' contents. */
  secrets: { key: string; source: SecretInput['source'] }[];
  authorization?: Authorization;
  /** The alert channels, without their secrets (the receipt's `alerts`). */
  alerts: AlertChannelSummary[];
  /** Whether the restarts of the bundle's daemons are alerted (the receipt's `alertOnRestart`). */
  alertOnRestart: boolean;
  /** Paths an install of this bundle could write whatever the inputs (every drop-in, the schedule drop-in, …). */
  possiblePaths: string[];
  /** Paths of payload files (installed by the same transaction: systemd-analyze may not find them yet). */
  executables: string[];
}

/** The file policy per role: the mode and owner of what svcctl writes for itself (payload and config files declare theirs). */
export function rolePolicy(role: Exclude<ArtifactRole, 'payload' | 'config'>): { mode: number } {
  switch (role) {
    case 'unit':
    case 'schedule':
    case 'sysusers':
    case 'tmpfiles':
      return { mode: 0o644 };
    case 'drop-in':
    case 'secrets':
    case 'alert-drop-in':
    case 'alert-config':
      return { mode: 0o600 };
  }
}

/** The mode of a directory svcctl makes on the way to a file: 0700 for a secrets directory, else 0755. */
export function directoryPolicy(dir: string, bundle: string, layout: Layout): number {
  return dir === layout.secretsDir(bundle) || dir === alertConfigDir(layout) ? 0o700 : 0o755;
}

export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** A file's checksum as the receipt keeps it: a keyed hash for secret-holding files (see ReceiptArtifact.checksum). */
export function checksumOf(content: Buffer, secret: boolean, hostKey: Buffer): string {
  return secret ? `hmac-sha256:${createHmac('sha256', hostKey).update(content).digest('hex')}` : `sha256:${sha256(content)}`;
}

/**
 * The main service of a bundle: the one its schedule's timer activates, else its first .service that is not a
 * template (x@.service runs only as instances, started by others: a bundle of templates has no main service).
 */
export function mainService(bundle: Pick<Bundle, 'units' | 'schedule'>): string | undefined {
  const services = bundle.units.map((u) => u.name).filter((n) => n.endsWith('.service') && !isTemplateName(n));
  if (bundle.schedule) {
    const timer = bundle.units.find((u) => u.name === bundle.schedule?.timer);
    const explicit = timer?.content.match(/^\s*Unit\s*=\s*(\S+)\s*$/m)?.[1];
    const target = explicit ?? bundle.schedule.timer.replace(/\.timer$/, '.service');
    if (services.includes(target)) return target;
  }
  return services[0];
}

/** Checks the settings against the bundle (unknown keys, patterns, required ones). */
/**
 * One of the bundle's config files (an EnvironmentFile= at its own path) with the settings and secrets it lists, in
 * its order; a key without a value is left out. `secret set`/`rotate` render it again with the new value.
 */
export function configFileOf(bundle: Bundle, config: ConfigFile, settings: Record<string, string>, secrets: ReadonlyMap<string, string>, header: string, target: Target): DesiredFile {
  const isSecret = (key: string) => bundle.secrets.some((x) => x.key === key);
  const entries = config.entries.flatMap((key) => {
    const value = isSecret(key) ? secrets.get(key) : settings[key];
    return value === undefined ? [] : [{ key, value }];
  });
  const held = config.entries.filter(isSecret);
  return {
    // In user scope: inside the home, and the user's (the manifest gives neither a path elsewhere nor an owner).
    path: expandHome(config.path, target),
    role: 'config',
    content: Buffer.from(renderEnvFile(entries, header)),
    mode: config.mode,
    owner: target.scope === 'user' ? target.user : config.owner,
    group: target.scope === 'user' ? target.group : config.group,
    secret: held.length > 0,
    ...(held.length > 0 ? { secretKeys: held.filter((k) => secrets.has(k)) } : {}),
  };
}

export function validateSettings(bundle: Bundle, settings: Record<string, string>): void {
  for (const key of Object.keys(settings)) {
    if (!bundle.settings.some((s) => s.key === key)) {
      throw new UserError(`bundle ${bundle.name} has no setting ${key}`, `settings it knows: ${bundle.settings.map((s) => s.key).join(', ') || 'none'}`);
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

/** What should exist once `bundle` is installed with `inputs` on `target`. Throws UserError for what cannot be rendered. */
export function desire(bundle: Bundle, inputs: Inputs, target: Target): DesiredState {
  requireScope(bundle, target);
  validateSettings(bundle, inputs.settings);
  const layout = layoutOf(target);
  const header = managedHeader(bundle.name);
  const owner = target.user;
  const group = target.group;
  // In user scope everything belongs to the user, and `~/` paths are inside his home (the manifest allows nothing else).
  const user = target.scope === 'user';
  const at = (p: string) => expandHome(p, target);
  const ownedBy = (declared: { owner?: string; group?: string }) => (user ? { owner, group } : { owner: declared.owner ?? owner, group: declared.group ?? declared.owner ?? group });
  const files: DesiredFile[] = [];
  for (const payload of bundle.payload) {
    files.push({ path: at(payload.destination), role: 'payload', content: payload.content, mode: payload.mode, ...ownedBy(payload), secret: false });
  }
  const sysusersPath = layout.sysusers(bundle.name);
  if (bundle.user) {
    if (!sysusersPath) throw new UserError(`bundle ${bundle.name} declares the system user ${bundle.user.name}, which a user-scope install cannot create`, 'install it in system scope (as root, without --user)');
    files.push({ path: sysusersPath, role: 'sysusers', content: Buffer.from(renderSysusers(bundle, header)), ...rolePolicy('sysusers'), owner, group, secret: false });
  }
  const declared = declaredDirectories(bundle, inputs.settings).map((d) => ({ ...d, path: at(d.path), ...ownedBy(d) }));
  if (declared.length > 0) {
    files.push({ path: layout.tmpfiles(bundle.name), role: 'tmpfiles', content: Buffer.from(renderTmpfiles(declared, header)), ...rolePolicy('tmpfiles'), owner, group, secret: false });
  }
  const secretKeys = bundle.secrets.filter((s) => inputs.secrets[s.key] !== undefined).map((s) => s.key);
  const inConfigFiles = new Set(bundle.configFiles.flatMap((f) => f.entries));
  if (ownSecretsFile(bundle)) {
    const entries = secretKeys.filter((k) => !inConfigFiles.has(k)).map((key) => ({ key, value: inputs.secrets[key]!.value }));
    files.push({ path: layout.secretsFile(bundle.name), role: 'secrets', content: Buffer.from(renderEnvFile(entries, header)), ...rolePolicy('secrets'), owner, group, secret: true, secretKeys: entries.map((e) => e.key) });
  }
  // Config files: an EnvironmentFile= at the bundle's own path, of settings and secrets, with its own owner and mode.
  for (const config of bundle.configFiles) {
    const secretValues = new Map(Object.entries(inputs.secrets).map(([key, input]) => [key, input.value]));
    files.push(configFileOf(bundle, config, inputs.settings, secretValues, header, target));
  }
  for (const unit of bundle.units) {
    files.push({ path: layout.unitFile(unit.name), role: 'unit', content: Buffer.from(unit.content), ...rolePolicy('unit'), owner, group, secret: false });
  }
  for (const unit of bundle.units) {
    const spec = overrideFor(bundle, unit.name, inputs.settings, layout, target);
    if (spec) files.push({ path: layout.override(unit.name), role: 'drop-in', content: Buffer.from(renderOverride(spec, header)), ...rolePolicy('drop-in'), owner, group, secret: false });
  }
  const overridden = bundle.schedule !== undefined && ((inputs.schedule !== undefined && inputs.schedule !== bundle.schedule.default) || inputs.randomizedDelay !== undefined);
  if (bundle.schedule && overridden) {
    const timerUnit = bundle.units.find((u) => u.name === bundle.schedule!.timer);
    const content = renderScheduleDropIn(parseSchedule(inputs.schedule ?? bundle.schedule.default, inputs.randomizedDelay ?? bundle.schedule.randomizedDelay), header, timerUnit?.content);
    files.push({ path: layout.scheduleDropIn(bundle.schedule.timer), role: 'schedule', content: Buffer.from(content), ...rolePolicy('schedule'), owner, group, secret: false });
  }
  files.push(...alertFiles(bundle, inputs.alerts ?? [], inputs.alertOnRestart ?? false, target, header));
  const directories: DesiredDirectory[] = declared.map((d) => ({ path: d.path, mode: d.mode, owner: d.owner, group: d.group, kind: 'data' }));
  // svcctl's own directories: each unit's drop-in directory and the bundle's secrets directory, whenever they hold a file.
  for (const dir of new Set(files.map((f) => path.posix.dirname(f.path)))) {
    if (isOwnDirectory(dir, bundle.name, layout)) directories.push({ path: dir, mode: directoryPolicy(dir, bundle.name, layout), owner, group, kind: 'own' });
  }
  const service = mainService(bundle);
  const possible = [
    ...files.map((f) => f.path),
    ...bundle.units.map((u) => layout.override(u.name)),
    ...(bundle.schedule ? [layout.scheduleDropIn(bundle.schedule.timer)] : []),
    ...(ownSecretsFile(bundle) ? [layout.secretsFile(bundle.name)] : []),
    ...watchedUnits(bundle.units.map((u) => u.name)).flatMap((u) => [alertDropInPath(layout, u), alertConfigPath(layout, u), ...alertEmailDropInPaths(layout, u, true)]),
  ];
  return {
    bundle: bundle.name,
    description: bundle.description,
    source: bundle.directory,
    digest: bundle.digest,
    scope: target.scope,
    files,
    directories,
    ...(bundle.user ? { user: { ...bundle.user } } : {}),
    units: bundle.units.map((u) => u.name),
    enable: [...bundle.enable],
    start: inputs.start && inputs.enable && !target.offline,
    enableDeferred: !inputs.enable,
    ...(service ? { service } : {}),
    ...(bundle.schedule ? { timer: bundle.schedule.timer, schedule: { expression: inputs.schedule ?? bundle.schedule.default, overridden, ...(inputs.randomizedDelay !== undefined ? { randomizedDelay: inputs.randomizedDelay } : {}) } } : {}),
    ...(bundle.health ? { health: { ...bundle.health } } : {}),
    settings: Object.fromEntries(bundle.settings.map((s) => [s.key, inputs.settings[s.key]!])),
    secrets: secretKeys.map((key) => ({ key, source: inputs.secrets[key]!.source })),
    ...(inputs.authorization ? { authorization: inputs.authorization } : {}),
    alerts: (inputs.alerts ?? []).map(summarizeChannel),
    alertOnRestart: (inputs.alerts ?? []).length > 0 && (inputs.alertOnRestart ?? false),
    possiblePaths: [...new Set(possible)],
    executables: bundle.payload.filter((p) => (p.mode & 0o111) !== 0).map((p) => at(p.destination)),
  };
}

/**
 * A bundle is installed only in a scope it declares: one for user scope alone has its paths in a user's home; one that
 * does not declare user scope is refused with --user, with every reason a user manager could not install it.
 */
function requireScope(bundle: Bundle, target: Target): void {
  const scopes = bundle.scopes ?? ['system'];
  if (scopes.includes(target.scope)) return;
  if (target.scope === 'system') {
    throw new UserError(`bundle ${bundle.name} is for user scope only (scopes: [user]): it installs into the home of the user who installs it`, 'install it as that user, without sudo: svcctl install --user ' + bundle.name);
  }
  const units = new Map(bundle.units.map((u) => [u.name, u.content]));
  const obstacles = userScopeProblems(scopeManifestOf(bundle), units).map((p) => `${formatFieldPath(p.at)}: ${p.message}`);
  throw UserError.many(
    `bundle ${bundle.name} cannot be installed in user scope:`,
    ["its manifest does not declare it (scopes: [system]; a bundle for user scope says scopes: [user] or [system, user])", ...obstacles],
    [obstacles.length > 0 ? 'install it as root without --user' : 'if it works under a user manager, add user to its scopes; otherwise install it as root without --user', 'nothing was changed'],
  );
}

/**
 * Failure alerts: each watched unit gets a drop-in wiring OnFailure=/OnSuccess= to the svcctl-alerts templates, and
 * the channel file the sender reads for it (secrets inside: 0600 root, in a 0700 directory shared by the bundles).
 * With an email channel, the unit's alert instances also get the drop-in that lets a local exim deliver. Alerting on
 * restarts, each daemon (a watched unit that systemd restarts after a failure) gets the ExecStopPost= that says so.
 */
function alertFiles(bundle: Bundle, channels: AlertChannel[], onRestart: boolean, target: Target, header: string): DesiredFile[] {
  if (channels.length === 0) return [];
  const watched = watchedUnits(bundle.units.map((u) => u.name));
  const daemons = new Set(bundle.units.filter((u) => watched.includes(u.name) && restartsAfterFailure(u.content)).map((u) => u.name));
  if (target.scope !== 'system') throw new UserError('failure alerts are for system-scope installs', 'install as root without --user, or drop --alert');
  if (watched.length === 0) throw new UserError(`bundle ${bundle.name} has no service whose failure could be alerted`, 'drop --alert');
  if (onRestart && daemons.size === 0) throw new UserError(`bundle ${bundle.name} has no daemon that systemd restarts (Restart= in its unit file): --alert-on-restart has nothing to alert`, 'drop --alert-on-restart (a failed run is alerted all the same)');
  const layout = layoutOf(target);
  return watched.flatMap((unit): DesiredFile[] => [
    { path: alertDropInPath(layout, unit), role: 'alert-drop-in', content: Buffer.from(renderAlertDropIn(header, onRestart && daemons.has(unit))), ...rolePolicy('alert-drop-in'), owner: target.user, group: target.group, secret: false },
    { path: alertConfigPath(layout, unit), role: 'alert-config', content: Buffer.from(renderAlertConfig({ format: 1, bundle: bundle.name, unit, channels })), ...rolePolicy('alert-config'), owner: target.user, group: target.group, secret: true },
    ...(channels.some((c) => c.kind === 'email') ? alertEmailDropInPaths(layout, unit, onRestart && daemons.has(unit)) : []).map((p): DesiredFile => ({ path: p, role: 'alert-drop-in', content: Buffer.from(renderAlertEmailDropIn(header)), ...rolePolicy('alert-drop-in'), owner: target.user, group: target.group, secret: false })),
  ]);
}

export function isOwnDirectory(dir: string, bundle: string, layout: Layout): boolean {
  return dir === layout.secretsDir(bundle) || (path.posix.dirname(dir) === layout.unitDir && dir.endsWith('.d'));
}

/** svcctl's own secrets file holds the secrets no config file of the bundle lists (none: no such file). */
function ownSecretsFile(bundle: Bundle): boolean {
  const inConfigFiles = new Set(bundle.configFiles.flatMap((f) => f.entries));
  return bundle.secrets.some((s) => !inConfigFiles.has(s.key));
}

/**
 * The drop-in svcctl writes for one unit, or none: the secrets and config files as EnvironmentFile= (services), each
 * environment setting no config file holds as Environment=, directive settings, and the bundle's directive templates
 * filled with the settings. Values are raw here: the renderer escapes each once.
 */
function overrideFor(bundle: Bundle, unit: string, settings: Record<string, string>, layout: Layout, target: Target): OverrideSpec | undefined {
  const spec: OverrideSpec = { environmentFiles: [], environment: [], directives: [] };
  const isService = unit.endsWith('.service');
  if (isService && ownSecretsFile(bundle)) spec.environmentFiles.push(layout.secretsFile(bundle.name));
  if (isService) spec.environmentFiles.push(...bundle.configFiles.map((f) => expandHome(f.path, target)));
  const inConfigFiles = new Set(bundle.configFiles.flatMap((f) => f.entries));
  for (const setting of bundle.settings) {
    const appliesTo = setting.units ?? bundle.units.map((u) => u.name).filter((n) => n.endsWith('.service'));
    if (!appliesTo.includes(unit)) continue;
    const value = settings[setting.key];
    if (value === undefined) continue;
    if (setting.target.kind === 'environment') {
      if (!inConfigFiles.has(setting.key)) spec.environment.push({ name: setting.target.name, value });
    } else spec.directives.push({ section: setting.target.section, directive: setting.target.directive, value });
  }
  for (const template of bundle.directives) {
    if (template.units.includes(unit)) spec.directives.push({ section: template.section, directive: template.directive, value: fillTemplate(template.value, settings) });
  }
  const empty = spec.environmentFiles.length + spec.environment.length + spec.directives.length === 0;
  return empty ? undefined : spec;
}

function renderSysusers(bundle: Bundle, header: string): string {
  const u = bundle.user!;
  const lines = [
    commentLine(header),
    sysusersUserLine({ name: u.name, gecos: `svcctl bundle ${bundle.name}`, home: u.home, shell: u.shell }),
    ...u.groups.map((g) => sysusersMemberLine(u.name, g)),
  ];
  return `${lines.join('\n')}\n`;
}

/** The bundle's directories with each ${KEY} in a path filled from the settings; a path that is then not allowed is refused. */
function declaredDirectories(bundle: Bundle, settings: Record<string, string>): Bundle['directories'] {
  const seen = new Set<string>();
  return bundle.directories.map((d) => {
    const keys = templateKeys(d.path);
    const filled = keys.length === 0 ? d.path : fillTemplate(d.path, settings);
    const given = keys.map((k) => `${k}=${settings[k] ?? ''}`).join(', ');
    const problem = keys.length === 0 ? undefined : directoryPathProblem(filled);
    if (problem) throw new UserError(`directory ${d.path} of bundle ${bundle.name} would be ${filled} with ${given}: ${problem.message}`, `pass --set ${keys[0]}=VALUE with another path${problem.hint ? `; ${problem.hint}` : ''}`);
    if (seen.has(filled)) throw new UserError(`bundle ${bundle.name} declares the directory ${filled} twice with ${given}`, `pass --set ${keys[0]}=VALUE with another path`);
    seen.add(filled);
    return keys.length === 0 ? d : { ...d, path: filled };
  });
}

function renderTmpfiles(directories: Bundle['directories'], header: string): string {
  const lines = [commentLine(header), ...directories.map((d) => tmpfilesLine({ type: 'd', path: d.path, mode: d.mode, user: d.owner, group: d.group }))];
  return `${lines.join('\n')}\n`;
}
