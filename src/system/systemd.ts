// SystemdClient: every systemctl, journalctl, systemd-analyze, systemd-sysusers and systemd-tmpfiles argv svcctl
// runs is built here, for one target (`--user` in user scope, `--root=DIR` for a rendered tree).
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { exec, tool, type ExecOptions, type ExecResult } from './exec.js';
import { sleep } from './processes.js';
import { OperationError, UserError } from '../core/errors.js';
import type { Target } from '../core/target.js';
import { lastValues, parseShowOutput, unitStateOf, unitStateProperties, type Clock, type ShowBlock, type UnitState } from '../core/unit-state.js';
import { nowUsec } from '../core/time.js';
import { isTemplateName } from '../core/unit-name.js';

export interface TimerListing {
  /** µs since the epoch, 0 when none */
  next: number;
  last: number;
  unit: string;
  activates: string;
}

export interface UnitListing {
  unit: string;
  load: string;
  active: string;
  sub: string;
}

export interface ScheduleCheck {
  kind: 'interval' | 'calendar';
  normalized: string;
  nextElapses: string[];
}

/** Rendered unit files and the drop-ins beside them (`<unit>.d/<name>`), as systemd-analyze reads them from a scratch directory. */
export interface UnitTree {
  files: { name: string; content: string }[];
  dropIns: { unit: string; name: string; content: string }[];
}

export interface VerifyInput extends UnitTree {
  /** Payload paths that do not exist yet (installed by the same transaction): "not executable" is expected. */
  futureExecutables: string[];
}

export class SystemdClient {
  constructor(readonly target: Target) {}

  private get user(): boolean {
    return this.target.scope === 'user';
  }

  /** `systemctl [--user] [--root=DIR] ARGS`: the one place its argv is built. */
  systemctlArgv(args: string[]): string[] {
    return [tool('systemctl'), ...(this.user ? ['--user'] : []), ...(this.target.offline ? [`--root=${this.target.root}`] : []), ...args];
  }

  /** The journal field naming the unit an entry came from (a user manager's units have their own). */
  get unitField(): '_SYSTEMD_UNIT' | '_SYSTEMD_USER_UNIT' {
    return this.user ? '_SYSTEMD_USER_UNIT' : '_SYSTEMD_UNIT';
  }

  /** `journalctl [--user] ARGS`. */
  journalctlArgv(args: string[]): string[] {
    return [tool('journalctl'), ...(this.user ? ['--user'] : []), ...args];
  }

  private systemctl(args: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return exec(this.systemctlArgv(args), options);
  }

  /** The manager answers: systemd is PID 1 (sd_booted(3)'s marker), or the user's manager has its private socket. */
  async running(): Promise<boolean> {
    if (this.target.offline) return false;
    const marker = this.user ? path.join(this.target.runtimeDir ?? `/run/user/${this.target.uid}`, 'systemd', 'private') : '/run/systemd/system';
    return fsp.stat(marker).then(
      () => true,
      () => false,
    );
  }

  async requireRunning(): Promise<void> {
    if (await this.running()) return;
    if (this.user) {
      throw new UserError(
        `no systemd user manager is running for ${this.target.user} (no ${this.target.runtimeDir ?? `/run/user/${this.target.uid}`}/systemd/private)`,
        'log in through a session that starts one (ssh or a console login, not su/sudo), or ask root for `loginctl enable-linger ' + this.target.user + '`',
      );
    }
    throw new UserError(
      'systemd is not running on this host (it is not PID 1)',
      'use --root DIR to render the files without a running systemd, or try it in `svcctl sandbox start` / `svcctl sandbox exec -- svcctl ...`',
    );
  }

  async daemonReload(): Promise<void> {
    await this.systemctl(['daemon-reload']);
  }

  /** `enable [--now]`; online with --no-reload: the transaction's one daemon-reload has already run. */
  enableArgv(units: string[], now: boolean): string[] {
    return this.systemctlArgv([...(this.target.offline ? [] : ['--no-reload']), 'enable', ...(now && !this.target.offline ? ['--now'] : []), '--', ...units]);
  }

  disableArgv(units: string[], now: boolean): string[] {
    return this.systemctlArgv([...(this.target.offline ? [] : ['--no-reload']), 'disable', ...(now && !this.target.offline ? ['--now'] : []), '--', ...units]);
  }

  enable(units: string[], now: boolean, options: ExecOptions = {}): Promise<ExecResult> {
    return exec(this.enableArgv(units, now), options);
  }

