// Delivers one alert event through one channel: an HTTP POST of its JSON payload (webhook, Slack, PagerDuty) or a
// message handed to the local MTA's sendmail. Used by the sender the alert templates run and by `svcctl alert test`.
// Secrets (URLs, routing keys) travel only in the request itself: never on argv, never in what is returned or logged.
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { AlertChannel } from '../../core/alerts/channels.js';
import { emailMessage, pagerDutyEvent, pagerDutyNoticeResolve, slackPayload, webhookPayload, type AlertEvent } from '../../core/alerts/payloads.js';
import { RETRY_DELAYS_MS } from '../../core/alerts/noise.js';
import { importModule } from '../../modules.js';
import { exec, tool } from '../exec.js';
import { sleep } from '../processes.js';

export interface Delivery {
  ok: boolean;
  /** The receiver's answer: "HTTP 200", "sendmail exit 0", or why there was none ("connection refused"). Never a secret. */
  answer: string;
  /** Worth another try (no answer, 429, 5xx); a 4xx other than 429 will not get better. */
  retryable: boolean;
}

export interface SendOptions {
  /** Where PagerDuty events go (Events API v2). */
  pagerDutyUrl: string;
  timeoutMs?: number;
}

type Request = (url: URL, options: RequestOptions, callback: (response: IncomingMessage) => void) => ClientRequest;

/** POSTs a JSON body; the answer is its status and the start of its body, with the secret masked should it be echoed. */
export async function postJson(url: string, body: unknown, secret: string, timeoutMs: number): Promise<Delivery> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, answer: 'not a valid URL', retryable: false };
  }
  const data = Buffer.from(JSON.stringify(body));
  try {
    const { request } = await importModule<{ request: Request }>(target.protocol === 'https:' ? 'node:https' : 'node:http');
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(target, { method: 'POST', signal: AbortSignal.timeout(timeoutMs), agent: false, headers: { 'content-type': 'application/json', 'content-length': String(data.length), 'user-agent': 'svcctl-alert' } }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < 4096) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      req.on('error', reject);
      req.end(data);
    });
    const ok = status >= 200 && status < 300;
    const said = text.trim().replace(/\s+/g, ' ').slice(0, 200);
    return { ok, answer: mask(`HTTP ${status}${said ? ` ${said}` : ''}`, secret), retryable: !ok && (status === 429 || status >= 500) };
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    // Only the error's code: a message may quote the URL.
    const reason = err.name === 'AbortError' || err.name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : err.code === 'ECONNREFUSED' ? 'connection refused' : (err.code ?? err.name);
    return { ok: false, answer: reason, retryable: true };
  }
}

function mask(text: string, secret: string): string {
  return secret ? text.split(secret).join('***') : text;
}

/**
 * Hands the message to the MTA: `sendmail -t -oi -odi` takes the recipient from the To: header and the message from
 * stdin, and delivers before it answers (-odi): an MTA without a daemon (exim) would otherwise fork the delivery,
 * which systemd ends with the alert unit once the sender exits. Postfix ignores -odi.
 */
export async function sendMail(message: string, timeoutMs: number): Promise<Delivery> {
  const result = await exec([tool('sendmail'), '-t', '-oi', '-odi'], { input: message, check: false, timeoutMs });
  const said = `${result.stdout}\n${result.stderr}`.trim().replace(/\s+/g, ' ').slice(0, 300);
  const answer = `sendmail exit ${result.exitCode}${said ? `: ${said}` : ''}`;
  if (result.exitCode === 127) return { ok: false, answer: `${tool('sendmail')} not found: no local MTA (install one, e.g. exim4-daemon-light)`, retryable: false };
  return { ok: result.exitCode === 0, answer, retryable: result.exitCode !== 0 };
}

/** One delivery of the event through the channel (a PagerDuty test or restart is a trigger and its resolve). */
export async function deliver(channel: AlertChannel, event: AlertEvent, options: SendOptions): Promise<Delivery> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  switch (channel.kind) {
    case 'webhook':
      return postJson(channel.url, webhookPayload(event), channel.url, timeoutMs);
    case 'slack':
      return postJson(channel.url, slackPayload(event), channel.url, timeoutMs);
    case 'pagerduty': {
      const sent = await postJson(options.pagerDutyUrl, pagerDutyEvent(event, channel.routingKey), channel.routingKey, timeoutMs);
      if ((event.event !== 'test' && event.event !== 'restart') || !sent.ok) return sent;
      const resolved = await postJson(options.pagerDutyUrl, pagerDutyNoticeResolve(event, channel.routingKey), channel.routingKey, timeoutMs);
      return { ok: resolved.ok, answer: `trigger ${sent.answer}; resolve ${resolved.answer}`, retryable: resolved.retryable };
    }
    case 'email':
      return sendMail(emailMessage(event, channel.to), 60_000);
  }
}

/** Delivers with retries after RETRY_DELAYS_MS; `log` hears of every failed attempt (the journal, for the sender). */
export async function deliverWithRetries(channel: AlertChannel, event: AlertEvent, options: SendOptions & { delaysMs?: readonly number[] }, log: (line: string) => void): Promise<Delivery & { attempts: number }> {
  const delays = options.delaysMs ?? RETRY_DELAYS_MS;
  for (let attempt = 1; ; attempt++) {
    const result = await deliver(channel, event, options);
    const last = !result.retryable || attempt > delays.length;
    if (result.ok || last) {
      if (!result.ok) log(`${channel.kind}: not delivered after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${result.answer}`);
      return { ...result, attempts: attempt };
    }
    const pause = delays[attempt - 1]!;
    log(`${channel.kind}: attempt ${attempt} of ${delays.length + 1} failed (${result.answer}); trying again in ${pause / 1000} s`);
    await sleep(pause);
  }
}

