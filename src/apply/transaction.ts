// apply(): the only place where a plan's Actions take effect. Receipts are written ahead of the first
// step; a failing step undoes the completed ones in reverse and reports the step, command and stderr.
import path from 'node:path';
import { OperationError } from '../core/errors.js';
import { checkProperties, evaluateCheck, timerNextElapse, type CheckResult } from '../core/health.js';
import { describeAction } from '../core/plan.js';
import { nowUsec, type Usec } from '../core/time.js';
import { paths, type Action, type Receipt } from '../core/types.js';
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
import { onHost, type Target } from '../core/target.js';
import { removeReceipt, writeReceipt } from '../system/receipts.js';
import { SystemdClient } from '../system/systemd.js';
import { removeAccount } from '../system/accounts.js';
import { faults } from './faults.js';
import { sleep } from '../system/processes.js';
// The health URL is probed the way `svcctl check` probes it (one probe, in one place).
import { probeUrl } from '../system/http.js';

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

/** What the transaction's post-check saw. */
export interface TransactionResult {
  /** When each timer the post-check found active fires next (µs since the epoch; undefined: not scheduled). */
  nextElapse: Map<string, Usec | undefined>;
}

export type StepStatus = 'done' | 'failed' | 'undone' | 'undo-failed';

/** What a reported step is about, for flows that word their steps themselves. */
export interface StepInfo {
  action: Action;
  /** apply: the step; undo: its undo; recover: what runs after the undos (reload, restarts, jobs, health checks). */
  phase: 'apply' | 'undo' | 'recover';
  /** What a check found, e.g. "OK - web: web.service active, http://... answered 200". */
  outcome?: string;
  /** Why the step failed. */
  error?: string;
}

export type StepReporter = (description: string, status: StepStatus, step: StepInfo) => void;

type Undo = () => Promise<void>;

interface Step {
  undo?: Undo;
  outcome?: string;
}

interface Completed {
  action: Action;
  description: string;
  undo?: Undo;
}

/** What ran, for the recovery after the undos. */
interface RunState {
  reloaded: boolean;
  /** Units a restart step touched (even one that failed: they may be down), with how to recover them. */
  restarted: { units: string[]; revive: boolean }[];
  /** Jobs a run-job step started. */
  jobs: string[];
  /** Next elapses of the timers a check-active step saw. */
  nextElapse: Map<string, Usec | undefined>;
}

/** A check that ran and found a problem: the reason, and the outcome line to show with the step. */
class CheckFailed extends OperationError {
  constructor(
    reason: string,
    readonly outcome: string,
  ) {
    super(reason);
  }
}

