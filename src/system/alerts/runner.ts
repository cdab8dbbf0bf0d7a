// The sender the alert templates run (svcctl-alert@UNIT.service on a failure, svcctl-alert-resolved@UNIT.service on
// a good run after one, svcctl-alert-restart@UNIT.service on a failed run of a daemon that systemd restarts): reads
// the unit's channels and what was alerted before, looks at the run that ended, sends through each channel with
// retries, and records what it sent. Everything it says goes to the journal; it never
// touches the watched unit. The channel file is 0600 root: the secrets reach it from there, and only from there.
import { constants, hostname } from 'node:os';
import { alertConfigPath, alertRestartStatePath, alertStatePath, parseAlertConfig, type AlertChannel, type AlertConfig } from '../../core/alerts/channels.js';
import { decideFailure, decideResolved, parseState, renderState, stateAfterFailure, stateAfterResolved, type AlertState } from '../../core/alerts/noise.js';
import { JOURNAL_LINES, type AlertEvent } from '../../core/alerts/payloads.js';
import { validateUnitName } from '../../core/escape/index.js';
import { layout, systemTarget } from '../../core/target.js';
import { atomicWrite, readTextIfExists, removeFile } from '../fs.js';
import { SystemdClient } from '../systemd.js';
import { deliverWithRetries, type Delivery } from './send.js';

export interface RunnerEnvironment {
  /** $MONITOR_SERVICE_RESULT, … : what systemd tells a unit started by OnFailure=/OnSuccess= (systemd 251+). */
  [name: string]: string | undefined;
}

const usage = 'usage: svcctl-alert failure|resolved|restart UNIT';
/** systemd's journal records of a unit's run that ended: how its main process exited, and the unit's result. */
const PROCESS_EXIT_MESSAGE = '98e322203f7a4ed290d09fe03c09fe15';
const FAILURE_RESULT_MESSAGE = 'd9b373ed55a64feb8242e02dbe79a49c';
const defaultPagerDutyUrl = 'https://events.pagerduty.com/v2/enqueue';
const mainCodes: Record<string, string> = { '1': 'exited', '2': 'killed', '3': 'dumped' };

