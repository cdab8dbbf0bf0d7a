// plan(): the pure heart of svcctl. Desired state × observed host → the ordered Actions that close the gap, and the
// receipt that will describe the result; planUninstall() does the same from a receipt. No I/O.
import path from 'node:path';
import { UserError } from './errors.js';
import { checksumOf, directoryPolicy, isOwnDirectory, type DesiredState } from './desired.js';
import { exists, nameOfGid, nameOfUid, type Observed, type PathState } from './observed.js';
import { RECEIPT_FORMAT, type ArtifactRole, type Receipt, type ReceiptArtifact, type ReceiptDirectory } from './receipt.js';
import { layout as layoutOf, systemDirectories, trustsOwner, type Layout, type Target } from './target.js';
import type { Action, ApplyTmpfiles, CheckInstalled, Enable, UnitBefore, WriteFile } from './steps/types.js';
import type { CheckSubject } from './health.js';
import { parseTimespan } from './schedule.js';
import { alertConfigDir } from './alerts/channels.js';
import { purgeAside } from './steps/purge-directory.js';
import { isTemplateName } from './unit-name.js';

export interface PlanContext {
  target: Target;
  /** The host's key for the checksums of secret-holding files (see checksumOf). */
  hostKey: Buffer;
  force: boolean;
  now: string;
  svcctlVersion: string;
}

export interface Plan {
  bundle: string;
  operation: 'install' | 'uninstall' | 'change';
  actions: Action[];
  /** The receipt as it will be after a successful apply (undefined: removed). */
  receipt?: Receipt;
  /** Nothing to do: the host already matches and the receipt is complete. */
  upToDate: boolean;
  /** What a reader of the plan must know beyond its steps (a distribution unit overridden, a file kept). */
  notes: string[];
}

/** Orders records by path, byte by byte: the same order on every host (no locale collation). */
export function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function ancestors(p: string): string[] {
  const out: string[] = [];
  let dir = path.posix.dirname(p);
  while (dir !== '/' && dir !== '.') {
    out.push(dir);
    dir = path.posix.dirname(dir);
  }
  return out;
}

/** Directories several bundles share: made by the first bundle in, removed (when empty) by the last out. */
export function isSharedDirectory(dir: string, layout: Layout): boolean {
  return [layout.configDir, layout.stateDir, layout.sysusersDir, layout.tmpfilesDir, layout.unitDir, layout.binDir, path.posix.dirname(layout.backupDir('x')), alertConfigDir(layout)].includes(dir) || [layout.configDir, layout.stateDir, layout.unitDir].some((d) => d.startsWith(`${dir}/`));
}

/**
 * The state directory and those above it (~/.local in a new home) are made when the intent receipt is written, before
 * the first step: no step makes them, and no undo may remove them (the receipts are in there).
 */
function madeForReceipts(dir: string, layout: Layout): boolean {
  return dir === layout.stateDir || layout.stateDir.startsWith(`${dir}/`);
}

/** Every path an install of `desired` may touch, and every ancestor: what observe() must look at. */
export function observationTargets(desired: DesiredState, receipt: Receipt | undefined, target: Target): string[] {
  const layout = layoutOf(target);
  const all = new Set<string>();
  const add = (p: string) => {
    all.add(p);
    for (const a of ancestors(p)) all.add(a);
  };
  for (const p of desired.possiblePaths) add(p);
  for (const d of desired.directories) add(d.path);
  for (const link of installLinks(desired, layout)) add(link);
  add(layout.receipt(desired.bundle));
  add(layout.secretsDir(desired.bundle));
  for (const a of receipt?.artifacts ?? []) {
    add(a.path);
    if (a.backup) add(a.backup);
  }
  for (const d of receipt?.directories ?? []) add(d.path);
  return [...all].sort();
}

