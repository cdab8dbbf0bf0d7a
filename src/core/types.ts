// The data the pure core works on: what the host looks like (Observed), what the user asked (Inputs),
// what will be done (Plan of Actions), and what was done (Receipt).
import type { Bundle } from './bundle/types.js';
import type { PathState } from '../system/fs.js';
import type { CheckSubject } from './health.js';

/** Every path svcctl uses, relative to the host root ("/" or --root DIR). */
export const paths = {
  unitDir: '/etc/systemd/system',
  stateDir: '/var/lib/svcctl',
  configDir: '/etc/svcctl',
  sysusersDir: '/etc/sysusers.d',
  tmpfilesDir: '/etc/tmpfiles.d',
  receipt: (bundle: string) => `/var/lib/svcctl/${bundle}.json`,
  backupDir: (bundle: string) => `/var/lib/svcctl/backups/${bundle}`,
  secretsDir: (bundle: string) => `/etc/svcctl/${bundle}`,
  secretsFile: (bundle: string) => `/etc/svcctl/${bundle}/secrets.env`,
  unitFile: (unit: string) => `/etc/systemd/system/${unit}`,
  dropInDir: (unit: string) => `/etc/systemd/system/${unit}.d`,
  override: (unit: string) => `/etc/systemd/system/${unit}.d/override.conf`,
  scheduleDropIn: (timer: string) => `/etc/systemd/system/${timer}.d/schedule.conf`,
  sysusers: (bundle: string) => `/etc/sysusers.d/svcctl-${bundle}.conf`,
  tmpfiles: (bundle: string) => `/etc/tmpfiles.d/svcctl-${bundle}.conf`,
};

/**
 * Orders records by path, byte by byte: the same order on every host (localeCompare would follow the
 * locale's collation, and its first use loads ICU, 10-20 ms of start-up).
 */
export function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export type ArtifactRole = 'unit' | 'drop-in' | 'schedule' | 'payload' | 'secrets' | 'sysusers' | 'tmpfiles';

export interface UnitState {
  activeState: string;
  unitFileState: string;
}

/** What the host looks like now, read before planning (read-only probes). */
export interface Observed {
  /** The bundle's receipt if it was installed (or partly installed) before. */
  receipt?: Receipt;
  /** State of every target path (files and directories, ancestors included); null when absent. */
  paths: Record<string, PathState | null>;
  /** Users and groups that exist (from /etc/passwd and /etc/group under the root). */
  users: string[];
  groups: string[];
  /** Secret values already in the secrets file (kept unless new ones are given). In memory only. */
  existingSecrets: Record<string, string>;
  /** Unit states, when systemd is running (not with --root). */
  units: Record<string, UnitState>;
}

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
  force: boolean;
  start: boolean;
  /** --root DIR: render only, no running systemd. */
  offline: boolean;
  now: string;
  svcctlVersion: string;
}

export interface FileAction {
  kind: 'write-file';
  path: string;
  content: Buffer;
  sha256: string;
  mode: number;
  owner: string;
  group: string;
  role: ArtifactRole;
  /** The content holds secret values: never shown, never logged. */
  secret: boolean;
  /** A file svcctl did not create is there (--force): it is moved here first and restored on uninstall. */
  backupTo?: string;
  /** What the change is, for the plan display. */
  change: 'create' | 'update' | 'replace';
}

export type Action =
  | FileAction
  | { kind: 'make-directory'; path: string; mode: number }
  | { kind: 'remove-file'; path: string; role: ArtifactRole; restoreFrom?: string }
  | { kind: 'remove-directory'; path: string; recursive: boolean }
  | { kind: 'apply-sysusers'; path: string; user: string; userExisted: boolean; groupExisted: boolean }
  | { kind: 'apply-tmpfiles'; path: string; created: string[] }
  | { kind: 'remove-user'; user: string; removeGroup: boolean }
  | { kind: 'daemon-reload' }
  | { kind: 'enable'; units: string[]; now: boolean; offline: boolean }
  /**
   * On rollback restarted units are brought back to the restored configuration: `try-restart` after the
   * closing daemon-reload (units still running), or with `revive` a plain restart whatever state the
   * new configuration left them in (a restart that exists to apply the change: a rotated secret, a schedule).
   */
  | { kind: 'restart'; units: string[]; revive?: boolean }
  | { kind: 'check-active'; units: string[] }
  | { kind: 'stop-disable'; units: string[]; enabled: string[]; offline: boolean }
  | { kind: 'reset-failed'; units: string[] }
  /** The timer is loaded after the reload and, when `expected` is given, systemd shows that trigger. */
  | { kind: 'check-timer'; timer: string; expected?: { kind: 'interval' | 'calendar'; normalized: string } }
  /** Runs a job now (`systemctl start`, after a run under way) and fails with its exit status; run again on rollback. */
  | { kind: 'run-job'; service: string }
  /**
   * The bundle's health after a restart or a run: `once` for a job whose run is over; otherwise the
   * service gets `timeoutMs` to become healthy and must stay so for a second. Run again after a rollback.
   */
  | { kind: 'check-health'; subject: CheckSubject; timeoutMs: number; once: boolean };

export interface Plan {
  bundle: string;
  operation: 'install' | 'uninstall';
  actions: Action[];
  /** The receipt as it will be after a successful apply (undefined: receipt removed). */
  receipt?: Receipt;
  /** Nothing to do: the host already matches. */
  upToDate: boolean;
}

export interface ReceiptArtifact {
  path: string;
  role: ArtifactRole;
  sha256: string;
  mode: number;
  owner: string;
  group: string;
  /** Where the file that was there before svcctl is kept, to restore on uninstall. */
  backup?: string;
}

export interface ReceiptDirectory {
  path: string;
  /** svcctl created it (did not exist before): uninstall --purge removes it. */
  created: boolean;
  /** svcctl's own directories (drop-in dirs, /etc/svcctl/<bundle>) are removed by every uninstall. */
  own: boolean;
}

export interface Receipt {
  format: 1;
  bundle: string;
  description: string;
  source: string;
  digest: string;
  svcctlVersion: string;
  installedAt: string;
  updatedAt: string;
  /** installing: a transaction is (or was, if svcctl died) under way; retained: uninstalled but --purge pending. */
  state: 'installing' | 'installed' | 'uninstalling' | 'retained';
  units: string[];
  enabled: string[];
  /** The main service (run, logs, check). */
  service?: string;
  timer?: string;
  schedule?: string;
  /** True when the schedule was set by `svcctl schedule` or --schedule (kept on reinstall). */
  scheduleOverridden?: boolean;
  settings: Record<string, string>;
  secrets: { key: string; changedAt: string }[];
  health?: { maxAge?: string; url?: string };
  artifacts: ReceiptArtifact[];
  directories: ReceiptDirectory[];
  user?: { name: string; created: boolean; groupCreated: boolean };
}

export type { Bundle };
