// What `svcctl verify` prints on stderr: per bundle a verdict and its problems, then each service's exposure score
// with the directives that would lower it most.
import { describeExposure, type ServiceExposure } from '../core/exposure.js';
import type { VerifyResult } from '../flows/verify.js';
import { style } from './output.js';

export function verifyLines(result: VerifyResult): string[] {
  const lines: string[] = [];
  for (const verdict of result.bundles) {
    if (verdict.ok) lines.push(`${style.green('✔')} ${verdict.bundle}: manifest, settings, units and schedule pass`);
    else {
      lines.push(`${style.red('✖')} ${verdict.bundle}: ${verdict.problems.length} problem${verdict.problems.length === 1 ? '' : 's'}`);
      for (const problem of verdict.problems) lines.push(`  ${problem}`);
      if (verdict.hint) lines.push(`  ${style.dim('→')} ${verdict.hint}`);
    }
    for (const exposure of verdict.exposure ?? []) lines.push(...exposureLines(exposure));
  }
  return lines;
}

/** "  x.service: exposure 1.6 OK" and, when something would lower it, the lines that would (each alone). */
export function exposureLines(exposure: ServiceExposure, indent = '  '): string[] {
  const head = `${indent}${describeExposure(exposure)}`;
  if (exposure.score === null || exposure.suggestions.length === 0) return [head];
  return [head, `${indent}  ${style.dim('lower with:')} ${exposure.suggestions.map((s) => `${s.directive} (−${s.lowersBy.toFixed(1)})`).join(', ')}`];
}
