// A unit's properties as `systemctl show -p …` prints them inside the sandbox, as a record (the last value of each).
import type { Sandbox } from './sandbox.js';

export async function showProperties(sandbox: Sandbox, unit: string, properties: string[]): Promise<Record<string, string>> {
  const out = (await sandbox.run(['systemctl', 'show', unit, ...properties.flatMap((p) => ['-p', p])])).stdout;
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
}
