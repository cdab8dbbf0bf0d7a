// Alert channels: what `--alert KIND=…` asks for, the per-unit channel file the sender reads, the drop-in that wires
// a watched unit to the alert templates, and the names and paths that tie them together. Pure.
import { UserError } from '../errors.js';
import { commentLine, directiveLine, withSpecifiers } from '../escape/index.js';
import type { Layout } from '../target.js';
import { isTemplateName } from '../unit-name.js';

export const alertKinds = ['webhook', 'slack', 'pagerduty', 'email'] as const;
export type AlertKind = (typeof alertKinds)[number];

/** The built-in bundle that owns the alert templates and the sender (units/svcctl-alerts). */
export const ALERTS_BUNDLE = 'svcctl-alerts';
/** OnFailure= starts an instance of this template, named after the failed unit (%n). */
export const FAILURE_TEMPLATE = 'svcctl-alert@.service';
/** OnSuccess= starts an instance of this one: it sends "resolved", and only after a failure was alerted. */
export const RESOLVED_TEMPLATE = 'svcctl-alert-resolved@.service';
/** With --alert-on-restart, the watched daemon's ExecStopPost= starts an instance of this one on each failed run. */
export const RESTART_TEMPLATE = 'svcctl-alert-restart@.service';
/** Where the sender keeps what it alerted (StateDirectory of the templates; root only). */
export const ALERT_STATE_DIR = '/var/lib/svcctl-alerts';

/** A channel as the sender needs it, secret included (a URL grants posting rights, so does a routing key). */
export type AlertChannel = { kind: 'webhook' | 'slack'; url: string } | { kind: 'pagerduty'; routingKey: string } | { kind: 'email'; to: string };

/** What a receipt, `status` and `alert list` know of a channel: its kind, and an email channel's address (not secret). */
export interface AlertChannelSummary {
  kind: AlertKind;
  to?: string;
}

/** `--alert KIND=@FILE`, `KIND=-` (stdin) or `email=ADDRESS`, before the file is read. */
export type AlertRequest = { kind: 'webhook' | 'slack' | 'pagerduty'; source: string } | { kind: 'email'; to: string };

export function summarizeChannel(channel: AlertChannel): AlertChannelSummary {
  return channel.kind === 'email' ? { kind: 'email', to: channel.to } : { kind: channel.kind };
}

/** The secret of a channel (undefined for email, whose address is not one). */
export function channelSecret(channel: AlertChannel): string | undefined {
  return channel.kind === 'pagerduty' ? channel.routingKey : channel.kind === 'email' ? undefined : channel.url;
}

/** One line naming a channel without its secret: "slack", "email ops@example.com". */
export function channelLabel(channel: AlertChannelSummary): string {
  return channel.to !== undefined ? `${channel.kind} ${channel.to}` : channel.kind;
}

const flagHint = 'write --alert webhook=@FILE, --alert slack=@FILE, --alert pagerduty=@FILE (FILE holds the URL or the routing key; - reads stdin) or --alert email=ADDRESS';

/** Parses one --alert value. A URL or routing key written on the command line is refused: argv is public. */
export function parseAlertFlag(text: string): AlertRequest {
  const eq = text.indexOf('=');
  const kind = eq > 0 ? text.slice(0, eq) : text;
  const value = eq > 0 ? text.slice(eq + 1) : '';
  if (!(alertKinds as readonly string[]).includes(kind)) throw new UserError(`--alert ${JSON.stringify(kind)} is not an alert channel (${alertKinds.join(', ')})`, flagHint);
  if (kind === 'email') return { kind: 'email', to: validateEmailAddress(value) };
  if (value !== '-' && !(value.startsWith('@') && value.length > 1)) {
    const what = kind === 'pagerduty' ? 'routing key' : 'URL';
    throw new UserError(
      `refusing --alert ${kind}=<${what}>: the ${what} grants posting rights, and a value on the command line is readable by every local user (ps, /proc/PID/cmdline)`,
      `put it in a file (umask 077) and pass --alert ${kind}=@FILE, or pipe it in with --alert ${kind}=-`,
    );
  }
  return { kind: kind as 'webhook' | 'slack' | 'pagerduty', source: value };
}

/** An address sendmail gets in a To: header: one mailbox, no display name, nothing a header or a shell could misread. */
export function validateEmailAddress(address: string): string {
  if (address.length > 254 || !/^[A-Za-z0-9._+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(address) || address.startsWith('-') || address.startsWith('.')) {
    throw new UserError(`--alert email=${JSON.stringify(address)} is not an email address svcctl accepts`, 'give one plain address, e.g. --alert email=ops@example.com');
  }
  return address;
}

/** The channel once its secret is read: a webhook or Slack URL (http or https), or a PagerDuty routing key. */
export function secretChannel(kind: 'webhook' | 'slack' | 'pagerduty', value: string): AlertChannel {
  // The messages never repeat the value: it is a secret.
  if (kind === 'pagerduty') {
    if (!/^[\x21-\x7e]{8,128}$/.test(value)) throw new UserError('the PagerDuty routing key given is not one (8 to 128 printable characters, no spaces)', 'put the integration key of a PagerDuty Events API v2 service in the file');
    return { kind, routingKey: value };
  }
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || !/^[\x21-\x7e]{1,2048}$/.test(value)) {
    throw new UserError(`the ${kind} URL given is not an http or https URL (the value is not shown)`, kind === 'slack' ? 'put the incoming webhook URL Slack gave you (https://hooks.slack.com/services/…) in the file' : 'put the URL to POST to in the file');
  }
  return { kind, url: value };
}

