// Everything svcctl asks systemd, through the exec seam: reloads, enable/start, unit properties, verification.
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { exec, type ExecResult } from './exec.js';
import { sleep } from './processes.js';
import { OperationError, UserError } from '../core/errors.js';

/** systemd is PID 1 and answering (the marker directory systemd creates at boot, as sd_booted(3) checks). */
export async function systemdIsRunning(): Promise<boolean> {
  return fsp.stat('/run/systemd/system').then(
    (s) => s.isDirectory(),
    () => false,
  );
}

export async function requireSystemd(): Promise<void> {
  if (!(await systemdIsRunning())) {
    throw new UserError(
      'systemd is not running on this host (it is not PID 1)',
      'use --root DIR to render the files without a running systemd, or try it in `svcctl sandbox start` / `svcctl sandbox exec -- svcctl ...`',
    );
  }
}

export const systemctl = (args: string[]) => exec(['systemctl', ...args]);

export async function daemonReload(): Promise<void> {
  await systemctl(['daemon-reload']);
}

/**
 * Asks for many properties of many units in one `systemctl show` call. With `utc`, timestamps come back
 * as "Sun 2026-11-22 07:55:02 UTC" whatever the host's time zone, so they parse without a zone database.
 */
export async function showUnits<P extends string>(units: string[], properties: readonly P[], options: { utc?: boolean } = {}): Promise<Record<string, Record<P, string>>> {
  if (units.length === 0) return {};
  const result = await exec(['systemctl', 'show', '--no-pager', `--property=${['Id', ...properties].join(',')}`, '--', ...units], {
    check: false,
    ...(options.utc ? { env: { ...process.env, TZ: 'UTC' } } : {}),
  });
  const out: Record<string, Record<P, string>> = {};
  const blocks = result.stdout.split(/\n\n/);
  blocks.forEach((block, index) => {
    const values: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
    }
    const unit = units[index];
    if (unit !== undefined) out[unit] = values as Record<P, string>;
  });
  return out;
}

/** systemd-analyze, which svcctl's checks rely on: its absence is an error of its own, never a verdict. */
async function systemdAnalyze(args: string[], env: Record<string, string> = {}): Promise<ExecResult> {
  const result = await exec(['systemd-analyze', ...args], { check: false, env });
  if (result.exitCode === 127) throw new OperationError(`systemd-analyze was not found, so svcctl cannot check the units and schedules it would install`, 'install systemd (apt-get install systemd), which provides it');
  return result;
}

/**
 * `systemd-analyze verify` on rendered files. It exits 0 even when it ignores a line, so every
 * warning that names one of our files is an error. `futureExecutables` are payload paths that do not
 * exist yet (they are installed by the same transaction): "not executable" for them is expected.
 */
