// The pure planners of changes to an installed bundle — a new schedule, new secret values — from its receipt and the
// observed host: the Actions for the transaction and the receipt that describes the result.
import { checksumOf, directoryPolicy, managedHeader, type DesiredFile } from './desired.js';
import { byPath, type Plan } from './plan.js';
import type { Receipt, ReceiptArtifact } from './receipt.js';
import { renderEnvFile } from './render.js';
import { layout as layoutOf, type Target } from './target.js';
import type { Action } from './steps/types.js';
import type { SecretSpec } from './bundle/types.js';

/** What the host looks like around the timer's schedule drop-in. */
export interface ScheduleObserved {
  /** What is at the drop-in's path now (undefined: nothing). */
  dropIn?: { kind: 'file' | 'directory' | 'symlink' | 'other' };
  dropInDirExists: boolean;
  /** The drop-in directory holds nothing but schedule.conf (so removing the drop-in empties it). */
  dropInDirOnlyHoldsOurs: boolean;
  timerActive: boolean;
}

export interface ScheduleChange {
  /** The drop-in to write; undefined: the timer unit's own schedule (the drop-in is removed). */
  content?: Buffer;
  /** The schedule on record afterwards (undefined: the bundle's default is unknown). */
  schedule?: string;
  overridden: boolean;
  /** The randomized delay on record afterwards (svcctl schedule --randomized-delay); undefined: the bundle's. */
  randomizedDelay?: string;
  /** What systemd must show for the timer after the reload, when a drop-in is written. */
  expected?: { kind: 'interval' | 'calendar'; normalized: string };
  now: string;
}

/**
 * Writes (or removes) the timer's schedule drop-in: its directory when missing (or emptied, if svcctl made it), one
 * daemon-reload, a restart of the timer when it runs, and the check that systemd took the schedule.
 */
export function planScheduleChange(before: Receipt, observed: ScheduleObserved, change: ScheduleChange, target: Target): Plan {
  const layout = layoutOf(target);
  const timer = before.timer;
  if (!timer) throw new Error(`planScheduleChange: bundle ${before.bundle} has no timer`);
  const dropIn = layout.scheduleDropIn(timer);
  const dir = layout.dropInDir(timer);
  const madeByUs = before.directories.find((d) => d.path === dir)?.created ?? false;
  const removeDir = !change.content && observed.dropInDirExists && madeByUs && observed.dropInDirOnlyHoldsOurs;
  const checksum = change.content ? checksumOf(change.content, false, Buffer.alloc(0)) : '';
  const actions: Action[] = [];
  if (change.content) {
    if (!observed.dropInDirExists) actions.push({ kind: 'make-directory', path: dir, mode: 0o755, owner: target.user, group: target.group });
    actions.push({ kind: 'write-file', path: dropIn, role: 'schedule', content: change.content, checksum, mode: 0o644, owner: target.user, group: target.group, secret: false, change: observed.dropIn ? 'update' : 'create' });
  } else {
    if (observed.dropIn) actions.push({ kind: 'remove-file', path: dropIn, role: 'schedule' });
    if (removeDir) actions.push({ kind: 'remove-directory', path: dir });
  }
  actions.push({ kind: 'daemon-reload' });
  // The timer re-arms from the new schedule when restarted; a stopped timer picks it up when started.
  if (observed.timerActive) actions.push({ kind: 'restart', units: [timer], revive: true });
  actions.push({ kind: 'check-timer', timer, ...(change.content && change.expected ? { expected: change.expected } : {}) });

  const receipt: Receipt = {
    ...before,
    state: 'installed',
    updatedAt: change.now,
    ...(change.schedule !== undefined ? { schedule: change.schedule } : { schedule: undefined }),
    scheduleOverridden: change.overridden,
    scheduleRandomizedDelay: change.randomizedDelay,
    artifacts: [
      ...before.artifacts.filter((a) => a.path !== dropIn),
      ...(change.content ? [{ path: dropIn, role: 'schedule' as const, checksum, mode: 0o644, owner: target.user, group: target.group }] : []),
    ],
    directories: removeDir
      ? before.directories.filter((d) => d.path !== dir)
      : change.content && !observed.dropInDirExists
        ? [...before.directories, { path: dir, created: true, own: true }].sort(byPath)
        : before.directories,
  };
  if (receipt.schedule === undefined) delete receipt.schedule;
  if (receipt.scheduleRandomizedDelay === undefined) delete receipt.scheduleRandomizedDelay;
  return { bundle: before.bundle, operation: 'change', actions, receipt, upToDate: false, notes: [] };
}

