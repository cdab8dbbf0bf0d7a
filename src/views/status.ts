// The text of `svcctl status`: one line per bundle, or one bundle in detail; times in the user's zone, colour on a terminal.
import { formatSeconds } from '../core/schedule.js';
import { formatRelative, formatSpan, formatWhen, nowUsec, type Usec } from '../core/time.js';
import type { LastRun, Restarts } from '../core/unit-state.js';
import type { BundleStatus, Drift, Health, UnitStatus, UserManagerState } from '../flows/status.js';
import { userTimeZone } from '../system/timezone.js';
import { formatTable, paintStdout as paint, style } from './output.js';

const healthColour: Record<Health, 'red' | 'green' | 'yellow' | 'dim'> = {
  ok: 'green',
  failed: 'red',
  missing: 'red',
  stopped: 'yellow',
  unhealthy: 'red',
  drifted: 'yellow',
  incomplete: 'yellow',
  retained: 'dim',
};

const iso = (value: string | null | undefined): Usec | undefined => (value ? Date.parse(value) * 1000 : undefined);

function lastRunPhrase(run: LastRun | undefined, now: Usec): string {
  if (!run) return '-';
  if (run.state === 'never') return 'never run';
  const started = iso(run.startedAt);
  // Start times come to the second: under a second "running" says enough.
  if (run.state === 'running') return started !== undefined && now - started >= 1_000_000 ? `running for ${formatSpan(now - started)}` : 'running';
  const ended = iso(run.endedAt) ?? started;
  return `${run.text}, ${ended !== undefined ? formatRelative(ended, now) : 'at an unknown time'}`;
}

/** A timer with no next elapse: its unit is running now, it is about to re-arm, or it is stopped. */
function noNextElapse(timer: UnitStatus | undefined): string {
  if (timer?.sub === 'running') return 'running now';
  if (timer?.active === 'active') return 're-arming';
  return `not scheduled (timer ${timer?.active ?? 'unknown'})`;
}

/** "restart on-failure after 1s, 0 restarts so far, start limit 5 in 10s": a daemon's restart behaviour in one phrase. */
export function restartPhrase(restarts: Restarts): string {
  const policy = restarts.policy === 'no' ? 'not restarted by systemd' : `restart ${restarts.policy}${restarts.delaySeconds !== null ? ` after ${formatSeconds(restarts.delaySeconds)}` : ''}`;
  const limit = restarts.startLimit ? `start limit ${restarts.startLimit.burst} in ${formatSeconds(restarts.startLimit.intervalSeconds)}` : 'no start limit';
  return `${policy}, ${restarts.count} restart${restarts.count === 1 ? '' : 's'} so far, ${limit}`;
}

/** One line per bundle: name, coloured health word, last run, next run. */
export function renderOverview(statuses: BundleStatus[], now: Usec = iso(statuses[0]?.observedAt) ?? nowUsec()): string {
  const rows = statuses.map((s) => {
    const next = iso(s.nextRun);
    const timer = s.units.find((u) => u.unit === s.timer);
    return [s.bundle, s.health, lastRunPhrase(s.lastRun, now), s.timer ? (next !== undefined ? formatRelative(next, now) : noNextElapse(timer)) : '-', s.description];
  });
  const table = formatTable(['BUNDLE', 'HEALTH', 'LAST RUN', 'NEXT RUN', 'DESCRIPTION'], rows);
  // Colour the health word after padding, so escape codes do not upset the column widths.
  const column = Math.max('BUNDLE'.length, ...statuses.map((s) => s.bundle.length)) + 2;
  return table
    .split('\n')
    .map((line, i) => {
      const health = statuses[i - 1]?.health;
      return health ? line.slice(0, column) + paint(healthColour[health], health) + line.slice(column + health.length) : line;
    })
    .join('\n');
}