/** The symlinks `systemctl enable` makes for the units to enable, from their [Install] sections. */
export function installLinks(desired: Pick<DesiredState, 'files' | 'enable'>, layout: Layout): string[] {
  const links: string[] = [];
  for (const unit of desired.enable) {
    const file = desired.files.find((f) => f.role === 'unit' && f.path === layout.unitFile(unit));
    if (!file) continue;
    for (const { key, value } of installSection(file.content.toString('utf8'))) {
      for (const word of value.split(/\s+/).filter(Boolean)) {
        if (key === 'WantedBy') links.push(`${layout.unitDir}/${word}.wants/${unit}`);
        else if (key === 'RequiredBy') links.push(`${layout.unitDir}/${word}.requires/${unit}`);
        else if (key === 'UpheldBy') links.push(`${layout.unitDir}/${word}.upholds/${unit}`);
        else if (key === 'Alias') links.push(`${layout.unitDir}/${word}`);
      }
    }
  }
  return [...new Set(links)].sort();
}

function installSection(text: string): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  let inInstall = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) inInstall = line === '[Install]';
    else if (inInstall && !line.startsWith('#') && !line.startsWith(';')) {
      const eq = line.indexOf('=');
      if (eq > 0) out.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
    }
  }
  return out;
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/**
 * Root never writes through a path someone else controls: every existing directory on the way to a file svcctl
 * writes must be a real directory, owned by root (or, in user scope, the user inside his home) and not writable by
 * group or others (as OpenSSH's StrictModes). Returns one problem per offending directory.
 */
export function unsafeAncestors(paths: string[], observed: Observed, target: Target): string[] {
  const problems = new Set<string>();
  for (const p of paths) {
    for (const dir of ancestors(p).reverse()) {
      const state = observed.paths[dir];
      if (!state) continue;
      const trusted = trustsOwner(target, dir, state.uid);
      if (state.kind !== 'directory') problems.add(`${dir} is a ${state.kind}${state.linkTarget ? ` to ${state.linkTarget}` : ''}, not a directory (on the way to ${p})`);
      else if (state.mode & 0o1000 && trusted) continue; // sticky (/tmp): no one can swap what root owns in it
      else if (!trusted) problems.add(`${dir} is owned by uid ${state.uid}: whoever owns it could redirect what root writes under it (on the way to ${p})`);
      else if (state.mode & 0o022) problems.add(`${dir} has mode ${octal(state.mode)}: writable by ${state.mode & 0o002 ? 'every local user' : 'its group'} (on the way to ${p})`);
    }
  }
  return [...problems];
}

function sameOwner(state: PathState, owner: string, group: string, observed: Observed): boolean {
  return nameOfUid(observed, state.uid) === owner && nameOfGid(observed, state.gid) === group;
}

