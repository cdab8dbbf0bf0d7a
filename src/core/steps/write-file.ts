// write-file: an atomic write with the final mode and owner from the first byte; undone by putting back what was there.
import { octal, type StepKind, type WriteFile } from './types.js';

/** Who can read a file with this mode and owner, in words (for the plan of a secret-holding file). */
export function readers(a: Pick<WriteFile, 'mode' | 'owner' | 'group'>): string {
  if (a.mode & 0o004) return 'readable by every local user';
  if (a.mode & 0o040 && a.group !== a.owner) return `readable by ${a.owner} and group ${a.group}`;
  return `readable by ${a.owner} only`;
}

export const writeFile: StepKind<WriteFile> = {
  describe(a) {
    const verb = { create: 'create', update: 'update', replace: 'replace (original backed up)' }[a.change];
    const what = a.secret ? ` (secret values hidden; ${readers(a)})` : '';
    return `${verb} ${a.path} (${octal(a.mode)} ${a.owner}:${a.group})${what}`;
  },
  data(a) {
    const { content: _content, before, ...rest } = a;
    return { ...rest, before: before ?? null, after: { kind: 'file', mode: a.mode, owner: a.owner, group: a.group, checksum: a.checksum } };
  },
  touches: (a) => ({ paths: [a.path, ...(a.backupTo ? [a.backupTo] : [])], units: [] }),
  // A schedule drop-in is a few lines a reviewer wants to see; other files are shown by checksum only.
  detail: (a) => (a.role === 'schedule' && !a.secret ? a.content.toString('utf8').trimEnd().split('\n') : []),
};
