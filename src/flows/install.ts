// The install flow: load → resolve inputs → desire → observe and preflight → plan → show, confirm, apply.
import type { Bundle } from '../core/bundle/types.js';
import { UserError } from '../core/errors.js';
import { desire, type DesiredState, type Inputs, type SecretInput } from '../core/desired.js';
import { planInstall, type Plan } from '../core/plan.js';
import { actionAsData, mergeActions } from '../core/steps/index.js';
import { intentReceipt, type Authorization, type Receipt } from '../core/receipt.js';
import { userInfo } from 'node:os';
import { canPrompt, promptText } from '../system/prompt.js';
import { layout, onHost, type Target } from '../core/target.js';
import { usecToIso, type Usec } from '../core/time.js';
import { parseEnvFile } from '../core/escape/index.js';
import { acquireLock } from '../system/lock.js';
import { asRoot, ObservationPass, observeInstall, observeUnits } from '../system/observe.js';
import { resolveAlertFlags, resolveSecrets, resolveSettings, type InputFlags, type Previous } from '../system/inputs.js';
import { findBundle } from '../system/bundles/lookup.js';
import { ALERTS_BUNDLE, alertConfigPath, parseAlertConfig, watchedUnits, type AlertChannel } from '../core/alerts/channels.js';
import { requireRoot } from '../system/privileges.js';
import { enableLinger, lingerAdvice, lingerOf } from '../system/user-manager.js';
import { readHostKey } from '../system/receipts.js';
import { readTextIfExists } from '../system/fs.js';
import { SystemdClient } from '../system/systemd.js';
import { svcctlVersion } from '../system/version.js';
import { loadBundles } from './bundles.js';
import { requireConfirmationSource, showConfirmApply } from './change.js';
import { exposureOf, preflight, refuseScheduleWithoutTimer, templateUnits } from './preflight.js';
import { describeExposure, type ServiceExposure } from '../core/exposure.js';
import { targetFor, type ScopeOptions } from './target.js';
import type { FlowUi } from './ui.js';

export interface InstallOptions extends InputFlags, ScopeOptions {
  dryRun: boolean;
  yes: boolean;
  force: boolean;
  start: boolean;
  /** --enable / --no-enable; left out: as the last install chose (enabled, unless it was installed with --no-enable). */
  enable?: boolean;
  /** --authorize TEXT: the explicit authorization a bundle may require. */
  authorize?: string;
  root?: string;
  /** --alert KIND=@FILE|email=ADDRESS (repeatable): the bundles' alert channels become these. Left out: kept. */
  alert?: string[];
  /** How `svcctl alert add|remove` changes the channels (instead of --alert). */
  alertChange?: (previous: AlertChannel[], stdin: { used: boolean }) => Promise<AlertChannel[]>;
  /** --alert-on-restart / --no-alert-on-restart: whether a daemon's restarts are alerted too. Left out: kept. */
  alertOnRestart?: boolean;
}

export interface InstalledBundle {
  name: string;
  upToDate: boolean;
  actions: Record<string, unknown>[];
  notes: string[];
  /** Where each secret came from (names and sources, never values). */
  secrets: { key: string; source: SecretInput['source'] | 'not set' }[];
  /** Each enabled timer's next elapse after the install (ISO 8601; "" when not scheduled). */
  nextElapse?: Record<string, string>;
  /** --dry-run: each service's exposure score (systemd-analyze security) as it will be installed. */
  exposure?: ServiceExposure[];
}

export interface InstallResult {
  dryRun: boolean;
  applied: boolean;
  /** The tree was rendered under this directory (--root), with no running systemd. */
  root?: string;
  /** --user: the user whose manager it is, and whether it lingers (keeps running after his last logout). */
  user?: { name: string; linger?: boolean; lingerEnabledNow?: boolean; advice?: string };
  bundles: InstalledBundle[];
}

