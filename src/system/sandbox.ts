// A throwaway real systemd booted as PID 1 in private namespaces (`svcctl sandbox`, and our tests).
import path from 'node:path';
import * as fsp from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { OperationError, UserError } from '../core/errors.js';
import { randomBytes } from 'node:crypto';
import { childPath, exec, execInteractive, spawnDetached, tool } from './exec.js';
import { packageRoot, scriptsDir } from './paths.js';
import { requireRoot } from './privileges.js';
import { atomicWrite, removeTree, sha256 } from './fs.js';
import { debug } from '../debug.js';
import { byPath } from '../core/plan.js';
import { MANIFEST_FILE } from '../core/bundle/names.js';
import { isAlive, sleep } from './processes.js';

export const defaultSandboxName = 'default';

/** Exit 77 without root: the sandbox boots a systemd of its own, which no user scope can do. */
export function requireSandboxRoot(): void {
  requireRoot('svcctl sandbox', 'run it again with sudo: the sandbox boots a systemd of its own as PID 1');
}
const namePattern = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Sandbox state lives on /dev/shm (a tmpfs): outside every overlaid or cleaned path, gone at reboot like the sandbox. */
export function sandboxStateRoot(): string {
  return process.env.SVCCTL_SANDBOX_DIR ?? '/dev/shm/svcctl-sandbox';
}

const insidePath = '/run/svcctl-sandbox/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The sandbox's own mounts over the host's tree: what lies there on the host is not seen inside. */
const privateTrees = ['/tmp', '/run', '/dev/shm'];
/** Where the sandbox receives the host directories `sandbox exec` shows it (scripts/sandbox-boot.sh, phase host-view). */
const incomingInside = '/run/svcctl-sandbox/incoming';
/** The file in a state directory that proves svcctl made it: it holds the sandbox's token. */
const markerFile = 'svcctl-sandbox.id';
const tokenPattern = /^[0-9a-f]{32}$/;

export interface SandboxRecord {
  name: string;
  /** Random, also in the state directory's marker file and on the command line of the processes the sandbox runs. */
  token: string;
  /** host PID of the outer unshare (the "host view" mount namespace; see scripts/sandbox-boot.sh) */
  launcherPid: number;
  /** host PID of the sandbox's systemd (PID 1 inside) */
  pid: number;
  startedAt: string;
  packageRoot: string;
}

/** What is on disk: a sandbox still booting has no systemd PID yet. */
type StoredRecord = Omit<SandboxRecord, 'pid'> & { pid?: number };

export interface SandboxStatus {
  name: string;
  running: boolean;
  pid?: number;
  startedAt?: string;
  /** what `systemctl is-system-running` says inside */
  state?: string;
  stateDir: string;
}

export function validateSandboxName(name: string): string {
  if (!namePattern.test(name)) {
    throw new UserError(`invalid sandbox name "${name}"`, 'use 1-32 characters: lowercase letters, digits and "-", starting with a letter or digit');
  }
  return name;
}

// ---- state: a root-owned root, and only directories carrying our marker are ever removed ----

/**
 * The state root, checked: a real directory owned by root and not writable by group or others, under
 * directories that are root-owned and not writable by others unless sticky (as /dev/shm). Records there name
 * PIDs that svcctl signals and directories it removes, so nobody else may write there. `create` makes it
 * (0700) when it is missing; otherwise a missing root is undefined.
 */
async function checkedStateRoot(options: { create: boolean }): Promise<string | undefined> {
  const given = sandboxStateRoot();
  const fix = 'set SVCCTL_SANDBOX_DIR to a directory only root can write (mode 0700, owned by root), or unset it for /dev/shm/svcctl-sandbox';
  if (!path.isAbsolute(given) || path.resolve(given) === '/') throw new UserError(`SVCCTL_SANDBOX_DIR must be an absolute path below /, not "${given}"`, fix);
  const parent = await fsp.realpath(path.dirname(path.resolve(given))).catch(() => undefined);
  if (parent === undefined) throw new UserError(`the sandbox state directory ${given} cannot be made: ${path.dirname(given)} does not exist`, fix);
  const root = path.join(parent, path.basename(given));
  for (let dir = parent; ; dir = path.dirname(dir)) {
    const info = await fsp.lstat(dir);
    const sticky = (info.mode & 0o1000) !== 0;
    if (!info.isDirectory() || info.uid !== 0 || ((info.mode & 0o022) !== 0 && !sticky)) {
      throw new UserError(`the sandbox state directory ${root} is refused: ${dir} is ${describeOwner(info)}`, fix);
    }
    if (dir === '/') break;
  }
  let info = await fsp.lstat(root).catch(() => undefined);
  if (!info) {
    if (!options.create) return undefined;
    await fsp.mkdir(root, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    info = await fsp.lstat(root);
  }
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) {
    throw new UserError(`the sandbox state directory ${root} is refused: it is ${describeOwner(info)}, and must be a directory owned by root that nobody else can write`, fix);
  }
  return root;
}

function describeOwner(info: { isDirectory(): boolean; isSymbolicLink(): boolean; uid: number; mode: number }): string {
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (!info.isDirectory()) return 'not a directory';
  return `mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')}, owned by uid ${info.uid}`;
}

/** The state directory of sandbox `name` (a checked root), and the token of its marker when svcctl made it. */
async function stateOf(name: string, options: { create: boolean }): Promise<{ dir: string; exists: boolean; token?: string } | undefined> {
  validateSandboxName(name);
  const root = await checkedStateRoot(options);
  if (root === undefined) return undefined;
  const dir = path.join(root, name);
  const info = await fsp.lstat(dir).catch(() => undefined);
  if (!info) return { dir, exists: false };
  const token = info.isDirectory() ? await readMarker(dir) : undefined;
  return { dir, exists: true, ...(token ? { token } : {}) };
}

