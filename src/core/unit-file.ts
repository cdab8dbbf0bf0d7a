// Reads a unit file (or drop-in) the way systemd 252's conf-parser.c does: the one reader of svcctl's own unit text.
// Comment lines (# or ;) are skipped, even inside a continued line, since conf-parser.c checks them first; a line
// ending in a backslash continues on the next, the backslash becoming a space; [Section] headers; Key=value with
// both sides trimmed. What a directive means is its reader's business.

export interface UnitFileEntry {
  section: string;
  key: string;
  value: string;
  /** 1-based line the entry starts on (for messages). */
  line: number;
}

/** Every Key=value of `text`, in order, with the section it is in (lines before any header have section ''). */
export function unitFileEntries(text: string): UnitFileEntry[] {
  const entries: UnitFileEntry[] = [];
  let section = '';
  let pending = '';
  let start = 0;
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    if (pending === '') start = index + 1;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1)} `;
      continue;
    }
    const full = (pending + trimmed).trim();
    pending = '';
    if (full === '') continue;
    const header = /^\[(.+)\]$/.exec(full);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = full.indexOf('=');
    if (eq <= 0) continue;
    entries.push({ section, key: full.slice(0, eq).trim(), value: full.slice(eq + 1).trim(), line: start });
  }
  return entries;
}