export async function install(references: string[], options: InstallOptions, ui: FlowUi): Promise<InstallResult> {
  // --root too: the tree must carry root's ownership (image builds without root: unshare -r).
  if (!options.dryRun && !options.user) requireRoot('svcctl install');
  if (!options.dryRun) requireConfirmationSource(options.yes);
  // --user is refused as root before a bundle is read (root's own manager is never what was meant).
  const userTarget = options.user ? await targetFor({ user: true, ...(options.root !== undefined ? { root: options.root } : {}) }) : undefined;
  const bundles = await loadBundles(references);
  const target = userTarget ?? (await targetFor({ ...(options.root !== undefined ? { root: options.root } : {}), create: !options.dryRun }));
  const systemd = new SystemdClient(target);
  if (!target.offline && !options.dryRun) await systemd.requireRunning();
  const lock = options.dryRun ? undefined : await acquireLock(target);
  try {
    const hostKey = await readHostKey(target);
    // The bundles' observations share their reads (each receipt, path and listing read once); the lock is held.
    const pass = new ObservationPass(target);
    const wanted: { bundle: Bundle; inputs: Inputs; desired: DesiredState; secrets: InstalledBundle['secrets'] }[] = [];
    const stdin = { used: false };
    const alertFlags = options.alert ?? [];
    // The files of --alert are read once, whatever the number of bundles (stdin can be read only once).
    let fromFlags: Promise<AlertChannel[]> | undefined;
    const flagChannels = () => (fromFlags ??= resolveAlertFlags(alertFlags, stdin));
    // Inputs one bundle after another (prompts, stdin); then the host and systemd are asked about all bundles at once.
    const inputsOf = async (bundle: Bundle, flags: InputFlags): Promise<void> => {
      const previous = await readPrevious(target, bundle, pass);
      const settings = await resolveSettings(bundle, previous, flags);
      const secrets = await resolveSecrets(bundle, previous, flags, stdin);
      // svcctl-alerts has none of its own; --alert replaces the channels; alert add|remove changes them; else kept.
      const alerts = bundle.name === ALERTS_BUNDLE ? [] : options.alertChange ? await options.alertChange(keptAlerts(bundle, previous), stdin) : alertFlags.length > 0 ? await flagChannels() : keptAlerts(bundle, previous);
      const alertOnRestart = bundle.name !== ALERTS_BUNDLE && (options.alertOnRestart ?? previous.receipt?.alertOnRestart ?? false);
      if (options.alertOnRestart && bundle.name !== ALERTS_BUNDLE && alerts.length === 0) {
        throw new UserError(`--alert-on-restart: ${bundle.name} has no alert channel to send a restart to`, `give one as well: --alert webhook=@FILE (or slack=@FILE, pagerduty=@FILE, email=ADDRESS); nothing was changed`);
      }
      const authorization = await authorize(bundle, previous.receipt?.authorization, options.authorize, options.dryRun);
      const schedule = flags.schedule ?? (previous.receipt?.scheduleOverridden ? previous.receipt.schedule : undefined);
      refuseScheduleWithoutTimer(bundle, schedule);
      // A randomized delay set by svcctl schedule stays, as its schedule does (--schedule changes only the expression).
      const randomizedDelay = previous.receipt?.scheduleOverridden ? previous.receipt.scheduleRandomizedDelay : undefined;
      const inputs: Inputs = {
        settings,
        secrets,
        ...(schedule !== undefined ? { schedule } : {}),
        ...(randomizedDelay !== undefined ? { randomizedDelay } : {}),
        force: options.force,
        start: options.start,
        enable: options.enable ?? !previous.receipt?.enableDeferred,
        ...(authorization ? { authorization } : {}),
        ...(alerts.length > 0 ? { alerts } : {}),
        ...(alertOnRestart ? { alertOnRestart } : {}),
        now: new Date().toISOString(),
        svcctlVersion,
      };
      wanted.push({ bundle, inputs, desired: desire(bundle, inputs, target), secrets: bundle.secrets.map((s) => ({ key: s.key, source: secrets[s.key]?.source ?? 'not set' })) });
    };
    for (const bundle of bundles) await inputsOf(bundle, options);
    // A bundle with alerts needs the alert templates and their sender: svcctl-alerts joins the transaction, first,
    // with its own previous inputs (the flags were for the named bundles), and plans nothing when it is up to date.
    if (wanted.some((w) => w.desired.alerts.length > 0) && !wanted.some((w) => w.bundle.name === ALERTS_BUNDLE)) {
      await inputsOf(await findBundle(ALERTS_BUNDLE), { set: [], secret: [] });
      wanted.unshift(wanted.pop()!);
    }
    // The host is looked at while systemd checks the rendered units of every bundle: neither needs the other.
    const observeAll = async () => {
      // Every bundle's units in one systemctl show: one process instead of one a bundle.
      const units = wanted.length > 1 ? await observeUnits(target, wanted.flatMap(({ desired }) => desired.units)) : undefined;
      return inOrder(wanted.map(({ desired }) => () => observeInstall(target, desired, hostKey.key, undefined, units, pass)));
    };
    // A dry run also scores each bundle's services (one systemd-analyze security a bundle), alongside; the alert
    // instances a bundle gives a drop-in of its own are scored from svcctl-alerts' templates in the same transaction.
    const scoreAll = () => {
      const templates = templateUnits(wanted.map((w) => w.desired), target);
      return Promise.all(wanted.map(({ desired }) => exposureOf(systemd, desired, target, templates)));
    };
    const checked = preflight(systemd, wanted.map(({ bundle, desired }) => ({ desired, directory: bundle.directory })), target);
    checked.catch(() => undefined); // awaited below, after the plan: its rejection is not unhandled meanwhile
    const [observed, exposures] = await Promise.all([
      observeAll(),
      options.dryRun ? scoreAll() : undefined,
    ]);
    // The plan's refusals first (a unit named like the distribution's, a file of another bundle): they are about
    // what the bundle is, and systemd-analyze's findings on such a unit (an ordering cycle with the real one) are
    // their consequence.
    const planned = wanted.map(({ bundle, inputs, desired, secrets }, i): PlannedBundle => {
      const seen = observed[i]!;
      const plan = planInstall(desired, seen, { target, hostKey: hostKey.key, force: options.force, now: inputs.now, svcctlVersion });
      const exposure = exposures?.[i];
      return { bundle, ...(seen.receipt ? { before: seen.receipt } : {}), desired, plan, secrets, ...(exposure ? { exposure } : {}) };
    });
    await checked;
    const linger = target.scope === 'user' ? await lingerOf(target) : undefined;
    const lingerNote = linger === false ? [`linger is off for ${target.user}: these units run only while ${target.user} is logged in (timers stop at logout); to keep them running, ${lingerAdvice(target)}`] : [];
    const result: InstallResult = {
      dryRun: options.dryRun,
      applied: false,
      ...(target.offline ? { root: target.root } : {}),
      ...(target.scope === 'user' ? { user: { name: target.user, ...(linger !== undefined ? { linger } : {}), ...(linger === false ? { advice: lingerAdvice(target) } : {}) } } : {}),
      bundles: planned.map(({ plan, secrets, exposure }) => ({ name: plan.bundle, upToDate: plan.upToDate, actions: plan.actions.map(actionAsData), notes: plan.notes, secrets, ...(exposure ? { exposure } : {}) })),
    };
    refuseSharedFiles(planned.map((p) => p.desired));
    if (planned.every((p) => p.plan.upToDate)) return result;
    const actions = mergeActions(planned.map((p) => p.plan.actions));
    const receipts = planned.map(({ plan, before }) => ({ bundle: plan.bundle, ...(before ? { before } : {}), intent: intentReceipt(before, plan.receipt, 'installing'), ...(plan.receipt ? { after: plan.receipt } : {}) }));
    const names = planned.map((p) => p.plan.bundle).join(', ');
    const sources = planned.flatMap((p) => p.secrets.map((s) => `${s.key} (${sourceWords[s.source]})`));
    const applied = await showConfirmApply(
      { target, actions, receipts, hostKey },
      {
        dryRun: options.dryRun,
        yes: options.yes,
        title: `Plan for ${names}${target.offline ? ` (rendered under ${target.root}, no running systemd)` : ''}:`,
        notes: [
          ...planned.flatMap((p) => p.plan.notes),
          ...(sources.length > 0 ? [`secrets: ${sources.join(', ')}`] : []),
          ...planned.flatMap((p) => (p.exposure ?? []).map((e) => `${describeExposure(e)} (systemd-analyze security; svcctl verify shows what would lower it)`)),
          ...lingerNote,
        ],
      },
      ui,
    );
    if (!applied) return result;
    result.applied = true;
    if (!target.offline) await addNextRuns(systemd, planned.map((p) => p.desired), result, applied.nextElapse);
    if (linger === false && result.user) await offerLinger(result.user, options.yes, ui);
    return result;
  } finally {
    await lock?.release();
  }
}

