// The alert commands: list the channels of installed bundles; add or remove channels (a re-install of the bundle
// with every other input kept, through the same plan → show → confirm → apply path); send a test message through each
// channel. And the rule that keeps svcctl-alerts installed exactly while a bundle uses it (uninstall asks it).
import { hostname } from 'node:os';
import { ALERTS_BUNDLE, addChannels, alertConfigPath, parseAlertConfig, parseChannelName, removeChannels, summarizeChannel, watchedUnits, type AlertChannel, type AlertChannelSummary } from '../core/alerts/channels.js';
import type { AlertEvent } from '../core/alerts/payloads.js';
import { UserError, withExitCode } from '../core/errors.js';
import type { Receipt } from '../core/receipt.js';
import { layout, onHost, systemTarget, type Target } from '../core/target.js';
import { deliver } from '../system/alerts/send.js';
import { readTextIfExists } from '../system/fs.js';
import { resolveAlertFlags } from '../system/inputs.js';
import { asRoot } from '../system/observe.js';
import { requireRoot } from '../system/privileges.js';
import { listReceipts, readReceipt } from '../system/receipts.js';
import { install, type InstallOptions, type InstallResult } from './install.js';
import { findInstalled } from './installed.js';
import type { FlowUi } from './ui.js';

export interface AlertListEntry {
  bundle: string;
  /** Kinds, and an email channel's address: never a URL or a routing key. */
  channels: AlertChannelSummary[];
  /** The units whose failures are alerted. */
  units: string[];
  /** Whether a daemon's restarts are alerted too (--alert-on-restart). */
  onRestart: boolean;
}

export interface AlertListResult {
  bundles: AlertListEntry[];
}

export interface AlertChangeOptions {
  dryRun: boolean;
  yes: boolean;
  /** alert add --alert-on-restart / --no-alert-on-restart; left out: kept. */
  alertOnRestart?: boolean;
}

export interface AlertDelivery {
  channel: AlertChannelSummary;
  ok: boolean;
  /** The HTTP status (and the start of the body) or the MTA's answer. */
  answer: string;
}

export interface AlertTestResult {
  bundle: string;
  unit: string;
  host: string;
  deliveries: AlertDelivery[];
}

const defaultPagerDutyUrl = 'https://events.pagerduty.com/v2/enqueue';

function entryOf(receipt: Receipt): AlertListEntry {
  const channels = receipt.alerts ?? [];
  return { bundle: receipt.bundle, channels, units: channels.length > 0 ? watchedUnits(receipt.units) : [], onRestart: receipt.alertOnRestart ?? false };
}

/** The alert channels of one installed bundle, or of every one (receipts: root). */
export async function listAlerts(reference: string | undefined): Promise<AlertListResult> {
  if (reference !== undefined) {
    const installed = await findInstalled(reference, { command: 'svcctl alert list', needs: 'receipt', accept: 'live' });
    return { bundles: [entryOf(installed.receipt!)] };
  }
  const receipts = await asRoot('svcctl alert list', () => listReceipts(systemTarget()));
  return { bundles: receipts.filter((r) => r.state !== 'retained' && r.bundle !== ALERTS_BUNDLE).map(entryOf) };
}

/** The installed bundle an alert change applies to, and its bundle directory (a change re-installs from it). */
async function changeable(reference: string, command: string): Promise<Receipt> {
  const installed = await findInstalled(reference, { command, needs: 'receipt', accept: 'complete' });
  if (installed.bundle === ALERTS_BUNDLE) throw new UserError(`${ALERTS_BUNDLE} sends the alerts of the other bundles: it has none of its own`, 'name the bundle whose failures should be alerted');
  return installed.receipt!;
}

/**
 * Adds channels (`webhook=@FILE`, `slack=@FILE`, `pagerduty=@FILE`, `email=ADDRESS`): the bundle is installed again
 * with every other input as it is, nothing started or restarted, svcctl-alerts installed if it is not.
 */
export async function addAlerts(reference: string, specs: string[], options: AlertChangeOptions, ui: FlowUi): Promise<InstallResult> {
  if (specs.length === 0 && options.alertOnRestart === undefined) throw new UserError('no channel given', 'e.g. svcctl alert add cleanup-blocking slack=@/root/slack.url email=ops@example.com (or --alert-on-restart)');
  const receipt = await changeable(reference, 'svcctl alert add');
  return reinstallWithAlerts(receipt, options, async (previous, stdin) => addChannels(previous, await resolveAlertFlags(specs, stdin)), ui);
}

