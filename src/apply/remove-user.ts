// remove-user: the user (and group) svcctl created, removed with userdel/groupdel; undone by putting back the account
// files as they were before the step — byte for byte, so the user comes back with its uid, gid, home, shell and
// password entry — when nothing but its own entries changed in them meanwhile (otherwise the undo says so).
import { OperationError } from '../core/errors.js';
import type { RemoveUser } from '../core/steps/types.js';
import { readAccounts, removeAccount } from '../system/accounts.js';
import { atomicWrite, inspectPath, readFileIfExists } from '../system/fs.js';
import type { Executor, StepContext } from './context.js';

interface AccountFile {
  path: string;
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

/** The files userdel and groupdel rewrite, and which fields of each list member names. */
const accountFiles: Record<string, number[]> = { '/etc/passwd': [], '/etc/shadow': [], '/etc/group': [3], '/etc/gshadow': [2, 3] };

/** A file's lines without `name`'s own entries and without `name` in member lists: what else the file says. */
function withoutAccount(text: string, name: string, memberFields: number[]): string {
  return text
    .split('\n')
    .filter((line) => line.split(':')[0] !== name)
    .map((line) => withoutMember(line, name, memberFields))
    .join('\n');
}

/** A line of an account file without `name` in its member lists. */
function withoutMember(line: string, name: string, memberFields: number[]): string {
  const fields = line.split(':');
  for (const i of memberFields) if (fields[i] !== undefined) fields[i] = fields[i]!.split(',').filter((m) => m !== name).join(',');
  return fields.join(':');
}

/** The files that define a group. */
const groupFiles: readonly string[] = ['/etc/group', '/etc/gshadow'];

interface GroupEntry {
  path: string;
  line: string;
  index: number;
}

/** The group `name`'s own line in each group file as prepare saved it, and its place there, without `name` among its members. */
function groupEntries(saved: AccountFile[], name: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const file of saved.filter((f) => groupFiles.includes(f.path))) {
    const lines = file.content.toString('utf8').split('\n');
    const index = lines.findIndex((line) => line.split(':')[0] === name);
    if (index >= 0) entries.push({ path: file.path, line: withoutMember(lines[index]!, name, accountFiles[file.path]!), index });
  }
  return entries;
}

/**
 * userdel also deletes the group of the user's name where it is the user's primary group and has no other
 * members (USERGROUPS_ENAB, Debian's default): a group that was there before svcctl created the user is not
 * svcctl's to remove, so its lines go back where they were.
 */
async function putBackGroup(ctx: StepContext, name: string, entries: GroupEntry[]): Promise<void> {
  for (const entry of entries) {
    const state = await inspectPath(ctx.at(entry.path), { content: false });
    const text = state?.kind === 'file' ? (await readFileIfExists(ctx.at(entry.path)))?.toString('utf8') : undefined;
    if (state === undefined || text === undefined) continue;
    const lines = text.split('\n');
    if (lines.some((line) => line.split(':')[0] === name)) continue;
    // Before a final newline's empty last element at the latest.
    lines.splice(Math.min(entry.index, Math.max(lines.length - 1, 0)), 0, entry.line);
    await atomicWrite(ctx.at(entry.path), lines.join('\n'), { mode: state.mode, uid: state.uid, gid: state.gid, owners: ctx.owners });
  }
}

export const removeUser: Executor<RemoveUser, AccountFile[]> = {
  async prepare(_a, ctx) {
    const saved: AccountFile[] = [];
    for (const path of Object.keys(accountFiles)) {
      const state = await inspectPath(ctx.at(path), { content: false });
      const content = state?.kind === 'file' ? await readFileIfExists(ctx.at(path)) : undefined;
      if (state && content) saved.push({ path, content, mode: state.mode, uid: state.uid, gid: state.gid });
    }
    return saved;
  },
  async perform(a, ctx, saved) {
    try {
      const keptGroup = a.removeGroup ? [] : groupEntries(saved, a.user);
      await removeAccount(ctx.target, a.user, { user: true, group: false });
      ctx.partway();
      if (a.removeGroup) await removeAccount(ctx.target, a.user, { user: false, group: true });
      else await putBackGroup(ctx, a.user, keptGroup);
    } finally {
      ctx.forgetAccounts();
    }
  },
  async undo(a, ctx, saved) {
    const accounts = await readAccounts(ctx.target);
    if (accounts.users.has(a.user) && (!a.removeGroup || accounts.groups.has(a.user))) return;
    const changed = [];
    for (const file of saved) {
      const now = await readFileIfExists(ctx.at(file.path));
      if (now?.equals(file.content)) continue;
      const fields = accountFiles[file.path]!;
      if (now === undefined || withoutAccount(now.toString('utf8'), a.user, fields) !== withoutAccount(file.content.toString('utf8'), a.user, fields)) {
        throw new OperationError(`${file.path} changed during the transaction, not only in the entries of ${a.user}: it is not put back`, `re-create the user ${a.user} by hand (userdel left the previous ${file.path} in ${file.path}-)`);
      }
      changed.push(file);
    }
    for (const file of changed) await atomicWrite(ctx.at(file.path), file.content, { mode: file.mode, uid: file.uid, gid: file.gid, owners: ctx.owners });
    ctx.forgetAccounts();
  },
};