/** The marker's token: a regular file owned by root, never through a symbolic link. */
function readMarker(dir: string): Promise<string | undefined> {
  return readMarkerFile(dir, markerFile);
}

function notOurs(dir: string): UserError {
  return new UserError(
    `${dir} was not made by svcctl sandbox (no ${markerFile} marker in it): nothing was removed or signalled`,
    'choose another --name, or another SVCCTL_SANDBOX_DIR; remove that directory yourself if it is a leftover',
  );
}

async function readRecord(dir: string, token: string): Promise<StoredRecord | undefined> {
  const text = await fsp.readFile(path.join(dir, 'sandbox.json'), 'utf8').catch(() => undefined);
  let record: StoredRecord;
  try {
    record = JSON.parse(text ?? '') as StoredRecord;
  } catch {
    return undefined; // cut short by a crash while it was written: nothing in it can be trusted
  }
  // A record that does not carry the marker's token was not written for this directory: its PIDs are not ours.
  return record.token === token && Number.isInteger(record.launcherPid) && record.launcherPid > 1 ? record : undefined;
}

async function writeRecord(dir: string, record: StoredRecord): Promise<void> {
  await atomicWrite(path.join(dir, 'sandbox.json'), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, uid: 0, gid: 0 });
}

// ---- the sandbox's processes, known by the token on their command line ----

async function childrenOf(pid: number): Promise<number[]> {
  const text = await fsp.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(/\s+/).filter(Boolean).map(Number);
}

async function carriesToken(pid: number, token: string): Promise<boolean> {
  const cmdline = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0').includes(token);
}

/**
 * The processes of a record that are alive and ours: the launcher (outer unshare), the inner unshare below it,
 * and the systemd below that; each checked by its place in the tree and the token on the unshares' command
 * lines, so that a PID reused by another process is never taken for the sandbox's.
 */
