// The logs flow: journalctl for every unit of an installed bundle, streamed straight to the terminal or pipe (or
// collected for --json). Without root it finds the units in the public index, and reads the journal as a member of
// the groups systemd lets read it.
import { EndedEarly, NeedsRootError, OperationError, UserError } from '../core/errors.js';
import { systemTarget, type Target } from '../core/target.js';
import { readAccounts } from '../system/accounts.js';
import { execToStdout } from '../system/exec.js';
import { watchInterrupt } from '../system/interrupt.js';
import { isRoot } from '../system/privileges.js';
import { SystemdClient } from '../system/systemd.js';
import { findInstalled } from './installed.js';
import { targetFor, type ScopeOptions } from './target.js';

export const logFormats = ['short', 'short-iso', 'short-precise', 'cat', 'json', 'json-pretty', 'verbose'] as const;
export type LogFormat = (typeof logFormats)[number];

export interface LogsOptions extends ScopeOptions {
  follow: boolean;
  lines?: number;
  since?: string;
  /** One of the bundle's units (the suffix may be left out: "tick" for tick.service). */
  unit?: string;
  output: LogFormat;
  /** --json: collect the entries into one document (not with --follow). */
  json: boolean;
}

export interface LogsResult {
  bundle: string;
  units: string[];
  /** journalctl's exit status (streaming), or the collected entries (--json). */
  exitCode: number;
  entries?: Record<string, unknown>[];
}

/** With --json and no -n, the newest entries collected into the document. */
export const defaultJsonLines = 100;

/** The groups whose members may read the whole system journal (journald gives them read access to its files). */
const journalReaders = ['systemd-journal', 'adm', 'wheel'];

export async function logs(reference: string, options: LogsOptions): Promise<LogsResult> {
  const target = await targetFor(options);
  const installed = await findInstalled(reference, { command: 'svcctl logs', needs: 'public', target });
  const units = options.unit === undefined ? installed.units : [unitOf(installed.units, options.unit, installed.bundle)];
  if (options.lines !== undefined && (!Number.isInteger(options.lines) || options.lines < 0)) throw new UserError(`-n must be a whole number, not ${options.lines}`, 'e.g. -n 50');
  if (options.json && options.follow) throw new UserError('--json collects the entries into one document and cannot follow', 'use --output json with -f for one JSON object per line');
  await requireJournalAccess(target);

  const systemd = new SystemdClient(target);
  if (options.since !== undefined && !(await systemd.validTimestamp(options.since))) {
    throw new UserError(`--since "${options.since}" is not a time systemd understands`, 'e.g. --since "1 hour ago", --since today, --since "2026-01-31 08:00", --since -15min (see systemd.time(7))');
  }
  const argv = units.flatMap((u) => ['--unit', u]);
  if (options.since !== undefined) argv.push('--since', options.since);
  if (options.json) {
    argv.push('--output', 'json', '--lines', String(options.lines ?? defaultJsonLines), '--no-pager', '--quiet');
    const result = await systemd.journal(argv);
    if (result.exitCode !== 0 && result.stdout.trim() === '') throw new OperationError(`journalctl failed: ${result.stderr.trim()}`);
    const entries = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { bundle: installed.bundle, units, exitCode: 0, entries };
  }
  argv.push('--output', options.output);
  if (options.lines !== undefined) argv.push('--lines', String(options.lines));
  if (options.follow) argv.push('--follow');
  return { bundle: installed.bundle, units, exitCode: await streamUntilInterrupted(systemd.journalctlArgv(argv)) };
}

/**
 * A user outside the journal's reader groups sees only their own processes' entries: none of a system service's.
 * Say so rather than print nothing.
 */
async function requireJournalAccess(target: Target): Promise<void> {
  // A user reads his own manager's entries (journalctl --user).
  if (isRoot() || target.scope === 'user') return;
  const { groups } = await readAccounts(systemTarget());
  const mine = new Set([process.getegid?.(), ...(process.getgroups?.() ?? [])]);
  const readers = journalReaders.filter((name) => groups.has(name));
  if (readers.some((name) => mine.has(groups.get(name)!.gid))) return;
  const denied = new NeedsRootError('svcctl logs', "run it again with sudo, or as a member of systemd-journal; for bundles of your own in your systemd user manager, add --user");
  denied.message = `svcctl logs needs root, or membership in ${readers.join(' or ') || 'systemd-journal'}: only they may read the system journal`;
  throw denied;
}

/**
 * Runs journalctl with our stdout (its own pager on a terminal, none on a pipe). Ctrl-C reaches journalctl through
 * the terminal's process group; svcctl ends with exit 0, without a stack (through src/cli.ts, which ends a journalctl
 * still running). When the reader of a pipe goes away, src/cli.ts ends svcctl with exit 0 the same way.
 */
async function streamUntilInterrupted(argv: string[]): Promise<number> {
  const interrupt = watchInterrupt();
  try {
    const code = await Promise.race([execToStdout(argv), interrupt.arrived.then(() => 0)]);
    if (interrupt.happened) throw new EndedEarly(0);
    return code === 130 ? 0 : code;
  } finally {
    interrupt.dispose();
  }
}

/** Resolves --unit against the bundle's units: exact, or without its suffix (.service preferred). */
export function unitOf(units: string[], wanted: string, bundle: string): string {
  if (units.includes(wanted)) return wanted;
  const candidates = units.filter((u) => u.slice(0, u.lastIndexOf('.')) === wanted);
  const pick = candidates.find((u) => u.endsWith('.service')) ?? candidates[0];
  if (pick) return pick;
  throw new UserError(`${wanted} is not a unit of bundle ${bundle}`, `its units: ${units.join(', ')}`);
}