/**
 * Without linger a user's timers stop at his logout. On a terminal (without --yes) svcctl offers to turn it on; polkit
 * may allow that for an active session, or it needs root: either way the person is told what happened.
 */
async function offerLinger(user: NonNullable<InstallResult['user']>, yes: boolean, ui: FlowUi): Promise<void> {
  if (yes || !canPrompt()) return;
  if (!(await ui.confirm(`Turn on linger for ${user.name} now (loginctl enable-linger), so that these units keep running after you log out?`))) return;
  const enabled = await enableLinger();
  user.lingerEnabledNow = enabled.ok;
  if (enabled.ok) {
    user.linger = true;
    delete user.advice;
    ui.note(`linger is on for ${user.name}`, 'done');
  } else ui.note(`loginctl enable-linger failed (${enabled.error}): ask root for \`loginctl enable-linger ${user.name}\``, 'warning');
}

interface PlannedBundle {
  bundle: Bundle;
  before?: Receipt;
  desired: DesiredState;
  plan: Plan;
  secrets: InstalledBundle['secrets'];
  exposure?: ServiceExposure[];
}

/** How many bundles are observed at a time (each runs a systemctl show). */
const observeConcurrency = 8;

/**
 * Runs the tasks, `observeConcurrency` at a time, and returns their results in order; when some fail, the first one's
 * error in task order (not the first to fail in time), so the message does not depend on timing.
 */
