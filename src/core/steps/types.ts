// The Actions a plan is made of — one type per step kind — and the interface each kind's module answers
// (core/steps/<kind>.ts: describe, data, what it touches, merge rules; src/apply/<kind>.ts performs and undoes it).
import type { ArtifactRole } from '../receipt.js';
import type { CheckSubject } from '../health.js';

/** What is at a path, as observed before planning (null: nothing). */
export interface PathBefore {
  kind: 'file' | 'directory' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
}

/** A unit's state as observed before the step: whether it is enabled and whether it runs. */
export interface UnitBefore {
  enabled: string;
  active: string;
}

export interface MakeDirectory {
  kind: 'make-directory';
  path: string;
  mode: number;
  owner: string;
  group: string;
}

export interface WriteFile {
  kind: 'write-file';
  path: string;
  role: ArtifactRole;
  content: Buffer;
  /** The checksum the receipt records (keyed for secret-holding files). */
  checksum: string;
  mode: number;
  owner: string;
  group: string;
  /** Holds secret values: never shown, never logged. */
  secret: boolean;
  change: 'create' | 'update' | 'replace';
  /** A file svcctl did not create is there (--force): it is moved here first and restored on uninstall. */
  backupTo?: string;
  /** What is there now (for --json's before/after). */
  before?: PathBefore & { checksum?: string };
}

export interface RemoveFile {
  kind: 'remove-file';
  path: string;
  /** `temp`: a temporary file an interrupted write left behind. */
  role: ArtifactRole | 'temp';
  /** Put back the file svcctl replaced (--force at install). */
  restoreFrom?: string;
}

/** Removes a directory svcctl made once it is empty; kept (and said so) while it holds anything. */
export interface RemoveDirectory {
  kind: 'remove-directory';
  path: string;
}

/**
 * --purge of a data directory and everything in it: moved to `aside` by the step (undone by moving it back), deleted
 * once the transaction stands, never following a symlink at any depth.
 */
export interface PurgeDirectory {
  kind: 'purge-directory';
  path: string;
  /** Where it waits to be deleted (see purgeAside). */
  aside: string;
}

/** Restores the mode and owner svcctl changed on an existing directory (with --force). */
export interface RestoreDirectory {
  kind: 'restore-directory';
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface ApplySysusers {
  kind: 'apply-sysusers';
  /** The sysusers.d file. */
  path: string;
  user: string;
  /** Observed before: the user and its group existed (then they are only checked, never removed by the undo). */
  userExisted: boolean;
  groupExisted: boolean;
  /** A --root tree: the file is in place and systemd-sysusers.service applies it at the tree's first boot. */
  atBoot: boolean;
}

export interface ApplyTmpfiles {
  kind: 'apply-tmpfiles';
  path: string;
  /** Directories systemd-tmpfiles may make: the declared ones and their missing ancestors, parents first. */
  created: string[];
  /** Existing directories whose mode or owner it changes (only with --force), with what they were. */
  adjusted: { path: string; mode: number; uid: number; gid: number }[];
  /** A --root tree: systemd-tmpfiles-setup.service makes them at the tree's first boot. */
  atBoot: boolean;
}

export interface RemoveUser {
  kind: 'remove-user';
  user: string;
  removeGroup: boolean;
}

/** Before a purge removes a user's directories: every process of that user is ended (it could race the removal). */
export interface StopUserProcesses {
  kind: 'stop-user-processes';
  user: string;
}

export interface DaemonReload {
  kind: 'daemon-reload';
}

export interface Enable {
  kind: 'enable';
  units: string[];
  /** --now: start them too. */
  now: boolean;
  before: Record<string, UnitBefore>;
  /** The symlinks enabling may create ([Install] WantedBy=, RequiredBy=, Alias=) that did not exist. */
  links: string[];
}

export interface StopDisable {
  kind: 'stop-disable';
  units: string[];
  enabled: string[];
  before: Record<string, UnitBefore>;
}

export interface Restart {
  kind: 'restart';
  units: string[];
  /**
   * On rollback restarted units are brought back to the restored configuration: `try-restart` after the
   * closing daemon-reload (units still running), or with `revive` a plain restart whatever state the new
   * configuration left them in (a restart that exists to apply the change: a rotated secret, a schedule).
   */
  revive?: boolean;
}

export interface ResetFailed {
  kind: 'reset-failed';
  units: string[];
}

export interface CheckActive {
  kind: 'check-active';
  units: string[];
}

/** The timer is loaded after the reload and, when `expected` is given, systemd shows that trigger. */
export interface CheckTimer {
  kind: 'check-timer';
  timer: string;
  expected?: { kind: 'interval' | 'calendar'; normalized: string };
}

/** Runs a job now (`systemctl start`, after a run under way) and fails with its exit status; run again on rollback. */
export interface RunJob {
  kind: 'run-job';
  service: string;
}

/**
 * The bundle's health after a restart or a run: `once` for a job whose run is over; otherwise the service gets
 * `timeoutMs` to become healthy and must stay so for a second. Run again after a rollback.
 */
export interface CheckHealth {
  kind: 'check-health';
  subject: CheckSubject;
  timeoutMs: number;
  once: boolean;
}

/** After the last step: everything the desired state declares exists with its declared kind, mode, owner and group. */
export interface CheckInstalled {
  kind: 'check-installed';
  bundle: string;
  files: { path: string; mode: number; owner: string; group: string }[];
  directories: { path: string; mode: number; owner: string; group: string }[];
  users: string[];
}

export type Action =
  | MakeDirectory
  | WriteFile
  | RemoveFile
  | RemoveDirectory
  | PurgeDirectory
  | RestoreDirectory
  | ApplySysusers
  | ApplyTmpfiles
  | RemoveUser
  | StopUserProcesses
  | DaemonReload
  | Enable
  | StopDisable
  | Restart
  | ResetFailed
  | CheckActive
  | CheckTimer
  | RunJob
  | CheckHealth
  | CheckInstalled;

export type ActionKind = Action['kind'];
export type ActionOf<K extends ActionKind> = Extract<Action, { kind: K }>;

/** What a step may change: observed before it runs and again after a rollback, to prove the host is as it was. */
export interface Touches {
  paths: string[];
  units: string[];
}

export interface StepKind<A extends Action> {
  /** One line for the plan; secret values are never part of it. */
  describe(action: A): string;
  /** The action as --json shows it (file contents replaced by their checksum). */
  data(action: A): Record<string, unknown>;
  touches(action: A): Touches;
  /** Lines shown under the step in a plan (a small unit drop-in's text); never a secret. */
  detail?(action: A): string[];
  /**
   * Collective kinds are merged across the bundles of one transaction (one daemon-reload, one `enable` for every
   * unit); `placement` says where the merged step goes: before every bundle's own steps, or after them.
   */
  collective?: { placement: 'first' | 'last'; merge(actions: A[]): A[] };
}

export const octal = (mode: number): string => mode.toString(8).padStart(4, '0');