export function planInstall(desired: DesiredState, observed: Observed, ctx: PlanContext): Plan {
  const { target } = ctx;
  const layout = layoutOf(target);
  const previous = observed.receipt;
  const ours = new Map((previous?.artifacts ?? []).map((a) => [a.path, a]));
  const othersFiles = new Map(observed.otherReceipts.flatMap((r) => r.artifacts.map((a) => [a.path, r.bundle] as const)));
  const conflicts: string[] = [];
  const notes: string[] = [];

  // The distribution's units: a bundle unit of the same name would override it, and uninstall would stop it.
  for (const unit of observed.vendorUnits) {
    if (ours.has(layout.unitFile(unit))) continue;
    if (ctx.force) notes.push(`${unit} overrides the distribution's unit of that name (--force); uninstall restores it`);
    else conflicts.push(`${unit} is a unit of the distribution (in ${layout.vendorUnitDirs.join(' or ')}): installing one of that name would override it`);
  }

  const unsafe = unsafeAncestors([...desired.files.map((f) => f.path), layout.receipt(desired.bundle)], observed, target);
  if (unsafe.length > 0) {
    throw UserError.many(`cannot install ${desired.bundle}: ${unsafe.length === 1 ? 'a directory' : 'directories'} on the way to its files ${unsafe.length === 1 ? 'is' : 'are'} not safe for ${target.scope === 'user' ? 'svcctl' : 'root'} to write through:`, unsafe, [
      target.scope === 'user'
        ? `make each one a directory of yours (inside ${target.home}) or of root, not writable by group or others (chmod go-w DIR), then run the command again; nothing was changed`
        : 'make each one a root-owned directory not writable by group or others (chown root:root DIR; chmod go-w DIR), then run the command again; nothing was changed',
    ]);
  }

  // Files.
  const artifacts: ReceiptArtifact[] = [];
  const fileActions: WriteFile[] = [];
  const changedRoles = new Set<ArtifactRole>();
  const changedUnits = new Set<string>();
  for (const file of desired.files) {
    const checksum = checksumOf(file.content, file.secret, ctx.hostKey);
    const current = observed.paths[file.path] ?? null;
    const mine = ours.get(file.path);
    let backup = mine?.backup;
    let change: WriteFile['change'] | undefined;
    const owner = othersFiles.get(file.path);
    if (owner !== undefined) conflicts.push(`${file.path} belongs to the installed bundle ${owner}`);
    else if (current === null) change = 'create';
    else if (current.kind !== 'file') conflicts.push(`${file.path} exists and is a ${current.kind}${current.linkTarget ? ` to ${current.linkTarget}` : ''}`);
    else if (!mine) {
      // Even a byte-identical file is not adopted: uninstall would then delete what someone else put there.
      if (ctx.force) {
        change = 'replace';
        backup = `${layout.backupDir(desired.bundle)}${file.path}`;
      } else conflicts.push(`${file.path} exists and was not created by svcctl`);
    } else if (current.checksum === checksum && current.mode === file.mode && sameOwner(current, file.owner, file.group, observed)) change = undefined;
    else change = 'update';
    artifacts.push({ path: file.path, role: file.role, checksum, mode: file.mode, owner: file.owner, group: file.group, ...(backup ? { backup } : {}), ...(file.secret ? { secret: true } : {}) });
    if (!change) continue;
    changedRoles.add(file.role);
    // OnFailure=/OnSuccess= take effect with the reload: a running unit is not restarted for its alerts.
    const unit = file.role === 'alert-drop-in' ? undefined : layout.unitOfPath(file.path);
    if (unit) changedUnits.add(unit);
    fileActions.push({
      kind: 'write-file',
      path: file.path,
      role: file.role,
      content: file.content,
      checksum,
      mode: file.mode,
      owner: file.owner,
      group: file.group,
      secret: file.secret,
      change,
      ...(change === 'replace' && backup ? { backupTo: backup } : {}),
      ...(current ? { before: { kind: current.kind, mode: current.mode, uid: current.uid, gid: current.gid, ...(current.checksum && !file.secret ? { checksum: current.checksum } : {}) } } : {}),
    });
  }

  // Directories: every missing ancestor of a file svcctl writes is made by svcctl (the secrets directory 0700).
  const directories = new Map<string, ReceiptDirectory>((previous?.directories ?? []).map((d) => [d.path, d]));
  const createdByAnyone = new Set(observed.otherReceipts.flatMap((r) => r.directories.filter((d) => d.created).map((d) => d.path)));
  const actions: Action[] = observed.tempFiles.map((p): Action => ({ kind: 'remove-file', path: p, role: 'temp' }));
  for (const dir of [...new Set(desired.files.flatMap((f) => ancestors(f.path)))].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1))) {
    const own = isOwnDirectory(dir, desired.bundle, layout);
    const shared = isSharedDirectory(dir, layout);
    if (madeForReceipts(dir, layout)) continue;
    if (!exists(observed, dir)) {
      actions.push({ kind: 'make-directory', path: dir, mode: directoryPolicy(dir, desired.bundle, layout), owner: target.user, group: target.group });
      // One of the system's own directories (/etc in an empty --root tree) is made, but never recorded for removal.
      if (!systemDirectories.has(dir)) directories.set(dir, { path: dir, created: true, own, ...(shared ? { shared: true } : {}) });
    } else if (!directories.has(dir) && (own || (shared && createdByAnyone.has(dir)))) {
      // A shared directory another bundle's install made is removed by whichever bundle leaves last.
      directories.set(dir, { path: dir, created: !own && createdByAnyone.has(dir), own, ...(shared ? { shared: true } : {}) });
    }
  }

  // Declared (data) directories: made by systemd-tmpfiles; an existing one is changed only with --force.
  const tmpfiles: ApplyTmpfiles = { kind: 'apply-tmpfiles', path: layout.tmpfiles(desired.bundle), created: [], adjusted: [], atBoot: target.offline };
  for (const dir of desired.directories.filter((d) => d.kind === 'data')) {
    const current = observed.paths[dir.path] ?? null;
    if (layout.standardDirectories.has(dir.path)) {
      conflicts.push(`${dir.path} is one of the system's own directories: a bundle may not declare it (its mode and owner are never changed, and --purge would remove it)`);
      continue;
    }
    if (current === null) {
      for (const a of [...ancestors(dir.path).reverse(), dir.path]) {
        if (exists(observed, a) || tmpfiles.created.includes(a) || madeForReceipts(a, layout)) continue;
        // The tool may make it (and its undo removes it again); one of the system's own directories (/home in an
        // empty --root tree) is never recorded for uninstall to remove.
        tmpfiles.created.push(a);
        const declared = desired.directories.some((d) => d.kind === 'data' && d.path === a);
        if (!directories.has(a) && !systemDirectories.has(a)) directories.set(a, { path: a, created: true, own: false, ...(declared ? { data: true } : {}) });
      }
      continue;
    }
    if (!directories.has(dir.path)) directories.set(dir.path, { path: dir.path, created: false, own: false, data: true });
    if (current.kind !== 'directory') conflicts.push(`${dir.path} exists and is a ${current.kind}, not a directory`);
    else if (current.mode !== dir.mode || !sameOwner(current, dir.owner, dir.group, observed)) {
      const recorded = directories.get(dir.path)!;
      if (recorded.created || recorded.previous) tmpfiles.adjusted.push({ path: dir.path, mode: current.mode, uid: current.uid, gid: current.gid });
      else if (ctx.force) {
        tmpfiles.adjusted.push({ path: dir.path, mode: current.mode, uid: current.uid, gid: current.gid });
        directories.set(dir.path, { ...recorded, previous: { mode: current.mode, uid: current.uid, gid: current.gid } });
        notes.push(`${dir.path} exists (${octal(current.mode)} uid ${current.uid} gid ${current.gid}) and is changed to ${octal(dir.mode)} ${dir.owner}:${dir.group} (--force); uninstall --purge puts it back`);
      } else {
        conflicts.push(`${dir.path} exists with mode ${octal(current.mode)}, uid ${current.uid}, gid ${current.gid}; the bundle declares ${octal(dir.mode)} ${dir.owner}:${dir.group} (pass --force to change it; uninstall restores it)`);
      }
    }
  }
  if (conflicts.length > 0) {
    throw UserError.many(`cannot install ${desired.bundle}: ${conflicts.length === 1 ? 'a target path is' : 'target paths are'} in the way:`, conflicts, [
      'remove or move them, or pass --force to back files up (restored on uninstall) and replace them; nothing was changed',
    ]);
  }
  tmpfiles.created.sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));

  const byRole = (role: ArtifactRole) => fileActions.filter((a) => a.role === role);
  if (desired.user) {
    const userExists = observed.users[desired.user.name] !== undefined;
    actions.push(...byRole('sysusers'));
    if (!userExists || changedRoles.has('sysusers')) {
      actions.push({
        kind: 'apply-sysusers',
        path: layout.sysusers(desired.bundle)!,
        user: desired.user.name,
        userExisted: userExists && !(previous?.user?.created ?? false),
        groupExisted: observed.groups[desired.user.name] !== undefined && !(previous?.user?.groupCreated ?? false),
        atBoot: target.offline,
      });
    }
  }
  // After the user: a payload or config file may belong to it (configFiles' root:plms 0640).
  actions.push(...byRole('payload'), ...byRole('config'));
  if (desired.directories.some((d) => d.kind === 'data')) {
    actions.push(...byRole('tmpfiles'));
    if (tmpfiles.created.length > 0 || tmpfiles.adjusted.length > 0 || changedRoles.has('tmpfiles')) actions.push(tmpfiles);
  }
  actions.push(...byRole('secrets'), ...byRole('alert-config'), ...byRole('unit'), ...byRole('drop-in'), ...byRole('alert-drop-in'), ...byRole('schedule'));
  const desiredPaths = new Set(desired.files.map((f) => f.path));
  const stale = (previous?.artifacts ?? []).filter((a) => !desiredPaths.has(a.path));
  for (const gone of stale) {
    if (exists(observed, gone.path) || gone.backup) actions.push({ kind: 'remove-file', path: gone.path, role: gone.role, ...(gone.backup ? { restoreFrom: gone.backup } : {}) });
    const unit = gone.role === 'alert-drop-in' ? undefined : layout.unitOfPath(gone.path);
    if (unit) changedUnits.add(unit);
  }

  const unitRoles: ArtifactRole[] = ['unit', 'drop-in', 'schedule', 'alert-drop-in'];
  const unitFilesChanged = fileActions.some((a) => unitRoles.includes(a.role)) || stale.some((a) => unitRoles.includes(a.role));
  if (!target.offline && unitFilesChanged) actions.push({ kind: 'daemon-reload' });
  const before = (u: string): UnitBefore => observed.units[u] ?? { enabled: '', active: '' };
  const toEnable = desired.enableDeferred ? [] : desired.enable.filter((u) => target.offline || before(u).enabled !== 'enabled' || (desired.start && before(u).active !== 'active'));
  if (toEnable.length > 0) {
    const links = installLinks({ files: desired.files, enable: toEnable }, layout).filter((l) => !exists(observed, l));
    const enable: Enable = { kind: 'enable', units: toEnable, now: desired.start, before: Object.fromEntries(toEnable.map((u) => [u, before(u)])), links };
    actions.push(enable);
  }
  if (desired.start) {
    // Running units whose configuration changed pick it up with a restart; a timer's service runs fresh each time.
    const toRestart = desired.enable.filter((u) => {
      if (toEnable.includes(u) || before(u).active !== 'active') return false;
      if (changedUnits.has(u)) return true;
      return u.endsWith('.service') && (changedRoles.has('secrets') || changedRoles.has('payload') || changedRoles.has('config'));
    });
    if (toRestart.length > 0) actions.push({ kind: 'restart', units: toRestart });
    if (toEnable.length + toRestart.length > 0) actions.push({ kind: 'check-active', units: [...toEnable, ...toRestart] });
    // A daemon with a health URL that was just (re)started must answer on it, or the install is rolled back.
    const daemon = desired.service !== undefined && !desired.timer && [...toEnable, ...toRestart].includes(desired.service);
    if (daemon && desired.health?.url) actions.push({ kind: 'check-health', subject: subjectOf(desired), timeoutMs: startTimeoutMs(desired), once: false });
  }

  const receipt = receiptFor(desired, observed, ctx, artifacts, [...directories.values()].sort(byPath));
  const changing = actions.length > 0;
  const complete = previous?.state === 'installed' && sameReceipt(previous, receipt);
  if (changing || !complete) actions.push(installedCheck(desired, target));
  return { bundle: desired.bundle, operation: 'install', actions, receipt, upToDate: !changing && complete, notes };
}