  disable(units: string[], now: boolean, options: ExecOptions = {}): Promise<ExecResult> {
    return exec(this.disableArgv(units, now), options);
  }

  /** start, stop, restart, try-restart, reload, reset-failed of many units in one call. */
  unitVerb(verb: 'start' | 'stop' | 'restart' | 'try-restart' | 'reload' | 'reset-failed', units: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.systemctl([verb, '--', ...units], options);
  }

  /**
   * Removes what a stopped timer keeps between runs: a Persistent= timer's stamp (/var/lib/systemd/timers/stamp-<timer>,
   * made when it starts). One call per timer: systemd 252 fails the others of a call once one has no stamp. A timer
   * without one ("No matching resources found") is not an error, nor is a stamp left behind: nothing depends on it.
   */
  async cleanTimerState(timers: string[]): Promise<void> {
    for (const timer of timers) await this.systemctl(['clean', '--what=state', '--', timer], { check: false });
  }

  /**
   * Many properties of many units in one `systemctl show`, every value of a repeated property kept. With `utc`,
   * timestamps come back as "Sun 2026-11-22 07:55:02 UTC" whatever the host's zone, so they parse without a zone database.
   */
  async showBlocks(units: string[], properties: readonly string[], options: { utc?: boolean } = {}): Promise<Record<string, ShowBlock>> {
    // A template (x@.service) has no runtime state, and systemctl show refuses its name, printing nothing for any
    // of the units asked about with it: templates are asked of list-unit-files instead (one more call, only when
    // there is one), as loaded when systemd lists the file, never active.
    const named = units.filter((unit) => !isTemplateName(unit));
    const templates = units.filter(isTemplateName);
    const [shown, listed] = await Promise.all([
      named.length === 0
        ? undefined
        : this.systemctl(['show', '--no-pager', `--property=${['Id', ...properties].join(',')}`, '--', ...named], { check: false, ...(options.utc ? { env: { TZ: 'UTC' } } : {}) }),
      templates.length === 0 ? undefined : this.systemctl(['list-unit-files', '--output=json', '--no-pager', '--', ...templates], { check: false }),
    ]);
    const blocks = shown ? parseShowOutput(shown.stdout, named) : {};
    if (listed) {
      let files: { unit_file?: string; state?: string }[] = [];
      try {
        files = listed.stdout.trim() ? (JSON.parse(listed.stdout) as typeof files) : [];
      } catch {
        files = [];
      }
      for (const template of templates) {
        const file = files.find((f) => f.unit_file === template);
        blocks[template] = { Id: [template], LoadState: [file ? 'loaded' : 'not-found'], ActiveState: ['inactive'], SubState: ['dead'], ...(file?.state ? { UnitFileState: [file.state] } : {}) };
      }
    }
    return blocks;
  }

  /** As showBlocks, one value per property (the last, as `systemctl show -p X --value` prints repeated ones). */
  async show<P extends string>(units: string[], properties: readonly P[], options: { utc?: boolean } = {}): Promise<Record<string, Record<P, string>>> {
    const blocks = await this.showBlocks(units, properties, options);
    return Object.fromEntries(Object.entries(blocks).map(([unit, block]) => [unit, lastValues(block) as Record<P, string>]));
  }

  /** The state of many units from one `systemctl show` of the unit-state properties, read by the one unit-state model. */
  async unitStates(units: string[]): Promise<Record<string, UnitState>> {
    const shown = await this.show(units, unitStateProperties, { utc: true });
    const clock = clockNow();
    return Object.fromEntries(units.map((unit) => [unit, unitStateOf(unit, shown[unit] ?? {}, clock)]));
  }

  /** `systemctl list-timers --output=json`: absolute next/last elapses of many timers in one call. */
  async listTimers(patterns: string[], all = true): Promise<TimerListing[]> {
    const result = await this.systemctl(['list-timers', ...(all ? ['--all'] : []), '--output=json', '--no-pager', '--', ...patterns]);
    const text = result.stdout.trim();
    return text ? (JSON.parse(text) as TimerListing[]) : [];
  }

  /** `systemctl list-units --all --output=json PATTERN...`: units systemd has not loaded are absent. */
  async listUnits(patterns: string[]): Promise<Map<string, UnitListing>> {
    if (patterns.length === 0) return new Map();
    const result = await this.systemctl(['list-units', '--all', '--output=json', '--no-pager', '--', ...patterns]);
    const rows = result.stdout.trim() ? (JSON.parse(result.stdout) as UnitListing[]) : [];
    return new Map(rows.map((r) => [r.unit, r]));
  }

