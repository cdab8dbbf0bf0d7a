// apply(): the only place where a plan's Actions take effect. The receipts are written ahead of the first step; each
// step's executor records what it is about to change; a failing step's partial effects and every completed step are
// undone in reverse, the restored configuration is reloaded and restarted, and then the host is observed again and
// compared with how it was before: the report says "as it was" only when nothing differs.
import { CommandFailedError, OperationError, StepFailed } from '../core/errors.js';
import { intentReceipt, type Receipt } from '../core/receipt.js';
import { describeAction, touchesOf } from '../core/steps/index.js';
import type { Action, CheckHealth, Enable, StopDisable, UnitBefore } from '../core/steps/types.js';
import type { PathState } from '../core/observed.js';
import type { Target } from '../core/target.js';
import type { Usec } from '../core/time.js';
import { readAccounts } from '../system/accounts.js';
import { observePaths } from '../system/observe.js';
import { atomicWrite, readFileIfExists } from '../system/fs.js';
import { refreshPublicIndex, removeReceipt, saveHostKey, writeReceipt, writeReceipts } from '../system/receipts.js';
import { CheckFailed, StepContext, type Executor } from './context.js';
import { executors } from './index.js';
import { faults } from './faults.js';

export { intentReceipt };

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
  target: Target;
  actions: Action[];
  receipts: BundleReceipts[];
  /** The host key the plan's checksums used, and whether it is stored yet (saved with the first receipt). */
  hostKey?: { key: Buffer; stored: boolean };
}

