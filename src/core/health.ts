// Pure monitoring evaluation: unit properties, the installed bundle and "now" in; a Nagios status, one line and perfdata out.
import { formatSeconds, parseSchedule, parseTimespan, schedulePeriod } from './schedule.js';
import type { Usec } from './time.js';
import type { Receipt } from './receipt.js';
import { unitStateOf, type UnitProperties, type UnitState } from './unit-state.js';

export type { UnitProperties };

export type CheckStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

/** The Nagios plugin convention: the exit code of each status. */
export const checkExitCode: Record<CheckStatus, 0 | 1 | 2 | 3> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

const severity: Record<CheckStatus, number> = { OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 };

/** What is installed, from the receipt (or from the manifest when the receipt cannot be read without root). */
export interface CheckSubject {
  bundle: string;
  /**
   * Where the description came from: the receipt, the public index (both current), or the bundle's manifest
   * (defaults; a `svcctl schedule` override is not seen).
   */
  from: 'receipt' | 'index' | 'manifest';
  units: string[];
  enabled: string[];
  /** Installed with --no-enable: nothing is meant to run until `svcctl enable`. */
  deferred?: boolean;
  service?: string;
  timer?: string;
  schedule?: string;
  health?: { maxAge?: string; url?: string };
}

export function subjectFromReceipt(receipt: Receipt): CheckSubject {
  return {
    bundle: receipt.bundle,
    from: 'receipt',
    units: receipt.units,
    enabled: receipt.enableDeferred ? [] : receipt.enabled,
    ...(receipt.enableDeferred ? { deferred: true } : {}),
    ...(receipt.service ? { service: receipt.service } : {}),
    ...(receipt.timer ? { timer: receipt.timer } : {}),
    ...(receipt.schedule ? { schedule: receipt.schedule } : {}),
    ...(receipt.health ? { health: receipt.health } : {}),
  };
}


/** The result of asking the bundle's health URL. */
export interface UrlProbe {
  url: string;
  ok: boolean;
  /** HTTP status, when there was an answer. */
  status?: number;
  /** Why there was no (good) answer: "connection refused", "timed out after 2 s", "HTTP 503". */
  error?: string;
  ms: number;
}

export interface CheckInput {
  /** undefined: not installed. */
  subject?: CheckSubject;
  /** `systemctl show` output per unit; a unit without LoadState means systemd did not answer. */
  units: Record<string, UnitProperties>;
  url?: UrlProbe;
  now: Usec;
  /** CLOCK_MONOTONIC now, in µs: places a monotonic timer's next elapse in time. */
  monotonicNow: Usec;
  /** --max-age */
  maxAge?: string;
}

export interface PerfDatum {
  label: string;
  value: number;
  uom: '' | 's';
  warn?: number;
  crit?: number;
  min?: number;
}

/** What a problem concerns: `secret rotate` reverts only on problems of the service it restarted. */
export type ProblemTopic = 'systemd' | 'unit' | 'enabled' | 'timer' | 'service' | 'age' | 'url';

export interface Problem {
  status: Exclude<CheckStatus, 'OK'>;
  topic: ProblemTopic;
  message: string;
}

export interface CheckMetrics {
  /** 1: the daemon runs (and its URL answers) or the timer is active and its last run did not fail. */
  up: boolean;
  lastRun?: Usec;
  lastSuccess?: Usec;
  nextRun?: Usec;
  lastExitStatus?: number;
}

export interface CheckResult {
  bundle: string;
  status: CheckStatus;
  exitCode: 0 | 1 | 2 | 3;
  /** The text after "SVCCTL <STATUS> - ". */
  summary: string;
  problems: Problem[];
  perfdata: PerfDatum[];
  metrics: CheckMetrics;
  maxAge?: { seconds: number; source: 'flag' | 'manifest' | 'schedule' };
}

const usecPerSecond = 1_000_000;

/**
 * The max age of the last success: --max-age, else the manifest's health.maxAge, else from the schedule —
 * an interval's double (at least interval + 1 min: a timer's default accuracy is a minute), a calendar's
 * period plus up to an hour (25 h for a daily job).
 */
