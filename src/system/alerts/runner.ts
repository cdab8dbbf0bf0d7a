// The sender the alert templates run (svcctl-alert@UNIT.service on a failure, svcctl-alert-resolved@UNIT.service on
// a good run after one): reads the unit's channels and what was alerted before, looks at the run that ended, sends
// through each channel with retries, and records what it sent. Everything it says goes to the journal; it never
// touches the watched unit. The channel file is 0600 root: the secrets reach it from there, and only from there.
import { hostname } from 'node:os';
import { alertConfigPath, alertStatePath, parseAlertConfig, type AlertChannel, type AlertConfig } from '../../core/alerts/channels.js';
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

const usage = 'usage: svcctl-alert failure|resolved UNIT';
const defaultPagerDutyUrl = 'https://events.pagerduty.com/v2/enqueue';
const mainCodes: Record<string, string> = { '1': 'exited', '2': 'killed', '3': 'dumped' };

/** Runs one alert; resolves to the sender's exit status (0: every channel reached or nothing to send). */
export async function runAlert(argv: string[], env: RunnerEnvironment, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<number> {
  const [kind, unitArg] = argv;
  if ((kind !== 'failure' && kind !== 'resolved') || unitArg === undefined || argv.length !== 2) {
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

  if (kind === 'failure') {
    const repeatAfter = Number(env.REPEAT_AFTER_SECONDS) > 0 ? Number(env.REPEAT_AFTER_SECONDS) : 86_400;
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
  return delivered.every((d) => d.result.ok) ? 0 : 1;
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
async function observeRun(systemd: SystemdClient, config: AlertConfig, env: RunnerEnvironment, now: Date, event: 'failure' | 'resolved', since: string | undefined): Promise<AlertEvent> {
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
  const pid = Number(shown?.ExecMainPID ?? '0');
  const match = [`_SYSTEMD_INVOCATION_ID=${invocationId}`, ...(pid > 0 ? ['+', `_SYSTEMD_UNIT=${unit}`, `_PID=${pid}`] : [])];
  const read = await systemd.journal([...match, '-n', String(JOURNAL_LINES), '--output=short-iso', '--no-pager', '--quiet'], { env: { TZ: 'UTC' } });
  return { ...base, journal: read.stdout.split('\n').filter((l) => l !== '').slice(-JOURNAL_LINES) };
}
