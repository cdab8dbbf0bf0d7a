// Where svcctl acts — the system manager or one user's, the live root or a --root tree — and layout(), the one
// function that derives every path svcctl uses from it (as systemd derives its lookup paths from scope and root).
import path from 'node:path';

export type Scope = 'system' | 'user';

export interface Target {
  scope: Scope;
  /** "/" for the live system, or the absolute --root directory the same tree is rendered under. */
  root: string;
  /** --root: no running systemd; files are rendered, nothing is started. */
  offline: boolean;
  /** Who owns svcctl's own files (receipts, secrets, drop-ins): root in system scope, the user in user scope. */
  user: string;
  /** That owner's primary group, by name. */
  group: string;
  uid: number;
  gid: number;
  /** The user's home: user-scope paths derive from it. */
  home: string;
  /** $XDG_RUNTIME_DIR of the user (user scope): the user manager's bus and svcctl's lock live there. */
  runtimeDir?: string;
}

/** The live system, or a tree rendered under `root` with no running systemd. */
export function systemTarget(root?: string): Target {
  const offline = root !== undefined;
  return { scope: 'system', root: offline ? path.resolve(root) : '/', offline, user: 'root', group: 'root', uid: 0, gid: 0, home: '/root' };
}

/** One user's own systemd manager (`systemctl --user`). */
export function userTarget(user: { name: string; group: string; uid: number; gid: number; home: string; runtimeDir?: string }): Target {
  return { scope: 'user', root: '/', offline: false, user: user.name, group: user.group, uid: user.uid, gid: user.gid, home: user.home, ...(user.runtimeDir ? { runtimeDir: user.runtimeDir } : {}) };
}

/** Every path svcctl reads or writes for a target, as paths of the target system (see onHost for where they are here). */
export interface Layout {
  scope: Scope;
  /** Where bundles' unit files and svcctl's drop-ins go. */
  unitDir: string;
  /** Unit directories of the distribution and packages: a bundle unit named like one of theirs would override it. */
  vendorUnitDirs: string[];
  /** Receipts and backups. */
  stateDir: string;
  /** svcctl's configuration: per-bundle secrets directories. */
  configDir: string;
  /** sysusers.d entries (system scope only: a user manager cannot create users). */
  sysusersDir?: string;
  /** tmpfiles.d entries: /etc/tmpfiles.d, or the user's own ~/.config/user-tmpfiles.d. */
  tmpfilesDir: string;
  /** The transaction lock (a kernel lock on an open file). */
  lockFile: string;
  /** Where a payload may be installed (user scope: inside the home only). */
  payloadRoots: string[];
  /** Where scripts usually go: /usr/local/bin, or the user's ~/.local/bin (what `~/` payload paths are hinted to). */
  binDir: string;
  /**
   * Directories svcctl never re-modes, re-owns or purges, and a bundle may not declare: the system's own, and in user
   * scope also the home and its standard directories (~/.config, ~/.local/bin, …).
   */
  standardDirectories: ReadonlySet<string>;
  receipt(bundle: string): string;
  backupDir(bundle: string): string;
  secretsDir(bundle: string): string;
  secretsFile(bundle: string): string;
  unitFile(unit: string): string;
  dropInDir(unit: string): string;
  override(unit: string): string;
  scheduleDropIn(timer: string): string;
  sysusers(bundle: string): string | undefined;
  tmpfiles(bundle: string): string;
  /** The unit (its file or one of its drop-ins) that a path under unitDir configures, if any. */
  unitOfPath(p: string): string | undefined;
}

