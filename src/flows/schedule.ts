// The schedule flow: validate with systemd's parser, write (or remove) the timer's schedule drop-in as one
// transaction recorded in the receipt, reload once, restart the timer, check systemd took it, show the next elapses.
import { NeedsRootError, OperationError, UserError } from '../core/errors.js';
import { planScheduleChange } from '../core/changes.js';
import { managedHeader } from '../core/plan.js';
import { parseScheduleExpression, renderScheduleDropIn, type Schedule } from '../core/render.js';
import { parseTimespan } from '../core/health.js';
import { formatRelative, formatTimestamp, nowUsec, usecToIso } from '../core/time.js';
import { paths, type Receipt } from '../core/types.js';
import { applyTransaction, intentReceipt, type StepReporter } from '../apply/transaction.js';
import { inspectPath, listDirectory, readFileIfExists } from '../system/fs.js';
import { systemTarget } from '../core/target.js';
import { acquireLock } from '../system/lock.js';
import { requireRoot } from '../system/privileges.js';
import { SystemdClient, type ScheduleCheck } from '../system/systemd.js';
import { reportStep, say, style } from '../views/output.js';
import { bundleNameOf, isPermissionError, requireInstalled, sourceBundle } from './installed.js';
import { userTimeZone } from '../system/timezone.js';

export interface ScheduleOptions {
  /** The new schedule; undefined with reset. */
  expression?: string;
  reset: boolean;
  dryRun: boolean;
}

export interface ScheduleResult {
  bundle: string;
  timer: string;
  dryRun: boolean;
  /** Something was (or, with --dry-run, would be) changed. */
  changed: boolean;
  /** The schedule in effect afterwards; undefined when the bundle's default is unknown (its source is gone). */
  schedule?: string;
  kind?: Schedule['kind'];
  /** systemd's normalized form ("*-*-* 02:00:00 America/New_York", "15min"). */
  normalized?: string;
  overridden: boolean;
  /** The drop-in in place afterwards, or null (the timer unit's own schedule). */
  dropIn: string | null;
  /** The next three elapses as systemd prints them. */
  nextElapses: string[];
  /** The live timer's next elapse after the change (ISO). */
  nextElapse: string | null;
}

export async function schedule(reference: string, options: ScheduleOptions): Promise<ScheduleResult> {
  if (options.reset === (options.expression !== undefined)) {
    throw new UserError(options.reset ? 'give either a schedule or --reset, not both' : 'no schedule given', 'e.g. svcctl schedule BUNDLE "*-*-* 02:00:00 America/New_York", svcctl schedule BUNDLE 15min, or svcctl schedule BUNDLE --reset');
  }
  if (!options.dryRun) requireRoot('svcctl schedule');
  const systemd = new SystemdClient(systemTarget());
  const name = await bundleNameOf(reference);
  if (options.expression !== undefined) await validate(systemd, options.expression); // before anything else: a typo changes nothing
  if (!options.dryRun) await systemd.requireRunning();
  const lock = options.dryRun ? undefined : await acquireLock(systemTarget());
  try {
    const receipt = await requireInstalled(systemTarget(), name).catch((error: unknown) => {
      throw isPermissionError(error) ? new NeedsRootError('svcctl schedule --dry-run (it reads the receipt, mode 0600)') : error;
    });
    const timer = receipt.timer;
    if (!timer) throw new UserError(`bundle ${name} has no timer to schedule`, 'only bundles with a schedule (a timer) can be rescheduled');
    const defaultSchedule = receipt.scheduleOverridden ? (await sourceBundle(receipt))?.schedule?.default : receipt.schedule;
    const target = options.expression?.trim() ?? defaultSchedule;
    const overridden = target !== undefined && target !== defaultSchedule;
    const check = target !== undefined ? await validate(systemd, target) : undefined;
    const dropInPath = paths.scheduleDropIn(timer);
    const content = overridden ? Buffer.from(renderScheduleDropIn(parseScheduleExpression(target), managedHeader(name))) : undefined;
    const existing = await readFileIfExists(dropInPath);
    const ours = receipt.artifacts.some((a) => a.path === dropInPath);
    if (existing !== undefined && !ours) {
      throw new UserError(`${dropInPath} exists and was not created by svcctl`, `move it away (it changes ${timer}'s schedule too), then run the command again`);
    }
    const changed = !sameBytes(existing, content) || receipt.schedule !== target || Boolean(receipt.scheduleOverridden) !== overridden;
    const result: ScheduleResult = {
      bundle: name,
      timer,
      dryRun: options.dryRun,
      changed,
      ...(target !== undefined ? { schedule: target } : {}),
      ...(check ? { kind: check.kind, normalized: check.normalized } : {}),
      overridden,
      dropIn: content ? dropInPath : null,
      nextElapses: check?.nextElapses ?? [],
      nextElapse: null,
    };
    const description = target === undefined ? "the timer unit's own schedule (the bundle's default; its source is gone)" : `${target}${overridden ? '' : " (the bundle's default)"}`;
    if (!changed) {
      say(`${style.green('✔')} ${timer} already runs on ${description}: nothing to do`);
    } else if (options.dryRun) {
      say(`${style.bold('Plan')} for ${name}: ${timer} from ${receipt.schedule ?? 'its default'} to ${description}`);
      say(content ? `  write ${dropInPath} (0644 root:root):` : `  remove ${dropInPath}`);
      if (content) for (const line of content.toString('utf8').trimEnd().split('\n')) say(`    ${style.dim(line)}`);
      say(`  systemctl daemon-reload; systemctl restart ${timer}`);
      say(style.dim('dry run: nothing was changed'));
    } else {
      await applyChange(systemd, receipt, timer, content, { schedule: target, overridden, check });
      say(`${style.green('✔')} ${timer} now runs on ${description}`);
    }
    if (!options.dryRun) result.nextElapse = await liveNextElapse(systemd, timer);
    if (check?.kind === 'interval') result.nextElapses = intervalElapses(check.normalized, result.nextElapse);
    return result;
  } finally {
    await lock?.release();
  }
}