  journal(args: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return exec(this.journalctlArgv(args), { check: false, ...options });
  }

  /** Asks journald to write out what it holds, so the lines a process wrote just before it exited can be read. */
  async journalSync(): Promise<void> {
    // --sync needs root in system scope; a user's journal is written by the same journald.
    if (!this.user) await exec([tool('journalctl'), '--sync'], { check: false });
  }

  /** systemd-analyze, which svcctl's checks rely on: its absence is an error of its own, never a verdict. */
  private async analyze(args: string[], env: Record<string, string> = {}): Promise<ExecResult> {
    const result = await exec([tool('systemd-analyze'), ...(this.user ? ['--user'] : []), ...args], { check: false, env });
    if (result.exitCode === 127) throw new OperationError('systemd-analyze was not found, so svcctl cannot check the units and schedules it would install', 'install systemd (apt-get install systemd), which provides it');
    return result;
  }

  /**
   * `systemd-analyze verify` on rendered files. It exits 0 even when it ignores a line, so every warning that
   * names one of our files is a problem.
   */
  async verifyUnits(input: VerifyInput): Promise<string[]> {
    return this.inScratchTree(input, async (dir) => {
      const result = await this.analyze(['verify', '--man=no', ...input.files.map((f) => path.join(dir, f.name))], { SYSTEMD_LOG_COLOR: '0' });
      // systemd-analyze verify checks a template (x@.service) as its instance x@i.service, and names it so.
      const names = input.files.flatMap((f) => [f.name, ...(isTemplateName(f.name) ? [f.name.replace('@.', '@i.')] : [])]);
      const aboutOurFiles = `${result.stderr}\n${result.stdout}`
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.includes(dir) || names.some((n) => line.startsWith(`${n}:`)));
      const problems = aboutOurFiles.filter((line) => !input.futureExecutables.some((exe) => line.includes(`Command ${exe} is not executable`))).map((line) => line.split(`${dir}/`).join(''));
      // A failure that names none of our files is still a failure (one about a payload not yet installed is expected).
      if (aboutOurFiles.length === 0 && result.exitCode !== 0) problems.push(`systemd-analyze verify exited ${result.exitCode}: ${firstLine(result.stderr) || firstLine(result.stdout)}`);
      return problems;
    });
  }

  /**
   * `systemd-analyze security --offline=yes --json=short` of rendered services, all in one process; its output is read by
   * core/exposure.ts. SYSTEMD_ANALYZE_DEBUG=1 adds each check's weight, badness and range, which the score is made of.
   */
  async securityOffline(tree: UnitTree, services: string[]): Promise<ExecResult> {
    return this.inScratchTree(tree, async (dir) => {
      const result = await this.analyze(['security', '--offline=yes', '--json=short', '--man=no', '--', ...services.map((s) => path.join(dir, s))], { SYSTEMD_ANALYZE_DEBUG: '1', SYSTEMD_LOG_COLOR: '0', SYSTEMD_COLORS: '0' });
      return { ...result, stderr: result.stderr.split(`${dir}/`).join('') };
    });
  }

  /**
   * The tree written to a fresh scratch directory (under SVCCTL_TMPDIR, else the OS temp dir), removed whatever happens.
   * systemd-analyze reads the drop-ins in `<unit>.d/` beside a unit file it is given by path.
   */
  private async inScratchTree<T>(tree: UnitTree, use: (dir: string) => Promise<T>): Promise<T> {
    const dir = await fsp.mkdtemp(path.join(process.env.SVCCTL_TMPDIR ?? os.tmpdir(), 'svcctl-verify-'));
    try {
      // Side by side: 20 bundles write some 60 files here, on the way to the one systemd-analyze process.
      await Promise.all([...new Set(tree.dropIns.map((d) => d.unit))].map((unit) => fsp.mkdir(path.join(dir, `${unit}.d`))));
      await Promise.all([
        ...tree.files.map((file) => fsp.writeFile(path.join(dir, file.name), file.content, { mode: 0o600 })),
        ...tree.dropIns.map((dropIn) => fsp.writeFile(path.join(dir, `${dropIn.unit}.d`, dropIn.name), dropIn.content, { mode: 0o600 })),
      ]);
      return await use(dir);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  /** Validates an interval with `systemd-analyze timespan` or a calendar expression with `systemd-analyze calendar`. */
  async checkSchedule(kind: 'interval' | 'calendar', expression: string, iterations = 3): Promise<ScheduleCheck> {
    if (kind === 'interval') {
      const result = await this.analyze(['timespan', '--', expression]);
      if (result.exitCode !== 0) throw new UserError(`invalid schedule interval "${expression}": ${firstLine(result.stderr)}`, 'use a systemd time span such as 5min, 1h 30min, 2d (see systemd.time(7))');
      const human = result.stdout.match(/Human:\s*(.+)/)?.[1]?.trim() ?? expression;
      return { kind, normalized: human, nextElapses: [] };
    }
    const result = await this.analyze(['calendar', `--iterations=${iterations}`, '--', expression], { SYSTEMD_COLORS: '0' });
    if (result.exitCode !== 0) {
      throw new UserError(`invalid schedule "${expression}": ${firstLine(result.stderr)}`, 'use a systemd calendar expression such as "*-*-* 02:00:00", "Mon..Fri 09:00", "daily" or an interval such as 15min (see systemd.time(7))');
    }
    const normalized = result.stdout.match(/Normalized form:\s*(.+)/)?.[1]?.trim() ?? expression;
    const nextElapses = [...result.stdout.matchAll(/(?:Next elapse|Iter\. #\d+):\s*(.+)/g)].map((m) => m[1]!.trim());
    return { kind, normalized, nextElapses };
  }

  /** A time journalctl and systemd-analyze understand ("1 hour ago", "today", "2026-01-31 08:00"). */
  async validTimestamp(text: string): Promise<boolean> {
    return (await this.analyze(['timestamp', '--', text])).exitCode === 0;
  }

  /** `systemd-sysusers FILE` (system scope): creates the users and groups the file declares. */
  sysusers(file: string): Promise<ExecResult> {
    if (this.user) throw new OperationError('systemd-sysusers is for the system manager; a user scope install has no system user');
    return exec([tool('systemd-sysusers'), ...(this.target.offline ? [`--root=${this.target.root}`] : []), file]);
  }

  /** `systemd-tmpfiles [--user] --create FILE`. */
  tmpfilesCreate(file: string): Promise<ExecResult> {
    return exec([tool('systemd-tmpfiles'), ...(this.user ? ['--user'] : []), ...(this.target.offline ? [`--root=${this.target.root}`] : []), '--create', file]);
  }

  /**
   * After a reload the timer must be loaded and, when `expected` is given, show that trigger: systemd's own
   * parse of what was written. (`systemctl show` prints one TimersMonotonic= line per trigger.)
   */
  async confirmTimerSchedule(timer: string, expected?: { kind: 'interval' | 'calendar'; normalized: string }): Promise<void> {
    const blocks = (await this.showBlocks([timer], ['LoadState', 'TimersCalendar', 'TimersMonotonic']))[timer] ?? {};
    const load = blocks.LoadState?.[0];
    if (load !== 'loaded') throw new OperationError(`${timer} is ${load ?? 'unknown'} after the reload; see: systemctl status ${timer}`);
    if (expected === undefined) return;
    const { kind, normalized } = expected;
    const actual = (kind === 'calendar' ? blocks.TimersCalendar : blocks.TimersMonotonic) ?? [];
    const wanted = kind === 'calendar' ? [`OnCalendar=${normalized} ;`] : [`OnActiveUSec=${normalized} ;`, `OnUnitActiveUSec=${normalized} ;`];
    const found = actual.some((line) => wanted.some((w) => line.includes(w)));
    if (!found) throw new OperationError(`${timer} does not show "${wanted.join('" or "')}" after the reload (it shows ${actual.join(', ') || 'no such trigger'})`);
  }

  /**
   * Runs a job now and waits for it (a oneshot's start job ends with the run); fails with its exit status.
   * A run already under way began before whatever just changed, so it is waited out first.
   */
  async runJob(service: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const state = (await this.show([service], ['ActiveState'] as const))[service]?.ActiveState;
      if (state !== 'activating' && state !== 'deactivating') break;
      await sleep(200);
    }
    const result = await this.unitVerb('start', [service], { check: false });
    if (result.exitCode === 0) return;
    const props = (await this.show([service], ['Result', 'ExecMainStatus'] as const))[service];
    const how = props?.Result === 'exit-code' ? `exit status ${props.ExecMainStatus}` : props?.Result || result.stderr.trim().split('\n')[0];
    throw new OperationError(`${service} failed (${how})`);
  }
}

/** Realtime and monotonic "now", read together: a timer's monotonic next elapse is placed with them. */
export function clockNow(): Clock {
  return { now: nowUsec(), monotonicNow: Number(process.hrtime.bigint() / 1000n) };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

