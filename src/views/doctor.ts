// The text of `svcctl doctor`: each finding with a mark, its details and the command that fixes it, then a verdict.
import type { DoctorReport, Finding } from '../flows/doctor.js';
import { paintStdout as paint } from './output.js';

export function renderDoctor(report: DoctorReport): string {
  const lines: string[] = [];
  const show = (finding: Finding) => {
    lines.push(`  ${finding.ok ? paint('green', '✔') : paint('red', '✖')} ${finding.message}`);
    for (const detail of finding.details ?? []) lines.push(`      ${paint('dim', detail)}`);
    if (finding.fix) lines.push(`      ${paint('bold', 'fix:')} ${finding.fix}`);
  };
  lines.push('host');
  report.host.forEach(show);
  for (const bundle of report.bundles) {
    lines.push(bundle.bundle);
    bundle.findings.forEach(show);
  }
  const problems = [...report.host, ...report.bundles.flatMap((b) => b.findings)].filter((f) => !f.ok).length;
  lines.push(problems === 0 ? paint('green', 'all is well') : paint('red', `${problems} problem${problems === 1 ? '' : 's'} found`));
  return lines.join('\n');
}
