// The schedule flow: validate with systemd's parser, then write (or remove) the timer's schedule drop-in as one
// transaction recorded in the receipt — reload once, restart the timer, check systemd took it — and show the next elapses.
import { StepFailed, UserError } from '../core/errors.js';
import { planScheduleChange } from '../core/changes.js';
import { managedHeader } from '../core/desired.js';
import { intentReceipt } from '../core/receipt.js';
import { renderScheduleDropIn } from '../core/render.js';
import { parseRandomizedDelay, parseSchedule, parseTimespan, type Schedule } from '../core/schedule.js';
import { actionAsData } from '../core/steps/index.js';
import { layout, onHost } from '../core/target.js';
import { formatTimestamp, nowUsec, usecToIso } from '../core/time.js';
import { inspectPath, listDirectory, readFileIfExists } from '../system/fs.js';
import { acquireLock } from '../system/lock.js';
import { asRoot } from '../system/observe.js';
import { requireRoot } from '../system/privileges.js';
import { readHostKey } from '../system/receipts.js';
import { SystemdClient, type ScheduleCheck } from '../system/systemd.js';
import { userTimeZone } from '../system/timezone.js';
import { showConfirmApply } from './change.js';
import { bundleNameOf, requireInstalled, sourceBundle } from './installed.js';
import { targetFor, type ScopeOptions } from './target.js';
import type { FlowUi } from './ui.js';

export interface ScheduleOptions extends ScopeOptions {
  /** The new schedule; undefined with reset. */
  expression?: string;
  /** RandomizedDelaySec= for the timer (a time span; "0": none), kept until changed or --reset. */
  randomizedDelay?: string;
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
  /** The randomized delay set by svcctl schedule, in effect afterwards (undefined: the timer unit's own). */
  randomizedDelay?: string;
  kind?: Schedule['kind'];
  /** systemd's normalized form ("*-*-* 02:00:00 America/New_York", "15min"). */
  normalized?: string;
  overridden: boolean;
  /** The drop-in in place afterwards, or null (the timer unit's own schedule). */
  dropIn: string | null;
  /** The plan's steps (as data). */
  actions: Record<string, unknown>[];
  /** The timer is not running: the schedule applies once it is started. */
  timerInactive: boolean;
  /** The next three elapses as systemd prints them. */
  nextElapses: string[];
  /** The live timer's next elapse after the change (ISO). */
  nextElapse: string | null;
}

