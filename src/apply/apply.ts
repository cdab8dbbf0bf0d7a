// apply(): the only place where a plan's Actions take effect. Receipts are written ahead of the first
// step; a failing step undoes the completed ones in reverse and reports the step, command and stderr.
import path from 'node:path';
import { OperationError } from '../errors.js';
import { describeAction } from '../plan/plan.js';
import { paths, type Action, type Receipt } from '../plan/types.js';
import { exec } from '../system/exec.js';
import {
  atomicWrite,
  ensureDirectory,
  inspectPath,
  makeDirectory,
  readFileIfExists,
  removeEmptyDirectory,
  removeEmptyParents,
  removeFile,
  removeTree,
  renamePath,
} from '../system/fs.js';
import { onHost, type Host } from '../system/host.js';
import { removeReceipt, writeReceipt } from '../system/receipts.js';
import { showUnits } from '../system/systemd.js';

export interface BundleReceipts {
  bundle: string;
  /** The receipt before the transaction (undefined: not installed). */
  before?: Receipt;
  /** Written ahead of the first step: everything this transaction may create or change. */
  intent: Receipt;
  /** The receipt after success (undefined: removed). */
  after?: Receipt;
}

export interface Transaction {
  actions: Action[];
  receipts: BundleReceipts[];
}

export type StepStatus = 'done' | 'failed' | 'undone' | 'undo-failed';
export type StepReporter = (description: string, status: StepStatus) => void;

type Undo = () => Promise<void>;

interface Completed {
  description: string;
  undo?: Undo;
}

/** Applies a transaction; on failure rolls back and throws an OperationError naming the failed step. */
export async function applyTransaction(host: Host, transaction: Transaction, report: StepReporter): Promise<void> {
  for (const r of transaction.receipts) await writeReceipt(host, r.intent);
  const completed: Completed[] = [];
  const state = { reloaded: false, restarted: [] as string[] };
  const fault = parseFault(process.env.SVCCTL_FAULT_INJECTION);
  for (const [index, action] of transaction.actions.entries()) {
    const description = describeAction(action);
    try {
      injectFault(fault, index + 1);
      const undo = await perform(host, action, state);
      completed.push({ description, ...(undo ? { undo } : {}) });
      report(description, 'done');
    } catch (error) {
      report(description, 'failed');
      const rolledBack = await rollBack(host, completed, state, report);
      for (const r of transaction.receipts) {
        if (r.before) await writeReceipt(host, r.before);
        else await removeReceipt(host, r.bundle);
      }
      const cause = error instanceof Error ? error.message : String(error);
      throw new OperationError(
        `step "${description}" failed: ${cause}`,
        rolledBack.failed.length === 0 ? 'the host is as it was before; fix the cause and run the command again' : 'some steps could not be undone (listed above); fix them by hand or run `svcctl uninstall --purge`',
        [
          rolledBack.undone.length > 0 ? `rolled back: ${rolledBack.undone.join('; ')}` : 'nothing had been changed yet',
          ...rolledBack.failed.map((f) => `could not undo: ${f}`),
        ],
      );
    }
  }
  for (const r of transaction.receipts) {
    if (r.after) await writeReceipt(host, r.after);
    else await removeReceipt(host, r.bundle);
  }
}

async function rollBack(host: Host, completed: Completed[], state: { reloaded: boolean; restarted: string[] }, report: StepReporter): Promise<{ undone: string[]; failed: string[] }> {
  const undone: string[] = [];
  const failed: string[] = [];
  for (const step of [...completed].reverse()) {
    if (!step.undo) continue;
    try {
      await step.undo();
      undone.push(step.description);
      report(`undo: ${step.description}`, 'undone');
    } catch (error) {
      failed.push(`${step.description} (${(error as Error).message})`);
      report(`undo: ${step.description}`, 'undo-failed');
    }
  }
  if (!host.offline && state.reloaded) {
    // Unit files are back as they were: systemd must read them again, and restarted units run the old configuration.
    await exec(['systemctl', 'daemon-reload']).catch((error: Error) => failed.push(`daemon-reload (${error.message})`));
    if (state.restarted.length > 0) await exec(['systemctl', 'try-restart', ...state.restarted]).catch((error: Error) => failed.push(`restart (${error.message})`));
  }
  return { undone, failed };
}