/** Removes channels, named by kind (`slack`: every Slack channel) or an email channel by address (`email=ADDRESS`). */
export async function removeAlerts(reference: string, names: string[], options: AlertChangeOptions, ui: FlowUi): Promise<InstallResult> {
  if (names.length === 0) throw new UserError('no channel given', 'name the channels to remove by kind (slack), or an email channel as email=ADDRESS; see svcctl alert list');
  const removed = names.map(parseChannelName);
  const receipt = await changeable(reference, 'svcctl alert remove');
  return reinstallWithAlerts(receipt, options, async (previous) => {
    const { kept, unmatched } = removeChannels(previous, removed);
    if (unmatched.length > 0) throw new UserError(`${receipt.bundle} has no ${unmatched.join(', ')} alert`, `see svcctl alert list ${receipt.bundle}; nothing was changed`);
    return kept;
  }, ui);
}

/** The bundle installed again from its directory with every input as it is but its alerts: nothing started or restarted. */
function reinstallWithAlerts(receipt: Receipt, options: AlertChangeOptions, alertChange: NonNullable<InstallOptions['alertChange']>, ui: FlowUi): Promise<InstallResult> {
  return install([receipt.source], {
    set: [],
    secret: [],
    dryRun: options.dryRun,
    yes: options.yes,
    force: false,
    start: false,
    alertChange,
    ...(options.alertOnRestart !== undefined ? { alertOnRestart: options.alertOnRestart } : {}),
  }, ui);
}

/** The channels of an installed bundle, secrets included (root: the channel file is 0600). */
async function channelsOf(target: Target, receipt: Receipt): Promise<{ unit: string; channels: AlertChannel[] }> {
  const unit = watchedUnits(receipt.units)[0];
  const file = unit ? onHost(target, alertConfigPath(layout(target), unit)) : undefined;
  const text = file && (receipt.alerts?.length ?? 0) > 0 ? await readTextIfExists(file) : undefined;
  if (!unit || text === undefined) throw new UserError(`${receipt.bundle} has no alerts`, `add one: svcctl alert add ${receipt.bundle} slack=@FILE (or webhook=@FILE, pagerduty=@FILE, email=ADDRESS)`);
  return { unit, channels: parseAlertConfig(text, unit).channels };
}

/** Sends a real test message through each channel (a PagerDuty test is triggered and resolved at once); exit 1 if one fails. */
export async function testAlerts(reference: string): Promise<AlertTestResult> {
  requireRoot('svcctl alert test');
  const target = systemTarget();
  const receipt = await changeable(reference, 'svcctl alert test');
  const { unit, channels } = await channelsOf(target, receipt);
  const alerts = await readReceipt(target, ALERTS_BUNDLE);
  const host = hostname();
  const event: AlertEvent = { event: 'test', host, bundle: receipt.bundle, unit, result: '', exitCode: '', exitStatus: '', at: new Date().toISOString(), invocationId: '', journal: [], commands: [`svcctl alert list ${receipt.bundle}`] };
  const pagerDutyUrl = alerts?.settings.PAGERDUTY_EVENTS_URL || defaultPagerDutyUrl;
  const deliveries = await Promise.all(channels.map(async (channel) => ({ channel: summarizeChannel(channel), ...(await deliver(channel, event, { pagerDutyUrl })) })));
  const result: AlertTestResult = { bundle: receipt.bundle, unit, host, deliveries: deliveries.map((d) => ({ channel: d.channel, ok: d.ok, answer: d.answer })) };
  return deliveries.every((d) => d.ok) ? result : withExitCode(result, 1);
}

/**
 * The bundles an uninstall takes: svcctl-alerts joins when the last bundles with alerts leave (a purge takes it
 * also when only its data was left), and is refused while a bundle that stays still uses it.
 */
export async function withAlertsBundle(target: Target, names: string[], purge: boolean): Promise<string[]> {
  if (target.scope !== 'system') return names;
  const receipts = await asRoot('svcctl uninstall --dry-run', () => listReceipts(target));
  const users = receipts.filter((r) => r.bundle !== ALERTS_BUNDLE && r.state !== 'retained' && (r.alerts?.length ?? 0) > 0).map((r) => r.bundle);
  const staying = users.filter((u) => !names.includes(u));
  if (names.includes(ALERTS_BUNDLE)) {
    if (staying.length > 0) throw new UserError(`${ALERTS_BUNDLE} sends the failure alerts of ${staying.join(', ')}: it stays while they use it`, `remove their alerts first (svcctl alert remove BUNDLE CHANNEL), or uninstall them; nothing was changed`);
    return names;
  }
  const installed = receipts.some((r) => r.bundle === ALERTS_BUNDLE && (r.state !== 'retained' || purge));
  return installed && staying.length === 0 && users.some((u) => names.includes(u)) ? [...names, ALERTS_BUNDLE] : names;
}