/** Applies a transaction; on failure rolls back and throws an OperationError naming the failed step. */
export async function applyTransaction(host: Target, transaction: Transaction, report: StepReporter): Promise<TransactionResult> {
  for (const r of transaction.receipts) await writeReceipt(host, r.intent);
  const completed: Completed[] = [];
  const state: RunState = { reloaded: false, restarted: [], jobs: [], nextElapse: new Map() };
  for (const [index, action] of transaction.actions.entries()) {
    const description = describeAction(action);
    try {
      faults?.beforeStep(index + 1);
      const step = await perform(host, action, state);
      completed.push({ action, description, ...(step.undo ? { undo: step.undo } : {}) });
      report(description, 'done', { action, phase: 'apply', ...(step.outcome ? { outcome: step.outcome } : {}) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report(description, 'failed', { action, phase: 'apply', error: message, ...(error instanceof CheckFailed ? { outcome: error.outcome } : {}) });
      const rolledBack = await rollBack(completed, report);
      rolledBack.failed.push(...(await recover(host, transaction.actions, state, report)));
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
  return { nextElapse: state.nextElapse };
}

async function rollBack(completed: Completed[], report: StepReporter): Promise<{ undone: string[]; failed: string[] }> {
  const undone: string[] = [];
  const failed: string[] = [];
  for (const step of [...completed].reverse()) {
    if (!step.undo) continue;
    try {
      await step.undo();
      undone.push(step.description);
      report(`undo: ${step.description}`, 'undone', { action: step.action, phase: 'undo' });
    } catch (error) {
      failed.push(`${step.description} (${(error as Error).message})`);
      report(`undo: ${step.description}`, 'undo-failed', { action: step.action, phase: 'undo', error: (error as Error).message });
    }
  }
  return { undone, failed };
}

/**
 * After the undos the restored configuration must take effect: systemd reads the unit files again (when
 * the transaction reloaded it), restarted units run the old configuration (`try-restart` after that reload,
 * or a plain restart for `revive`), jobs run again, and then the transaction's health checks say whether
 * the restored state is healthy. Returns what failed; a health check's verdict is only reported.
 */
async function recover(host: Target, actions: Action[], state: RunState, report: StepReporter): Promise<string[]> {
  if (host.offline) return [];
  const failed: string[] = [];
  const attempt = async (action: Action, description: string, work: () => Promise<string | void>): Promise<boolean> => {
    const shown = `recover: ${description}`;
    try {
      const outcome = await work();
      report(shown, 'undone', { action, phase: 'recover', ...(outcome ? { outcome } : {}) });
      return true;
    } catch (error) {
      const message = (error as Error).message;
      if (!(error instanceof CheckFailed)) failed.push(`${description} (${message})`);
      report(shown, 'undo-failed', { action, phase: 'recover', error: message, ...(error instanceof CheckFailed ? { outcome: error.outcome } : {}) });
      return false;
    }
  };
  const systemd = new SystemdClient(host);
  if (state.reloaded) await attempt({ kind: 'daemon-reload' }, 'systemctl daemon-reload', () => systemd.daemonReload());
  // The restarts and runs with the restored configuration; the health checks follow when all of them worked.
  const results: boolean[] = [];
  const restart = async (units: string[], verb: 'restart' | 'try-restart') => {
    if (units.length === 0) return;
    results.push(await attempt({ kind: 'restart', units, revive: verb === 'restart' }, `systemctl ${verb} ${units.join(' ')}`, () => systemd.unitVerb(verb, units).then(() => undefined)));
  };
  await restart(unique(state.restarted.filter((r) => r.revive).flatMap((r) => r.units)), 'restart');
  if (state.reloaded) await restart(unique(state.restarted.filter((r) => !r.revive).flatMap((r) => r.units)), 'try-restart');
  for (const service of unique(state.jobs)) results.push(await attempt({ kind: 'run-job', service }, `run ${service} again`, () => systemd.runJob(service)));
  if (results.length > 0 && results.every(Boolean)) {
    for (const action of actions) if (action.kind === 'check-health') await attempt(action, describeAction(action), () => checkHealth(systemd, action));
  }
  return failed;
}

const unique = (items: string[]) => [...new Set(items)];

/** Performs one action and returns how to undo it (no undo: nothing to undo) and what a check found. */
async function perform(host: Target, action: Action, state: RunState): Promise<Step> {
  const at = (p: string) => onHost(host, p);
  const systemd = new SystemdClient(host);
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
      return {
        undo: async () => {
          if (action.backupTo) {
            await renamePath(at(action.backupTo), target);
            await removeEmptyParents(path.dirname(at(action.backupTo)), at(paths.stateDir));
          }
          else if (previous !== undefined && before) await atomicWrite(target, previous, { mode: before.mode, uid: before.uid, gid: before.gid });
          else await removeFile(target);
        },
      };
    }
    case 'make-directory': {
      await makeDirectory(at(action.path), { mode: action.mode, uid: 0, gid: 0 });
      return {
        undo: async () => {
          await removeEmptyDirectory(at(action.path));
        },
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
      return {
        undo: async () => {
          if (previous !== undefined && before) await atomicWrite(target, previous, { mode: before.mode, uid: before.uid, gid: before.gid });
        },
      };
    }
    case 'remove-directory': {
      if (action.recursive) {
        await removeTree(at(action.path));
        return {};
      }
      const before = await inspectPath(at(action.path), false);
      const removed = await removeEmptyDirectory(at(action.path));
      // An empty directory comes back as it was, so the undo of a removal inside it has somewhere to write.
      if (!removed || before?.kind !== 'directory') return {};
      return {
        undo: async () => {
          await makeDirectory(at(action.path), { mode: before.mode, uid: before.uid, gid: before.gid });
        },
      };
    }
    case 'apply-sysusers': {
      if (host.offline) return {}; // systemd-sysusers.service applies it at first boot
      await systemd.sysusers(at(action.path));
      return {
        undo: async () => {
          if (!action.userExisted) await removeAccount(host, action.user, { user: true, group: !action.groupExisted });
        },
      };
    }
    case 'apply-tmpfiles': {
      if (host.offline) return {}; // systemd-tmpfiles-setup.service applies it at boot
      await systemd.tmpfilesCreate(at(action.path));
      return {
        undo: async () => {
          for (const dir of [...action.created].sort((a, b) => b.length - a.length)) await removeEmptyDirectory(at(dir));
        },
      };
    }
    case 'remove-user': {
      if (host.offline) return {};
      await removeAccount(host, action.user, { user: true, group: action.removeGroup });
      return {};
    }
    case 'daemon-reload': {
      await systemd.daemonReload();
      state.reloaded = true;
      return { undo: async () => undefined };
    }
    case 'enable': {
      await systemd.enable(action.units, action.now);
      return {
        undo: async () => {
          await systemd.disable(action.units, action.now);
        },
      };
    }
    case 'restart': {
      state.restarted.push({ units: action.units, revive: action.revive ?? false });
      await systemd.unitVerb('restart', action.units);
      return { undo: async () => undefined };
    }
    case 'check-active': {
      for (const [timer, next] of await waitUntilActive(systemd, action.units)) state.nextElapse.set(timer, next);
      return {};
    }
    case 'check-timer': {
      await systemd.confirmTimerSchedule(action.timer, action.expected);
      return {};
    }
    case 'run-job': {
      state.jobs.push(action.service);
      await systemd.runJob(action.service);
      return {};
    }
    case 'check-health': {
      return { outcome: await checkHealth(systemd, action) };
    }
    case 'stop-disable': {
      if (host.offline) {
        if (action.enabled.length > 0) await tolerateMissingUnits(systemd.disable(action.enabled, false, { check: false }));
        return {};
      }
      await tolerateMissingUnits(systemd.unitVerb('stop', action.units, { check: false }));
      // The uninstall's own daemon-reload follows once the files are gone.
      if (action.enabled.length > 0) await tolerateMissingUnits(systemd.disable(action.enabled, false, { check: false }));
      return {};
    }
    case 'reset-failed': {
      await systemd.unitVerb('reset-failed', action.units, { check: false });
      return {};
    }
  }
}

/**
 * Units just started must be active; a daemon that dies right after starting fails the transaction,
 * so services are looked at again 300 ms after they first show active. A oneshot that already
 * finished successfully counts as fine. The same call tells when the timers fire next (for the report
 * that follows the transaction), so it resolves to that.
 */
async function waitUntilActive(systemd: SystemdClient, units: string[]): Promise<Map<string, Usec | undefined>> {
  const deadline = Date.now() + 3000;
  const hasService = units.some((u) => u.endsWith('.service'));
  let activeSince: number | undefined;
  for (;;) {
    const states = await systemd.show(units, ['ActiveState', 'Result', 'NextElapseUSecRealtime', 'NextElapseUSecMonotonic'] as const, { utc: true });
    const now = nowUsec();
    const monotonicNow = Number(process.hrtime.bigint() / 1000n);
    const nextElapses = () => new Map(units.filter((u) => u.endsWith('.timer')).map((u) => [u, timerNextElapse(states[u] ?? {}, now, monotonicNow)]));
    const ok = (u: string) => states[u]?.ActiveState === 'active' || (u.endsWith('.service') && states[u]?.ActiveState === 'inactive' && states[u]?.Result === 'success');
    const failed = units.filter((u) => states[u]?.ActiveState === 'failed');
    if (failed.length > 0) {
      throw new OperationError(`${failed.map((u) => `${u} failed (${states[u]?.Result ?? 'unknown'})`).join(', ')}; see: journalctl -u ${failed[0]}`);
    }
    if (units.every(ok)) {
      if (!hasService) return nextElapses();
      activeSince ??= Date.now();
      if (Date.now() - activeSince >= 300) return nextElapses();
    } else activeSince = undefined;
    if (Date.now() > deadline) {
      const pending = units.filter((u) => !ok(u));
      throw new OperationError(`${pending.join(', ')} did not become active within 3 s; see: systemctl status ${pending[0] ?? ''}`);
    }
    await sleep(100);
  }
}

/** The health check after a restart or a run; returns "STATUS - summary", throws CheckFailed when it fails. */
async function checkHealth(systemd: SystemdClient, action: Extract<Action, { kind: 'check-health' }>): Promise<string> {
  const result = await awaitHealth(systemd, action);
  const outcome = `${result.status} - ${result.summary}`;
  const failing = healthVerdict(result);
  if (failing !== undefined) throw new CheckFailed(failing, outcome);
  return outcome;
}

/** A job's run is over: one look. A daemon gets until the deadline to become active and answer on its URL. */
async function awaitHealth(systemd: SystemdClient, { subject, timeoutMs, once }: Extract<Action, { kind: 'check-health' }>): Promise<CheckResult> {
  const units = [...new Set([...subject.units, ...(subject.service ? [subject.service] : [])])];
  const deadline = Date.now() + timeoutMs;
  let healthySince: number | undefined;
  for (;;) {
    const [properties, url] = await Promise.all([systemd.show(units, checkProperties, { utc: true }), subject.health?.url ? probeUrl(subject.health.url, 2000) : Promise.resolve(undefined)]);
    const result = evaluateCheck({ subject, units: properties, ...(url ? { url } : {}), now: nowUsec(), monotonicNow: Number(process.hrtime.bigint() / 1000n) });
    if (once) return result;
    if (healthVerdict(result) === undefined) {
      // A daemon that dies right after answering once is not healthy: it must stay up for a moment.
      healthySince ??= Date.now();
      if (Date.now() - healthySince >= 1000) return result;
    } else {
      healthySince = undefined;
      if (properties[subject.service ?? '']?.ActiveState === 'failed' || Date.now() >= deadline) return result;
    }
    await sleep(250);
  }
}

/** Why a health check after a change fails, or undefined: only problems of the service itself count. */
function healthVerdict(result: CheckResult): string | undefined {
  const relevant = result.problems.filter((p) => p.status !== 'WARNING' && (p.topic === 'service' || p.topic === 'url' || p.topic === 'unit' || p.topic === 'systemd'));
  return relevant.length > 0 ? relevant.map((p) => p.message).join('; ') : undefined;
}

/** stop/disable of a unit that is not loaded or whose file is already gone is not a failure of uninstall. */
async function tolerateMissingUnits(run: Promise<{ exitCode: number; stderr: string }>): Promise<void> {
  const result = await run;
  if (result.exitCode === 0) return;
  const lines = result.stderr.split('\n').filter((l) => l.trim() && !/not loaded|does not exist|No such file/i.test(l));
  if (lines.length > 0) throw new OperationError(`systemctl exited with ${result.exitCode}: ${lines.join(' ')}`);
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

