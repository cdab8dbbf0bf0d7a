// What every export renders to: files at paths relative to the output directory, a manifest of what each one is
// (path, mode, owner, role; secret files as the variables that fill them), and what a reader must know. Pure.
import type { Bundle } from '../bundle/types.js';
import type { DesiredFile, DesiredState } from '../desired.js';
import { commentLine } from '../escape/index.js';

export type ExportFormat = 'units' | 'cron' | 'ansible';
export const exportFormats: readonly ExportFormat[] = ['units', 'cron', 'ansible'];

export interface ExportFile {
  /** Relative to the output directory, "/"-separated, never absolute, never "..". */
  path: string;
  /** A file's bytes; a symbolic link's target (as written, e.g. an absolute path of the target system). */
  content: Buffer;
  /** The mode the file is written with in the output directory. */
  mode: number;
  kind: 'file' | 'symlink';
}

/** One entry of the manifest: what a file of the export becomes on a host. */
export interface ManifestEntry {
  path: string;
  role: string;
  mode: string;
  owner: string;
  group: string;
  /** Holds secrets on the host: the export carries a description, and these are the secrets that fill it. */
  secretKeys?: string[];
  /** A symbolic link, and where it points. */
  linkTo?: string;
}

export interface ExportManifest {
  format: ExportFormat;
  bundle: string;
  files: ManifestEntry[];
  directories: { path: string; mode: string; owner: string; group: string }[];
  user?: { name: string; home: string; shell: string; groups: string[] };
  enable: string[];
  notes: string[];
}

export interface ExportTree {
  format: ExportFormat;
  bundle: string;
  files: ExportFile[];
  /** Directories of the tree with a mode of their own (svcctl's secrets directory is 0700); others are 0755. */
  directories: { path: string; mode: number }[];
  manifest: ExportManifest;
  notes: string[];
}

/** The manifest's own file in the output directory (hidden: the rest is the tree as a host has it). */
export const manifestFile = '.svcctl-export.json';

export const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

/** A path of the target system as a path inside the output directory. */
export function relativeOf(absolute: string): string {
  return absolute.replace(/^\/+/, '');
}

/**
 * What a secret-holding file is in an export that never carries a secret value: its header, then one comment per
 * key saying which secret fills it and how (never a value, never a placeholder a service could take for one).
 */
export function describeSecretFile(file: DesiredFile, bundle: Bundle, header: string): Buffer {
  const lines = [commentLine(header), commentLine(`This export carries no secret value. On the host this file is ${octal(file.mode)} ${file.owner}:${file.group} and holds:`)];
  for (const key of file.secretKeys ?? []) {
    const spec = bundle.secrets.find((s) => s.key === key);
    const how = spec?.generate === 'hex32' ? 'generated (32 random bytes as hex) when none is given' : spec?.required ? 'required' : 'optional';
    lines.push(commentLine(`${key}="…" — ${spec?.prompt ?? 'secret'} (${how}; svcctl install --secret ${key}=@FILE, or SVCCTL_SECRET_${key})`));
  }
  for (const entry of file.content.toString('utf8').split('\n')) {
    // A config file may hold settings too: those lines are not secret and stay as they are.
    const key = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(entry)?.[1];
    if (key !== undefined && !(file.secretKeys ?? []).includes(key) && !bundle.secrets.some((s) => s.key === key)) lines.push(entry);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** The manifest entry of a desired file. */
export function manifestEntryOf(file: Pick<DesiredFile, 'path' | 'role' | 'mode' | 'owner' | 'group' | 'secret' | 'secretKeys'>, role: string = file.role): ManifestEntry {
  return { path: file.path, role, mode: octal(file.mode), owner: file.owner, group: file.group, ...(file.secret ? { secretKeys: [...(file.secretKeys ?? [])] } : {}) };
}

export function manifestOf(format: ExportFormat, desired: DesiredState, files: ManifestEntry[], notes: string[], options: { enable?: string[] } = {}): ExportManifest {
  return {
    format,
    bundle: desired.bundle,
    files,
    directories: desired.directories.map((d) => ({ path: d.path, mode: octal(d.mode), owner: d.owner, group: d.group })),
    ...(desired.user ? { user: { ...desired.user, groups: [...desired.user.groups] } } : {}),
    enable: options.enable ?? (desired.enableDeferred ? [] : [...desired.enable]),
    notes,
  };
}

/** The manifest as the file the export writes (sorted keys not needed: built in a fixed order). */
export function manifestExportFile(manifest: ExportManifest): ExportFile {
  return { path: manifestFile, content: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), mode: 0o644, kind: 'file' };
}
