// sysusers.d(5) lines (`u`, `g`, `m`) that systemd-sysusers 252 reads back as exactly the user and groups meant.
//
// What systemd 252 does with a line (verified with the real systemd-sysusers, test/integration/escape-lines.test.ts):
// - The line is stripped and split into at most six fields by extract_first_word(EXTRACT_UNQUOTE): quotes
//   group, a backslash takes the next character literally, there are NO C escapes (`\t` is `t`); more
//   fields are "Trailing garbage". A field that is empty or `-` means "not set".
// - Specifiers are resolved in every field after unquoting (`%H` is the host name, `%%` is `%`): every `%`
//   is escaped here.
// - Names: valid_user_group_name() in strict mode: [A-Za-z_][A-Za-z0-9_-]*, at most 31 characters.
//   GECOS: valid UTF-8, no control characters, no `:`. Home and shell: absolute, normalised (path_simplify
//   runs first, so `/srv/x/` would silently become `/srv/x`: refused here), no `:`, no control characters;
//   a shell cannot end in `/`.
import { UserError } from '../errors.js';
import { configWord, findControlCharacter, isNormalizedPath, refuseInvalidUnicode } from './chars.js';
import { escapeSpecifiers } from './unit.js';

/** UT_NAMESIZE - 1: the longest name systemd 252 accepts for a user or group. */
const userGroupNameMax = 31;
const userGroupNamePattern = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** PATH_MAX - 1: specifier_printf's limit for a home or shell. */
const pathMax = 4095;

export interface SysusersUser {
  name: string;
  /** Fixed UID; automatic when omitted (recommended). */
  uid?: number;
  /** The GECOS (description) field; none when omitted or empty. */
  gecos?: string;
  /** Absolute, normalised path; `/` when omitted. */
  home?: string;
  /** Absolute, normalised path of the login shell; /usr/sbin/nologin when omitted. */
  shell?: string;
}

/**
 * A user or group name as systemd 252's valid_user_group_name() accepts it in strict mode (what
 * systemd-sysusers uses): letters, digits, "_" and "-", not starting with a digit or "-", 1 to 31 characters.
 */
export function validateUserGroupName(name: string, field = 'user or group name'): string {
  const hint = `use 1 to ${userGroupNameMax} letters, digits, "_" or "-", starting with a letter or "_" (e.g. svc-backup)`;
  if (name.length === 0 || name.length > userGroupNameMax) {
    throw new UserError(`${field} ${JSON.stringify(name)} must be 1 to ${userGroupNameMax} characters long`, hint);
  }
  if (!userGroupNamePattern.test(name)) {
    throw new UserError(`${field} ${JSON.stringify(name)} is not a valid user or group name for systemd-sysusers`, hint);
  }
  return name;
}

/** `u NAME ID "GECOS" HOME SHELL`: creates the user (and its group of the same name) if missing. */
export function sysusersUserLine(user: SysusersUser): string {
  const name = validateUserGroupName(user.name, 'sysusers.d user name');
  const fields = ['u', name, idField(user.uid, 'UID of user ' + name), gecosField(user.gecos, name)];
  fields.push(user.home === undefined ? '-' : configWord(escapeSpecifiers(checkAccountPath(user.home, `home directory of user ${name}`))));
  if (user.shell !== undefined) {
    const shell = checkAccountPath(user.shell, `shell of user ${name}`);
    if (shell.endsWith('/')) throw new UserError(`shell of user ${name} ${JSON.stringify(shell)} ends with "/"`, 'give the path of the shell program, e.g. /usr/sbin/nologin');
    fields.push(configWord(escapeSpecifiers(shell)));
  }
  return fields.join(' ');
}

/** `g NAME ID`: creates the group if missing. */
export function sysusersGroupLine(group: { name: string; gid?: number }): string {
  const name = validateUserGroupName(group.name, 'sysusers.d group name');
  return `g ${name} ${idField(group.gid, 'GID of group ' + name)}`;
}

/** `m USER GROUP`: adds the user to the group (each created if missing). */
export function sysusersMemberLine(user: string, group: string): string {
  return `m ${validateUserGroupName(user, 'sysusers.d member user')} ${validateUserGroupName(group, 'sysusers.d member group')}`;
}

function idField(id: number | undefined, field: string): string {
  if (id === undefined) return '-';
  // 65535 and 4294967295 are placeholders (sysusers.d(5)): never a real account.
  if (!Number.isInteger(id) || id < 0 || id >= 0xffffffff || id === 0xffff) {
    throw new UserError(`${field} ${id} is not a usable ID`, 'give an integer from 0 to 4294967294 other than 65535, or leave it out for automatic allocation');
  }
  return String(id);
}

function gecosField(gecos: string | undefined, user: string): string {
  // Empty and "-" both mean "no GECOS", which is what an empty GECOS reads back as.
  if (gecos === undefined || gecos === '') return '-';
  const field = `GECOS of user ${user}`;
  if (gecos === '-') throw new UserError(`${field} is "-", which sysusers.d reads as "no GECOS"`, 'use another description, or leave it out');
  refuseInvalidUnicode(field, gecos);
  const control = findControlCharacter(gecos);
  if (control) throw new UserError(`${field} contains ${control.what}`, 'use a single line of printable text');
  if (gecos.includes(':')) throw new UserError(`${field} contains ":", the field separator of /etc/passwd`, 'remove the colon');
  // Always quoted: the form sysusers.d(5) shows, readable when it has spaces.
  return `"${escapeSpecifiers(gecos).replace(/["\\]/g, (ch) => `\\${ch}`)}"`;
}

/** Home and shell: what valid_home() accepts, and already in the form path_simplify() would give. */
function checkAccountPath(path: string, field: string): string {
  refuseInvalidUnicode(field, path);
  const control = findControlCharacter(path);
  if (control) throw new UserError(`${field} contains ${control.what}`, 'use a path of printable characters');
  if (!path.startsWith('/')) throw new UserError(`${field} ${JSON.stringify(path)} is not an absolute path`, 'give a path starting with "/", e.g. /var/lib/backup');
  if (path.includes(':')) throw new UserError(`${field} ${JSON.stringify(path)} contains ":", the field separator of /etc/passwd`, 'use a path without a colon');
  if (!isNormalizedPath(path)) {
    throw new UserError(`${field} ${JSON.stringify(path)} is not normalised (an empty, "." or ".." component, or a trailing "/")`, 'write the path in its plain form, e.g. /var/lib/backup');
  }
  if (Buffer.byteLength(path, 'utf8') > pathMax) throw new UserError(`${field} is longer than ${pathMax} bytes`, 'use a shorter path');
  return path;
}
