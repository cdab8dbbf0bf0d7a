// Pure renderers for svcctl's drop-ins, env files and schedule drop-ins (the env-file reader is core/escape/env-file.ts).
import { UserError } from './errors.js';
import { scheduleDropInLines, type Schedule } from './schedule.js';
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


/** A timer drop-in that replaces the triggers of the timer (its own file: `timerUnitText`) with `schedule` (schedule.ts decides the lines). */
export function renderScheduleDropIn(schedule: Schedule, header: string, timerUnitText?: string): string {
  return renderUnitText(header, new Map<Section, string[]>([['Timer', scheduleDropInLines(schedule, timerUnitText)]]));
}

function renderUnitText(header: string, lines: Map<Section, string[]>): string {
  const out = [commentLine(header)];
  for (const section of sectionOrder) {
    const body = lines.get(section) ?? [];
    if (body.length > 0) out.push('', `[${section}]`, ...body);
  }
  return `${out.join('\n')}\n`;
}