export async function verifyUnitFiles(files: { name: string; content: string }[], dropIns: { unit: string; name: string; content: string }[], futureExecutables: string[]): Promise<string[]> {
  const dir = await fsp.mkdtemp(path.join(process.env.SVCCTL_TMPDIR ?? os.tmpdir(), 'svcctl-verify-'));
  try {
    for (const file of files) await fsp.writeFile(path.join(dir, file.name), file.content, { mode: 0o600 });
    for (const dropIn of dropIns) {
      await fsp.mkdir(path.join(dir, `${dropIn.unit}.d`), { recursive: true });
      await fsp.writeFile(path.join(dir, `${dropIn.unit}.d`, dropIn.name), dropIn.content, { mode: 0o600 });
    }
    const result = await systemdAnalyze(['verify', '--man=no', ...files.map((f) => path.join(dir, f.name))], { SYSTEMD_LOG_COLOR: '0' });
    const names = files.map((f) => f.name);
    const aboutOurFiles = `${result.stderr}\n${result.stdout}`
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.includes(dir) || names.some((n) => line.startsWith(`${n}:`)));
    const problems = aboutOurFiles.filter((line) => !futureExecutables.some((exe) => line.includes(`Command ${exe} is not executable`))).map((line) => line.split(`${dir}/`).join(''));
    // A failure that names none of our files is still a failure (one about a payload not yet installed is expected).
    if (aboutOurFiles.length === 0 && result.exitCode !== 0) problems.push(`systemd-analyze verify exited ${result.exitCode}: ${firstLine(result.stderr) || firstLine(result.stdout)}`);
    return problems;
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

export interface TimerListing {
  /** µs since the epoch, 0 when none */
  next: number;
  last: number;
  unit: string;
  activates: string;
}

/** `systemctl list-timers --output=json`: absolute next/last elapses of many timers in one call. */
export async function listTimers(patterns: string[], all = true): Promise<TimerListing[]> {
  const result = await exec(['systemctl', 'list-timers', ...(all ? ['--all'] : []), '--output=json', '--no-pager', ...patterns]);
  const text = result.stdout.trim();
  return text ? (JSON.parse(text) as TimerListing[]) : [];
}

export interface ScheduleCheck {
  kind: 'interval' | 'calendar';
  normalized: string;
  nextElapses: string[];
}

/** Validates an interval with `systemd-analyze timespan` or a calendar expression with `systemd-analyze calendar`. */
export async function checkSchedule(kind: 'interval' | 'calendar', expression: string, iterations = 3): Promise<ScheduleCheck> {
  if (kind === 'interval') {
    const result = await systemdAnalyze(['timespan', expression]);
    if (result.exitCode !== 0) throw new UserError(`invalid schedule interval "${expression}": ${firstLine(result.stderr)}`, 'use a systemd time span such as 5min, 1h 30min, 2d (see systemd.time(7))');
    const human = result.stdout.match(/Human:\s*(.+)/)?.[1]?.trim() ?? expression;
    return { kind, normalized: human, nextElapses: [] };
  }
  const result = await systemdAnalyze(['calendar', `--iterations=${iterations}`, expression], { SYSTEMD_COLORS: '0' });
  if (result.exitCode !== 0) {
    throw new UserError(`invalid schedule "${expression}": ${firstLine(result.stderr)}`, 'use a systemd calendar expression such as "*-*-* 02:00:00", "Mon..Fri 09:00", "daily" or an interval such as 15min (see systemd.time(7))');
  }
  const normalized = result.stdout.match(/Normalized form:\s*(.+)/)?.[1]?.trim() ?? expression;
  const nextElapses = [...result.stdout.matchAll(/(?:Next elapse|Iter\. #\d+):\s*(.+)/g)].map((m) => m[1]!.trim());
  return { kind, normalized, nextElapses };
}

/**
 * After a reload the timer must be loaded and, when `expected` is given, show that trigger: systemd's own
 * parse of what was written. (`systemctl show` prints one TimersMonotonic= line per trigger; the last one
 * is kept, and svcctl's interval drop-in has two triggers with the same span.)
 */
export async function confirmTimerSchedule(timer: string, expected?: { kind: 'interval' | 'calendar'; normalized: string }): Promise<void> {
  const props = (await showUnits([timer], ['LoadState', 'TimersCalendar', 'TimersMonotonic'] as const))[timer];
  if (props?.LoadState !== 'loaded') throw new OperationError(`${timer} is ${props?.LoadState ?? 'unknown'} after the reload; see: systemctl status ${timer}`);
  if (expected === undefined) return;
  const { kind, normalized } = expected;
  const actual = (kind === 'calendar' ? props.TimersCalendar : props.TimersMonotonic) ?? '';
  const trigger = kind === 'calendar' ? `OnCalendar=${normalized}` : `OnActiveUSec=${normalized}" or "OnUnitActiveUSec=${normalized}`;
  const found = kind === 'calendar' ? actual.includes(`OnCalendar=${normalized} ;`) : [`OnActiveUSec=${normalized} ;`, `OnUnitActiveUSec=${normalized} ;`].some((t) => actual.includes(t));
  if (!found) throw new OperationError(`${timer} does not show "${trigger}" after the reload (it shows ${actual || 'no such trigger'})`);
}

/**
 * Runs a job now and waits for it (a oneshot's start job ends with the run); fails with its exit status.
 * A run already under way began before whatever just changed, so it is waited out first (it could pass
 * with the old configuration).
 */
export async function runJob(service: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const state = (await showUnits([service], ['ActiveState'] as const))[service]?.ActiveState;
    if (state !== 'activating' && state !== 'deactivating') break;
    await sleep(200);
  }
  const result = await exec(['systemctl', 'start', service], { check: false });
  if (result.exitCode === 0) return;
  const props = (await showUnits([service], ['Result', 'ExecMainStatus'] as const))[service];
  const how = props?.Result === 'exit-code' ? `exit status ${props.ExecMainStatus}` : props?.Result || result.stderr.trim().split('\n')[0];
  throw new OperationError(`${service} failed (${how})`);
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

export function stepError(step: string, error: unknown): OperationError {
  return error instanceof OperationError ? error : new OperationError(`${step}: ${(error as Error).message}`);
}
