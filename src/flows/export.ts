// The export flow: load the bundle, resolve its settings as install does (--set, defaults), render the desired
// state in the chosen format (core/export/), and write the files under --output (or hand them to the view).
// Never a secret: export reads none, and secret files are rendered as the secrets that will fill them.
import path from 'node:path';
import type { Bundle } from '../core/bundle/types.js';
import { UserError } from '../core/errors.js';
import { desire, type SecretInput } from '../core/desired.js';
import { exportAnsible } from '../core/export/ansible.js';
import { exportCron } from '../core/export/cron.js';
import { exportFormats, type ExportFormat, type ExportManifest, type ExportTree } from '../core/export/tree.js';
import { exportUnits } from '../core/export/units.js';
import { systemTarget } from '../core/target.js';
import { findBundle } from '../system/bundles/lookup.js';
import { atomicWrite, ensureDirectory, listDirectory, makeSymlink, realPath } from '../system/fs.js';
import { resolveSettings } from '../system/inputs.js';
import { userTimeZone } from '../system/timezone.js';
import { svcctlVersion } from '../system/version.js';
import { refuseScheduleWithoutTimer } from './preflight.js';

export interface ExportOptions {
  format: string;
  output?: string;
  set: string[];
  schedule?: string;
  /** cron: the host's time zone (default: this machine's). */
  timeZone?: string;
  /** cron: append the job's output to this file instead of the journal. */
  logFile?: string;
}

export interface ExportedFile {
  path: string;
  mode: string;
  kind: 'file' | 'symlink';
  bytes: number;
}

export interface ExportResult {
  format: ExportFormat;
  bundle: string;
  /** Where the files were written (absolute), when --output was given. */
  output?: string;
  files: ExportedFile[];
  manifest: ExportManifest;
  notes: string[];
}

export async function exportBundle(reference: string, options: ExportOptions): Promise<{ result: ExportResult; tree: ExportTree }> {
  const format = options.format as ExportFormat;
  if (!exportFormats.includes(format)) throw new UserError(`unknown export format "${options.format}"`, `use one of ${exportFormats.join(', ')}`);
  if (format !== 'cron' && (options.timeZone !== undefined || options.logFile !== undefined)) throw new UserError('--time-zone and --log-file are for --format cron', 'leave them out');
  if (options.logFile !== undefined && (!options.logFile.startsWith('/') || path.posix.normalize(options.logFile) !== options.logFile)) throw new UserError(`--log-file ${options.logFile} is not an absolute, normalised path`, 'give the log file as an absolute path, e.g. /var/log/my-job.log');
  const bundle = await findBundle(reference);
  refuseScheduleWithoutTimer(bundle, options.schedule);
  const target = systemTarget();
  const tree = format === 'ansible' ? await renderAnsible(bundle, options) : await renderWithSettings(bundle, format, options);
  const output = options.output === undefined ? undefined : await writeTree(tree, options.output);
  const files = tree.files.map((f) => ({ path: f.path, mode: f.mode.toString(8).padStart(4, '0'), kind: f.kind, bytes: f.content.length }));
  return { result: { format, bundle: bundle.name, ...(output ? { output } : {}), files, manifest: tree.manifest, notes: tree.notes }, tree };

  async function renderWithSettings(b: Bundle, f: 'units' | 'cron', o: ExportOptions): Promise<ExportTree> {
    const settings = await resolveSettings(b, { existingSecrets: {} }, { set: o.set, secret: [] });
    // Every secret "set" with a stand-in: the files that hold them are rendered as descriptions, never with a value.
    const secrets = Object.fromEntries(b.secrets.map((s): [string, SecretInput] => [s.key, { value: 'svcctl-export-no-secret', source: 'generated' }]));
    const desired = desire(b, { settings, secrets, ...(o.schedule !== undefined ? { schedule: o.schedule } : {}), force: false, start: true, enable: true, now: new Date().toISOString(), svcctlVersion }, target);
    return f === 'units' ? exportUnits(desired, b, target) : exportCron(desired, b, target, { hostTimeZone: o.timeZone ?? userTimeZone(), ...(o.logFile !== undefined ? { logFile: o.logFile } : {}) });
  }
}

/** The role's defaults: --set values, else the bundle's defaults; a setting with neither stays a required variable. */
async function renderAnsible(bundle: Bundle, options: ExportOptions): Promise<ExportTree> {
  const given = new Map(options.set.map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${JSON.stringify(text)} is not KEY=VALUE`, 'write it as --set KEY=VALUE');
    return [text.slice(0, eq), text.slice(eq + 1)] as const;
  }));
  const withDefaults = bundle.settings.filter((s) => s.default !== undefined || given.has(s.key));
  // Validated as install validates them (unknown keys, patterns, a secret given as a setting).
  await resolveSettings({ ...bundle, settings: withDefaults }, { existingSecrets: {} }, { set: options.set, secret: [] });
  const settings = Object.fromEntries(bundle.settings.map((s) => [s.key, given.get(s.key) ?? s.default]));
  return exportAnsible(bundle, systemTarget(), { settings, ...(options.schedule !== undefined ? { schedule: options.schedule } : {}), svcctlVersion });
}

/** Writes the tree under DIR (made when missing; an existing one must be empty: an export is never mixed into other files). */
async function writeTree(tree: ExportTree, dir: string): Promise<string> {
  const root = path.resolve(dir);
  const resolved = await realPath(root);
  if (resolved === '/') throw new UserError(`--output ${dir} is the root directory`, 'give an empty directory to write the export into');
  if ((await listDirectory(root)).length > 0) throw new UserError(`--output ${dir} is not empty`, 'give a new or empty directory: an export is never mixed into other files');
  const uid = process.getuid?.() ?? 0;
  const owners = new Set([0, uid]);
  await ensureDirectory(root, { mode: 0o755, owners });
  for (const dir of tree.directories) {
    const target = path.join(root, dir.path);
    await ensureDirectory(path.dirname(target), { mode: 0o755, owners });
    await ensureDirectory(target, { mode: dir.mode, owners });
  }
  for (const file of tree.files) {
    if (file.path.startsWith('/') || file.path.split('/').includes('..')) throw new Error(`export: ${file.path} is not a relative path`);
    const target = path.join(root, file.path);
    await ensureDirectory(path.dirname(target), { mode: 0o755, owners });
    if (file.kind === 'symlink') await makeSymlink(target, file.content.toString('utf8'), { owners });
    else await atomicWrite(target, file.content, { mode: file.mode, owners });
  }
  return root;
}