export function layout(target: Target): Layout {
  const system = target.scope === 'system';
  const home = target.home;
  const unitDir = system ? '/etc/systemd/system' : `${home}/.config/systemd/user`;
  const stateDir = system ? '/var/lib/svcctl' : `${home}/.local/state/svcctl`;
  const configDir = system ? '/etc/svcctl' : `${home}/.config/svcctl`;
  const sysusersDir = system ? '/etc/sysusers.d' : undefined;
  const tmpfilesDir = system ? '/etc/tmpfiles.d' : `${home}/.config/user-tmpfiles.d`;
  // /run is cleared at boot, so a lock never outlives a crash of the machine; a --root tree has its own.
  const lockFile = target.offline ? `${stateDir}/.lock` : system ? '/run/svcctl.lock' : `${target.runtimeDir ?? `/run/user/${target.uid}`}/svcctl.lock`;
  return {
    scope: target.scope,
    unitDir,
    vendorUnitDirs: system ? ['/usr/lib/systemd/system', '/lib/systemd/system'] : ['/usr/lib/systemd/user', '/etc/systemd/user', `${home}/.local/share/systemd/user`],
    stateDir,
    configDir,
    ...(sysusersDir ? { sysusersDir } : {}),
    tmpfilesDir,
    lockFile,
    payloadRoots: system ? ['/'] : [home],
    binDir: system ? '/usr/local/bin' : `${home}/.local/bin`,
    standardDirectories: system ? systemDirectories : new Set([...systemDirectories, home, ...homeStandardDirectories.map((d) => `${home}/${d}`)]),
    receipt: (bundle) => `${stateDir}/${bundle}.json`,
    backupDir: (bundle) => `${stateDir}/backups/${bundle}`,
    secretsDir: (bundle) => `${configDir}/${bundle}`,
    secretsFile: (bundle) => `${configDir}/${bundle}/secrets.env`,
    unitFile: (unit) => `${unitDir}/${unit}`,
    dropInDir: (unit) => `${unitDir}/${unit}.d`,
    override: (unit) => `${unitDir}/${unit}.d/override.conf`,
    scheduleDropIn: (timer) => `${unitDir}/${timer}.d/schedule.conf`,
    sysusers: (bundle) => (sysusersDir ? `${sysusersDir}/svcctl-${bundle}.conf` : undefined),
    tmpfiles: (bundle) => `${tmpfilesDir}/svcctl-${bundle}.conf`,
    unitOfPath: (p) => (p.startsWith(`${unitDir}/`) ? p.slice(unitDir.length + 1).split('/')[0]!.replace(/\.d$/, '') : undefined),
  };
}

/**
 * Who may own a directory on the way to what svcctl writes or reads: root; in user scope also the user himself, at and
 * below his home (never above it: /home belongs to root). Group- or world-writable directories are refused apart.
 */
export function trustsOwner(target: Pick<Target, 'scope' | 'uid' | 'home'>, dir: string, uid: number): boolean {
  if (uid === 0) return true;
  return target.scope === 'user' && uid === target.uid && (dir === target.home || dir.startsWith(`${target.home}/`));
}

/** A bundle path written `~/...`: relative to the home of the user who installs it (user scope only). */
export const HOME_PREFIX = '~/';

/** A bundle's path on the target: `~/x` is inside the user's home; an absolute path is itself. */
export function expandHome(p: string, target: Pick<Target, 'home'>): string {
  return p.startsWith(HOME_PREFIX) ? `${target.home}/${p.slice(HOME_PREFIX.length)}` : p;
}

/** The standard directories of a home (XDG and ~/.local/bin), relative to it: shared by every program, never a bundle's. */
export const homeStandardDirectories = ['.config', '.local', '.local/bin', '.local/share', '.local/state', '.cache', '.config/systemd', '.config/systemd/user', '.local/share/systemd'];

/** Maps a path of the target system to where it is on this machine (under --root DIR, or itself). */
export function onHost(target: Pick<Target, 'root'>, p: string): string {
  return target.root === '/' ? p : path.join(target.root, p);
}

/**
 * The system's own directories and their standard children: svcctl never changes their mode or owner, and
 * never removes them (issue: a bundle once made /etc 0777 and gave /usr to its user).
 */
export const systemDirectories: ReadonlySet<string> = new Set([
  '/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/media', '/mnt', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var',
  '/etc/default', '/etc/systemd', '/etc/systemd/system', '/etc/systemd/user', '/etc/cron.d', '/etc/ssh', '/etc/sudoers.d', '/etc/security', '/etc/pam.d',
  '/usr/bin', '/usr/sbin', '/usr/lib', '/usr/lib64', '/usr/libexec', '/usr/include', '/usr/share', '/usr/src', '/usr/local', '/usr/local/bin', '/usr/local/sbin', '/usr/local/lib', '/usr/local/share', '/usr/local/etc', '/usr/local/include', '/usr/local/src',
  '/var/lib', '/var/log', '/var/cache', '/var/tmp', '/var/spool', '/var/mail', '/var/opt', '/var/backups', '/var/local', '/var/run', '/var/lock',
]);