/** What the transaction's checks saw. */
export interface TransactionResult {
  /** When each timer the post-check found active fires next (µs since the epoch; undefined: not scheduled). */
  nextElapse: Map<string, Usec | undefined>;
  /** What each step's check found, by its index in the transaction. */
  outcomes: Map<number, string>;
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

interface Done {
  action: Action;
  description: string;
  executor: Executor<Action, unknown>;
  memo: unknown;
}

const executorOf = (action: Action) => executors[action.kind] as unknown as Executor<Action, unknown>;

/** Applies a transaction; on failure rolls back, verifies the rollback and throws a StepFailed naming the step. */
export async function applyTransaction(tx: Transaction, report: StepReporter): Promise<TransactionResult> {
  const ctx = new StepContext(tx.target);
  // svcctl's own state is compared after a rollback too: each receipt and the state directory (the public index is
  // derived from the receipts, and written again from them).
  const receiptPaths = tx.receipts.map((r) => ctx.layout.receipt(r.bundle));
  const touched = collectTouches(tx.actions, [...receiptPaths, ctx.layout.stateDir]);
  const before = await observeTouched(tx.target, touched);
  // A rollback puts a receipt back byte for byte (one read in an older format is not rewritten in the new one).
  const receiptFiles = new Map<string, SavedFile>();
  for (const [i, r] of tx.receipts.entries()) {
    const state = before.paths[receiptPaths[i]!];
    const content = state?.kind === 'file' ? await readFileIfExists(ctx.at(receiptPaths[i]!)) : undefined;
    if (state && content) receiptFiles.set(r.bundle, { content, mode: state.mode, uid: state.uid, gid: state.gid });
  }
  const completed: Done[] = [];
  try {
    if (tx.hostKey && !tx.hostKey.stored && tx.receipts.some((r) => r.after)) await saveHostKey(tx.target, tx.hostKey.key);
    await writeReceipts(tx.target, tx.receipts.map((r) => r.intent));
  } catch (error) {
    // No space for the intent receipt (ENOSPC), its directory in the way…: nothing ran, and the receipts go back.
    const description = 'write the intent receipt';
    report(description, 'failed', { action: { kind: 'daemon-reload' }, phase: 'apply', error: messageOf(error) });
    throw await rollBack(tx, ctx, { description, error, completed, before, touched, receiptFiles }, report);
  }
  faults?.startTransaction(tx.actions.map((a) => a.kind));
  const outcomes = new Map<number, string>();
  for (const [index, action] of tx.actions.entries()) {
    const description = describeAction(action);
    const executor = executorOf(action);
    let memo: unknown;
    let prepared = false;
    ctx.step = { index: index + 1, total: tx.actions.length, kind: action.kind };
    try {
      faults?.beforeStep(ctx.step);
      memo = executor.prepare ? await executor.prepare(action, ctx) : undefined;
      prepared = true;
      if (faults?.undoFirst) await executor.undo?.(action, ctx, memo);
      const outcome = await executor.perform(action, ctx, memo);
      if (outcome) outcomes.set(index, outcome);
      completed.push({ action, description, executor, memo });
      faults?.afterStep(ctx.step);
      report(description, 'done', { action, phase: 'apply', ...(outcome ? { outcome } : {}) });
    } catch (error) {
      const failed = prepared && !completed.some((c) => c.action === action) ? { action, description, executor, memo } : undefined;
      report(description, 'failed', { action, phase: 'apply', error: messageOf(error), ...(error instanceof CheckFailed ? { outcome: error.outcome } : {}) });
      throw await rollBack(tx, ctx, { description, error, failed, completed, before, touched, receiptFiles }, report);
    }
  }
  // With steps to commit (purged directories to delete), the receipts of bundles that go stay as they are
  // ("uninstalling") until that is done: a kill or a failure in between leaves a transaction the command finishes.
  const committing = completed.filter((c) => c.executor.commit);
  try {
    const finals = tx.receipts.flatMap((r) => (r.after ? [r.after] : []));
    const removed = committing.length === 0 ? tx.receipts.filter((r) => !r.after).map((r) => r.bundle) : [];
    await allOf([() => writeReceipts(tx.target, finals), ...removed.map((bundle) => () => removeReceipt(tx.target, bundle))]);
    await refreshPublicIndex(tx.target, new Map(finals.map((r) => [r.bundle, r])));
  } catch (error) {
    // The final receipt could not be written (ENOSPC): the host must not keep changes no receipt describes.
    const description = 'write the final receipt';
    report(description, 'failed', { action: { kind: 'daemon-reload' }, phase: 'apply', error: messageOf(error) });
    throw await rollBack(tx, ctx, { description, error, completed, before, touched, receiptFiles }, report);
  }
  if (committing.length > 0) await commit(tx, ctx, committing, outcomes, report);
  return { nextElapse: ctx.state.nextElapse, outcomes };
}

/**
 * Runs the receipt writes of a transaction's bundles side by side (each is its own file: 20 bundles cost one write's
 * time, not 20), and waits for every one to end before it throws the first failure, so that a rollback never races
 * a write still under way.
 */
async function allOf(tasks: (() => Promise<unknown>)[]): Promise<void> {
  const settled = await Promise.allSettled(tasks.map((task) => task()));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The transaction stands: each step's commit (no rollback from here), then the receipts of the bundles that went. */
async function commit(tx: Transaction, ctx: StepContext, steps: Done[], outcomes: Map<number, string>, report: StepReporter): Promise<void> {
  const failed: string[] = [];
  for (const step of steps) {
    try {
      faults?.atCommit();
      const outcome = await step.executor.commit!(step.action, ctx, step.memo);
      if (outcome) outcomes.set(tx.actions.indexOf(step.action), outcome);
    } catch (error) {
      failed.push(`${step.description} (${messageOf(error)})`);
      report(step.description, 'failed', { action: step.action, phase: 'apply', error: messageOf(error) });
    }
  }
  const unfinished = tx.receipts.filter((r) => !r.after).map((r) => r.bundle);
  if (failed.length > 0) {
    throw new OperationError(`the transaction was applied, but not finished: ${failed.join('; ')}`, `fix the cause, then run the command again to finish${unfinished.length > 0 ? ` (svcctl uninstall ${unfinished.join(' ')} --purge)` : ''}`);
  }
  await allOf(unfinished.map((bundle) => () => removeReceipt(tx.target, bundle)));
  await refreshPublicIndex(tx.target, new Map(tx.receipts.flatMap((r) => (r.after ? [[r.bundle, r.after] as const] : []))));
}

interface Failure {
  description: string;
  error: unknown;
  /** The failed step, when it had begun acting: its partial effects are undone first. */
  failed?: Done;
  completed: Done[];
  before: Snapshot;
  touched: Touched;
  /** The receipts as they were before the transaction, by bundle. */
  receiptFiles: Map<string, SavedFile>;
}

interface SavedFile {
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

async function rollBack(tx: Transaction, ctx: StepContext, failure: Failure, report: StepReporter): Promise<StepFailed> {
  const rolledBack: string[] = [];
  const notUndone: string[] = [];
  const steps = [...(failure.failed ? [failure.failed] : []), ...[...failure.completed].reverse()];
  for (const step of steps) {
    if (!step.executor.undo) continue;
    const partial = step === failure.failed;
    const shown = `undo: ${step.description}${partial ? ' (what it had done)' : ''}`;
    try {
      await step.executor.undo(step.action, ctx, step.memo);
      if (faults?.undoTwice) await step.executor.undo(step.action, ctx, step.memo);
      if (!partial) rolledBack.push(step.description);
      report(shown, 'undone', { action: step.action, phase: 'undo' });
    } catch (error) {
      notUndone.push(`${step.description} (${messageOf(error)})`);
      report(shown, 'undo-failed', { action: step.action, phase: 'undo', error: messageOf(error) });
    }
  }
  notUndone.push(...(await recover(ctx, tx.actions, report)));
  for (const r of tx.receipts) {
    try {
      const saved = failure.receiptFiles.get(r.bundle);
      if (r.before && saved) await atomicWrite(ctx.at(ctx.layout.receipt(r.bundle)), saved.content, { mode: saved.mode, uid: saved.uid, gid: saved.gid, owners: ctx.owners });
      else if (r.before) await writeReceipt(tx.target, r.before);
      else await removeReceipt(tx.target, r.bundle);
    } catch (error) {
      notUndone.push(`restore the receipt of ${r.bundle} (${messageOf(error)})`);
    }
  }
  await refreshPublicIndex(tx.target).catch((error: unknown) => notUndone.push(`refresh the public index (${messageOf(error)})`));
  const differences = [...compare(failure.before, await observeTouched(tx.target, failure.touched)), ...(await unitDifferences(ctx, failure.touched.units).catch((error: unknown) => [`unit states not known (${messageOf(error)})`]))];
  const error = failure.error;
  return new StepFailed(failure.description, messageOf(error), {
    ...(error instanceof CommandFailedError ? { command: error.command, ...(error.code !== undefined ? { commandExitCode: error.code } : {}), stderr: error.stderr } : {}),
    rolledBack,
    notUndone,
    differences,
  });
}

/**
 * After the undos the restored configuration must take effect: systemd reads the unit files again (when the
 * transaction reloaded it), restarted units run the old configuration (`try-restart` after that reload, or a plain
 * restart for `revive`), jobs run again, and then the transaction's health checks say whether the restored state is
 * healthy. Returns what failed; a health check's verdict is only reported.
 */
async function recover(ctx: StepContext, actions: Action[], report: StepReporter): Promise<string[]> {
  if (ctx.target.offline) return [];
  const failed: string[] = [];
  const attempt = async (action: Action, description: string, work: () => Promise<string | void>): Promise<boolean> => {
    const shown = `recover: ${description}`;
    try {
      const outcome = await work();
      report(shown, 'undone', { action, phase: 'recover', ...(outcome ? { outcome } : {}) });
      return true;
    } catch (error) {
      if (!(error instanceof CheckFailed)) failed.push(`${description} (${messageOf(error)})`);
      report(shown, 'undo-failed', { action, phase: 'recover', error: messageOf(error), ...(error instanceof CheckFailed ? { outcome: error.outcome } : {}) });
      return false;
    }
  };
  const { state, systemd } = ctx;
  if (state.reloaded) await attempt({ kind: 'daemon-reload' }, 'systemctl daemon-reload', () => systemd.daemonReload());
  const results: boolean[] = [];
  const restart = async (units: string[], verb: 'restart' | 'try-restart') => {
    if (units.length === 0) return;
    results.push(await attempt({ kind: 'restart', units, revive: verb === 'restart' }, `systemctl ${verb} ${units.join(' ')}`, () => systemd.unitVerb(verb, units).then(() => undefined)));
  };
  await restart(unique(state.restarted.filter((r) => r.revive).flatMap((r) => r.units)), 'restart');
  if (state.reloaded) await restart(unique(state.restarted.filter((r) => !r.revive).flatMap((r) => r.units)), 'try-restart');
  // The failed run, and runs just before it, may have used up the unit's start limit: the recovery's run is deliberate.
  const runAgain = (service: string) => systemd.unitVerb('reset-failed', [service], { check: false }).then(() => systemd.runJob(service));
  for (const service of unique(state.jobs)) results.push(await attempt({ kind: 'run-job', service }, `run ${service} again`, () => runAgain(service)));
  if (results.length > 0 && results.every(Boolean)) {
    for (const action of actions) {
      if (action.kind === 'check-health') await attempt(action, describeAction(action), () => executorOf(action).perform(action as CheckHealth, ctx, undefined));
    }
  }
  return failed;
}

const unique = (items: string[]) => [...new Set(items)];

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---- the verified rollback: the touched paths, accounts and units, before and after -------------------------

interface Touched {
  paths: string[];
  /** Steps that add or remove users: the sets of user and group names are compared. */
  accounts: boolean;
  /**
   * Units an enable or stop-disable step changes, with their state before (as the plan observed it). `strict`: any
   * change between running, failed and stopped counts (units svcctl enables); otherwise only one that was running and
   * is not, or is failed and was not (a timer's oneshot service comes and goes on its own).
   */
  units: Record<string, { before: UnitBefore; strict: boolean }>;
}

interface Snapshot {
  paths: Record<string, PathState | null>;
  /** Users by name ("uid uid:gid"), groups by name ("gid gid"): a user made again with other ids is not as it was. */
  users?: Record<string, string>;
  groups?: Record<string, string>;
}

function collectTouches(actions: Action[], own: string[]): Touched {
  const paths = new Set<string>(own);
  let accounts = false;
  const units: Touched['units'] = {};
  for (const action of actions) {
    for (const p of touchesOf(action).paths) {
      if (p === '/etc/passwd' || p === '/etc/group') accounts = true;
      else paths.add(p);
    }
    if (action.kind === 'enable') for (const u of (action as Enable).units) units[u] = { before: (action as Enable).before[u] ?? { enabled: '', active: '' }, strict: true };
    // The planners restart only units that run (a changed daemon, an active timer): after a rollback they run again.
    if (action.kind === 'restart') for (const u of action.units) units[u] ??= { before: { enabled: '', active: 'active' }, strict: true };
    if (action.kind === 'stop-disable') {
      const stop = action as StopDisable;
      for (const u of stop.units) units[u] ??= { before: stop.before[u] ?? { enabled: '', active: '' }, strict: stop.enabled.includes(u) };
    }
  }
  return { paths: [...paths].sort(), accounts, units };
}

async function observeTouched(target: Target, touched: Touched): Promise<Snapshot> {
  const paths = await observePaths(target, touched.paths);
  if (!touched.accounts) return { paths };
  const accounts = await readAccounts(target);
  return {
    paths,
    users: Object.fromEntries([...accounts.users.values()].map((u) => [u.name, `uid ${u.uid}:${u.gid}`])),
    groups: Object.fromEntries([...accounts.groups.values()].map((g) => [g.name, `gid ${g.gid}`])),
  };
}

/** Every difference between two snapshots, in words. */
function compare(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  const show = (s: PathState | null | undefined) =>
    !s ? 'absent' : `a ${s.kind} ${s.mode.toString(8).padStart(4, '0')} ${s.uid}:${s.gid}${s.linkTarget !== undefined ? ` → ${s.linkTarget}` : ''}${s.checksum ? ` (${s.checksum.slice(0, 19)}…)` : ''}`;
  for (const p of Object.keys(after.paths)) {
    const a = before.paths[p] ?? null;
    const b = after.paths[p] ?? null;
    const same = a === null || b === null ? a === b : a.kind === b.kind && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.checksum === b.checksum && a.linkTarget === b.linkTarget;
    if (!same) out.push(`${p}: was ${show(a)}, is ${show(b)}`);
  }
  for (const [what, was, is] of [['user', before.users, after.users], ['group', before.groups, after.groups]] as const) {
    if (!was || !is) continue;
    for (const name of [...new Set([...Object.keys(was), ...Object.keys(is)])].sort()) {
      if (was[name] !== is[name]) out.push(`${what} ${name}: was ${was[name] ?? 'absent'}, is ${is[name] ?? 'absent'}`);
    }
  }
  return out;
}

/** The units' states are compared after the rollback too (enabled, running), from one `systemctl show`. */
async function unitDifferences(ctx: StepContext, units: Touched['units']): Promise<string[]> {
  const names = Object.keys(units);
  if (ctx.target.offline || names.length === 0) return [];
  const now = await ctx.systemd.show(names, ['UnitFileState', 'ActiveState'] as const);
  const running = (s: string) => ['active', 'activating', 'reloading'].includes(s);
  // A unit left failed is a difference even where running is not compared: `systemctl --failed` lists it.
  const state = (s: string) => (running(s) ? 'running' : s === 'failed' ? 'failed' : 'stopped');
  const out: string[] = [];
  for (const unit of names) {
    const { before: was, strict } = units[unit]!;
    const is = { enabled: now[unit]?.UnitFileState ?? '', active: now[unit]?.ActiveState ?? '' };
    if (was.enabled !== '' && was.enabled !== is.enabled) out.push(`${unit}: was ${was.enabled}, is ${is.enabled || 'unknown'}`);
    const changed = strict ? state(was.active) !== state(is.active) : (running(was.active) && !running(is.active)) || (is.active === 'failed' && was.active !== 'failed');
    if (was.active !== '' && changed) out.push(`${unit}: was ${was.active}, is ${is.active || 'unknown'}`);
  }
  return out;
}

