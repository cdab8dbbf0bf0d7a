// Internal tracing, shown only when DEBUG matches svcctl* (never prints secret values: callers pass none).
const enabled = /(^|,)\s*svcctl(\*|:|,|$)/.test(process.env.DEBUG ?? '') || (process.env.DEBUG ?? '').split(',').includes('*');

export function debugEnabled(): boolean {
  return enabled;
}

export function debug(format: string, ...args: unknown[]): void {
  if (!enabled) return;
  let i = 0;
  const text = format.replace(/%[so]/g, () => {
    const value = args[i++];
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
  process.stderr.write(`svcctl +${Math.round(performance.now())}ms ${text}\n`);
}