/** The units a bundle's alerts watch: its services (a timer's service is where its runs fail), not templates. */
export function watchedUnits(units: readonly string[]): string[] {
  return units.filter((u) => u.endsWith('.service') && !isTemplateName(u));
}

/** The sender's channel file of one watched unit (0600 root in a 0700 directory). */
export function alertConfigDir(layout: Pick<Layout, 'configDir'>): string {
  return `${layout.configDir}/alerts`;
}

export function alertConfigPath(layout: Pick<Layout, 'configDir'>, unit: string): string {
  return `${alertConfigDir(layout)}/${unit}.json`;
}

/** The drop-in that wires a watched unit to the templates (beside svcctl's override.conf). */
export function alertDropInPath(layout: Pick<Layout, 'dropInDir'>, unit: string): string {
  return `${layout.dropInDir(unit)}/svcctl-alerts.conf`;
}

/**
 * The instances OnFailure=/OnSuccess= (and, alerting on restarts, ExecStopPost=) start for a watched unit: %n is its
 * full name, svcctl-alert@foo.service.service.
 */
export function alertInstances(unit: string, onRestart = false): string[] {
  return [FAILURE_TEMPLATE, RESOLVED_TEMPLATE, ...(onRestart ? [RESTART_TEMPLATE] : [])].map((template) => template.replace('@.', `@${unit}.`));
}

/**
 * The drop-ins that give the alert instances of one watched unit what a local exim needs, when its bundle has an email
 * channel (systemd reads INSTANCE.service.d/ for that instance only): the templates themselves are hardened for
 * HTTP channels alone.
 */
export function alertEmailDropInPaths(layout: Pick<Layout, 'dropInDir'>, unit: string, onRestart = false): string[] {
  return alertInstances(unit, onRestart).map((instance) => `${layout.dropInDir(instance)}/svcctl-alerts.conf`);
}

export function alertStatePath(unit: string): string {
  return `${ALERT_STATE_DIR}/${unit}.json`;
}

/** What the sender keeps of a unit's restarts (--alert-on-restart): their own noise state, apart from its failures. */
export function alertRestartStatePath(unit: string): string {
  return `${ALERT_STATE_DIR}/${unit}.restart.json`;
}

/** Whether systemd restarts the unit after a failed run: its own file's last Restart= in [Service] (not no, not on-success). */
export function restartsAfterFailure(content: string): boolean {
  let section = '';
  let restart = 'no';
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    const m = /^Restart\s*=\s*(\S*)\s*$/.exec(line);
    if (section === '[Service]' && m) restart = m[1] || 'no';
  }
  return ['on-failure', 'on-abnormal', 'on-abort', 'on-watchdog', 'always'].includes(restart);
}

/**
 * On each run that ends in failure, whether or not systemd then restarts the unit: starts the restart instance without
 * waiting for it. "+": as root and outside the unit's sandbox (its User=, PrivateUsers=, SystemCallFilter=, … would
 * keep it from asking systemd); "-": a failure here never becomes the unit's. $SERVICE_RESULT is systemd's (success on
 * a clean stop); the instance is the unit's name, passed as an argument, never as shell text.
 */
const restartNotifier = `-+/bin/sh -c 'test "$$SERVICE_RESULT" = success || exec /bin/systemctl --no-block start "${RESTART_TEMPLATE.replace('@.', () => '@$$1.')}"' ${RESTART_TEMPLATE.split('@')[0]} %n`;

/**
 * `[Unit] OnFailure=svcctl-alert@%n.service` and `OnSuccess=svcctl-alert-resolved@%n.service`: %n is meant. With
 * `onRestart` (a daemon whose restarts are alerted) also the ExecStopPost= that starts svcctl-alert-restart@%n.service.
 */
export function renderAlertDropIn(header: string, onRestart = false): string {
  const instance = (template: string) => withSpecifiers(template.replace('@.', '@%n.'), 'alert template');
  const lines = [commentLine(header), '', '[Unit]', directiveLine('OnFailure', instance(FAILURE_TEMPLATE)), directiveLine('OnSuccess', instance(RESOLVED_TEMPLATE))];
  if (onRestart) lines.push('', '[Service]', commentLine('--alert-on-restart: a failed run that systemd restarts the unit after is alerted (docs/alerts.md).'), `ExecStopPost=${restartNotifier}`);
  return `${lines.join('\n')}\n`;
}