/** Runs one alert; resolves to the sender's exit status (0: every channel reached or nothing to send). */
export async function runAlert(argv: string[], env: RunnerEnvironment, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<number> {
  const [kind, unitArg] = argv;
  if ((kind !== 'failure' && kind !== 'resolved' && kind !== 'restart') || unitArg === undefined || argv.length !== 2) {
    log(usage);
    return 2;
  }
  const unit = validateUnitName(unitArg);
  const target = systemTarget();
  const configPath = alertConfigPath(layout(target), unit);
  const text = await readTextIfExists(configPath);
  if (text === undefined) {
    log(`${unit} has no alert channels (${configPath} is missing): nothing sent; reinstall its bundle with --alert`);
    return 1;
  }
  const config = parseAlertConfig(text, unit);
  const statePath = alertStatePath(unit);
  const state = parseState(await readTextIfExists(statePath), unit);
  const now = new Date();
  const options = { pagerDutyUrl: env.PAGERDUTY_EVENTS_URL || defaultPagerDutyUrl };
  const systemd = new SystemdClient(target);
  const repeatAfter = Number(env.REPEAT_AFTER_SECONDS) > 0 ? Number(env.REPEAT_AFTER_SECONDS) : 86_400;

  if (kind === 'restart') return alertRestart(systemd, config, env, now, repeatAfter, options, log);

  if (kind === 'failure') {
    const decision = decideFailure(state, config.channels, now, repeatAfter);
    if (decision.send.length === 0) {
      const next = stateAfterFailure(state, unit, [], now)!;
      await writeState(statePath, next);
      log(`${unit} failed again (${next.failures} failures since ${next.since}); its alert went out at ${next.lastAlertAt}: nothing sent until it recovers or ${repeatAfter} s have passed`);
      return 0;
    }
    const event = await observeRun(systemd, config, env, now, 'failure', decision.reminder ? decision.failingSince : undefined);
    const delivered = await sendAll(decision.send, event, options, log);
    const next = stateAfterFailure(state, unit, delivered.filter((d) => d.result.ok).map((d) => d.channel), now);
    if (next) await writeState(statePath, next);
    // systemd gave up (or the unit has no Restart=): its restarts so far are part of this failure; the next restart,
    // once it runs again, is news.
    await removeFile(alertRestartStatePath(unit));
    if (decision.suppressed.length > 0) log(`already alerted of this failure, not sent again: ${decision.suppressed.map((c) => c.kind).join(', ')}`);
    return delivered.every((d) => d.result.ok) ? 0 : 1;
  }

  if (!state) {
    log(`${unit} succeeded; no failure of it is open: nothing to resolve`);
    return 0;
  }
  const send = decideResolved(state, config.channels);
  const event = await observeRun(systemd, config, env, now, 'resolved', state.since);
  const delivered = await sendAll(send, event, options, log);
  const next = stateAfterResolved(state, send, delivered.filter((d) => d.result.ok).map((d) => d.channel));
  if (next) await writeState(statePath, next);
  else await removeFile(statePath);
  if (!next) await removeFile(alertRestartStatePath(unit));
  return delivered.every((d) => d.result.ok) ? 0 : 1;
}

/**
 * A failed run of a daemon, started by its ExecStopPost=: alerted when systemd restarts the unit (auto-restart, or
 * already running again), with the noise rules of a failure in a state of its own; a unit that systemd did not
 * restart (it gave up: OnFailure= alerts that; it was stopped) sends nothing. The unit has started again by now:
 * how the run ended, and its invocation, come from systemd's own records in the journal.
 */
async function alertRestart(systemd: SystemdClient, config: AlertConfig, env: RunnerEnvironment, now: Date, repeatAfter: number, options: { pagerDutyUrl: string }, log: (line: string) => void): Promise<number> {
  const unit = config.unit;
  const shown = (await systemd.show([unit], ['ActiveState', 'SubState'] as const))[unit];
  if (!(shown?.SubState === 'auto-restart' || ['active', 'activating', 'reloading'].includes(shown?.ActiveState ?? ''))) {
    log(`${unit} is ${shown?.ActiveState ?? 'unknown'} (${shown?.SubState ?? 'unknown'}), not being restarted: no restart alert (a failure systemd gave up on is alerted by svcctl-alert@${unit}.service)`);
    return 0;
  }
  const statePath = alertRestartStatePath(unit);
  const state = parseState(await readTextIfExists(statePath), unit);
  const decision = decideFailure(state, config.channels, now, repeatAfter);
  if (decision.send.length === 0) {
    const next = stateAfterFailure(state, unit, [], now)!;
    await writeState(statePath, next);
    log(`${unit} restarted again (${next.failures} restarts since ${next.since}); its alert went out at ${next.lastAlertAt}: nothing sent until ${repeatAfter} s have passed or it recovers`);
    return 0;
  }
  const ended = await lastRunEnd(systemd, unit);
  const event = await observeRun(systemd, config, { ...env, ...ended }, now, 'restart', decision.reminder ? decision.failingSince : undefined);
  const delivered = await sendAll(decision.send, event, options, log);
  const next = stateAfterFailure(state, unit, delivered.filter((d) => d.result.ok).map((d) => d.channel), now);
  if (next) await writeState(statePath, next);
  return delivered.every((d) => d.result.ok) ? 0 : 1;
}

/** How the unit's last failed run ended, as $MONITOR_* would say it: systemd's records of it (PID 1's, in the journal). */
async function lastRunEnd(systemd: SystemdClient, unit: string): Promise<RunnerEnvironment> {
  await systemd.journalSync();
  const record = async (messageId: string): Promise<Record<string, unknown>> => {
    const read = await systemd.journal([`UNIT=${unit}`, '_PID=1', `MESSAGE_ID=${messageId}`, '-n', '1', '--output=json', '--no-pager', '--quiet']);
    try {
      return JSON.parse(read.stdout.trim().split('\n').pop() || '{}') as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const [result, exit] = await Promise.all([record(FAILURE_RESULT_MESSAGE), record(PROCESS_EXIT_MESSAGE)]);
  const text = (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v) ? v : '');
  const invocation = text(result.INVOCATION_ID);
  // The exit record is of the same run only if it names the same invocation.
  const same = invocation !== '' && text(exit.INVOCATION_ID) === invocation;
  const code = same ? text(exit.EXIT_CODE) : '';
  const status = same ? text(exit.EXIT_STATUS) : '';
  const signal = code === 'killed' || code === 'dumped' ? Object.entries(constants.signals).find(([, n]) => String(n) === status)?.[0]?.replace(/^SIG/, '') : undefined;
  return { MONITOR_SERVICE_RESULT: text(result.UNIT_RESULT), MONITOR_INVOCATION_ID: invocation, MONITOR_EXIT_CODE: code, MONITOR_EXIT_STATUS: signal ?? status };
}

async function sendAll(channels: AlertChannel[], event: AlertEvent, options: { pagerDutyUrl: string }, log: (line: string) => void): Promise<{ channel: AlertChannel; result: Delivery }[]> {
  return Promise.all(
    channels.map(async (channel) => {
      const result = await deliverWithRetries(channel, event, options, log);
      if (result.ok) log(`${channel.kind}: ${event.event} of ${event.unit} delivered (${result.answer})`);
      return { channel, result };
    }),
  );
}

async function writeState(file: string, state: AlertState): Promise<void> {
  await atomicWrite(file, renderState(state), { mode: 0o600 });
}

/**
 * The run that ended: how (from $MONITOR_*, else from `systemctl show`), and its last journal lines by invocation id
 * (with the lines of its main process that journald read after the process had gone, as src/flows/run.ts does).
 */
async function observeRun(systemd: SystemdClient, config: AlertConfig, env: RunnerEnvironment, now: Date, event: 'failure' | 'resolved' | 'restart', since: string | undefined): Promise<AlertEvent> {
  const unit = config.unit;
  const shown = (await systemd.show([unit], ['Result', 'ExecMainCode', 'ExecMainStatus', 'InvocationID', 'ExecMainPID'] as const))[unit];
  const invocationId = env.MONITOR_INVOCATION_ID || shown?.InvocationID || '';
  const base: AlertEvent = {
    event,
    host: hostname(),
    bundle: config.bundle,
    unit,
    result: env.MONITOR_SERVICE_RESULT || shown?.Result || '',
    exitCode: env.MONITOR_EXIT_CODE || mainCodes[shown?.ExecMainCode ?? ''] || '',
    exitStatus: env.MONITOR_EXIT_STATUS || shown?.ExecMainStatus || '',
    at: now.toISOString(),
    invocationId,
    journal: [],
    commands: [`svcctl status ${config.bundle}`, `svcctl logs ${config.bundle} -n 100`, ...(invocationId ? [`journalctl _SYSTEMD_INVOCATION_ID=${invocationId}`] : [])],
    ...(since ? { failingSince: since } : {}),
  };
  if (event === 'resolved' || !/^[0-9a-f]{32}$/.test(invocationId)) return base;
  await systemd.journalSync();
  // A restarted unit's main process is the new one: its lines are not of the run that ended.
  const pid = event === 'restart' ? 0 : Number(shown?.ExecMainPID ?? '0');
  const match = [`_SYSTEMD_INVOCATION_ID=${invocationId}`, ...(pid > 0 ? ['+', `_SYSTEMD_UNIT=${unit}`, `_PID=${pid}`] : [])];
  const read = await systemd.journal([...match, '-n', String(JOURNAL_LINES), '--output=short-iso', '--no-pager', '--quiet'], { env: { TZ: 'UTC' } });
  return { ...base, journal: read.stdout.split('\n').filter((l) => l !== '').slice(-JOURNAL_LINES) };
}