export async function schedule(reference: string, options: ScheduleOptions, ui: FlowUi): Promise<ScheduleResult> {
  const changing = options.expression !== undefined || options.randomizedDelay !== undefined;
  if (options.reset === changing) {
    throw new UserError(options.reset ? 'give either a schedule (or --randomized-delay) or --reset, not both' : 'no schedule given', 'e.g. svcctl schedule BUNDLE "*-*-* 02:00:00 America/New_York", svcctl schedule BUNDLE 15min, svcctl schedule BUNDLE --randomized-delay 30s, or svcctl schedule BUNDLE --reset');
  }
  const requestedDelay = options.randomizedDelay === undefined ? undefined : parseRandomizedDelay(options.randomizedDelay);
  if (!options.dryRun && !options.user) requireRoot('svcctl schedule');
  const target = await targetFor(options);
  const l = layout(target);
  const systemd = new SystemdClient(target);
  const name = await bundleNameOf(reference);
  if (options.expression !== undefined) await validate(systemd, options.expression); // before anything else: a typo changes nothing
  if (!options.dryRun) await systemd.requireRunning();
  const lock = options.dryRun ? undefined : await acquireLock(target);
  try {
    // Under the lock an unfinished receipt is a transaction that died: this one finishes it.
    const receipt = await asRoot('svcctl schedule --dry-run', () => requireInstalled(target, name, { finishing: !options.dryRun }));
    const timer = receipt.timer;
    if (!timer) throw new UserError(`bundle ${name} has no timer to schedule`, 'only bundles with a schedule (a timer) can be rescheduled');
    const defaultSchedule = receipt.scheduleOverridden ? (await sourceBundle(receipt))?.schedule?.default : receipt.schedule;
    // --randomized-delay alone keeps the schedule in effect; a delay set before stays until changed or --reset.
    const wanted = options.expression?.trim() ?? (options.reset ? defaultSchedule : (receipt.schedule ?? defaultSchedule));
    const delay = options.reset ? undefined : (requestedDelay ?? receipt.scheduleRandomizedDelay);
    const overridden = wanted !== undefined && (wanted !== defaultSchedule || delay !== undefined);
    const check = wanted !== undefined ? await validate(systemd, wanted) : undefined;
    const dropInPath = l.scheduleDropIn(timer);
    // The timer's own file (its AccuracySec=, when finer than the schedule's, is kept).
    const timerUnitText = overridden ? (await readFileIfExists(onHost(target, l.unitFile(timer))))?.toString('utf8') : undefined;
    const content = overridden ? Buffer.from(renderScheduleDropIn(parseSchedule(wanted, delay), managedHeader(name), timerUnitText)) : undefined;
    const existing = await readFileIfExists(onHost(target, dropInPath));
    if (existing !== undefined && !receipt.artifacts.some((a) => a.path === dropInPath)) {
      throw new UserError(`${dropInPath} exists and was not created by svcctl`, `move it away (it changes ${timer}'s schedule too), then run the command again`);
    }
    const changed = !sameBytes(existing, content) || receipt.schedule !== wanted || Boolean(receipt.scheduleOverridden) !== overridden || receipt.scheduleRandomizedDelay !== delay || receipt.state !== 'installed';
    const dir = l.dropInDir(timer);
    const dropIn = await inspectPath(onHost(target, dropInPath), { content: false });
    const timerActive = options.dryRun && !(await systemd.running()) ? true : (await systemd.show([timer], ['ActiveState'] as const))[timer]?.ActiveState === 'active';
    const plan = planScheduleChange(
      receipt,
      {
        ...(dropIn ? { dropIn } : {}),
        dropInDirExists: (await inspectPath(onHost(target, dir), { content: false })) !== undefined,
        dropInDirOnlyHoldsOurs: (await listDirectory(onHost(target, dir))).every((f) => f === 'schedule.conf'),
        timerActive,
      },
      {
        ...(content ? { content } : {}),
        ...(wanted !== undefined ? { schedule: wanted } : {}),
        overridden,
        ...(delay !== undefined ? { randomizedDelay: delay } : {}),
        ...(check ? { expected: { kind: check.kind, normalized: check.normalized } } : {}),
        now: new Date().toISOString(),
      },
      target,
    );
    const result: ScheduleResult = {
      bundle: name,
      timer,
      dryRun: options.dryRun,
      changed,
      ...(wanted !== undefined ? { schedule: wanted } : {}),
      ...(delay !== undefined ? { randomizedDelay: delay } : {}),
      ...(check ? { kind: check.kind, normalized: check.normalized } : {}),
      overridden,
      dropIn: content ? dropInPath : null,
      actions: changed ? plan.actions.map(actionAsData) : [],
      timerInactive: !timerActive,
      nextElapses: check?.nextElapses ?? [],
      nextElapse: null,
    };
    if (changed) {
      const hostKey = await readHostKey(target);
      try {
        await showConfirmApply(
          { target, actions: plan.actions, receipts: [{ bundle: name, before: receipt, intent: intentReceipt(receipt, plan.receipt, 'installing'), after: plan.receipt! }], hostKey },
          { dryRun: options.dryRun, yes: true, title: `Plan for ${name}: ${timer} from ${receipt.schedule ?? 'its default'} to ${wanted ?? "the timer unit's own schedule"}`, showPlan: 'dry-run' },
          ui,
        );
      } catch (error) {
        if (error instanceof StepFailed) throw error.reworded(`changing the schedule of ${timer} failed: ${error.reason}`, 'the previous schedule is back in place');
        throw error;
      }
    }
    if (!options.dryRun) result.nextElapse = await liveNextElapse(systemd, timer);
    if (check?.kind === 'interval') result.nextElapses = intervalElapses(check.normalized, result.nextElapse);
    return result;
  } finally {
    await lock?.release();
  }
}

async function validate(systemd: SystemdClient, expression: string): Promise<ScheduleCheck> {
  const parsed = parseSchedule(expression);
  return systemd.checkSchedule(parsed.kind, parsed.kind === 'interval' ? parsed.span : parsed.expression);
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
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