/**
 * Writes the bundle's secrets file with `changes` applied over `current` (undefined: there is no file): the
 * config directory (0755) and the bundle's secrets directory (0700) first when missing, then the file, 0600. Keys
 * are in the bundle's order, then those it does not declare, so nothing is lost. A key one of the bundle's config
 * files holds goes there instead: `configFiles` are those files rendered again with the new values (configFileOf).
 * The receipt keeps only names, times and the files' keyed checksums.
 */
export function planSecretsWrite(
  before: Receipt,
  specs: SecretSpec[],
  current: Map<string, string> | undefined,
  changes: Map<string, string>,
  missingDirs: string[],
  ctx: { now: string; hostKey: Buffer; target: Target },
  configFiles: DesiredFile[] = [],
): Plan {
  const layout = layoutOf(ctx.target);
  const file = layout.secretsFile(before.bundle);
  const { user: owner, group } = ctx.target;
  // A key a config file holds is written there (rendered again, settings and all), never into the secrets file.
  const inConfig = new Set(configFiles.flatMap((f) => f.secretKeys ?? []));
  const fileChanges = [...changes].filter(([key]) => !inConfig.has(key));
  const actions: Action[] = [];
  let artifacts = before.artifacts;
  const directories = [...before.directories];
  const withArtifact = (artifact: ReceiptArtifact) => {
    artifacts = artifacts.some((a) => a.path === artifact.path)
      ? artifacts.map((a) => (a.path === artifact.path ? { ...a, ...artifact, ...(a.backup ? { backup: a.backup } : {}) } : a))
      : [...artifacts, artifact];
  };
  if (fileChanges.length > 0) {
    const values = new Map(current ?? []);
    for (const [key, value] of fileChanges) values.set(key, value);
    const ordered = [...specs.map((s) => s.key).filter((k) => values.has(k)), ...[...values.keys()].filter((k) => !specs.some((s) => s.key === k))];
    const content = Buffer.from(renderEnvFile(ordered.map((key) => ({ key, value: values.get(key)! })), managedHeader(before.bundle)));
    const checksum = checksumOf(content, true, ctx.hostKey);
    const missing = [layout.configDir, layout.secretsDir(before.bundle)].filter((d) => missingDirs.includes(d));
    actions.push(
      ...missing.map((dir): Action => ({ kind: 'make-directory', path: dir, mode: directoryPolicy(dir, before.bundle, layout), owner, group })),
      { kind: 'write-file', path: file, role: 'secrets', content, checksum, mode: 0o600, owner, group, secret: true, change: current ? 'update' : 'create' },
    );
    withArtifact({ path: file, role: 'secrets', checksum, mode: 0o600, owner, group });
    for (const p of missing.filter((d) => !directories.some((r) => r.path === d))) {
      directories.push({ path: p, created: true, own: p === layout.secretsDir(before.bundle), ...(p === layout.configDir ? { shared: true } : {}) });
    }
  }
  for (const config of configFiles) {
    const checksum = checksumOf(config.content, true, ctx.hostKey);
    actions.push({ kind: 'write-file', path: config.path, role: 'config', content: config.content, checksum, mode: config.mode, owner: config.owner, group: config.group, secret: true, change: 'update' });
    withArtifact({ path: config.path, role: 'config', checksum, mode: config.mode, owner: config.owner, group: config.group, secret: true });
  }
  const changedTimes = new Map(before.secrets.map((s) => [s.key, s.changedAt]));
  for (const key of changes.keys()) changedTimes.set(key, ctx.now);
  const keys = [...specs.map((s) => s.key).filter((k) => changedTimes.has(k)), ...[...changedTimes.keys()].filter((k) => !specs.some((s) => s.key === k))];
  const receipt: Receipt = {
    ...before,
    state: 'installed',
    updatedAt: ctx.now,
    secrets: keys.map((key) => ({ key, changedAt: changedTimes.get(key)! })),
    artifacts,
    directories: directories.sort(byPath),
  };
  return { bundle: before.bundle, operation: 'change', actions, receipt, upToDate: false, notes: [] };
}
