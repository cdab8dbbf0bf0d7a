// Polling for a condition in tests: CI is a loaded 2-core machine, so tests wait for what they need, never for a fixed time.

/**
 * Calls `probe` until `done` accepts what it returned, and returns that; throws once `timeoutMs` has passed,
 * naming what was awaited and the last value seen. The deadline is generous: a slow run waits, a broken one fails.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}; last seen: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}

/** Calls `probe` until it returns a value (not undefined, not false), and returns it; the deadline as for waitFor(). */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  return (await waitFor(what, probe, (value) => value !== undefined && value !== false, { timeoutMs })) as T;
}