async function liveProcesses(record: StoredRecord): Promise<{ launcher?: number; inner?: number; systemd?: number }> {
  if (!isAlive(record.launcherPid) || !(await carriesToken(record.launcherPid, record.token))) return {};
  let inner: number | undefined;
  for (const child of await childrenOf(record.launcherPid)) if (await carriesToken(child, record.token)) inner = child;
  if (inner === undefined) return { launcher: record.launcherPid };
  let systemd: number | undefined;
  for (const child of await childrenOf(inner)) {
    const comm = await fsp.readFile(`/proc/${child}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'systemd' && (record.pid === undefined || record.pid === child)) systemd = child;
  }
  return { launcher: record.launcherPid, inner, ...(systemd !== undefined ? { systemd } : {}) };
}

async function liveRecord(name: string): Promise<SandboxRecord | undefined> {
  const state = await stateOf(name, { create: false });
  if (!state?.token) return undefined;
  const record = await readRecord(state.dir, state.token);
  if (!record || record.pid === undefined) return undefined;
  const processes = await liveProcesses(record);
  return processes.systemd === record.pid ? { ...record, pid: record.pid } : undefined;
}

/** The argv prefix that runs a command inside sandbox `pid` as root, with svcctl on PATH. */
export function insideArgv(pid: number, command: string[], options: { cwd?: string } = {}): string[] {
  // --wdns resolves the directory inside the sandbox (--wd would resolve it on the host, leaving an unreachable cwd).
  return [tool('nsenter'), '-t', String(pid), '-a', `--wdns=${options.cwd ?? '/'}`, 'env', `PATH=${insidePath}`, ...command];
}

async function checkRequirements(): Promise<void> {
  const missing: string[] = [];
  for (const [binary, pkg] of [
    ['/usr/bin/unshare', 'util-linux'],
    ['/usr/bin/nsenter', 'util-linux'],
    ['/lib/systemd/systemd', 'systemd'],
  ] as const) {
    const ok = await fsp.access(binary, fsConstants.X_OK).then(
      () => true,
      () => false,
    );
    if (!ok) missing.push(`${binary} (apt-get install ${pkg})`);
  }
  const filesystems = await fsp.readFile('/proc/filesystems', 'utf8').catch(() => '');
  if (!/\boverlay\b/.test(filesystems)) {
    await exec([tool('modprobe'), 'overlay'], { check: false }).catch(() => undefined);
    const again = await fsp.readFile('/proc/filesystems', 'utf8').catch(() => '');
    if (!/\boverlay\b/.test(again)) missing.push('overlayfs in the kernel (modprobe overlay)');
  }
  if (missing.length > 0) {
    throw new OperationError(`the sandbox needs what this machine lacks: ${missing.join(', ')}`, 'install the packages named above, then run `svcctl sandbox start` again');
  }
}

export async function sandboxStatus(name: string): Promise<SandboxStatus> {
  const state = await stateOf(name, { create: false });
  const base = { name, stateDir: state?.dir ?? path.join(sandboxStateRoot(), name) };
  const record = await liveRecord(name);
  if (!record) return { ...base, running: false };
  const running = await exec(insideArgv(record.pid, ['systemctl', 'is-system-running']), { check: false });
  return { ...base, running: true, pid: record.pid, startedAt: record.startedAt, state: running.stdout.trim() || 'unknown' };
}

export async function listSandboxes(): Promise<SandboxStatus[]> {
  const root = await checkedStateRoot({ create: false });
  const names = root ? await fsp.readdir(root) : [];
  return Promise.all(names.filter((n) => namePattern.test(n)).map((n) => sandboxStatus(n)));
}

/** Boots sandbox `name` (idempotent: a running one is left as it is) and returns its record. */
export async function startSandbox(name: string, options: { timeoutMs?: number } = {}): Promise<SandboxRecord> {
  requireSandboxRoot();
  const existing = await liveRecord(name);
  if (existing) return existing;
  let state = await stateOf(name, { create: true });
  if (state?.exists) {
    // Ours but not running (a crash, a failed boot): end what is left of it, then start afresh.
    if (!state.token) throw notOurs(state.dir);
    await endSandbox(state.dir, state.token, name);
    state = await stateOf(name, { create: true });
  }
  if (!state || state.exists) throw new OperationError(`could not clear ${state?.dir ?? name} for a new sandbox`);
  await checkRequirements();

  const dir = state.dir;
  const token = randomBytes(16).toString('hex');
  await fsp.mkdir(dir, { mode: 0o700 });
  await fsp.writeFile(path.join(dir, markerFile), `${token}\n`, { mode: 0o600, flag: fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW });
  const started = Date.now();
  const launcherPid = await spawnDetached(['/bin/bash', path.join(scriptsDir, 'sandbox-boot.sh'), 'launch', name, dir, packageRoot, process.execPath, token], {
    stdoutFile: path.join(dir, 'console.log'),
    env: { SYSTEMD_COLORS: '0' },
  });
  // Recorded at once, so that a `stop` while it boots (or after this process is killed) finds what to end.
  const booting: StoredRecord = { name, token, launcherPid, startedAt: new Date().toISOString(), packageRoot };
  await writeRecord(dir, booting);
  let pid: number | undefined;
  const deadline = started + (options.timeoutMs ?? 30_000);
  try {
    while (Date.now() < deadline) {
      if (!isAlive(launcherPid)) break;
      pid ??= (await liveProcesses(booting)).systemd;
      if (pid !== undefined) {
        const running = await exec(insideArgv(pid, ['systemctl', 'is-system-running']), { check: false });
        const word = running.stdout.trim();
        debug('sandbox %s: %s', name, word);
        if (word === 'running' || word === 'degraded') {
          const record: SandboxRecord = { ...booting, pid, startedAt: new Date().toISOString() };
          await writeRecord(dir, record);
          return record;
        }
      }
      await sleep(50);
    }
  } catch (error) {
    await endSandbox(dir, token, name);
    throw error;
  }
  const console = await fsp.readFile(path.join(dir, 'console.log'), 'utf8').catch(() => '');
  await endSandbox(dir, token, name);
  throw new OperationError(
    `sandbox "${name}" did not reach running within ${Math.round((Date.now() - started) / 1000)} s`,
    'run with DEBUG=svcctl* to see its console',
    console.trim().split('\n').slice(-8),
  );
}

/** Powers the sandbox off, waits for it to end, and removes its state. False when there was nothing to stop. */
export async function stopSandbox(name: string, options: { timeoutMs?: number } = {}): Promise<boolean> {
  requireSandboxRoot();
  const state = await stateOf(name, { create: false });
  if (!state?.exists) return false;
  if (!state.token) throw notOurs(state.dir);
  const record = await readRecord(state.dir, state.token);
  if (record?.pid !== undefined) {
    const { systemd } = await liveProcesses(record);
    if (systemd !== undefined) {
      // SIGRTMIN+4 asks systemd for a clean poweroff (systemd(1), "Signals").
      const sigrtmin = 34;
      signal(systemd, sigrtmin + 4);
      const deadline = Date.now() + (options.timeoutMs ?? 20_000);
      while (isAlive(record.launcherPid) && Date.now() < deadline) await sleep(50);
    }
  }
  await endSandbox(state.dir, state.token, name);
  return record !== undefined;
}

/**
 * Ends what is left of a sandbox and removes its state: SIGKILL to its own processes only (by PID, each checked
 * by token; the kernel ends the rest of the PID namespace with its PID 1), its cgroups, then its directory, and
 * only while the marker still holds the token.
 */
async function endSandbox(dir: string, token: string, name: string): Promise<void> {
  const record = await readRecord(dir, token);
  if (record) {
    const { launcher, inner, systemd } = await liveProcesses(record);
    for (const pid of [systemd, inner, launcher]) if (pid !== undefined) signal(pid, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (launcher !== undefined && isAlive(launcher) && Date.now() < deadline) await sleep(20);
  }
  for (const hierarchy of ['systemd', 'unified']) {
    await removeCgroupTree(`/sys/fs/cgroup/${hierarchy}/svcctl-sandbox-${name}`);
  }
  if ((await readMarker(dir)) !== token) throw notOurs(dir);
  await removeTree(dir);
}

function signal(pid: number, which: NodeJS.Signals | number): void {
  try {
    process.kill(pid, which);
  } catch {
    /* already gone */
  }
}

async function removeCgroupTree(dir: string): Promise<void> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return;
  for (const entry of entries) if (entry.isDirectory()) await removeCgroupTree(path.join(dir, entry.name));
  await fsp.rmdir(dir).catch((error: NodeJS.ErrnoException) => debug('rmdir %s: %s', dir, error.code ?? ''));
}

export async function requireRunning(name: string): Promise<SandboxRecord> {
  const record = await liveRecord(name);
  if (!record) {
    throw new UserError(`sandbox "${name}" is not running`, `start it with: svcctl sandbox start${name === defaultSandboxName ? '' : ` --name ${name}`}`);
  }
  return record;
}

/** Runs `command` inside the sandbox with stdio connected; resolves to its exit code. */
export async function execInSandbox(name: string, command: string[]): Promise<number> {
  requireSandboxRoot();
  const record = await requireRunning(name);
  return execInteractive(insideArgv(record.pid, command));
}

// ---- host bundles the sandbox cannot see, shown inside read-only ----

interface HiddenDirectory {
  /** the host directory (real path) */
  source: string;
  /** where the command looks for it inside: the path it names */
  target: string;
  /** device:inode of the source, to recognise it inside */
  id: string;
}

export interface ShownDirectory {
  target: string;
  /** shown: now visible inside; already: shown by an earlier exec; shadowed: the sandbox has its own file there */
  outcome: 'shown' | 'already' | 'shadowed';
}

function underPrivateTree(p: string): boolean {
  return privateTrees.some((tree) => p === tree || p.startsWith(`${tree}/`));
}

/**
 * The bundle directories that `command` names by absolute path (a directory holding bundle.yaml, or the
 * bundle.yaml) under the host's /tmp, /run or /dev/shm: the sandbox has its own of those, so it cannot see them.
 * Paths elsewhere are seen through the overlay already.
 */
async function hiddenBundleDirectories(command: string[]): Promise<HiddenDirectory[]> {
  const found = new Map<string, HiddenDirectory>();
  for (const word of command) {
    if (!path.isAbsolute(word)) continue;
    const lexical = path.resolve(word);
    const info = await fsp.stat(lexical).catch(() => undefined);
    if (!info) continue;
    const given = info.isDirectory() ? lexical : path.basename(lexical) === MANIFEST_FILE ? path.dirname(lexical) : undefined;
    if (given === undefined) continue;
    const source = await fsp.realpath(given);
    const manifest = await fsp.stat(path.join(source, MANIFEST_FILE)).catch(() => undefined);
    if (!manifest?.isFile()) continue;
    const { dev, ino } = await fsp.stat(source);
    for (const target of new Set([source, given])) if (underPrivateTree(target)) found.set(target, { source, target, id: `${dev}:${ino}` });
  }
  return [...found.values()];
}

const hint = 'or put the bundle where the sandbox sees the host (anywhere but /tmp, /run and /dev/shm, e.g. under /root or /srv)';

/**
 * Shows inside the sandbox, read-only and at the same path, each host bundle directory that `command` names and
 * the sandbox cannot see (see hiddenBundleDirectories). A process cannot bind-mount a directory of another mount
 * namespace (mount(2) refuses a source outside the caller's namespace), so it goes the way of propagation: in the
 * sandbox's "host view" namespace (scripts/sandbox-boot.sh) the directory is bind-mounted and made read-only in
 * staging/, moved under the shared incoming/, which propagates it to the sandbox's /run/svcctl-sandbox/incoming;
 * inside it is bound at its own path (read-only, private) and the host view lets go of its copy. The host's own
 * mount table never changes, and nothing propagates from the sandbox back.
 */
export async function showHostBundles(name: string, command: string[]): Promise<ShownDirectory[]> {
  requireSandboxRoot();
  const record = await requireRunning(name);
  const hidden = await hiddenBundleDirectories(command);
  if (hidden.length === 0) return [];
  const state = await stateOf(name, { create: false });
  if (!state) throw new OperationError(`the state of sandbox "${name}" is gone`);
  const launcher = (await liveProcesses(record)).launcher;
  if (launcher === undefined) throw new OperationError(`sandbox "${name}" has no host view to pass ${hidden[0]!.target} through`, 'restart it: svcctl sandbox stop, then start');

  // What the sandbox has at each target now: the same directory (an earlier exec showed it), its own file, or nothing.
  const probe = await exec(
    insideArgv(record.pid, ['/bin/sh', '-c', 'for t; do if [ -e "$t" ] || [ -L "$t" ]; then stat -L -c %d:%i "$t" 2>/dev/null || echo other; else echo none; fi; done', 'sh', ...hidden.map((h) => h.target)]),
  );
  const seen = probe.stdout.trim().split('\n');
  const results: ShownDirectory[] = [];
  const toShow: (HiddenDirectory & { slot: string })[] = [];
  hidden.forEach((directory, index) => {
    const inside = seen[index];
    if (inside === directory.id) results.push({ target: directory.target, outcome: 'already' });
    else if (inside !== 'none') results.push({ target: directory.target, outcome: 'shadowed' });
    else toShow.push({ ...directory, slot: randomBytes(8).toString('hex') });
  });
  if (toShow.length === 0) return results;

  const inHostView = (script: string, args: string[]) => exec([tool('nsenter'), '-t', String(launcher), '-m', '--', '/bin/sh', '-c', script, 'sh', state.dir, ...args], { check: false });
  try {
    const stage = await inHostView(
      `set -e; cd "$1"; shift
      while [ $# -gt 0 ]; do
        [ "$(stat -L -c %d:%i "$1")" = "$3" ] || { echo "$1 is not the directory svcctl looked at (a mount made on the host after the sandbox started?)" >&2; exit 3; }
        mkdir "staging/$2" "incoming/$2"
        mount --bind "$1" "staging/$2"
        mount -o remount,bind,ro,nosuid,nodev "staging/$2"
        mount --move "staging/$2" "incoming/$2"
        shift 3
      done`,
      toShow.flatMap((d) => [d.source, d.slot, d.id]),
    );
    if (stage.exitCode !== 0) throw new OperationError(`could not pass ${toShow.map((d) => d.source).join(', ')} into sandbox "${name}": ${stage.stderr.trim()}`, `restart the sandbox (svcctl sandbox stop, then start), ${hint}`);
    const bind = await exec(
      insideArgv(record.pid, [
        '/bin/sh',
        '-c',
        `set -e; incoming=$1; shift
        while [ $# -gt 0 ]; do
          mkdir -p "$2"
          mount --bind "$incoming/$1" "$2"
          mount -o remount,bind,ro,nosuid,nodev "$2"
          mount --make-private "$2"
          [ "$(stat -c %d:%i "$2")" = "$3" ] || { echo "$2 does not show the host's directory" >&2; exit 3; }
          shift 3
        done`,
        'sh',
        incomingInside,
        ...toShow.flatMap((d) => [d.slot, d.target, d.id]),
      ]),
      { check: false },
    );
    if (bind.exitCode !== 0) throw new OperationError(`could not show ${toShow.map((d) => d.target).join(', ')} inside sandbox "${name}": ${bind.stderr.trim()}`, `make room at that path inside the sandbox, ${hint}`);
  } finally {
    await inHostView('cd "$1"; shift; for slot; do umount "incoming/$slot" "staging/$slot" 2>/dev/null; rmdir "incoming/$slot" "staging/$slot" 2>/dev/null; done; true', toShow.map((d) => d.slot));
  }
  return [...results, ...toShow.map((d) => ({ target: d.target, outcome: 'shown' as const }))];
}

// ---- changes: what the sandbox did to its copy of the host ----

export interface SandboxChange {
  path: string;
  change: 'created' | 'modified' | 'deleted';
  kind: 'file' | 'directory' | 'symlink' | 'other';
}

/** Paths that change on every boot whatever a test does: the journal, systemd's own state, lock and backup files. */
const bootNoise: RegExp[] = [
  /^\/var\/log\/journal(\/|$)/,
  /^\/var\/lib\/systemd(\/|$)/,
  /^\/var\/log\/(wtmp|btmp|lastlog)$/,
  /^\/etc\/(mtab|machine-id|\.pwd\.lock|\.updated|ld\.so\.cache)$/,
  /^\/etc\/(passwd|group|shadow|gshadow|subuid|subgid)-$/,
  /^\/var\/\.updated$/,
  /^\/var\/cache\/ldconfig(\/|$)/,
  /^\/var\/lib\/dbus\/machine-id$/,
  // created empty by systemd-tmpfiles (provision.conf) at every boot
  /^\/root\/\.ssh$/,
];

export async function sandboxChanges(name: string): Promise<SandboxChange[]> {
  requireSandboxRoot();
  const record = await requireRunning(name);
  const state = await stateOf(name, { create: false });
  const upper = path.join(state!.dir, 'upper');
  const changes: SandboxChange[] = [];
  await walkUpper({ upper, merged: `/proc/${record.pid}/root` }, '', changes);
  return changes.filter((c) => !bootNoise.some((pattern) => pattern.test(c.path))).sort(byPath);
}

/** The sandbox's own mounts over the overlay: what the sandbox sees there is not the overlay's. */
const privateMounts = /^\/(proc|sys|dev|run|tmp)(\/|$)/;

async function walkUpper(layers: { upper: string; merged: string }, relative: string, out: SandboxChange[]): Promise<void> {
  const { upper } = layers;
  const entries = await fsp.readdir(path.join(upper, relative), { withFileTypes: true });
  for (const entry of entries) {
    const rel = path.join(relative, entry.name);
    const hostPath = `/${rel}`;
    const inUpper = path.join(upper, rel);
    const info = await fsp.lstat(inUpper);
    const host = await fsp.lstat(hostPath).catch(() => undefined);
    if (info.isCharacterDevice() && info.rdev === 0) {
      // an overlayfs whiteout: the sandbox deleted this path
      if (host) out.push({ path: hostPath, change: 'deleted', kind: kindOf(host) });
      continue;
    }
    const kind = kindOf(info);
    if (!host) {
      out.push({ path: hostPath, change: 'created', kind });
      if (info.isDirectory()) await walkUpper(layers, rel, out);
      continue;
    }
    const sameMeta = kindOf(host) === kind && (host.mode & 0o7777) === (info.mode & 0o7777) && host.uid === info.uid && host.gid === info.gid;
    if (info.isDirectory()) {
      if (!sameMeta) out.push({ path: hostPath, change: 'modified', kind });
      await walkUpper(layers, rel, out);
      if (host.isDirectory() && !privateMounts.test(hostPath)) await findHidden(layers, rel, out);
      continue;
    }
    let sameContent = false;
    if (sameMeta && info.isFile()) {
      sameContent = info.size === host.size && sha256(await fsp.readFile(inUpper)) === sha256(await fsp.readFile(hostPath));
    } else if (sameMeta && info.isSymbolicLink()) {
      sameContent = (await fsp.readlink(inUpper)) === (await fsp.readlink(hostPath));
    }
    if (!sameContent) out.push({ path: hostPath, change: 'modified', kind });
  }
}

/**
 * A directory deleted and made again inside the sandbox is "opaque" in the upper layer: the host's
 * files in it are hidden without a whiteout each. So the host entries of a directory both sides have,
 * which the upper layer does not mention, are looked up in the sandbox's own view of its files
 * (/proc/PID/root): missing there means deleted.
 */
async function findHidden(layers: { upper: string; merged: string }, relative: string, out: SandboxChange[]): Promise<void> {
  const inUpper = new Set(await fsp.readdir(path.join(layers.upper, relative)));
  for (const name of await fsp.readdir(`/${relative}`)) {
    if (inUpper.has(name)) continue;
    const hostPath = `/${path.join(relative, name)}`;
    const visible = await fsp.lstat(path.join(layers.merged, relative, name)).then(
      () => true,
      (error: NodeJS.ErrnoException) => error.code !== 'ENOENT',
    );
    if (!visible) out.push({ path: hostPath, change: 'deleted', kind: kindOf(await fsp.lstat(hostPath)) });
  }
}

function kindOf(info: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): SandboxChange['kind'] {
  return info.isFile() ? 'file' : info.isDirectory() ? 'directory' : info.isSymbolicLink() ? 'symlink' : 'other';
}

// ---- fleets: several sandboxes joined by SSH, for Ansible (`svcctl sandbox fleet`) ----
//
// A fleet is N sandboxes named NAME-1 … NAME-N, each with Debian's sshd listening on a private address that exists
// only inside the namespaces svcctl makes: every host's network namespace gets one end of a veth pair, whose other
// end hangs on a bridge in a network namespace of the fleet's own (scripts/sandbox-boot.sh, phase fleet-net). The
// controller — ansible-playbook, ssh — runs in that namespace with its own HOME, ANSIBLE_HOME and known_hosts under
// the fleet's state directory. The host's network, routes and firewall are never touched; nothing listens on it.

const fleetMarker = 'svcctl-fleet.id';
/** Inside the fleet's namespaces only: the bridge and every host live on it, nowhere else. */
const fleetSubnet = { prefix: '10.77.0', bridge: '10.77.0.1/24', hostOffset: 10 };
export const maxFleetHosts = 200;

export interface FleetHost {
  index: number;
  sandbox: string;
  address: string;
  pid: number;
}

export interface FleetRecord {
  name: string;
  token: string;
  /** host PID of the unshare holding the fleet's network namespace (the bridge, the controller's side) */
  netPid: number;
  startedAt: string;
  hosts: FleetHost[];
  stateDir: string;
  inventory: string;
  /** The controller's private key (root only), known_hosts and HOME. */
  sshKey: string;
  knownHosts: string;
  home: string;
}

type StoredFleet = Omit<FleetRecord, 'hosts'> & { hosts: (Omit<FleetHost, 'pid'> & { pid?: number })[] };

function validateFleetName(name: string): string {
  // Host sandboxes are NAME-1 … NAME-200: the name leaves room for the suffix within a sandbox name's 32 characters.
  if (!/^[a-z0-9][a-z0-9-]{0,27}$/.test(name)) throw new UserError(`invalid fleet name "${name}"`, 'use 1-28 characters: lowercase letters, digits and "-", starting with a letter or digit');
  return name;
}

export const fleetHostName = (fleet: string, index: number) => `${fleet}-${index}`;

/** The fleet's state directory: a name no sandbox can have (it holds "@"), so sandbox listings never see it. */
async function fleetStateOf(name: string, options: { create: boolean }): Promise<{ dir: string; exists: boolean; token?: string } | undefined> {
  validateFleetName(name);
  const root = await checkedStateRoot(options);
  if (root === undefined) return undefined;
  const dir = path.join(root, `fleet@${name}`);
  const info = await fsp.lstat(dir).catch(() => undefined);
  if (!info) return { dir, exists: false };
  const token = info.isDirectory() ? await readMarkerFile(dir, fleetMarker) : undefined;
  return { dir, exists: true, ...(token ? { token } : {}) };
}

/** A token file of svcctl's (the sandbox's or a fleet's marker): a regular file owned by root, never through a symbolic link. */
async function readMarkerFile(dir: string, file: string): Promise<string | undefined> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path.join(dir, file), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.uid !== 0 || info.size > 64) return undefined;
    const token = (await handle.readFile('utf8')).trim();
    return tokenPattern.test(token) ? token : undefined;
  } finally {
    await handle.close();
  }
}

async function readFleet(dir: string, token: string): Promise<StoredFleet | undefined> {
  const text = await fsp.readFile(path.join(dir, 'fleet.json'), 'utf8').catch(() => undefined);
  try {
    const record = JSON.parse(text ?? '') as StoredFleet;
    return record.token === token && Number.isInteger(record.netPid) && record.netPid > 1 && Array.isArray(record.hosts) ? record : undefined;
  } catch {
    return undefined;
  }
}

async function writeFleet(dir: string, record: StoredFleet): Promise<void> {
  await atomicWrite(path.join(dir, 'fleet.json'), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, uid: 0, gid: 0 });
}

/** The fleet's network holder, if it is alive and ours (its command line carries the token). */
async function liveNetHolder(record: StoredFleet): Promise<number | undefined> {
  return isAlive(record.netPid) && (await carriesToken(record.netPid, record.token)) ? record.netPid : undefined;
}

/** argv that runs `command` in the fleet's network namespace (the bridge side): ip for the bridge, the controller. */
function inFleetNet(netPid: number, command: string[]): string[] {
  return [tool('nsenter'), `--net=/proc/${netPid}/ns/net`, '--', ...command];
}

/** The environment of the controller: everything it writes stays in the fleet's state directory. */
export function controllerEnvironment(record: Pick<FleetRecord, 'home' | 'inventory' | 'knownHosts'>): Record<string, string> {
  return {
    HOME: record.home,
    ANSIBLE_HOME: path.join(record.home, '.ansible'),
    ANSIBLE_LOCAL_TEMP: path.join(record.home, '.ansible', 'tmp'),
    ANSIBLE_INVENTORY: record.inventory,
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(record.home, '.ansible', 'cp'),
    ANSIBLE_NOCOLOR: '1',
  };
}

/** argv that runs `command` as the fleet's controller (a process in the fleet's network namespace, HOME in its state). */
export function controllerArgv(record: Pick<FleetRecord, 'netPid' | 'home' | 'inventory' | 'knownHosts'>, command: string[]): string[] {
  const env = Object.entries(controllerEnvironment(record)).map(([k, v]) => `${k}=${v}`);
  return inFleetNet(record.netPid, [tool('env'), `PATH=${childPath}`, ...env, ...command]);
}

/** The fleet's record, when it runs: its network holder and every host sandbox alive. */
export async function liveFleet(name: string): Promise<FleetRecord | undefined> {
  const state = await fleetStateOf(name, { create: false });
  if (!state?.token) return undefined;
  const record = await readFleet(state.dir, state.token);
  if (!record || (await liveNetHolder(record)) === undefined) return undefined;
  const hosts: FleetHost[] = [];
  for (const host of record.hosts) {
    const live = await liveRecord(host.sandbox);
    if (!live || (host.pid !== undefined && live.pid !== host.pid)) return undefined;
    hosts.push({ ...host, pid: live.pid });
  }
  return { ...record, hosts };
}

export async function requireFleet(name: string): Promise<FleetRecord> {
  const record = await liveFleet(name);
  if (!record) throw new UserError(`fleet "${name}" is not running`, `start it with: svcctl sandbox fleet up N${name === 'fleet' ? '' : ` --name ${name}`}`);
  return record;
}

/**
 * Boots `count` sandboxes, joins them to the fleet's bridge and starts sshd in each with a key made for this fleet,
 * then writes the inventory. A fleet already running with as many hosts is returned as it is.
 */
export async function fleetUp(name: string, count: number, options: { timeoutMs?: number } = {}): Promise<FleetRecord> {
  requireRoot('svcctl sandbox fleet');
  if (!Number.isInteger(count) || count < 1 || count > maxFleetHosts) throw new UserError(`a fleet has 1 to ${maxFleetHosts} hosts, not ${count}`, 'give the number of hosts, e.g. svcctl sandbox fleet up 3');
  const running = await liveFleet(name);
  if (running && running.hosts.length === count) return running;
  if (running) throw new UserError(`fleet "${name}" runs with ${running.hosts.length} hosts`, `take it down first (svcctl sandbox fleet down${name === 'fleet' ? '' : ` --name ${name}`}), or use another --name`);
  let state = await fleetStateOf(name, { create: true });
  if (state?.exists) {
    if (!state.token) throw notOurs(state.dir);
    await fleetDown(name);
    state = await fleetStateOf(name, { create: true });
  }
  if (!state || state.exists) throw new OperationError(`could not clear ${state?.dir ?? name} for a new fleet`);
  for (const program of ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/ansible-playbook', '/usr/sbin/ip']) {
    if (!(await fsp.access(program, fsConstants.X_OK).then(() => true, () => false))) throw new OperationError(`a fleet needs ${program}`, 'apt-get install openssh-server openssh-client ansible-core iproute2 (scripts/install-debian-packages.sh)');
  }
  const dir = state.dir;
  const token = randomBytes(16).toString('hex');
  await fsp.mkdir(dir, { mode: 0o700 });
  await fsp.writeFile(path.join(dir, fleetMarker), `${token}\n`, { mode: 0o600, flag: fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW });
  const home = path.join(dir, 'controller');
  const sshDir = path.join(home, '.ssh');
  await fsp.mkdir(sshDir, { recursive: true, mode: 0o700 });
  const record: StoredFleet = {
    name,
    token,
    netPid: 0,
    startedAt: new Date().toISOString(),
    hosts: Array.from({ length: count }, (_, i) => ({ index: i + 1, sandbox: fleetHostName(name, i + 1), address: `${fleetSubnet.prefix}.${fleetSubnet.hostOffset + i + 1}` })),
    stateDir: dir,
    inventory: path.join(dir, 'inventory.ini'),
    sshKey: path.join(sshDir, 'id_ed25519'),
    knownHosts: path.join(sshDir, 'known_hosts'),
    home,
  };
  try {
    record.netPid = await spawnDetached(['/bin/bash', path.join(scriptsDir, 'sandbox-boot.sh'), 'fleet-net', name, fleetSubnet.bridge, token], { stdoutFile: path.join(dir, 'net.log') });
    await writeFleet(dir, record);
    const keygen = exec([tool('ssh-keygen'), '-q', '-t', 'ed25519', '-N', '', '-C', `svcctl fleet ${name}`, '-f', record.sshKey]);
    const hosts = Promise.all(record.hosts.map((h) => startSandbox(h.sandbox, options)));
    const [, booted] = await Promise.all([keygen, hosts]);
    await waitFor(async () => (await fsp.readFile(path.join(dir, 'net.log'), 'utf8').catch(() => '')).includes('ready'), 10_000, `the network namespace of fleet "${name}"`);
    const publicKey = (await fsp.readFile(`${record.sshKey}.pub`, 'utf8')).trim();
    const knownHosts = await Promise.all(booted.map((sandbox, i) => joinHost(record, record.hosts[i]!, sandbox.pid, publicKey)));
    record.hosts = record.hosts.map((h, i) => ({ ...h, pid: booted[i]!.pid }));
    await atomicWrite(record.knownHosts, knownHosts.join(''), { mode: 0o600, uid: 0, gid: 0 });
    await atomicWrite(record.inventory, inventoryOf(record), { mode: 0o600, uid: 0, gid: 0 });
    await writeFleet(dir, record);
    // Every host answers over SSH before `up` returns.
    await Promise.all(record.hosts.map((h) => waitFor(async () => (await exec(controllerArgv(record, [tool('ssh'), ...sshOptions(record), `root@${h.address}`, 'true']), { check: false })).exitCode === 0, 20_000, `sshd of ${h.sandbox}`)));
  } catch (error) {
    await fleetDown(name).catch((e: unknown) => debug('fleet down after a failed up: %s', String(e)));
    throw error;
  }
  return (await liveFleet(name)) ?? (() => { throw new OperationError(`fleet "${name}" did not come up`); })();
}

function sshOptions(record: Pick<FleetRecord, 'sshKey' | 'knownHosts'>): string[] {
  return ['-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', `IdentityFile=${record.sshKey}`, '-o', `UserKnownHostsFile=${record.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=5'];
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(100);
  }
  throw new OperationError(`${what} was not ready within ${Math.round(timeoutMs / 1000)} s`);
}

/**
 * One host on the fleet's bridge: a veth pair made in the fleet's namespace with its peer moved into the host's
 * (`eth0` there), the host's address, and sshd (Debian's ssh.service) with a host key, the controller's key and
 * settings of its own in sshd_config.d. Returns the known_hosts line of the host.
 */
async function joinHost(record: StoredFleet, host: Omit<FleetHost, 'pid'>, pid: number, publicKey: string): Promise<string> {
  const veth = `svh${host.index}`;
  await exec(inFleetNet(record.netPid, [tool('ip'), 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)]));
  await exec(inFleetNet(record.netPid, [tool('ip'), 'link', 'set', veth, 'master', 'svcctl-br0', 'up']));
  const sshd = [
    `ListenAddress ${host.address}`,
    'HostKey /etc/ssh/svcctl-fleet/host_ed25519_key',
    'AuthorizedKeysFile /etc/ssh/svcctl-fleet/authorized_keys',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // PAM's loginuid needs CAP_AUDIT_CONTROL, which a sandbox may lack; keys are all a fleet host needs.
    'UsePAM no',
    'UseDNS no',
  ].join('\n');
  const script = `set -e
ip link set lo up
ip addr add "$1/24" dev eth0
ip link set eth0 up
mkdir -p -m 0755 /etc/ssh/svcctl-fleet /etc/ssh/sshd_config.d
rm -f /etc/ssh/svcctl-fleet/host_ed25519_key /etc/ssh/svcctl-fleet/host_ed25519_key.pub
ssh-keygen -q -t ed25519 -N '' -C "$3" -f /etc/ssh/svcctl-fleet/host_ed25519_key
printf '%s\\n' "$2" > /etc/ssh/svcctl-fleet/authorized_keys
chmod 0644 /etc/ssh/svcctl-fleet/authorized_keys
printf '%s\\n' "$4" > /etc/ssh/sshd_config.d/00-svcctl-fleet.conf
# sshd's privilege separation user (openssh-server's postinst makes it; a host without it gets it from sysusers.d)
if ! getent passwd sshd >/dev/null; then
  mkdir -p /etc/sysusers.d
  echo 'u sshd - "sshd privilege separation" /run/sshd /usr/sbin/nologin' > /etc/sysusers.d/svcctl-fleet-sshd.conf
  systemd-sysusers /etc/sysusers.d/svcctl-fleet-sshd.conf
fi
systemctl start ssh.service
cut -d' ' -f1,2 /etc/ssh/svcctl-fleet/host_ed25519_key.pub`;
  const result = await exec(insideArgv(pid, ['/bin/sh', '-c', script, 'sh', host.address, publicKey, host.sandbox, sshd]), { check: false });
  if (result.exitCode !== 0) throw new OperationError(`could not start sshd in ${host.sandbox}: ${result.stderr.trim()}`, 'svcctl sandbox exec --name ' + host.sandbox + ' -- journalctl -u ssh.service');
  return `${host.address} ${result.stdout.trim()}\n`;
}

function inventoryOf(record: StoredFleet): string {
  const ssh = `-o IdentitiesOnly=yes -o UserKnownHostsFile=${record.knownHosts} -o StrictHostKeyChecking=yes`;
  return [
    `# svcctl sandbox fleet "${record.name}": ${record.hosts.length} throwaway hosts (ansible-playbook through: svcctl sandbox fleet exec controller -- …)`,
    '[fleet]',
    ...record.hosts.map((h) => `${h.sandbox} ansible_host=${h.address}`),
    '',
    '[fleet:vars]',
    'ansible_user=root',
    `ansible_ssh_private_key_file=${record.sshKey}`,
    `ansible_ssh_common_args='${ssh}'`,
    'ansible_python_interpreter=/usr/bin/python3',
    '',
  ].join('\n');
}

/** Runs `command` on host `which` (1…N) of the fleet, or on its controller; resolves to its exit code. */
export async function fleetExec(name: string, which: string, command: string[]): Promise<number> {
  requireRoot('svcctl sandbox fleet');
  const record = await requireFleet(name);
  if (which === 'controller') return execInteractive(controllerArgv(record, command));
  const host = record.hosts.find((h) => String(h.index) === which || h.sandbox === which);
  if (!host) throw new UserError(`fleet "${name}" has no host ${which}`, `give 1 to ${record.hosts.length}, or controller`);
  return execInteractive(insideArgv(host.pid, command));
}

/** Takes the fleet down: every host sandbox, the network holder (and so its namespace), then the state directory. */
export async function fleetDown(name: string): Promise<boolean> {
  requireRoot('svcctl sandbox fleet');
  const state = await fleetStateOf(name, { create: false });
  if (!state?.exists) return false;
  if (!state.token) throw notOurs(state.dir);
  const record = await readFleet(state.dir, state.token);
  if (record) {
    await Promise.all(record.hosts.map((h) => stopSandbox(h.sandbox).catch((error: unknown) => debug('fleet down: %s: %s', h.sandbox, String(error)))));
    const holder = await liveNetHolder(record);
    if (holder !== undefined) {
      signal(holder, 'SIGKILL');
      const deadline = Date.now() + 5000;
      while (isAlive(holder) && Date.now() < deadline) await sleep(20);
    }
  }
  if ((await readMarkerFile(state.dir, fleetMarker)) !== state.token) throw notOurs(state.dir);
  await removeTree(state.dir);
  return record !== undefined;
}

/** The running fleet and its inventory's text (`svcctl sandbox fleet inventory`). */
export async function fleetInventory(name: string): Promise<{ record: FleetRecord; text: string }> {
  requireRoot('svcctl sandbox fleet');
  const record = await requireFleet(name);
  return { record, text: await fsp.readFile(record.inventory, 'utf8') };
}
