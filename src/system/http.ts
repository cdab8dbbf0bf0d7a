// HTTP health probes of daemons (a manifest's health.url): one GET with a timeout, redirects not followed.
import { readFileSync } from 'node:fs';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { UrlProbe } from '../core/health.js';
import { debug } from '../debug.js';
import { importModule } from '../modules.js';

/**
 * The CA file the user gave Node in NODE_EXTRA_CA_CERTS. bin/run.js's shebang moves it to
 * SVCCTL_EXTRA_CA_CERTS: Node 20 parses that file at every start (70+ ms for a full system bundle), and
 * svcctl needs it only here, for an https health URL signed by a private CA.
 */
function readExtraCa(): string | undefined {
  const file = process.env.SVCCTL_EXTRA_CA_CERTS || process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    // As Node does with an unreadable NODE_EXTRA_CA_CERTS: go on with the bundled roots only.
    debug('extra CA certificates in %s not loaded: %s', file, (error as Error).message);
    return undefined;
  }
}

type Get = (url: URL, options: RequestOptions & { ca?: string[] }, callback: (response: IncomingMessage) => void) => ClientRequest;

/** GET the health URL with a short timeout; 2xx is up. Redirects are not followed (a health URL answers itself). */
export async function probeUrl(url: string, timeoutMs: number): Promise<UrlProbe> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { url, ok: false, error: 'not a valid URL', ms: elapsed() };
  }
  try {
    const secure = target.protocol === 'https:';
    const { get } = await importModule<{ get: Get }>(secure ? 'node:https' : 'node:http');
    // agent: false: one connection, closed after the answer (a pooled keep-alive socket would outlive the probe).
    const options: RequestOptions & { ca?: string[] } = { signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'svcctl-check' }, agent: false };
    const extraCa = secure ? readExtraCa() : undefined;
    if (extraCa) {
      // An explicit CA list replaces Node's: keep its bundled roots and add the user's, as NODE_EXTRA_CA_CERTS does.
      const { rootCertificates } = await importModule<typeof import('node:tls')>('node:tls');
      options.ca = [...rootCertificates, extraCa];
    }
    const status = await new Promise<number>((resolve, reject) => {
      const request = get(target, options, (response) => {
        response.resume(); // the body is not read: drain it so the socket closes
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
    });
    const ok = status >= 200 && status < 300;
    return { url, ok, status, ms: elapsed(), ...(ok ? {} : { error: `HTTP ${status}` }) };
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    const reason = err.name === 'AbortError' || err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err.code === 'ECONNREFUSED' ? 'connection refused' : (err.code ?? err.message);
    return { url, ok: false, error: reason, ms: elapsed() };
  }
}
