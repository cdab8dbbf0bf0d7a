// What the secret commands print: a table of names (never values), and one line per change.
import type { SecretChangeResult, SecretListResult } from '../flows/secrets.js';
import { formatTable, style } from './output.js';

export function secretTable(result: SecretListResult): string {
  if (result.secrets.length === 0) return `${result.bundle} has no secrets`;
  const rows = result.secrets.map((s) => [s.key, s.set ? 'set' : 'unset', s.declared ? (s.required ? 'required' : 'optional') : 'not declared by the bundle', s.generator ?? '-', s.changedAt ?? '-']);
  return formatTable(['KEY', 'VALUE', 'KIND', 'GENERATOR', 'CHANGED'], rows);
}

export function secretListNotes(result: SecretListResult): string[] {
  return result.sourceMissing ? [`${style.yellow('!')} the bundle's directory ${result.sourceMissing} does not load: secrets it declares but that were never set are not listed`] : [];
}

export function secretSetLines(result: SecretChangeResult): string[] {
  const key = result.keys[0] ?? '';
  return [`${style.green('✔')} ${key} of ${result.bundle} ${result.replaced ? 'replaced' : 'set'} in ${result.file} (0600 root:root; the value is not shown)`, ...(result.effect ? [`  ${style.dim('→')} ${result.effect}`] : [])];
}

export function secretRotateLines(result: SecretChangeResult): string[] {
  if (result.notRunning) return [`  ${style.yellow('!')} ${result.notRunning} is not running: no restart and no health check; it reads the new value when it starts`];
  return [`${style.green('✔')} ${result.keys.join(', ')} of ${result.bundle} rotated`];
}
