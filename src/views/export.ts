// What `svcctl export` shows: where the files went and what to know (stderr), or, without --output, every file of
// the export on stdout as `==> path (mode) <==` sections for review.
import type { ExportResult } from '../flows/export.js';
import type { ExportTree } from '../core/export/tree.js';
import { style } from './output.js';

export function exportLines(result: ExportResult): string[] {
  const lines = result.output ? [`${style.green('✔')} ${result.bundle} exported as ${result.format} to ${result.output} (${result.files.length} files)`] : [];
  for (const note of result.notes) lines.push(`  ${style.dim('•')} ${note}`);
  return lines;
}

/** The files themselves, for a reader (stdout when no --output was given). */
export function exportListing(tree: ExportTree): string {
  const parts: string[] = [];
  for (const file of tree.files) {
    const mode = file.mode.toString(8).padStart(4, '0');
    if (file.kind === 'symlink') {
      parts.push(`==> ${file.path} -> ${file.content.toString('utf8')} <==\n`);
      continue;
    }
    const text = file.content.toString('utf8');
    const binary = text.includes('\0') || text.includes('\ufffd');
    parts.push(`==> ${file.path} (${mode}) <==\n${binary ? `(binary, ${file.content.length} bytes)\n` : text.endsWith('\n') || text === '' ? text : `${text}\n`}`);
  }
  return parts.join('\n');
}