/** The detailed view of one bundle. */
export function renderBundleStatus(s: BundleStatus, now: Usec = iso(s.observedAt) ?? nowUsec(), timeZone: string = userTimeZone()): string {
  const when = (value: string | null | undefined, none?: string) => formatWhen(iso(value), now, timeZone, none);
  const out: string[] = [];
  const field = (name: string, value: string) => out.push(`  ${`${name}:`.padEnd(14)}${value}`);
  out.push(`${style.bold(s.bundle)} ${paint('dim', `— ${s.description}`)}`);
  field('health', paint(healthColour[s.health], s.health) + (s.state !== 'installed' ? ` (receipt state: ${s.state})` : ''));
  if (s.installedAt !== undefined) field('installed', `${when(s.installedAt)}${s.updatedAt !== s.installedAt ? `, updated ${when(s.updatedAt)}` : ''}`);
  else if (s.updatedAt !== undefined) field('changed', when(s.updatedAt));
  if (s.source !== undefined) field('from', `${s.source} (digest ${(s.digest ?? '').slice(0, 12)}, svcctl ${s.svcctlVersion ?? '?'})`);
  // Text an operator typed: control characters are shown as ? (a terminal must not act on them).
  if (s.authorization) field('authorized', `by ${s.authorization.by} ${when(s.authorization.at)}: ${s.authorization.text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}`);
  if (s.enableDeferred) field('enabled', `not yet: installed with --no-enable (svcctl enable ${s.bundle} enables and starts it)`);
  out.push('');
  const table = formatTable(
    ['UNIT', 'LOAD', 'ACTIVE', 'SUB', 'ENABLED'],
    s.units.map((u) => [u.unit, u.load, u.active, u.sub, u.enabled ?? '-']),
  );
  out.push(...table.trimEnd().split('\n').map((line) => `  ${line}`));
  for (const unit of s.units) {
    if (unit.lastRun) {
      const run = unit.lastRun;
      out.push('', `  ${unit.unit}${unit.unit === s.service ? ' (main service)' : ''}`);
      if (run.state === 'never') field('  last run', 'never run since it was loaded');
      else {
        field('  started', when(run.startedAt, '-'));
        if (run.state === 'running') field('  state', `running (${unit.active}/${unit.sub})${unit.mainPid ? `, main PID ${unit.mainPid}` : ''}`);
        else {
          field('  ended', `${when(run.endedAt, '-')}${run.durationMs !== null ? `, took ${formatSpan(run.durationMs * 1000)}` : ''}`);
          const detail = run.exitStatus !== null ? `exit status ${run.exitStatus}` : run.signal ? `killed by ${run.signal}` : '';
          field('  result', `${paint(run.state === 'success' ? 'green' : 'red', run.result)}${detail ? ` (${detail})` : ''}`);
        }
      }
      if (unit.restarts) field('  restarts', restartPhrase(unit.restarts));
      if (unit.unit === s.service && s.url) field('  health URL', urlPhrase(s.url));
    }
    if (unit.activates !== undefined) {
      out.push('', `  ${unit.unit}${unit.activates ? ` → ${unit.activates}` : ''}${unit.unit === s.timer && s.schedule ? ` (schedule ${s.schedule})` : ''}`);
      field('  last', when(unit.lastTrigger, 'never triggered'));
      field('  next', when(unit.nextElapse, noNextElapse(unit)));
    }
  }
  if (s.url && !s.units.some((u) => u.unit === s.service && u.lastRun)) {
    out.push('');
    field('health URL', urlPhrase(s.url));
  }
  out.push('');
  if (s.drift) {
    field('drift', driftPhrase(s.drift));
    for (const file of s.drift.changed) out.push(`    ${paint('yellow', file.problem.padEnd(10))} ${file.path}${file.detail ? ` (${file.detail})` : ''}`);
    for (const file of s.drift.unknown) out.push(`    ${paint('dim', 'unknown'.padEnd(10))} ${file} (not readable without root)`);
  }
  if (s.alerts) field('alerts', s.alerts.length === 0 ? 'none (svcctl alert add)' : `${s.alerts.join(', ')}${s.alertOnRestart ? ' (and on restart)' : ''}`);
  if (s.secrets) field('secrets', s.secrets.length === 0 ? 'none set' : s.secrets.map((secret) => `${secret.key} (changed ${formatRelative(iso(secret.changedAt) ?? now, now)})`).join(', '));
  if (s.settings) {
    const settings = Object.entries(s.settings);
    field('settings', settings.length === 0 ? 'none' : settings.map(([k, v]) => `${k}=${v}`).join(', '));
  }
  if (s.restricted) field('not shown', `${s.restricted.hidden.join(', ')}: ${s.restricted.reason} (sudo svcctl status ${s.bundle})`);
  return `${out.join('\n')}\n`;
}

function urlPhrase(probe: NonNullable<BundleStatus['url']>): string {
  return probe.ok
    ? `${probe.url} ${paint('green', 'answered')}${probe.status !== undefined ? ` ${probe.status}` : ''} in ${Math.round(probe.ms)} ms`
    : `${probe.url} ${paint('red', 'does not answer')} (${probe.error ?? 'no answer'})`;
}

function driftPhrase(drift: Drift): string {
  const unknown = drift.unknown.length > 0 ? `; ${drift.unknown.length} unknown` : '';
  if (drift.changed.length === 0) return `${paint('green', 'none')} (${drift.checked} file${drift.checked === 1 ? '' : 's'} match the receipt${unknown})`;
  return `${paint('yellow', `${drift.changed.length} file${drift.changed.length === 1 ? '' : 's'} changed since install`)}${unknown}`;
}

/** The line on stderr under an overview read without root. */
export function restrictedNote(statuses: BundleStatus[]): string | undefined {
  const restricted = statuses.find((s) => s.restricted);
  return restricted?.restricted ? `${style.dim(`without root: no ${restricted.restricted.hidden.slice(0, 3).join(', ')} (${restricted.restricted.reason}; sudo svcctl status shows them)`)}` : undefined;
}

/** In user scope: whether the manager lingers, for status and doctor (without it, timers stop at logout). */
export function lingerLine(user: UserManagerState | undefined): string | undefined {
  if (!user) return undefined;
  if (user.linger === true) return style.dim(`${user.name}'s systemd user manager; linger is on (it keeps running after logout)`);
  if (user.linger === false) return `${style.yellow('!')} linger is off for ${user.name}: these units stop when ${user.name} logs out (loginctl enable-linger turns it on; it may need root)`;
  return style.dim(`${user.name}'s systemd user manager; linger unknown (loginctl did not answer)`);
}
