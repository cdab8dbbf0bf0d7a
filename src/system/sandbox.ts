// A throwaway real systemd booted as PID 1 in private namespaces (`svcctl sandbox`, and our tests).
import path from 'node:path';
import * as fsp from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { OperationError, UserError } from '../core/errors.js';
import { exec, execInteractive, spawnDetached } from './exec.js';
import { packageRoot, scriptsDir } from './paths.js';
import { requireRoot } from './privileges.js';
import { ensureDirectory, removeTree, sha256 } from './fs.js';
import { debug } from '../debug.js';
import { byPath } from '../core/plan.js';
import { isAlive, sleep } from './processes.js';

export const defaultSandboxName = 'default';
const namePattern = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Sandbox state lives on /dev/shm (a tmpfs): outside every overlaid or cleaned path, gone at reboot like the sandbox. */
export function sandboxStateRoot(): string {
  return process.env.SVCCTL_SANDBOX_DIR ?? '/dev/shm/svcctl-sandbox';
}

const insidePath = '/run/svcctl-sandbox/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface SandboxRecord {
  name: string;
  /** host PID of the unshare process */
  launcherPid: number;
  /** host PID of the sandbox's systemd (PID 1 inside) */
  pid: number;
  startedAt: string;
  packageRoot: string;
}

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

function stateDir(name: string): string {
  return path.join(sandboxStateRoot(), name);
}

async function readRecord(name: string): Promise<SandboxRecord | undefined> {
  const text = await fsp.readFile(path.join(stateDir(name), 'sandbox.json'), 'utf8').catch(() => undefined);
  return text ? (JSON.parse(text) as SandboxRecord) : undefined;
}

/** The systemd of a record is still ours: same PID alive and still a child of our launcher. */
async function recordIsLive(record: SandboxRecord): Promise<boolean> {
  if (!isAlive(record.launcherPid) || !isAlive(record.pid)) return false;
  const children = await fsp.readFile(`/proc/${record.launcherPid}/task/${record.launcherPid}/children`, 'utf8').catch(() => '');
  return children.split(/\s+/).includes(String(record.pid));
}

/** The argv prefix that runs a command inside sandbox `pid` as root, with svcctl on PATH. */
export function insideArgv(pid: number, command: string[], options: { cwd?: string } = {}): string[] {
  // --wdns resolves the directory inside the sandbox (--wd would resolve it on the host, leaving an unreachable cwd).
  return ['nsenter', '-t', String(pid), '-a', `--wdns=${options.cwd ?? '/'}`, 'env', `PATH=${insidePath}`, ...command];
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
    await exec(['modprobe', 'overlay'], { check: false }).catch(() => undefined);
    const again = await fsp.readFile('/proc/filesystems', 'utf8').catch(() => '');
    if (!/\boverlay\b/.test(again)) missing.push('overlayfs in the kernel (modprobe overlay)');
  }
  if (missing.length > 0) {
    throw new OperationError(`the sandbox needs what this machine lacks: ${missing.join(', ')}`, 'install the packages named above, then run `svcctl sandbox start` again');
  }
}

export async function sandboxStatus(name: string): Promise<SandboxStatus> {
  const record = await readRecord(name);
  const base = { name, stateDir: stateDir(name) };
  if (!record || !(await recordIsLive(record))) return { ...base, running: false };
  const state = await exec(insideArgv(record.pid, ['systemctl', 'is-system-running']), { check: false });
  return { ...base, running: true, pid: record.pid, startedAt: record.startedAt, state: state.stdout.trim() || 'unknown' };
}

export async function listSandboxes(): Promise<SandboxStatus[]> {
  const names = await fsp.readdir(sandboxStateRoot()).catch(() => [] as string[]);
  return Promise.all(names.filter((n) => namePattern.test(n)).map((n) => sandboxStatus(n)));
}

