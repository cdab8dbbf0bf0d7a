// The noise rules of alerts: a unit that keeps failing is alerted once per channel, again only after REPEAT_AFTER
// seconds, and a recovery sends one "resolved" to the channels that got the failure. The state is one small
// root-only file per watched unit (/var/lib/svcctl-alerts/UNIT.json); its presence is what lets the recovery
// template run at all. Pure: the sender reads and writes the file.
import { createHash } from 'node:crypto';
import { channelSecret, type AlertChannel } from './channels.js';

export interface AlertState {
  format: 1;
  unit: string;
  /** When the failure that is open began (the first failure alerted since the last recovery). */
  since: string;
  /** When a failure alert last went out. */
  lastAlertAt: string;
  /** Failures seen since `since` (alerted or not). */
  failures: number;
  /** The channels that got the open failure (ids: channelId). */
  alerted: string[];
}

/** A channel's id in the state: its kind and a short hash of its URL, key or address (never the value itself). */
export function channelId(channel: AlertChannel): string {
  const value = channelSecret(channel) ?? (channel.kind === 'email' ? channel.to : '');
  return `${channel.kind}:${createHash('sha256').update(value).digest('hex').slice(0, 16)}`;
}

export interface FailureDecision {
  /** The channels to alert now. */
  send: AlertChannel[];
  /** The channels that already got this failure (within REPEAT_AFTER): nothing is sent to them. */
  suppressed: AlertChannel[];
  /** This is a reminder: the failure was alerted more than REPEAT_AFTER ago and goes on. */
  reminder: boolean;
  failingSince?: string;
}

/** Which channels a failure goes to, given what was alerted before. */
export function decideFailure(state: AlertState | undefined, channels: readonly AlertChannel[], now: Date, repeatAfterSeconds: number): FailureDecision {
  if (!state) return { send: [...channels], suppressed: [], reminder: false };
  const expired = now.getTime() - Date.parse(state.lastAlertAt) >= repeatAfterSeconds * 1000 || Number.isNaN(Date.parse(state.lastAlertAt));
  const send = expired ? [...channels] : channels.filter((c) => !state.alerted.includes(channelId(c)));
  const suppressed = channels.filter((c) => !send.includes(c));
  return { send, suppressed, reminder: expired, failingSince: state.since };
}

/** The state after a failure: the channels that were reached join the ones alerted before (none reached: unchanged). */
export function stateAfterFailure(state: AlertState | undefined, unit: string, delivered: readonly AlertChannel[], now: Date): AlertState | undefined {
  const at = now.toISOString();
  if (delivered.length === 0) return state ? { ...state, failures: state.failures + 1 } : undefined;
  const alerted = [...new Set([...(state?.alerted ?? []), ...delivered.map(channelId)])].sort();
  return { format: 1, unit, since: state?.since ?? at, lastAlertAt: at, failures: (state?.failures ?? 0) + 1, alerted };
}

/** A recovery goes to the channels that got the failure, and to no other. */
export function decideResolved(state: AlertState | undefined, channels: readonly AlertChannel[]): AlertChannel[] {
  return state ? channels.filter((c) => state.alerted.includes(channelId(c))) : [];
}

/** After a recovery: the channels not reached keep the failure open (the next good run tries again); none left, no state. */
export function stateAfterResolved(state: AlertState, sent: readonly AlertChannel[], delivered: readonly AlertChannel[]): AlertState | undefined {
  const done = new Set([...delivered.map(channelId)]);
  // A channel the failure reached but that is no longer configured cannot be told: it is forgotten.
  const sentIds = new Set(sent.map(channelId));
  const alerted = state.alerted.filter((id) => sentIds.has(id) && !done.has(id));
  return alerted.length > 0 ? { ...state, alerted } : undefined;
}

export function renderState(state: AlertState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** The state file read back; anything else than what renderState wrote counts as no state (a fresh alert). */
export function parseState(text: string | undefined, unit: string): AlertState | undefined {
  if (text === undefined) return undefined;
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (o?.format !== 1 || o.unit !== unit || typeof o.since !== 'string' || typeof o.lastAlertAt !== 'string' || typeof o.failures !== 'number' || !Array.isArray(o.alerted) || !o.alerted.every((a) => typeof a === 'string')) return undefined;
    return { format: 1, unit, since: o.since, lastAlertAt: o.lastAlertAt, failures: o.failures, alerted: o.alerted as string[] };
  } catch {
    return undefined;
  }
}

/** A receiver that does not answer is tried again after these pauses (four attempts in about a quarter of a minute). */
export const RETRY_DELAYS_MS = [1000, 3000, 9000] as const;
