// check-installed: after the last step, every file, directory and user the desired state declares is there with its
// declared kind, mode, owner and group — a tool that failed quietly fails the transaction (and rolls it back).
import { OperationError } from '../core/errors.js';
import { ancestors } from '../core/plan.js';
import type { CheckInstalled } from '../core/steps/types.js';
import { readAccounts } from '../system/accounts.js';
import { inspectPath } from '../system/fs.js';
import type { Executor } from './context.js';

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

export const checkInstalled: Executor<CheckInstalled> = {
  async perform(a, ctx) {
    const accounts = await readAccounts(ctx.target);
    const problems: string[] = [];
    for (const user of a.users) if (!accounts.users.has(user)) problems.push(`user ${user} does not exist`);
    // systemd-tmpfiles exits 0 when a parent is a regular file: say what is in the way.
    const blockedBy = async (p: string) => {
      for (const dir of ancestors(p)) {
        const state = await inspectPath(ctx.at(dir), { content: false });
        if (state) return state.kind === 'directory' ? '' : ` (${dir} is a ${state.kind}, not a directory)`;
      }
      return '';
    };
    const expect = async (entry: { path: string; mode: number; owner: string; group: string }, kind: 'file' | 'directory'): Promise<string[]> => {
      const state = await inspectPath(ctx.at(entry.path), { content: false });
      if (!state) return [`${entry.path} is missing${await blockedBy(entry.path)}`];
      if (state.kind !== kind) return [`${entry.path} is a ${state.kind}, not a ${kind}`];
      // root is 0 everywhere, also in a --root tree whose /etc/passwd does not list it.
      const uid = entry.owner === 'root' ? 0 : accounts.users.get(entry.owner)?.uid;
      const gid = entry.group === 'root' ? 0 : accounts.groups.get(entry.group)?.gid;
      const found: string[] = [];
      if (state.mode !== entry.mode) found.push(`${entry.path} has mode ${octal(state.mode)}, not ${octal(entry.mode)}`);
      if (state.uid !== uid || state.gid !== gid) found.push(`${entry.path} is owned by ${state.uid}:${state.gid}, not ${entry.owner}:${entry.group}`);
      return found;
    };
    // Looked at side by side (only reads), reported in the declared order.
    const found = await Promise.all([...a.files.map((f) => expect(f, 'file')), ...a.directories.map((d) => expect(d, 'directory'))]);
    problems.push(...found.flat());
    if (problems.length > 0) throw new OperationError(`${a.bundle} is not installed as declared: ${problems.join('; ')}`);
    return undefined;
  },
};
