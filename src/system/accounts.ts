// The one reader of the target's users and groups (/etc/passwd and /etc/group under its root), and the removal
// of the accounts svcctl created.
import { exec, tool } from './exec.js';
import { readTextIfExists } from './fs.js';
import { onHost, type Target } from '../core/target.js';

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface Group {
  name: string;
  gid: number;
  members: string[];
}

export interface Accounts {
  users: Map<string, Account>;
  groups: Map<string, Group>;
}

/** Users and groups as the files under the target's root list them (NSS sources such as LDAP are not asked). */
export async function readAccounts(target: Pick<Target, 'root'>): Promise<Accounts> {
  const [passwd, group] = await Promise.all([readTextIfExists(onHost(target, '/etc/passwd')), readTextIfExists(onHost(target, '/etc/group'))]);
  return { users: parsePasswd(passwd ?? ''), groups: parseGroup(group ?? '') };
}

export function parsePasswd(text: string): Map<string, Account> {
  const users = new Map<string, Account>();
  for (const line of text.split('\n')) {
    const [name, , uid, gid, , home, shell] = line.split(':');
    if (!name || uid === undefined || gid === undefined || users.has(name)) continue;
    users.set(name, { name, uid: Number(uid), gid: Number(gid), home: home ?? '', shell: shell ?? '' });
  }
  return users;
}

export function parseGroup(text: string): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const line of text.split('\n')) {
    const [name, , gid, members] = line.split(':');
    if (!name || gid === undefined || groups.has(name)) continue;
    groups.set(name, { name, gid: Number(gid), members: (members ?? '').split(',').filter(Boolean) });
  }
  return groups;
}

/** Removes a user (and, with `group`, the group of the same name) if they are there; under --root with --root. */
export async function removeAccount(target: Pick<Target, 'root'>, user: string, options: { user: boolean; group: boolean }): Promise<void> {
  const rootArgs = target.root === '/' ? [] : ['--root', target.root];
  if (options.user && (await readAccounts(target)).users.has(user)) await exec([tool('userdel'), ...rootArgs, user]);
  // userdel removes the user's own group too where USERGROUPS_ENAB is on (Debian): look again.
  if (options.group && (await readAccounts(target)).groups.has(user)) await exec([tool('groupdel'), ...rootArgs, user]);
}
