// Pure renderers for svcctl's drop-ins, env files and schedule drop-ins.
import { UserError } from './errors.js';
import { commentLine, directiveLine, envFileLine, environmentDirective, environmentFileDirective } from './escape/index.js';

export type Section = 'Unit' | 'Service' | 'Timer' | 'Install';

/** Fixed so that the same spec always renders the same bytes (svcctl compares checksums). */
const sectionOrder: readonly Section[] = ['Unit', 'Service', 'Timer', 'Install'];

export interface OverrideSpec {
  /** Absolute paths, each becoming an `EnvironmentFile=` line in [Service]. */
  environmentFiles: string[];
  /** Non-secret settings only: `systemctl show` reveals Environment= values to every local user. */
  environment: { name: string; value: string }[];
  /** Plain directives, kept in the given order within their section (order matters for list resets). */
  directives: { section: Section; directive: string; value: string }[];
}

/** svcctl's drop-in (`<unit>.d/override.conf`): the header comment, then each non-empty section in a fixed order. */
export function renderOverride(spec: OverrideSpec, header: string): string {
  const lines = new Map<Section, string[]>(sectionOrder.map((section) => [section, []]));
  const service = lines.get('Service')!;
  for (const file of spec.environmentFiles) service.push(environmentFileDirective(file));
  const names = new Set<string>();
  for (const { name, value } of spec.environment) {
    if (names.has(name)) {
      throw new UserError(`environment variable ${name} is set twice in one drop-in`, 'give each environment setting a distinct name');
    }
    names.add(name);
    service.push(environmentDirective(name, value));
  }
  for (const { section, directive, value } of spec.directives) {
    const target = lines.get(section);
    if (!target) throw new UserError(`unknown section [${String(section)}] for ${directive}=`, `use one of ${sectionOrder.join(', ')}`);
    target.push(directiveLine(directive, value));
  }
  return renderUnitText(header, lines);
}

/** An EnvironmentFile= body: an optional header comment, then one `KEY="value"` assignment per entry, in order. */
export function renderEnvFile(entries: { key: string; value: string }[], header?: string): string {
  const lines = header === undefined ? [] : [commentLine(header)];
  const keys = new Set<string>();
  for (const { key, value } of entries) {
    if (keys.has(key)) throw new UserError(`key ${key} appears twice in one environment file`, 'give each secret a distinct key');
    keys.add(key);
    lines.push(envFileLine(key, value));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export type Schedule = { kind: 'interval'; span: string } | { kind: 'calendar'; expression: string };

// systemd.time(7) time span units, longest spelling first so the first match is the whole unit.
const spanUnit = 'usec|us|µs|μs|msec|ms|seconds|second|sec|s|minutes|minute|min|months|month|m|M|hours|hour|hr|h|days|day|d|weeks|week|w|years|year|y';
const spanPart = `(\\d+(?:\\.\\d+)?)\\s*(${spanUnit})`;
const intervalPattern = new RegExp(`^(?:${spanPart}\\s*)+$`);
const spanParts = new RegExp(spanPart, 'g');
const bareSeconds = /^\d+(?:\.\d+)?$/;

/**
 * Splits a schedule into an interval ("5min", "every 15min", "15 min", "1h 30min"; a bare number is
 * seconds) or a calendar expression (anything else: "daily", "Mon *-*-* 03:00"). Syntax only:
 * systemd-analyze validates later. Intervals are normalised ("1 h 30 min" → "1h 30min").
 */
export function parseScheduleExpression(expr: string): Schedule {
  const trimmed = expr.trim();
  if (trimmed.length === 0) throw new UserError('the schedule is empty', 'give an interval such as 15min or a calendar expression such as "*-*-* 02:00:00"');
  const span = trimmed.replace(/^every\s+/i, '');
  if (bareSeconds.test(span)) return { kind: 'interval', span };
  if (intervalPattern.test(span)) {
    const parts = [...span.matchAll(spanParts)].map((match) => `${match[1]}${match[2]}`);
    return { kind: 'interval', span: parts.join(' ') };
  }
  return { kind: 'calendar', expression: trimmed };
}

/** Every trigger a timer can have; one empty assignment resets them all, listing each says so to a reader. */
const timerTriggers = ['OnActiveSec', 'OnBootSec', 'OnStartupSec', 'OnUnitActiveSec', 'OnUnitInactiveSec', 'OnCalendar'] as const;

/**
 * A timer drop-in that replaces the unit's triggers with `schedule`. An interval sets OnActiveSec= as
 * well as OnUnitActiveSec=: with only the latter the timer never fires until its service has run once.
 */
export function renderScheduleDropIn(schedule: Schedule, header: string): string {
  const timer = timerTriggers.map((trigger) => `${trigger}=`);
  if (schedule.kind === 'interval') {
    timer.push(directiveLine('OnActiveSec', schedule.span), directiveLine('OnUnitActiveSec', schedule.span));
  } else {
    timer.push(directiveLine('OnCalendar', schedule.expression), 'Persistent=true');
  }
  return renderUnitText(header, new Map<Section, string[]>([['Timer', timer]]));
}

function renderUnitText(header: string, lines: Map<Section, string[]>): string {
  const out = [commentLine(header)];
  for (const section of sectionOrder) {
    const body = lines.get(section) ?? [];
    if (body.length > 0) out.push('', `[${section}]`, ...body);
  }
  return `${out.join('\n')}\n`;
}