async function validate(systemd: SystemdClient, expression: string): Promise<ScheduleCheck> {
  const parsed = parseScheduleExpression(expression);
  return systemd.checkSchedule(parsed.kind, parsed.kind === 'interval' ? parsed.span : parsed.expression);
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}

/**
 * The transaction (see planScheduleChange): receipt written ahead (state "installing", listing the drop-in),
 * the drop-in written or removed, one daemon-reload, the timer restarted, systemd's view checked, the final
 * receipt. Any failure undoes the file change, reloads again, restarts the timer and restores the receipt.
 */
async function applyChange(systemd: SystemdClient, before: Receipt, timer: string, content: Buffer | undefined, change: { schedule: string | undefined; overridden: boolean; check: ScheduleCheck | undefined }): Promise<void> {
  const dir = paths.dropInDir(timer);
  const dropIn = await inspectPath(paths.scheduleDropIn(timer), false);
  const timerActive = (await systemd.show([timer], ['ActiveState'] as const))[timer]?.ActiveState === 'active';
  const plan = planScheduleChange(
    before,
    {
      ...(dropIn ? { dropIn } : {}),
      dropInDirExists: (await inspectPath(dir, false)) !== undefined,
      dropInDirOnlyHoldsOurs: (await listDirectory(dir)).every((f) => f === 'schedule.conf'),
      timerActive,
    },
    {
      ...(content ? { content } : {}),
      ...(change.schedule !== undefined ? { schedule: change.schedule } : {}),
      overridden: change.overridden,
      ...(change.check ? { expected: { kind: change.check.kind, normalized: change.check.normalized } } : {}),
      now: new Date().toISOString(),
    },
  );
  if (!timerActive) say(`  ${style.yellow('!')} ${timer} is not active: the new schedule applies once it is started (systemctl start ${timer})`);
  let cause: string | undefined;
  let undoFailed = false;
  const report: StepReporter = (description, status, step) => {
    if (status === 'failed') cause = step.error;
    if (status === 'undo-failed') undoFailed = true;
    reportStep(description, status);
  };
  try {
    await applyTransaction(systemTarget(), { actions: plan.actions, receipts: [{ bundle: before.bundle, before, intent: intentReceipt(before, plan.receipt, 'installing'), after: plan.receipt }] }, report);
  } catch (error) {
    if (!(error instanceof OperationError) || cause === undefined) throw error;
    throw new OperationError(
      `changing the schedule of ${timer} failed: ${cause}`,
      undoFailed ? 'some steps could not be undone (listed above); check with `svcctl doctor`' : 'the previous schedule is back in place',
      error.details,
    );
  }
}

async function liveNextElapse(systemd: SystemdClient, timer: string): Promise<string | null> {
  const listing = await systemd.listTimers([timer]).catch(() => []);
  const next = listing.find((t) => t.unit === timer)?.next;
  return next && next > 0 ? usecToIso(next) : null;
}

/** An interval's next elapses: the timer's next one, then one interval apart (the job itself takes time too). */
function intervalElapses(span: string, next: string | null): string[] {
  const seconds = parseTimespan(span);
  if (seconds === undefined) return [];
  const first = next ? Date.parse(next) * 1000 : nowUsec() + seconds * 1_000_000;
  return [0, 1, 2].map((i) => formatTimestamp(first + i * seconds * 1_000_000, userTimeZone()));
}

/** The lines printed on stdout after the change: the next elapses, each with how far away it is. */
export function describeElapses(result: ScheduleResult): string[] {
  const now = nowUsec();
  const lines = [`${result.timer}: ${result.schedule ?? "the timer unit's own schedule"}${result.normalized && result.normalized !== result.schedule ? ` (normalized: ${result.normalized})` : ''}`];
  if (result.nextElapses.length === 0 && result.nextElapse) lines.push(`  next elapse: ${formatTimestamp(Date.parse(result.nextElapse) * 1000, userTimeZone())} (${formatRelative(Date.parse(result.nextElapse) * 1000, now)})`);
  result.nextElapses.forEach((when, i) => lines.push(`  ${i === 0 ? 'next elapse:' : `then:       `} ${when}`));
  if (result.kind === 'interval') lines.push(`  (every ${result.normalized} after the previous run started)`);
  return lines;
}