/** What the health checks look at, for a bundle about to be installed. */
function subjectOf(desired: DesiredState): CheckSubject {
  return {
    bundle: desired.bundle,
    from: 'receipt',
    units: desired.units,
    enabled: desired.enable,
    ...(desired.service ? { service: desired.service } : {}),
    ...(desired.timer ? { timer: desired.timer } : {}),
    ...(desired.schedule ? { schedule: desired.schedule.expression } : {}),
    ...(desired.health ? { health: desired.health } : {}),
  };
}

/** How long a started daemon has to answer on its health URL: health.startTimeout, else 30 s. */
function startTimeoutMs(desired: DesiredState): number {
  const seconds = parseTimespan(desired.health?.startTimeout);
  return seconds !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 30_000;
}

/** The post-check of an install: every declared file, directory and user, as declared. */
function installedCheck(desired: DesiredState, target: Target): CheckInstalled {
  return {
    kind: 'check-installed',
    bundle: desired.bundle,
    files: desired.files.map((f) => ({ path: f.path, mode: f.mode, owner: f.owner, group: f.group })),
    // A --root tree gets its user and data directories at first boot: only what svcctl itself wrote is there now.
    directories: desired.directories.filter((d) => !target.offline || d.kind === 'own').map((d) => ({ path: d.path, mode: d.mode, owner: d.owner, group: d.group })),
    users: desired.user && !target.offline ? [desired.user.name] : [],
  };
}

