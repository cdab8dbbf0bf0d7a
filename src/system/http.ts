// HTTP health probes of daemons (a manifest's health.url): one GET with a timeout, redirects not followed.
import type { UrlProbe } from '../plan/health.js';

/** GET the health URL with a short timeout; 2xx is up. Redirects are not followed (a health URL answers itself). */
export async function probeUrl(url: string, timeoutMs: number): Promise<UrlProbe> {
  const started = performance.now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual', headers: { 'user-agent': 'svcctl-check' } });
    await response.body?.cancel().catch(() => undefined);
    const ms = performance.now() - started;
    const ok = response.status >= 200 && response.status < 300;
    return { url, ok, status: response.status, ms, ...(ok ? {} : { error: `HTTP ${response.status}` }) };
  } catch (error) {
    const ms = performance.now() - started;
    const err = error as Error & { cause?: { code?: string; message?: string } };
    const reason =
      err.name === 'TimeoutError' || err.name === 'AbortError'
        ? `no answer within ${timeoutMs} ms`
        : err.cause?.code === 'ECONNREFUSED'
          ? 'connection refused'
          : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { url, ok: false, error: reason, ms };
  }
}