async function inOrder<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  const settled: PromiseSettledResult<T>[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      settled[i] = await tasks[i]!().then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(observeConcurrency, tasks.length) }, worker));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** The receipt and the secrets already set: what settings and secrets fall back to. */
async function readPrevious(target: Target, bundle: Bundle, pass: ObservationPass): Promise<Previous> {
  const receipt = await asRoot('svcctl install --dry-run', () => pass.receipt(bundle.name));
  // The alert channels, secrets included, from the channel file of the first watched unit (all hold the same); left
  // out when it is missing or does not read (keptAlerts says so, unless --alert gives them again).
  const watched = receipt?.alerts?.length ? watchedUnits(receipt.units)[0] : undefined;
  const alertText = watched ? await asRoot('svcctl install --dry-run', () => readTextIfExists(onHost(target, alertConfigPath(layout(target), watched)))) : undefined;
  let alerts: AlertChannel[] | undefined = watched ? undefined : [];
  if (alertText !== undefined && watched) {
    try {
      alerts = parseAlertConfig(alertText, watched).channels;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
    }
  }
  const kept = { ...(receipt ? { receipt } : {}), ...(alerts ? { alerts } : {}) };
  if (bundle.secrets.length === 0) return { ...kept, existingSecrets: {} };
  // Secrets are kept from svcctl's own secrets file, and from the config files that hold some (those this bundle's install wrote).
  const secretKeys = new Set(bundle.secrets.map((s) => s.key));
  const ours = new Set((receipt?.artifacts ?? []).filter((a) => a.role === 'config').map((a) => a.path));
  const sources = [
    { path: layout(target).secretsFile(bundle.name), keys: secretKeys },
    ...bundle.configFiles.filter((f) => ours.has(f.path)).map((f) => ({ path: f.path, keys: new Set(f.entries.filter((k) => secretKeys.has(k))) })),
  ];
  const existingSecrets: Record<string, string> = {};
  for (const source of sources) {
    const text = await asRoot('svcctl install --dry-run', () => readTextIfExists(onHost(target, source.path)));
    for (const [key, value] of text ? parseEnvFile(text) : []) if (source.keys.has(key)) existingSecrets[key] = value;
  }
  return { ...kept, existingSecrets };
}