/** Performs one action and returns how to undo it (undefined: nothing to undo). */
async function perform(host: Host, action: Action, state: { reloaded: boolean; restarted: string[] }): Promise<Undo | undefined> {
  const at = (p: string) => onHost(host, p);
  switch (action.kind) {
    case 'write-file': {
      const target = at(action.path);
      const before = await inspectPath(target, false);
      const previous = before?.kind === 'file' && !action.backupTo ? await readFileIfExists(target) : undefined;
      if (action.backupTo) {
        await ensureDirectory(path.dirname(at(action.backupTo)), 0o700);
        await renamePath(target, at(action.backupTo));
      }
      await atomicWrite(target, action.content, { mode: action.mode, uid: 0, gid: 0 });
      return async () => {
        if (action.backupTo) {
          await renamePath(at(action.backupTo), target);
          await removeEmptyParents(path.dirname(at(action.backupTo)), at(paths.stateDir));
        }
        else if (previous !== undefined && before) await atomicWrite(target, previous, { mode: before.mode, uid: before.uid, gid: before.gid });
        else await removeFile(target);
      };
    }
    case 'make-directory': {
      await makeDirectory(at(action.path), { mode: action.mode, uid: 0, gid: 0 });
      return async () => {
        await removeEmptyDirectory(at(action.path));
      };
    }
    case 'remove-file': {
      const target = at(action.path);
      const before = await inspectPath(target, false);
      const previous = before?.kind === 'file' ? await readFileIfExists(target) : undefined;
      await removeFile(target);
      if (action.restoreFrom) {
        const backup = at(action.restoreFrom);
        if (await inspectPath(backup, false)) await renamePath(backup, target);
        await removeEmptyParents(path.dirname(backup), at(paths.stateDir));
      }
      return async () => {
        if (previous !== undefined && before) await atomicWrite(target, previous, { mode: before.mode, uid: before.uid, gid: before.gid });
      };
    }
    case 'remove-directory': {
      if (action.recursive) await removeTree(at(action.path));
      else await removeEmptyDirectory(at(action.path));
      return undefined;
    }
    case 'apply-sysusers': {
      if (host.offline) return undefined; // systemd-sysusers.service applies it at first boot
      await exec(['systemd-sysusers', at(action.path)]);
      return async () => {
        if (!action.userExisted) await removeUser(action.user, !action.groupExisted);
      };
    }
    case 'apply-tmpfiles': {
      if (host.offline) return undefined; // systemd-tmpfiles-setup.service applies it at boot
      await exec(['systemd-tmpfiles', '--create', at(action.path)]);
      return async () => {
        for (const dir of [...action.created].sort((a, b) => b.length - a.length)) await removeEmptyDirectory(at(dir));
      };
    }
    case 'remove-user': {
      if (host.offline) return undefined;
      await removeUser(action.user, action.removeGroup);
      return undefined;
    }
    case 'daemon-reload': {
      await exec(['systemctl', 'daemon-reload']);
      state.reloaded = true;
      return async () => undefined;
    }
    case 'enable': {
      // --no-reload: the transaction's one daemon-reload already ran; enable would otherwise reload again.
      const rootArgs = host.offline ? [`--root=${host.root}`] : ['--no-reload'];
      await exec(['systemctl', ...rootArgs, 'enable', ...(action.now ? ['--now'] : []), ...action.units]);
      return async () => {
        await exec(['systemctl', ...rootArgs, 'disable', ...(action.now ? ['--now'] : []), ...action.units]);
      };
    }
    case 'restart': {
      await exec(['systemctl', 'restart', ...action.units]);
      state.restarted.push(...action.units);
      return async () => undefined;
    }
    case 'check-active': {
      await waitUntilActive(action.units);
      return undefined;
    }
    case 'stop-disable': {
      if (host.offline) {
        if (action.enabled.length > 0) await tolerateMissingUnits(exec(['systemctl', `--root=${host.root}`, 'disable', ...action.enabled], { check: false }));
        return undefined;
      }
      await tolerateMissingUnits(exec(['systemctl', 'stop', ...action.units], { check: false }));
      // The uninstall's own daemon-reload follows once the files are gone.
      if (action.enabled.length > 0) await tolerateMissingUnits(exec(['systemctl', '--no-reload', 'disable', ...action.enabled], { check: false }));
      return undefined;
    }
    case 'reset-failed': {
      await exec(['systemctl', 'reset-failed', ...action.units], { check: false });
      return undefined;
    }
  }
}