export function resolveMaxAge(subject: CheckSubject, flag: string | undefined): CheckResult['maxAge'] {
  const parse = (text: string) => {
    const seconds = parseTimespan(text);
    return seconds !== undefined && seconds > 0 && Number.isFinite(seconds) ? seconds : undefined;
  };
  if (flag !== undefined) {
    const seconds = parse(flag);
    if (seconds === undefined) throw new RangeError(`--max-age "${flag}" is not a time span such as 10min, 25h or 2d`);
    return { seconds, source: 'flag' };
  }
  const fromManifest = subject.health?.maxAge !== undefined ? parse(subject.health.maxAge) : undefined;
  if (fromManifest !== undefined) return { seconds: fromManifest, source: 'manifest' };
  if (!subject.schedule) return undefined;
  const schedule = parseSchedule(subject.schedule);
  const period = schedulePeriod(schedule);
  if (period === undefined) return undefined;
  return { seconds: schedule.kind === 'interval' ? Math.max(2 * period, period + 60) : period + Math.min(period, 3600), source: 'schedule' };
}

/** Evaluates a bundle's health. Never throws: what cannot be judged is UNKNOWN. */
export function evaluateCheck(input: CheckInput): CheckResult {
  const { subject } = input;
  if (!subject) return unknown('?', 'not installed');
  try {
    return evaluateInstalled(subject, input);
  } catch (error) {
    return unknown(subject.bundle, (error as Error).message);
  }
}

function unknown(bundle: string, message: string): CheckResult {
  return {
    bundle,
    status: 'UNKNOWN',
    exitCode: 3,
    summary: `${bundle}: ${message}`,
    problems: [{ status: 'UNKNOWN', topic: 'systemd', message }],
    perfdata: [],
    metrics: { up: false },
  };
}

/** "not installed" for a bundle known only by name. */
export function notInstalled(bundle: string, why = 'not installed'): CheckResult {
  return unknown(bundle, why);
}