/** The channels set up before, kept by an install without --alert; refused when their file is gone or damaged. */
function keptAlerts(bundle: Bundle, previous: Previous): AlertChannel[] {
  if (previous.alerts) return previous.alerts;
  if (!previous.receipt?.alerts?.length) return [];
  const unit = watchedUnits(previous.receipt.units)[0] ?? bundle.name;
  throw new UserError(`the alert channels of ${bundle.name} cannot be read (/etc/svcctl/alerts/${unit}.json is missing or damaged)`, `give every channel again: svcctl install ${bundle.name} --alert KIND=@FILE … (${previous.receipt.alerts.map((a) => a.kind).join(', ')} before)`);
}

/**
 * A bundle that requires explicit authorization is installed only with --authorize TEXT, or, on a terminal, once its
 * name is typed at the question; an installed bundle keeps the authorization it was given. Who and when are recorded.
 */
async function authorize(bundle: Bundle, previous: Authorization | undefined, text: string | undefined, dryRun: boolean): Promise<Authorization | undefined> {
  // Who: asked of the user database only when an authorization is recorded (an NSS lookup can take milliseconds).
  const given = (what: string): Authorization => ({ text: what, by: process.env.SUDO_USER || userInfo().username, at: new Date().toISOString() });
  if (text !== undefined) {
    // Shown by status and kept in the receipt: one line of printable text (no control characters a terminal acts on).
    if (!text.trim() || /[\u0000-\u001f\u007f]/.test(text)) throw new UserError('--authorize needs one line of printable text saying who authorized the install and why');
    return given(text.trim());
  }
  if (!bundle.authorization?.required || previous) return previous;
  const why = bundle.authorization.reason ? ` (${bundle.authorization.reason})` : '';
  const flag = `--authorize "TEXT"`;
  if (dryRun) return undefined;
  if (!canPrompt()) {
    throw new UserError(`bundle ${bundle.name} may only be installed upon explicit authorization${why}, and none was given`, `pass ${flag} saying who authorized it (recorded in the receipt, shown by svcctl status); nothing was changed`);
  }
  const typed = await promptText(`${bundle.name} may only be installed upon explicit authorization${why}. Type the bundle's name to authorize it:`, () => true);
  if (typed.trim() !== bundle.name) throw new UserError(`authorization not given ("${typed.trim()}" is not ${bundle.name}): nothing was changed`, `run it again and type ${bundle.name}, or pass ${flag}`);
  return given(`typed the bundle's name at the prompt`);
}

/** Two bundles of one transaction may share directories, never a file: whose would it be on uninstall? */
function refuseSharedFiles(desired: DesiredState[]): void {
  const owner = new Map<string, string>();
  const clashes: string[] = [];
  for (const d of desired) {
    for (const file of d.files) {
      const other = owner.get(file.path);
      if (other !== undefined) clashes.push(`${file.path} is written by both ${other} and ${d.bundle}`);
      else owner.set(file.path, d.bundle);
    }
  }
  if (clashes.length > 0) throw UserError.many('the bundles of this install write the same files:', clashes, ['install one of them; nothing was changed']);
}

export const sourceWords: Record<SecretInput['source'] | 'not set', string> = {
  file: 'from file',
  stdin: 'from stdin',
  environment: 'from the environment',
  existing: 'kept',
  generated: 'generated',
  prompt: 'entered',
  'not set': 'not set',
};

/**
 * The next run of every enabled timer: as the transaction's post-check saw it, and from one `list-timers` call for
 * the timers it did not look at (already running, and unchanged).
 */
async function addNextRuns(systemd: SystemdClient, desired: DesiredState[], result: InstallResult, checked: ReadonlyMap<string, Usec | undefined>): Promise<void> {
  const timers = desired.flatMap((d) => d.enable.filter((u) => u.endsWith('.timer')));
  const unchecked = timers.filter((t) => !checked.has(t));
  const nextElapse = new Map(checked);
  if (unchecked.length > 0) for (const t of await systemd.listTimers(unchecked)) nextElapse.set(t.unit, t.next > 0 ? t.next : undefined);
  for (const entry of result.bundles) {
    const d = desired.find((x) => x.bundle === entry.name);
    for (const timer of (d?.enable ?? []).filter((u) => u.endsWith('.timer'))) entry.nextElapse = { ...(entry.nextElapse ?? {}), [timer]: usecToIso(nextElapse.get(timer)) ?? '' };
  }
}
