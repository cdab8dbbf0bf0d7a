// What install and uninstall say once their flow has run (on stderr): up to date, installed, next runs, what was kept.
import type { InstallResult } from '../flows/install.js';
import type { UninstallResult } from '../flows/uninstall.js';
import { formatWhen, nowUsec } from '../core/time.js';
import { userTimeZone } from '../system/timezone.js';
import { style } from './output.js';
import { dryRunLine } from './progress.js';

const ok = (text: string) => `${style.green('✔')} ${text}`;

export function installLines(result: InstallResult): string[] {
  if (result.bundles.every((b) => b.upToDate)) return result.bundles.map((b) => ok(`${b.name} is up to date`));
  if (result.dryRun) return [dryRunLine()];
  if (!result.applied) return [];
  const lines: string[] = [];
  for (const bundle of result.bundles) {
    for (const [timer, next] of Object.entries(bundle.nextElapse ?? {})) lines.push(`  ${timer}: next run ${formatWhen(next ? Date.parse(next) * 1000 : undefined, nowUsec(), userTimeZone(), 'not scheduled')}`);
  }
  for (const bundle of result.bundles) lines.push(ok(bundle.upToDate ? `${bundle.name} is up to date` : `${bundle.name} installed${result.root ? ` under ${result.root}` : ''}${result.user ? ` in ${result.user.name}'s systemd user manager` : ''}`));
  if (result.user?.linger === false) lines.push(`  ${style.yellow('!')} linger is off: these units stop when ${result.user.name} logs out; to keep them running, ${result.user.advice ?? 'run `loginctl enable-linger`'}`);
  return lines;
}

export function uninstallLines(result: UninstallResult): string[] {
  const lines: string[] = [];
  const kept = (b: UninstallResult['bundles'][number]) => (b.retained.length > 0 ? `; kept ${b.retained.join(', ')} (remove with --purge)` : '');
  for (const bundle of result.bundles) if (!bundle.installed) lines.push(ok(`${bundle.name} is not installed: nothing to do`));
  const installed = result.bundles.filter((b) => b.installed);
  if (installed.length > 0 && installed.every((b) => b.actions.length === 0)) return [...lines, ...installed.map((b) => ok(`${b.name} is already uninstalled${kept(b)}`))];
  if (result.dryRun) return [...lines, dryRunLine()];
  if (!result.applied) return lines;
  for (const bundle of installed) lines.push(ok(`${bundle.name} uninstalled${kept(bundle)}`));
  return lines;
}
