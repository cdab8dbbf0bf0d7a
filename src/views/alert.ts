// What the alert commands print: the channels of each bundle (kinds and email addresses, never a URL or a key), and
// the answer of each channel to a test message.
import { channelLabel } from '../core/alerts/channels.js';
import type { AlertListResult, AlertTestResult } from '../flows/alert.js';
import { formatTable, style } from './output.js';

export function alertTable(result: AlertListResult): string {
  if (result.bundles.length === 0) return 'no bundle is installed';
  const rows = result.bundles.map((b) => [b.bundle, b.channels.length === 0 ? '-' : `${b.channels.map(channelLabel).join(', ')}${b.onRestart ? ' (and on restart)' : ''}`, b.units.join(', ') || '-']);
  return formatTable(['BUNDLE', 'ALERTS', 'WATCHED UNITS'], rows);
}

export function alertTestLines(result: AlertTestResult): string[] {
  return [
    ...result.deliveries.map((d) => `${d.ok ? style.green('✔') : style.red('✖')} ${channelLabel(d.channel)}: ${d.answer}`),
    summaryLine(result),
  ];
}

function summaryLine(result: AlertTestResult): string {
  const failed = result.deliveries.filter((x) => !x.ok).length;
  return failed === 0 ? `  test alert of ${result.bundle} (${result.unit} on ${result.host}) sent through ${result.deliveries.length} channel${result.deliveries.length === 1 ? '' : 's'}` : `  ${failed} of ${result.deliveries.length} channels did not take the test alert`;
}
