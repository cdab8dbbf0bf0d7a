// The payload renderers of the alert channels: one event (a failure, its recovery, a restart, or a test) rendered as a generic
// JSON webhook body, a Slack incoming-webhook message, a PagerDuty Events API v2 event, or an email message for
// sendmail. Pure; docs/alerts.md documents each shape.

/** What happened to a watched unit, as the sender found it. */
export interface AlertEvent {
  /** restart: a daemon that systemd restarts after a failed run (--alert-on-restart). */
  event: 'failure' | 'resolved' | 'restart' | 'test';
  host: string;
  bundle: string;
  unit: string;
  /** systemd's Result= of the run: exit-code, signal, timeout, core-dump, start-limit-hit, success… */
  result: string;
  /** How the main process ended ($MONITOR_EXIT_CODE: exited, killed, dumped) and with what (an exit status or a signal name). */
  exitCode: string;
  exitStatus: string;
  /** When the sender saw it (ISO 8601). */
  at: string;
  invocationId: string;
  /** The last lines of that invocation in the journal: the service's own output, as it wrote it. */
  journal: string[];
  /** Where to look further. */
  commands: string[];
  /** A reminder of a failure that went on past REPEAT_AFTER_SECONDS: since when it has been failing. */
  failingSince?: string;
}

/** How many journal lines an alert carries, and how long each may be (a runaway line is cut, not dropped). */
export const JOURNAL_LINES = 20;
const LINE_MAX = 500;

/** Control characters other than tab are dropped: they would garble a terminal, a Slack message or a mail header. */
export function cleanLine(line: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
  return clean.length > LINE_MAX ? `${clean.slice(0, LINE_MAX)}…` : clean;
}

export function summaryOf(e: AlertEvent): string {
  const where = `on ${e.host} (bundle ${e.bundle})`;
  if (e.event === 'test') return `svcctl test alert for ${e.unit} ${where}`;
  if (e.event === 'resolved') return `${e.unit} recovered ${where}`;
  const how = [e.result, e.exitCode && e.exitStatus ? `${e.exitCode} ${e.exitStatus}` : e.exitCode || e.exitStatus].filter(Boolean).join(', ');
  const what = e.event === 'restart' ? 'failed and is being restarted' : 'failed';
  return `${e.unit} ${what} ${where}${how ? `: ${how}` : ''}${e.failingSince ? ` (${e.event === 'restart' ? 'restarting' : 'failing'} since ${e.failingSince})` : ''}`;
}

/** The generic webhook's body: every field of the event, under a schema name and version. */
export function webhookPayload(e: AlertEvent): Record<string, unknown> {
  return {
    schema: 'svcctl.alert/v1',
    event: e.event,
    summary: summaryOf(e),
    host: e.host,
    bundle: e.bundle,
    unit: e.unit,
    result: e.result,
    exitCode: e.exitCode,
    exitStatus: e.exitStatus,
    at: e.at,
    invocationId: e.invocationId,
    journal: e.journal.map(cleanLine),
    commands: e.commands,
    ...(e.failingSince ? { failingSince: e.failingSince } : {}),
  };
}

/** Slack's mrkdwn needs &, < and > escaped; a ``` inside a line would close the code block. */
function slackText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('```', "'''");
}

/** A Slack incoming-webhook message: one `text`, the journal lines in a code block. */
export function slackPayload(e: AlertEvent): { text: string } {
  const mark = e.event === 'failure' ? ':red_circle:' : e.event === 'restart' ? ':large_orange_circle:' : e.event === 'resolved' ? ':large_green_circle:' : ':information_source:';
  const lines = [`${mark} *${slackText(summaryOf(e))}*`, `when: ${e.at}${e.invocationId ? ` · invocation ${e.invocationId}` : ''}`];
  if (e.journal.length > 0) lines.push('```', ...e.journal.map((l) => slackText(cleanLine(l))), '```');
  if (e.commands.length > 0) lines.push(`look further: ${e.commands.map((c) => `\`${slackText(c)}\``).join(' · ')}`);
  return { text: lines.join('\n') };
}

/** One alert per host and unit in PagerDuty: the trigger and its resolve share this key (a restart and a test have their own). */
export function pagerDutyDedupKey(e: Pick<AlertEvent, 'host' | 'unit' | 'event'>): string {
  return `${e.event === 'test' ? 'svcctl-test' : e.event === 'restart' ? 'svcctl-restart' : 'svcctl'}/${e.host}/${e.unit}`;
}

/**
 * A PagerDuty Events API v2 event: trigger on a failure (and on a restart or a test), resolve on a recovery, with the
 * same dedup_key. A restart (the daemon is running again) and a test are resolved at once by a second event
 * (pagerDutyNoticeResolve): they notify, and leave no incident open.
 */
export function pagerDutyEvent(e: AlertEvent, routingKey: string): Record<string, unknown> {
  const dedupKey = pagerDutyDedupKey(e);
  if (e.event === 'resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: summaryOf(e).slice(0, 1024),
      source: e.host,
      severity: e.event === 'test' ? 'info' : e.event === 'restart' ? 'warning' : 'error',
      timestamp: e.at,
      component: e.unit,
      group: e.bundle,
      class: e.result,
      custom_details: { exit_code: e.exitCode, exit_status: e.exitStatus, invocation_id: e.invocationId, journal: e.journal.map(cleanLine).join('\n'), commands: e.commands },
    },
  };
}

export function pagerDutyNoticeResolve(e: AlertEvent, routingKey: string): Record<string, unknown> {
  return { routing_key: routingKey, event_action: 'resolve', dedup_key: pagerDutyDedupKey(e) };
}

/** A header value on one line: control characters (CR, LF) dropped, so no header can be injected. */
function headerValue(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 900);
}

/** The message `sendmail -t -oi` reads: recipients from To:, UTF-8 plain text, lines far below SMTP's 998 bytes. */
export function emailMessage(e: AlertEvent, to: string): string {
  const subject = `[svcctl] ${summaryOf(e)}`;
  const body = [
    summaryOf(e),
    '',
    `host:       ${e.host}`,
    `bundle:     ${e.bundle}`,
    `unit:       ${e.unit}`,
    ...(e.event === 'failure' || e.event === 'restart' ? [`result:     ${e.result}`, `exit:       ${[e.exitCode, e.exitStatus].filter(Boolean).join(' ')}`] : []),
    `when:       ${e.at}`,
    ...(e.invocationId ? [`invocation: ${e.invocationId}`] : []),
    ...(e.failingSince ? [`${e.event === 'restart' ? 'restarting' : 'failing'} since: ${e.failingSince}`] : []),
    ...(e.journal.length > 0 ? ['', `The last ${e.journal.length} lines of that run in the journal (the service's own output):`, '', ...e.journal.map((l) => `  ${cleanLine(l)}`)] : []),
    ...(e.commands.length > 0 ? ['', 'To look further:', ...e.commands.map((c) => `  ${c}`)] : []),
    '',
    '-- ',
    'svcctl failure alerts (docs/alerts.md)',
  ];
  const headers = [
    `To: ${headerValue(to)}`,
    `Subject: ${headerValue(subject)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    'Auto-Submitted: auto-generated',
    `X-Svcctl-Event: ${e.event}`,
  ];
  return `${headers.join('\n')}\n\n${body.join('\n')}\n`;
}