/** Boots sandbox `name` (idempotent: a running one is left as it is) and returns its record. */
export async function startSandbox(name: string, options: { timeoutMs?: number } = {}): Promise<SandboxRecord> {
  requireRoot('svcctl sandbox');
  validateSandboxName(name);
  const existing = await readRecord(name);
  if (existing && (await recordIsLive(existing))) return existing;
  if (existing) await cleanUp(name);
  await checkRequirements();

  const dir = stateDir(name);
  // The state root lives in /dev/shm (world-writable, sticky): walked loosely there, and owned by root below it.
  await ensureDirectory(sandboxStateRoot(), { mode: 0o700, looseParents: true });
  await removeTree(dir, { looseParents: true });
  await ensureDirectory(dir, { mode: 0o700, looseParents: true });
  const started = Date.now();
  const launcherPid = await spawnDetached(['/bin/bash', path.join(scriptsDir, 'sandbox-boot.sh'), 'launch', name, dir, packageRoot, process.execPath], {
    stdoutFile: path.join(dir, 'console.log'),
    env: { SYSTEMD_COLORS: '0' },
  });
  let pid: number | undefined;
  const deadline = started + (options.timeoutMs ?? 30_000);
  try {
    while (Date.now() < deadline) {
      if (!isAlive(launcherPid)) break;
      pid ??= await systemdChildOf(launcherPid);
      if (pid !== undefined) {
        const state = await exec(insideArgv(pid, ['systemctl', 'is-system-running']), { check: false });
        const word = state.stdout.trim();
        debug('sandbox %s: %s', name, word);
        if (word === 'running' || word === 'degraded') {
          const record: SandboxRecord = { name, launcherPid, pid, startedAt: new Date().toISOString(), packageRoot };
          await fsp.writeFile(path.join(dir, 'sandbox.json'), JSON.stringify(record, null, 2), { mode: 0o600 });
          return record;
        }
      }
      await sleep(50);
    }
  } catch (error) {
    await stopProcesses(launcherPid, pid);
    await cleanUp(name);
    throw error;
  }
  const console = await fsp.readFile(path.join(dir, 'console.log'), 'utf8').catch(() => '');
  await stopProcesses(launcherPid, pid);
  await cleanUp(name);
  throw new OperationError(
    `sandbox "${name}" did not reach running within ${Math.round((Date.now() - started) / 1000)} s`,
    'run with DEBUG=svcctl* to see its console',
    console.trim().split('\n').slice(-8),
  );
}

async function systemdChildOf(launcherPid: number): Promise<number | undefined> {
  const children = await fsp.readFile(`/proc/${launcherPid}/task/${launcherPid}/children`, 'utf8').catch(() => '');
  for (const child of children.split(/\s+/).filter(Boolean)) {
    const comm = await fsp.readFile(`/proc/${child}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'systemd') return Number(child);
  }
  return undefined;
}

/** Powers the sandbox off, waits for it to end, and removes its state. */
export async function stopSandbox(name: string, options: { timeoutMs?: number } = {}): Promise<boolean> {
  requireRoot('svcctl sandbox');
  validateSandboxName(name);
  const record = await readRecord(name);
  if (!record) {
    await cleanUp(name);
    return false;
  }
  if (await recordIsLive(record)) {
    // SIGRTMIN+4 asks systemd for a clean poweroff (systemd(1), "Signals").
    const sigrtmin = 34;
    try {
      process.kill(record.pid, sigrtmin + 4);
    } catch {
      /* already gone */
    }
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    while (isAlive(record.launcherPid) && Date.now() < deadline) await sleep(50);
  }
  await stopProcesses(record.launcherPid, record.pid);
  await cleanUp(name);
  return true;
}

/** Ends only the two processes we started, by PID; the kernel ends the rest of the PID namespace with its PID 1. */
async function stopProcesses(launcherPid: number, pid: number | undefined): Promise<void> {
  for (const target of [pid, launcherPid]) {
    if (target !== undefined && isAlive(target)) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  const deadline = Date.now() + 5000;
  while (isAlive(launcherPid) && Date.now() < deadline) await sleep(20);
}

async function cleanUp(name: string): Promise<void> {
  for (const hierarchy of ['systemd', 'unified']) {
    await removeCgroupTree(`/sys/fs/cgroup/${hierarchy}/svcctl-sandbox-${name}`);
  }
  await removeTree(stateDir(name), { looseParents: true });
}

async function removeCgroupTree(dir: string): Promise<void> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return;
  for (const entry of entries) if (entry.isDirectory()) await removeCgroupTree(path.join(dir, entry.name));
  await fsp.rmdir(dir).catch((error: NodeJS.ErrnoException) => debug('rmdir %s: %s', dir, error.code ?? ''));
}

export async function requireRunning(name: string): Promise<SandboxRecord> {
  validateSandboxName(name);
  const record = await readRecord(name);
  if (!record || !(await recordIsLive(record))) {
    throw new UserError(`sandbox "${name}" is not running`, `start it with: svcctl sandbox start${name === defaultSandboxName ? '' : ` --name ${name}`}`);
  }
  return record;
}

/** Runs `command` inside the sandbox with stdio connected; resolves to its exit code. */
export async function execInSandbox(name: string, command: string[]): Promise<number> {
  requireRoot('svcctl sandbox');
  const record = await requireRunning(name);
  return execInteractive(insideArgv(record.pid, command));
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
  requireRoot('svcctl sandbox');
  const record = await requireRunning(name);
  const upper = path.join(stateDir(name), 'upper');
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
