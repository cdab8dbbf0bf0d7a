// The validated, in-memory form of a bundle: what the loader produces and plan() consumes.
import type { Scope } from '../target.js';

export interface Bundle {
  /** ^[a-z0-9][a-z0-9-]{0,62}$ */
  name: string;
  description: string;
  /** Absolute path of the bundle directory it was loaded from. */
  directory: string;
  /** Absolute path of the manifest file (for error messages). */
  manifestPath: string;
  /** sha256 over the manifest and every file it references: changes when the bundle changes. */
  digest: string;
  units: BundleUnit[];
  /** The scopes it may be installed in (default: system). A user-scope-only bundle's paths are `~/...`. */
  scopes?: Scope[];
  /** Unit names to enable and start (all in one `systemctl enable --now`). */
  enable: string[];
  payload: PayloadFile[];
  user?: SystemUser;
  directories: BundleDirectory[];
  settings: Setting[];
  secrets: SecretSpec[];
  /** Files rendered from settings and secrets (an EnvironmentFile= at a path the bundle names). */
  configFiles: ConfigFile[];
  /** Directives svcctl writes into its drop-ins, with ${KEY} replaced by a setting's value. */
  directives: DirectiveTemplate[];
  schedule?: ScheduleSpec;
  health?: HealthSpec;
  /** Install only upon explicit authorization (--authorize TEXT, or the bundle's name typed at a prompt). */
  authorization?: { required: boolean; reason?: string };
}

export interface ConfigFile {
  path: string;
  owner: string;
  group: string;
  mode: number;
  /** Setting and secret keys, in the file's order. */
  entries: string[];
}

export interface DirectiveTemplate {
  /** The units whose drop-in carries it. */
  units: string[];
  section: 'Service' | 'Unit' | 'Timer' | 'Install';
  directive: string;
  /** The value with ${KEY} placeholders for settings; $$ is a literal $. */
  value: string;
}

export interface BundleUnit {
  /** The unit's file name, e.g. cleanup-blocking-coordination.service */
  name: string;
  /** The unit file's content, read from the bundle directory. */
  content: string;
}

export interface PayloadFile {
  /** Path of the source, relative to the bundle directory (validated not to escape it). */
  source: string;
  /** Absolute destination on the host, e.g. /usr/local/bin/cleanup-blocking-coordination.sh, or ~/… in the home (user scope) */
  destination: string;
  /** Numeric mode, e.g. 0o755 */
  mode: number;
  /** Owner and group by name (default root:root in system scope, the user in user scope). */
  owner?: string;
  group?: string;
  /** The source file's content. */
  content: Buffer;
}

export interface SystemUser {
  name: string;
  home: string;
  shell: string;
  /** Supplementary groups (must exist already). */
  groups: string[];
}

export interface BundleDirectory {
  path: string;
  owner: string;
  group: string;
  mode: number;
}

export interface Setting {
  key: string;
  description: string;
  /** undefined: required, no default */
  default?: string;
  /** A regular expression (anchored by svcctl) the value must match. */
  pattern?: string;
  /** `environment`: an Environment= line in the drop-in; otherwise the unit directive to set, e.g. WorkingDirectory. */
  target: { kind: 'environment'; name: string } | { kind: 'directive'; section: 'Service' | 'Unit' | 'Timer' | 'Install'; directive: string };
  /** Units whose drop-in carries it; default: every service unit of the bundle. */
  units?: string[];
}

export interface SecretSpec {
  /** Environment variable name, ^[A-Z_][A-Z0-9_]*$ */
  key: string;
  prompt: string;
  /** How to make a value when none is given: 32 random bytes as hex (like `openssl rand -hex 32`). */
  generate?: 'hex32';
  required: boolean;
}

export interface ScheduleSpec {
  /** The timer unit the schedule drives. */
  timer: string;
  /** Default expression: an interval (`5min`) or a calendar expression (`*-*-* 02:00:00`). */
  default: string;
  /** RandomizedDelaySec= of the schedule (a time span), when it has one. */
  randomizedDelay?: string;
}

export interface HealthSpec {
  /** A systemd time span: the last successful run must be at most this old. */
  maxAge?: string;
  /** For daemons: an HTTP URL that must answer 2xx. */
  url?: string;
  /** How long a start may take before the URL must answer (a time span; default 30s). */
  startTimeout?: string;
}