function evaluateInstalled(subject: CheckSubject, input: CheckInput): CheckResult {
  const { now } = input;
  const clock = { now, monotonicNow: input.monotonicNow };
  const problems: Problem[] = [];
  const notes: string[] = [];
  const perfdata: PerfDatum[] = [];
  const metrics: CheckMetrics = { up: false };
  const add = (status: Problem['status'], topic: ProblemTopic, message: string) => problems.push({ status, topic, message });
  const stateOf = (unit: string): UnitState => unitStateOf(unit, input.units[unit] ?? {}, clock);
  const states = subject.units.map(stateOf);

  if (!states.some((unit) => unit.answered)) return unknown(subject.bundle, 'systemd did not answer (systemctl show returned nothing)');
  const maxAge = resolveMaxAge(subject, input.maxAge);

  for (const unit of states) if (unit.answered && unit.load !== 'loaded') add('CRITICAL', 'unit', `${unit.unit} is ${unit.load}`);
  // Installed with --no-enable and left so: not running is what was asked for. A unit that runs or failed (started
  // by hand) is judged as usual.
  if (subject.deferred && problems.length === 0 && states.every((unit) => !unit.failed && !unit.running && unit.active !== 'active')) {
    return { bundle: subject.bundle, status: 'OK', exitCode: 0, summary: `${subject.bundle}: installed, not enabled (--no-enable; svcctl enable ${subject.bundle} starts it)`, problems: [], perfdata: [], metrics: { up: false } };
  }
  for (const name of subject.enabled) {
    const unit = stateOf(name);
    if (unit.load === 'loaded' && unit.enabled !== undefined && !unit.enabledAtBoot) add('WARNING', 'enabled', `${name} is ${unit.enabled || 'not enabled'} (it will not start at boot)`);
  }

  const service = subject.service ? stateOf(subject.service) : undefined;
  const serviceName = subject.service ?? '';
  const since = (usec: Usec) => formatSeconds(Math.max(0, now - usec) / usecPerSecond);

  if (subject.timer) {
    const timer = stateOf(subject.timer);
    const timerActive = timer.active === 'active';
    if (timer.load === 'loaded' && !timerActive) add('CRITICAL', 'timer', `timer ${subject.timer} is ${timer.answered ? timer.active : 'not active'}`);
    const nextRun = timer.nextElapse;
    if (nextRun !== undefined) metrics.nextRun = nextRun;

    const run = service?.lastRun;
    const started = service?.started;
    const exited = service?.ended;
    const failed = service?.failed ?? false;
    if (started !== undefined) metrics.lastRun = started;
    if (started !== undefined && run && run.state !== 'running' && run.exitStatus !== null) metrics.lastExitStatus = run.exitStatus;

    if (failed) {
      const result = service?.result ?? run?.result ?? 'unknown';
      const how = result !== 'exit-code' ? result : `exit status ${run?.exitStatus ?? '?'}`;
      add('CRITICAL', 'service', `last run failed (${how}${exited !== undefined ? `, ${since(exited)} ago` : ''}); see journalctl -u ${serviceName}`);
    } else if (service?.running && started !== undefined) {
      notes.push(`running now (started ${since(started)} ago)`);
      if (maxAge && (now - started) / usecPerSecond > maxAge.seconds) add('WARNING', 'age', `running for ${since(started)} (max age ${formatSeconds(maxAge.seconds)})`);
    } else if (started === undefined) {
      // systemd forgets a service's last run at reboot; a persistent timer still knows when it last fired.
      const waiting = timer.activeSince !== undefined ? (now - timer.activeSince) / usecPerSecond : 0;
      const limit = maxAge ? 2 * maxAge.seconds : Infinity;
      if (timer.lastTrigger !== undefined) add('WARNING', 'age', `no run since boot (timer last fired ${since(timer.lastTrigger)} ago, result unknown)`);
      else if (timerActive && waiting > limit) add('CRITICAL', 'age', `never ran, though the timer has been active for ${since(timer.activeSince!)}`);
      else add('WARNING', 'age', 'never ran yet');
    } else {
      const success = exited ?? started;
      metrics.lastSuccess = success;
      const age = Math.max(0, now - success) / usecPerSecond;
      perfdata.push({ label: 'last_success_age', value: round(age), uom: 's', ...(maxAge ? { warn: round(maxAge.seconds), crit: round(2 * maxAge.seconds) } : {}), min: 0 });
      if (maxAge && age > 2 * maxAge.seconds) add('CRITICAL', 'age', `last success ${since(success)} ago, more than twice the max age ${formatSeconds(maxAge.seconds)}`);
      else if (maxAge && age > maxAge.seconds) add('WARNING', 'age', `late: last success ${since(success)} ago (max age ${formatSeconds(maxAge.seconds)})`);
      else notes.push(`last run succeeded ${since(success)} ago${maxAge ? ` (max age ${formatSeconds(maxAge.seconds)})` : ''}`);
    }
    if (metrics.lastExitStatus !== undefined) perfdata.push({ label: 'exit_status', value: metrics.lastExitStatus, uom: '', min: 0 });
    if (nextRun !== undefined) {
      perfdata.push({ label: 'next_run_in', value: round(Math.max(0, nextRun - now) / usecPerSecond), uom: 's', min: 0 });
      notes.push(`next run in ${formatSeconds(Math.max(0, nextRun - now) / usecPerSecond)}`);
    } else if (timerActive) {
      // Between a run and the timer re-arming there is briefly no next elapse.
      notes.push(service?.running || timer.noNextElapse === 'service-running' ? 'next run after the current one' : timer.noNextElapse === 'elapsed' ? 'no next run (the timer has elapsed)' : 'next run not scheduled yet');
    }
    metrics.up = timerActive && !failed;
  } else if (service) {
    const restarts = service.restarts?.count ?? 0;
    if (service.active === 'active') {
      if (service.activeSince !== undefined) {
        perfdata.push({ label: 'uptime', value: round((now - service.activeSince) / usecPerSecond), uom: 's', min: 0 });
        notes.push(`${serviceName} active for ${since(service.activeSince)}`);
        metrics.lastRun = service.activeSince;
      } else notes.push(`${serviceName} active`);
    } else if (service.restarting) add('CRITICAL', 'service', `${serviceName} keeps failing and is being restarted (${restarts} restarts); see journalctl -u ${serviceName}`);
    else if (service.active === 'failed') {
      const run = service.lastRun;
      const how = service.result === 'exit-code' && run?.exitStatus !== null && run?.exitStatus !== undefined ? `exit status ${run.exitStatus}` : service.result || 'unknown';
      add('CRITICAL', 'service', `${serviceName} failed (${how}); see journalctl -u ${serviceName}`);
    } else if (service.running) add('WARNING', 'service', `${serviceName} is ${service.active}`);
    else if (service.load === 'loaded') add('CRITICAL', 'service', `${serviceName} is not running (${service.answered ? service.active : 'unknown'})`);
    perfdata.push({ label: 'restarts', value: restarts, uom: '', min: 0 });
    metrics.up = service.active === 'active';
  }

  if (input.url) {
    const probe = input.url;
    if (probe.ok) {
      notes.push(`${probe.url} answered${probe.status !== undefined ? ` ${probe.status}` : ''} in ${Math.round(probe.ms)} ms`);
      perfdata.push({ label: 'response_time', value: round(probe.ms / 1000, 3), uom: 's', min: 0 });
    } else {
      add('CRITICAL', 'url', `${probe.url} is down (${probe.error ?? 'no answer'})`);
      metrics.up = false;
    }
  }
  if (maxAge) perfdata.push({ label: 'max_age', value: round(maxAge.seconds), uom: 's', min: 0 });

  const status = problems.reduce<CheckStatus>((worst, p) => (severity[p.status] > severity[worst] ? p.status : worst), 'OK');
  const ordered = [...problems].sort((a, b) => severity[b.status] - severity[a.status]);
  const text = [...ordered.map((p) => p.message), ...notes].join(', ');
  const via = subject.from === 'manifest' ? ' [receipt unreadable without root: defaults from the manifest]' : '';
  return {
    bundle: subject.bundle,
    status,
    exitCode: checkExitCode[status],
    summary: `${subject.bundle}: ${text || 'ok'}${via}`,
    problems: ordered,
    perfdata,
    metrics,
    ...(maxAge ? { maxAge } : {}),
  };
}