/**
 * Units just started must be active; a daemon that dies right after starting fails the transaction,
 * so services are looked at again 300 ms after they first show active. A oneshot that already
 * finished successfully counts as fine.
 */
async function waitUntilActive(units: string[]): Promise<void> {
  const deadline = Date.now() + 3000;
  const hasService = units.some((u) => u.endsWith('.service'));
  let activeSince: number | undefined;
  for (;;) {
    const states = await showUnits(units, ['ActiveState', 'Result'] as const);
    const ok = (u: string) => states[u]?.ActiveState === 'active' || (u.endsWith('.service') && states[u]?.ActiveState === 'inactive' && states[u]?.Result === 'success');
    const failed = units.filter((u) => states[u]?.ActiveState === 'failed');
    if (failed.length > 0) {
      throw new OperationError(`${failed.map((u) => `${u} failed (${states[u]?.Result ?? 'unknown'})`).join(', ')}; see: journalctl -u ${failed[0]}`);
    }
    if (units.every(ok)) {
      if (!hasService) return;
      activeSince ??= Date.now();
      if (Date.now() - activeSince >= 300) return;
    } else activeSince = undefined;
    if (Date.now() > deadline) {
      const pending = units.filter((u) => !ok(u));
      throw new OperationError(`${pending.join(', ')} did not become active within 3 s; see: systemctl status ${pending[0] ?? ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** stop/disable of a unit that is not loaded or whose file is already gone is not a failure of uninstall. */
async function tolerateMissingUnits(run: Promise<{ exitCode: number; stderr: string }>): Promise<void> {
  const result = await run;
  if (result.exitCode === 0) return;
  const lines = result.stderr.split('\n').filter((l) => l.trim() && !/not loaded|does not exist|No such file/i.test(l));
  if (lines.length > 0) throw new OperationError(`systemctl exited with ${result.exitCode}: ${lines.join(' ')}`);
}

async function removeUser(user: string, removeGroup: boolean): Promise<void> {
  const passwd = (await readFileIfExists('/etc/passwd'))?.toString() ?? '';
  if (passwd.split('\n').some((l) => l.startsWith(`${user}:`))) await exec(['userdel', user]);
  if (removeGroup) {
    const group = (await readFileIfExists('/etc/group'))?.toString() ?? '';
    if (group.split('\n').some((l) => l.startsWith(`${user}:`))) await exec(['groupdel', user]);
  }
}

/** Test-only fault injection (SVCCTL_FAULT_INJECTION=kill-before:N or fail-before:N, 1-based step). */
interface Fault {
  mode: 'kill' | 'fail';
  step: number;
}

function parseFault(value: string | undefined): Fault | undefined {
  const match = value?.match(/^(kill|fail)-before:(\d+)$/);
  return match ? { mode: match[1] as Fault['mode'], step: Number(match[2]) } : undefined;
}

function injectFault(fault: Fault | undefined, step: number): void {
  if (!fault || fault.step !== step) return;
  if (fault.mode === 'kill') process.kill(process.pid, 'SIGKILL');
  throw new OperationError(`injected failure before step ${step} (SVCCTL_FAULT_INJECTION)`);
}

/** The write-ahead receipt: the union of before and after, so a crash leaves every artifact accounted for. */
export function intentReceipt(before: Receipt | undefined, after: Receipt | undefined, state: 'installing' | 'uninstalling'): Receipt {
  const base = after ?? before;
  if (!base) throw new Error('intentReceipt: nothing to describe');
  const artifacts = new Map((before?.artifacts ?? []).map((a) => [a.path, a]));
  for (const a of after?.artifacts ?? []) artifacts.set(a.path, { ...a, ...(artifacts.get(a.path)?.backup && !a.backup ? { backup: artifacts.get(a.path)!.backup } : {}) });
  const directories = new Map((before?.directories ?? []).map((d) => [d.path, d]));
  for (const d of after?.directories ?? []) directories.set(d.path, { ...d, created: d.created || (directories.get(d.path)?.created ?? false) });
  const user = after?.user ?? before?.user;
  return {
    ...base,
    state,
    artifacts: [...artifacts.values()],
    directories: [...directories.values()],
    ...(user ? { user } : {}),
  };
}

