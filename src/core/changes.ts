// The pure planners of changes to an installed bundle — a new schedule, new secret values — from its receipt and the
// observed host: the Actions for the transaction and the receipt that describes the result.
import { checksumOf, directoryPolicy, managedHeader } from './desired.js';
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
  return { bundle: before.bundle, operation: 'change', actions, receipt, upToDate: false, notes: [] };
}

/**
 * Writes the bundle's secrets file with `changes` applied over `current` (undefined: there is no file): the
 * config directory (0755) and the bundle's secrets directory (0700) first when missing, then the file, 0600. Keys
 * are in the bundle's order, then those it does not declare, so nothing is lost. The receipt keeps only names,
 * times and the file's keyed checksum.
 */
export function planSecretsWrite(
  before: Receipt,
  specs: SecretSpec[],
  current: Map<string, string> | undefined,
  changes: Map<string, string>,
  missingDirs: string[],
  ctx: { now: string; hostKey: Buffer; target: Target },
): Plan {
  const layout = layoutOf(ctx.target);
  const file = layout.secretsFile(before.bundle);
  const values = new Map(current ?? []);
  for (const [key, value] of changes) values.set(key, value);
  const ordered = [...specs.map((s) => s.key).filter((k) => values.has(k)), ...[...values.keys()].filter((k) => !specs.some((s) => s.key === k))];
  const content = Buffer.from(renderEnvFile(ordered.map((key) => ({ key, value: values.get(key)! })), managedHeader(before.bundle)));
  const checksum = checksumOf(content, true, ctx.hostKey);
  const { user: owner, group } = ctx.target;
  const missing = [layout.configDir, layout.secretsDir(before.bundle)].filter((d) => missingDirs.includes(d));
  const actions: Action[] = [
    ...missing.map((dir): Action => ({ kind: 'make-directory', path: dir, mode: directoryPolicy(dir, before.bundle, layout), owner, group })),
    { kind: 'write-file', path: file, role: 'secrets', content, checksum, mode: 0o600, owner, group, secret: true, change: current ? 'update' : 'create' },
  ];
  const artifact: ReceiptArtifact = { path: file, role: 'secrets', checksum, mode: 0o600, owner, group };
  const changedTimes = new Map(before.secrets.map((s) => [s.key, s.changedAt]));
  for (const key of changes.keys()) changedTimes.set(key, ctx.now);
  const receipt: Receipt = {
    ...before,
    state: 'installed',
    updatedAt: ctx.now,
    secrets: ordered.filter((k) => changedTimes.has(k)).map((key) => ({ key, changedAt: changedTimes.get(key)! })),
    artifacts: before.artifacts.some((a) => a.path === file)
      ? before.artifacts.map((a) => (a.path === file ? { ...a, ...artifact, ...(a.backup ? { backup: a.backup } : {}) } : a))
      : [...before.artifacts, artifact],
    directories: [
      ...before.directories,
      ...missing.filter((d) => !before.directories.some((r) => r.path === d)).map((p) => ({ path: p, created: true, own: p === layout.secretsDir(before.bundle), ...(p === layout.configDir ? { shared: true } : {}) })),
    ].sort(byPath),
  };
  return { bundle: before.bundle, operation: 'change', actions, receipt, upToDate: false, notes: [] };
}
