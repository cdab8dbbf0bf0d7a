// The pure planners of changes to an installed bundle (a new schedule, new secret values): the Actions for
// applyTransaction() and the receipt that describes the result, from the receipt and what was observed.
import type { SecretSpec } from './bundle/types.js';
import { sha256 } from './plan.js';
import { renderEnvFile } from './render.js';
import { byPath, paths, type Action, type Receipt, type ReceiptArtifact } from './types.js';

export interface PlannedChange {
  actions: Action[];
  /** The receipt after a successful apply. */
  receipt: Receipt;
}

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
 * Writes (or removes) the timer's schedule drop-in: its directory when missing (or emptied, if svcctl made
 * it), one daemon-reload, a restart of the timer when it runs, and the check that systemd took the schedule.
 */
export function planScheduleChange(before: Receipt, observed: ScheduleObserved, change: ScheduleChange): PlannedChange {
  const timer = before.timer;
  if (!timer) throw new Error(`planScheduleChange: bundle ${before.bundle} has no timer`);
  const dropIn = paths.scheduleDropIn(timer);
  const dir = paths.dropInDir(timer);
  const madeByUs = before.directories.find((d) => d.path === dir)?.created ?? false;
  const removeDir = !change.content && observed.dropInDirExists && madeByUs && observed.dropInDirOnlyHoldsOurs;
  const actions: Action[] = [];
  if (change.content) {
    if (!observed.dropInDirExists) actions.push({ kind: 'make-directory', path: dir, mode: 0o755 });
    actions.push({
      kind: 'write-file',
      path: dropIn,
      content: change.content,
      sha256: sha256(change.content),
      mode: 0o644,
      owner: 'root',
      group: 'root',
      role: 'schedule',
      secret: false,
      change: observed.dropIn ? 'update' : 'create',
    });
  } else {
    if (observed.dropIn) actions.push({ kind: 'remove-file', path: dropIn, role: 'schedule' });
    if (removeDir) actions.push({ kind: 'remove-directory', path: dir, recursive: false });
  }
  actions.push({ kind: 'daemon-reload' });
  // The timer re-arms from the new schedule when restarted; a stopped timer picks it up when started.
  if (observed.timerActive) actions.push({ kind: 'restart', units: [timer], revive: true });
  actions.push({ kind: 'check-timer', timer, ...(change.content && change.expected ? { expected: change.expected } : {}) });

  const receipt: Receipt = {
    ...before,
    updatedAt: change.now,
    ...(change.schedule !== undefined ? { schedule: change.schedule } : { schedule: undefined }),
    scheduleOverridden: change.overridden,
    artifacts: [
      ...before.artifacts.filter((a) => a.path !== dropIn),
      ...(change.content ? [{ path: dropIn, role: 'schedule' as const, sha256: sha256(change.content), mode: 0o644, owner: 'root', group: 'root' }] : []),
    ],
    directories: removeDir
      ? before.directories.filter((d) => d.path !== dir)
      : change.content && !observed.dropInDirExists
        ? [...before.directories, { path: dir, created: true, own: true }].sort(byPath)
        : before.directories,
  };
  return { actions, receipt };
}

/**
 * Writes the bundle's secrets file with `changes` applied over `current` (undefined: there is no file):
 * /etc/svcctl (0755) and /etc/svcctl/<bundle> (0700) first when missing, then the file, 0600 root. Keys
 * are in the bundle's order, then those it does not declare, so nothing is lost. The receipt keeps
 * only names, times and the file's checksum.
 */
export function planSecretsWrite(
  before: Receipt,
  specs: SecretSpec[],
  current: Map<string, string> | undefined,
  changes: Map<string, string>,
  missingDirs: string[],
  now: string,
  header: string,
): PlannedChange {
  const file = paths.secretsFile(before.bundle);
  const values = new Map(current ?? []);
  for (const [key, value] of changes) values.set(key, value);
  const ordered = [...specs.map((s) => s.key).filter((k) => values.has(k)), ...[...values.keys()].filter((k) => !specs.some((s) => s.key === k))];
  const content = Buffer.from(renderEnvFile(ordered.map((key) => ({ key, value: values.get(key)! })), header));
  const digest = sha256(content);

  const missing = [paths.configDir, paths.secretsDir(before.bundle)].filter((d) => missingDirs.includes(d));
  const actions: Action[] = [
    ...missing.map((dir): Action => ({ kind: 'make-directory', path: dir, mode: dir === paths.configDir ? 0o755 : 0o700 })),
    { kind: 'write-file', path: file, content, sha256: digest, mode: 0o600, owner: 'root', group: 'root', role: 'secrets', secret: true, change: current ? 'update' : 'create' },
  ];

  const artifact: ReceiptArtifact = { path: file, role: 'secrets', sha256: digest, mode: 0o600, owner: 'root', group: 'root' };
  const changedTimes = new Map(before.secrets.map((s) => [s.key, s.changedAt]));
  for (const key of changes.keys()) changedTimes.set(key, now);
  const receipt: Receipt = {
    ...before,
    updatedAt: now,
    secrets: ordered.filter((k) => changedTimes.has(k)).map((key) => ({ key, changedAt: changedTimes.get(key)! })),
    artifacts: before.artifacts.some((a) => a.path === file)
      ? before.artifacts.map((a) => (a.path === file ? { ...a, ...artifact, ...(a.backup ? { backup: a.backup } : {}) } : a))
      : [...before.artifacts, artifact],
    directories: [...before.directories, ...missing.filter((d) => !before.directories.some((r) => r.path === d)).map((path) => ({ path, created: true, own: true }))].sort(byPath),
  };
  return { actions, receipt };
}