/** Two receipts describe the same installation (times aside), whatever the order of their fields. */
function sameReceipt(a: Receipt, b: Receipt): boolean {
  const strip = (r: Receipt) => canonical({ ...r, updatedAt: '', installedAt: '', svcctlVersion: '', secrets: r.secrets.map((s) => s.key) });
  return strip(a) === strip(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The receipt's fields that follow from the desired state alone: install's plan and the Ansible export write them alike. */
export function receiptFieldsOf(desired: DesiredState, svcctlVersion: string) {
  return {
    format: RECEIPT_FORMAT as typeof RECEIPT_FORMAT,
    bundle: desired.bundle,
    scope: desired.scope,
    description: desired.description,
    source: desired.source,
    digest: desired.digest,
    svcctlVersion,
    state: 'installed' as const,
    units: [...desired.units],
    enabled: [...desired.enable],
    ...(desired.service ? { service: desired.service } : {}),
    ...(desired.timer ? { timer: desired.timer } : {}),
    ...(desired.schedule ? { schedule: desired.schedule.expression, scheduleOverridden: desired.schedule.overridden } : {}),
    ...(desired.schedule?.randomizedDelay !== undefined ? { scheduleRandomizedDelay: desired.schedule.randomizedDelay } : {}),
    ...(desired.health ? { health: { ...desired.health } } : {}),
  };
}

function receiptFor(desired: DesiredState, observed: Observed, ctx: PlanContext, artifacts: ReceiptArtifact[], directories: ReceiptDirectory[]): Receipt {
  const previous = observed.receipt;
  const secretTimes = new Map((previous?.secrets ?? []).map((s) => [s.key, s.changedAt]));
  return {
    ...receiptFieldsOf(desired, ctx.svcctlVersion),
    installedAt: previous && previous.state !== 'retained' ? previous.installedAt : ctx.now,
    updatedAt: ctx.now,
    ...(desired.enableDeferred ? { enableDeferred: true } : {}),
    settings: { ...desired.settings },
    secrets: desired.secrets.map((s) => ({ key: s.key, changedAt: s.source === 'existing' ? (secretTimes.get(s.key) ?? ctx.now) : ctx.now })),
    ...(desired.authorization ? { authorization: desired.authorization } : previous?.authorization ? { authorization: previous.authorization } : {}),
    ...(desired.alerts.length > 0 ? { alerts: desired.alerts.map((a) => ({ ...a })) } : {}),
    ...(desired.alertOnRestart ? { alertOnRestart: true } : {}),
    artifacts,
    directories,
    ...(desired.user
      ? {
          user: {
            name: desired.user.name,
            created: previous?.user?.created ?? (observed.users[desired.user.name] === undefined || observed.otherReceipts.some((r) => r.user?.name === desired.user!.name && r.user.created)),
            groupCreated: previous?.user?.groupCreated ?? (observed.groups[desired.user.name] === undefined || observed.otherReceipts.some((r) => r.user?.name === desired.user!.name && r.user.groupCreated)),
          },
        }
      : {}),
  };
}

export interface UninstallOptions {
  purge: boolean;
  force: boolean;
}

export interface UninstallPlan extends Plan {
  /** Files changed since install (by checksum) and left in place (without --force). */
  drifted: string[];
  /** What stays after a plain uninstall (user, data directories, secrets): removed by --purge. */
  retained: string[];
}

/** Roles kept by a plain uninstall: they describe the user, data and secrets --purge removes. */
const retainedRoles: ArtifactRole[] = ['secrets', 'sysusers', 'tmpfiles'];

export function planUninstall(receipt: Receipt, observed: Observed, options: UninstallOptions, target: Target): UninstallPlan {
  const actions: Action[] = [];
  const drifted: string[] = [];
  const retained: string[] = [];
  const notes: string[] = [];
  const online = !target.offline;
  const wasInstalled = receipt.state !== 'retained';
  const before = (u: string): UnitBefore => observed.units[u] ?? { enabled: '', active: '' };
  // A unit that overrode the distribution's (--force) is not stopped: once its file is gone the distribution's unit is
  // in effect again, and one that is running is restarted after the reload so that it is what runs. A template
  // (x@.service) has no state of its own: its running instances (x@*.service, a pattern) are stopped.
  const vendor = new Set(observed.vendorUnits);
  const stoppable = receipt.units.filter((u) => !vendor.has(u)).map((u) => (isTemplateName(u) ? u.replace('@.', '@*.') : u));
  if (wasInstalled && stoppable.length + receipt.enabled.length > 0) actions.push({ kind: 'stop-disable', units: stoppable, enabled: [...receipt.enabled], before: Object.fromEntries(stoppable.map((u) => [u, before(u)])) });
  const vendorRunning = receipt.units.filter((u) => vendor.has(u) && ['active', 'activating', 'reloading'].includes(before(u).active));
  for (const unit of receipt.units.filter((u) => vendor.has(u))) notes.push(`${unit}: the distribution's unit of that name is in effect again${vendorRunning.includes(unit) ? ' (restarted)' : ''}`);
  actions.push(...observed.tempFiles.map((p): Action => ({ kind: 'remove-file', path: p, role: 'temp' })));

  const keptArtifacts: ReceiptArtifact[] = [];
  for (const artifact of receipt.artifacts) {
    const keep = !options.purge && (retainedRoles.includes(artifact.role) || artifact.secret === true);
    const current = observed.paths[artifact.path] ?? null;
    if (keep) {
      if (current) {
        keptArtifacts.push(artifact);
        retained.push(artifact.path);
      }
      continue;
    }
    if (current === null) {
      if (artifact.backup) actions.push({ kind: 'remove-file', path: artifact.path, role: artifact.role, restoreFrom: artifact.backup });
      continue;
    }
    // A half-finished install may have left the old content: not drift. A checksum not known (migrated) is not drift.
    const changed = receipt.state === 'installed' && (current.kind !== 'file' || (artifact.checksum !== '' && current.checksum !== artifact.checksum));
    if (changed && !options.force) {
      drifted.push(artifact.path);
      notes.push(`${artifact.path} changed since install: left in place (pass --force to remove it)`);
      continue;
    }
    actions.push({ kind: 'remove-file', path: artifact.path, role: artifact.role, ...(artifact.backup ? { restoreFrom: artifact.backup } : {}) });
  }
  if (online && wasInstalled) actions.push({ kind: 'daemon-reload' }, ...(vendorRunning.length > 0 ? [{ kind: 'restart' as const, units: vendorRunning }] : []), { kind: 'reset-failed', units: [...stoppable, ...receipt.units.filter((u) => vendor.has(u))] });

  // Purge: the user's processes end first, then the data directories go (never following a symlink), then the user.
  // A user another bundle also declares is left to that bundle: its receipt says svcctl created the user too, so the
  // last bundle out removes it.
  const usersOfTheUser = receipt.user ? observed.otherReceipts.filter((r) => r.user?.name === receipt.user!.name).map((r) => r.bundle) : [];
  const userInUse = usersOfTheUser.length > 0;
  const userPresent = receipt.user !== undefined && observed.users[receipt.user.name] !== undefined;
  const removeTheUser = options.purge && receipt.user?.created === true && userPresent && !userInUse;
  if (options.purge && receipt.user && userPresent && online && !userInUse) actions.push({ kind: 'stop-user-processes', user: receipt.user.name });
  if (!removeTheUser && receipt.user?.created && userPresent) {
    if (options.purge && userInUse) notes.push(`user ${receipt.user.name} is kept: ${usersOfTheUser.join(', ')} ${usersOfTheUser.length === 1 ? 'uses' : 'use'} it too, and removes it when purged`);
    else retained.push(`user ${receipt.user.name}`);
  }
  const keptDirectories: ReceiptDirectory[] = [];
  const keptPaths = [...keptArtifacts.map((a) => a.path), ...drifted];
  const holdsKept = (dir: string) => keptPaths.some((p) => p.startsWith(`${dir}/`));
  const deepestFirst = [...receipt.directories].sort((a, b) => b.path.split('/').length - a.path.split('/').length || (a.path < b.path ? 1 : -1));
  const usedByOthers = new Set(observed.otherReceipts.flatMap((r) => r.directories.map((d) => d.path)));
  // A purged data directory takes everything in it: only the outermost ones are purged. One an uninstall that was
  // killed had moved aside already is purged again (there is nothing to move, and the aside is deleted).
  const asides = purgeAsides(receipt);
  const purged = options.purge ? receipt.directories.filter((d) => d.data && d.created && (exists(observed, d.path) || exists(observed, asides.get(d.path)!)) && !usedByOthers.has(d.path)) : [];
  const outermost = purged.filter((d) => !purged.some((o) => o !== d && d.path.startsWith(`${o.path}/`)));
  for (const dir of deepestFirst) {
    const present = exists(observed, dir.path) || (outermost.includes(dir) && exists(observed, asides.get(dir.path)!));
    if (dir.previous && present) {
      if (options.purge) actions.push({ kind: 'restore-directory', path: dir.path, ...dir.previous });
      else {
        // Its tmpfiles.d entry stays too (and would set the mode again at boot): both go back with --purge.
        keptDirectories.push(dir);
        retained.push(`${dir.path} as changed (mode and owner restored by --purge)`);
      }
      continue;
    }
    if (!dir.created || !present) continue;
    if (dir.data && !options.purge) {
      keptDirectories.push(dir);
      keptPaths.push(`${dir.path}/`);
      if (!receipt.directories.some((d) => d.data && d.created && d.path.startsWith(`${dir.path}/`))) retained.push(`${dir.path}/`);
      continue;
    }
    if (dir.data && usedByOthers.has(dir.path)) {
      notes.push(`${dir.path} is kept: another installed bundle uses it`);
      continue;
    }
    if (outermost.includes(dir)) {
      actions.push({ kind: 'purge-directory', path: dir.path, aside: asides.get(dir.path)! });
      continue;
    }
    if (purged.some((o) => dir.path.startsWith(`${o.path}/`))) continue;
    if (holdsKept(dir.path)) {
      keptDirectories.push(dir);
      continue;
    }
    actions.push({ kind: 'remove-directory', path: dir.path });
  }
  if (removeTheUser) actions.push({ kind: 'remove-user', user: receipt.user!.name, removeGroup: receipt.user!.groupCreated });
  // Directories that only hold what is purged later (a data directory's parent) go after their contents; a directory
  // svcctl only re-moded (--force) is given back first, so that removing what is under it walks a path root owns.
  const isDirectoryStep = (a: Action) => a.kind === 'purge-directory' || a.kind === 'remove-directory';
  const ordered = [
    ...actions.filter((a) => !isDirectoryStep(a) && a.kind !== 'restore-directory' && a.kind !== 'remove-user'),
    ...actions.filter((a) => a.kind === 'restore-directory'),
    ...actions.filter(isDirectoryStep),
    ...actions.filter((a) => a.kind === 'remove-user'),
  ];

  // Purged while another bundle uses the user: nothing of this bundle is kept for it (that bundle removes the user).
  const keepUser = receipt.user?.created && userPresent && !removeTheUser && !(options.purge && userInUse);
  const remainder: Receipt | undefined =
    keptArtifacts.length + keptDirectories.length > 0 || keepUser || drifted.length > 0
      ? {
          ...receipt,
          state: 'retained',
          artifacts: [...keptArtifacts, ...receipt.artifacts.filter((a) => drifted.includes(a.path))],
          directories: keptDirectories,
          ...(keepUser ? { user: receipt.user! } : { user: undefined }),
        }
      : undefined;
  if (remainder && remainder.user === undefined) delete remainder.user;
  return { bundle: receipt.bundle, operation: 'uninstall', actions: ordered, receipt: remainder, upToDate: ordered.length === 0, notes, drifted, retained };
}

/** Where each data directory of the receipt goes when purged (see purgeAside), by path. */
export function purgeAsides(receipt: Receipt): Map<string, string> {
  const created = new Set(receipt.directories.filter((d) => d.created).map((d) => d.path));
  return new Map(receipt.directories.filter((d) => d.data).map((d) => [d.path, purgeAside(d.path, created)]));
}

/** Joins several bundles' plans into one transaction (see mergeActions: one reload, one enable, shared directories once). */
export { mergeActions } from './steps/index.js';