/**
 * What exim, run by the sender as `sendmail -t -oi -odi`, needs beyond the templates' sandbox (docs/alerts.md,
 * "Hardening"). It takes the message as Debian-exim (SETUID, SETGID), then re-executes its set-user-ID-root binary to
 * deliver it: no NoNewPrivileges=, and no PrivateUsers=, which lacks Debian-exim and the recipient; setuid() and
 * setgroups() are in @privileged. The delivery, as root, writes Debian-exim's spool (DAC_OVERRIDE), chowns and chmods
 * its message log (CHOWN, FOWNER), appends to the mailbox as the recipient and reads the recipient's ~/.forward (so
 * /home read-only, not hidden).
 */
export function renderAlertEmailDropIn(header: string): string {
  const lines = [
    commentLine(header),
    commentLine('Email through a local exim: the alert templates are hardened for HTTP channels only (docs/alerts.md, "Hardening").'),
    '',
    '[Service]',
    'NoNewPrivileges=no',
    'PrivateUsers=no',
    // An empty assignment resets the templates' list (and its ~@privileged); the rest of it again.
    'SystemCallFilter=',
    'SystemCallFilter=@system-service',
    'SystemCallFilter=~@resources',
    'CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_DAC_OVERRIDE CAP_CHOWN CAP_FOWNER',
    'ProtectHome=read-only',
    commentLine('"-": a host without them still alerts through the other channels.'),
    'ReadWritePaths=-/var/spool/exim4 -/var/log/exim4 -/var/mail',
  ];
  return `${lines.join('\n')}\n`;
}

/** The file the sender reads for one watched unit. */
export interface AlertConfig {
  format: 1;
  bundle: string;
  unit: string;
  channels: AlertChannel[];
}

export function renderAlertConfig(config: AlertConfig): string {
  return `${JSON.stringify({ format: config.format, bundle: config.bundle, unit: config.unit, channels: config.channels }, null, 2)}\n`;
}

/** Reads a channel file back, checking every field (the sender trusts nothing it did not validate). */
export function parseAlertConfig(text: string, unit: string): AlertConfig {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UserError(`the alert channels of ${unit} are not valid JSON`, 'reinstall the bundle with its --alert flags');
  }
  const o = data as Record<string, unknown>;
  if (o === null || typeof o !== 'object' || o.format !== 1 || typeof o.bundle !== 'string' || o.unit !== unit || !Array.isArray(o.channels)) {
    throw new UserError(`the alert channels of ${unit} are not an svcctl alert file (format 1, this unit)`, 'reinstall the bundle with its --alert flags');
  }
  const channels = o.channels.map((c: unknown, i): AlertChannel => {
    const ch = c as Record<string, unknown>;
    const bad = () => new UserError(`channel ${i + 1} of the alerts of ${unit} is not valid`, 'reinstall the bundle with its --alert flags');
    if (ch === null || typeof ch !== 'object') throw bad();
    if (ch.kind === 'email' && typeof ch.to === 'string') return { kind: 'email', to: validateEmailAddress(ch.to) };
    if ((ch.kind === 'webhook' || ch.kind === 'slack') && typeof ch.url === 'string') return secretChannel(ch.kind, ch.url);
    if (ch.kind === 'pagerduty' && typeof ch.routingKey === 'string') return secretChannel('pagerduty', ch.routingKey);
    throw bad();
  });
  return { format: 1, bundle: o.bundle, unit, channels };
}

/** The channels after `alert add` (the new ones appended; an email address given twice is kept once). */
export function addChannels(existing: readonly AlertChannel[], added: readonly AlertChannel[]): AlertChannel[] {
  const out = [...existing];
  for (const channel of added) if (!out.some((c) => sameChannel(c, channel))) out.push(channel);
  return out;
}

/** `alert remove BUNDLE slack` removes every Slack channel; `email=ADDRESS` removes that address only. */
export function removeChannels(existing: readonly AlertChannel[], removed: readonly { kind: AlertKind; to?: string }[]): { kept: AlertChannel[]; unmatched: string[] } {
  const matches = (c: AlertChannel, r: { kind: AlertKind; to?: string }) => c.kind === r.kind && (r.to === undefined || (c.kind === 'email' && c.to === r.to));
  const unmatched = removed.filter((r) => !existing.some((c) => matches(c, r))).map((r) => channelLabel(r));
  return { kept: existing.filter((c) => !removed.some((r) => matches(c, r))), unmatched };
}

function sameChannel(a: AlertChannel, b: AlertChannel): boolean {
  return a.kind === b.kind && channelSecret(a) === channelSecret(b) && (a.kind !== 'email' || (b.kind === 'email' && a.to === b.to));
}

/** `alert remove` names channels by kind, or an email channel by its address. */
export function parseChannelName(text: string): { kind: AlertKind; to?: string } {
  const [kind, ...rest] = text.split('=');
  if (!(alertKinds as readonly string[]).includes(kind ?? '')) throw new UserError(`${JSON.stringify(text)} is not an alert channel (${alertKinds.join(', ')})`, 'name a channel by its kind (slack), or an email channel as email=ADDRESS');
  if (rest.length === 0) return { kind: kind as AlertKind };
  if (kind !== 'email') throw new UserError(`${JSON.stringify(text)}: only an email channel is named by its value`, `name it ${kind}`);
  return { kind: 'email', to: validateEmailAddress(rest.join('=')) };
}