function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The one line a Nagios-style monitor reads: "SVCCTL OK - tick: … | last_success_age=3s;10;20;0 …". */
export function formatCheckLine(result: CheckResult): string {
  const perf = result.perfdata.map(formatPerfDatum).join(' ');
  const text = result.summary.replaceAll('|', '/').replace(/[\r\n]+/g, ' ');
  return `SVCCTL ${result.status} - ${text}${perf ? ` | ${perf}` : ''}`;
}

function formatPerfDatum(datum: PerfDatum): string {
  const label = /^[A-Za-z0-9_]+$/.test(datum.label) ? datum.label : `'${datum.label.replaceAll("'", "''")}'`;
  const fields = [`${datum.value}${datum.uom}`, datum.warn ?? '', datum.crit ?? '', datum.min ?? ''].map(String);
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return `${label}=${fields.join(';')}`;
}

const metricHelp: [name: string, type: 'gauge', help: string][] = [
  ['svcctl_check_status', 'gauge', 'Result of svcctl check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.'],
  ['svcctl_up', 'gauge', '1 when the daemon runs (and its health URL answers) or the timer is active and its last run did not fail.'],
  ['svcctl_last_run_timestamp_seconds', 'gauge', 'When the service last started (Unix time).'],
  ['svcctl_last_success_timestamp_seconds', 'gauge', 'When the service last finished successfully (Unix time; carried over from the previous file across failures).'],
  ['svcctl_next_run_timestamp_seconds', 'gauge', 'When the timer fires next (Unix time).'],
  ['svcctl_last_exit_status', 'gauge', 'Exit status of the last run.'],
  ['svcctl_max_age_seconds', 'gauge', 'The max age of the last success the check enforces.'],
];

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/**
 * node_exporter textfile collector metrics for one bundle. `previousLastSuccess` (from the file this
 * replaces) keeps the last success known while runs fail: systemd only remembers the last run.
 */
export function renderTextfileMetrics(result: CheckResult, previousLastSuccess?: number): string {
  const label = `{bundle="${escapeLabel(result.bundle)}"}`;
  const seconds = (usec: Usec | undefined) => (usec === undefined ? undefined : Math.floor(usec / usecPerSecond));
  const values: Record<string, number | undefined> = {
    svcctl_check_status: result.exitCode,
    svcctl_up: result.metrics.up ? 1 : 0,
    svcctl_last_run_timestamp_seconds: seconds(result.metrics.lastRun),
    svcctl_last_success_timestamp_seconds: seconds(result.metrics.lastSuccess) ?? previousLastSuccess,
    svcctl_next_run_timestamp_seconds: seconds(result.metrics.nextRun),
    svcctl_last_exit_status: result.metrics.lastExitStatus,
    svcctl_max_age_seconds: result.maxAge?.seconds,
  };
  const lines: string[] = [];
  for (const [name, type, help] of metricHelp) {
    const value = values[name];
    if (value === undefined) continue;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}${label} ${value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The last success recorded in a textfile written before (undefined when absent). */
export function previousLastSuccess(text: string | undefined): number | undefined {
  const match = /^svcctl_last_success_timestamp_seconds\{[^}]*\} (\d+(?:\.\d+)?)$/m.exec(text ?? '');
  return match ? Number(match[1]) : undefined;
}
