// The install flow: load → observe → resolve inputs → preflight → plan → confirm → apply → report.
import { actionAsData, mergePlans, planInstall } from '../core/plan.js';
import type { Plan, Receipt, SecretInput } from '../core/types.js';
import { intentReceipt } from '../apply/transaction.js';
import { systemTarget, type Target } from '../core/target.js';
import { acquireLock } from '../system/lock.js';
import { observeInstall, observeUnitStates } from '../system/observe.js';
import { resolveSecrets, resolveSettings, type InputFlags } from '../system/inputs.js';
import { requireRoot } from '../system/privileges.js';
import { SystemdClient } from '../system/systemd.js';
import { say, style } from '../views/output.js';
import { requireConfirmationSource, showConfirmApply } from './confirm.js';
import { loadBundles } from './bundles.js';
import { preflight, refuseScheduleWithoutTimer } from './preflight.js';
import { svcctlVersion } from '../version.js';
import { formatWhen, nowUsec, usecToIso, type Usec } from '../core/time.js';
import { userTimeZone } from '../system/timezone.js';

export interface InstallOptions extends InputFlags {
  dryRun: boolean;
  yes: boolean;
  force: boolean;
  start: boolean;
  root?: string;
}

export interface InstallResult {
  dryRun: boolean;
  applied: boolean;
  bundles: { name: string; upToDate: boolean; actions: Record<string, unknown>[]; nextElapse?: Record<string, string> }[];
}

export async function install(references: string[], options: InstallOptions): Promise<InstallResult> {
  const host: Target = options.root ? systemTarget(options.root) : systemTarget();
  // --root too: the tree must carry root's ownership (image builds without root: unshare -r or fakeroot).
  if (!options.dryRun) requireRoot('svcctl install');
  if (!options.dryRun) requireConfirmationSource(options.yes);
  const bundles = await loadBundles(references);
  const systemd = new SystemdClient(host);
  if (!options.root && !options.dryRun) await systemd.requireRunning();
  const lock = options.dryRun ? undefined : await acquireLock(host);
  try {
    const plans: Plan[] = [];
    const before = new Map<string, Receipt | undefined>();
    const secretSources: string[] = [];
    const stdin = { used: false };
    for (const bundle of bundles) {
      // The units' states (one systemctl call) are asked for while the files are looked at and the
      // rendered units verified: the plan needs them only for what to enable or restart.
      const unitStates = observeUnitStates(host, bundle.units.map((u) => u.name));
      unitStates.catch(() => undefined); // awaited below; an earlier error must not leave it unhandled
      const observed = await observeInstall(host, bundle);
      const settings = await resolveSettings(bundle, observed, options);
      const secrets = await resolveSecrets(bundle, observed, options, stdin);
      for (const spec of bundle.secrets) secretSources.push(`${spec.key} ${secrets[spec.key] ? `(${sourceWords[secrets[spec.key]!.source]})` : '(not set)'}`);
      const schedule = options.schedule ?? (observed.receipt?.scheduleOverridden ? observed.receipt.schedule : undefined);
      refuseScheduleWithoutTimer(bundle, schedule);
      const inputs = {
        settings,
        secrets,
        ...(schedule !== undefined ? { schedule } : {}),
        force: options.force,
        start: options.start,
        offline: host.offline,
        now: new Date().toISOString(),
        svcctlVersion,
      };
      // The files to write do not depend on the units' states: verify them from a plan without those.
      const [units] = await Promise.all([unitStates, preflight(systemd, bundle, planInstall(bundle, observed, inputs), schedule)]);
      const plan = planInstall(bundle, { ...observed, units }, inputs);
      plans.push(plan);
      before.set(bundle.name, observed.receipt);
    }
    const actions = mergePlans(plans);
    const result: InstallResult = {
      dryRun: options.dryRun,
      applied: false,
      bundles: plans.map((p) => ({ name: p.bundle, upToDate: p.upToDate, actions: p.actions.map(actionAsData) })),
    };
    if (actions.length === 0) {
      for (const plan of plans) say(`${style.green('✔')} ${plan.bundle} is up to date`);
      return result;
    }
    const names = plans.map((p) => p.bundle).join(', ');
    const title = `${style.bold('Plan')} for ${names}${host.offline ? ` (rendered under ${host.root}, no running systemd)` : ''}:`;
    const receipts = plans.map((p) => {
      const previous = before.get(p.bundle);
      return { bundle: p.bundle, ...(previous ? { before: previous } : {}), intent: intentReceipt(previous, p.receipt, 'installing'), ...(p.receipt ? { after: p.receipt } : {}) };
    });
    const notes = secretSources.length > 0 ? [`secrets: ${secretSources.join(', ')}`] : [];
    const applied = await showConfirmApply(host, title, { actions, receipts }, options, notes);
    if (!applied) return result;
    result.applied = true;
    if (!host.offline) await reportNextRuns(systemd, plans, result, applied.nextElapse);
    for (const plan of plans) say(`${style.green('✔')} ${plan.bundle} installed${host.offline ? ` under ${host.root}` : ''}`);
    return result;
  } finally {
    await lock?.release();
  }
}

const sourceWords: Record<SecretInput['source'], string> = {
  file: 'from file',
  stdin: 'from stdin',
  environment: 'from the environment',
  existing: 'kept',
  generated: 'generated',
  prompt: 'entered',
};


/**
 * The next run of every enabled timer: as the transaction's post-check saw it, and from one `list-timers`
 * call for the timers it did not look at (already running, and unchanged).
 */
async function reportNextRuns(systemd: SystemdClient, plans: Plan[], result: InstallResult, checked: ReadonlyMap<string, Usec | undefined>): Promise<void> {
  const timers = plans.flatMap((p) => (p.receipt?.enabled ?? []).filter((u) => u.endsWith('.timer')));
  const unchecked = timers.filter((t) => !checked.has(t));
  const nextElapse = new Map(checked);
  if (unchecked.length > 0 && (await systemd.running())) for (const t of await systemd.listTimers(unchecked)) nextElapse.set(t.unit, t.next > 0 ? t.next : undefined);
  for (const entry of result.bundles) {
    const plan = plans.find((p) => p.bundle === entry.name);
    for (const timer of (plan?.receipt?.enabled ?? []).filter((u) => u.endsWith('.timer'))) {
      const next = nextElapse.get(timer);
      entry.nextElapse = { ...(entry.nextElapse ?? {}), [timer]: usecToIso(next) ?? '' };
      say(`  ${timer}: next run ${formatWhen(next, nowUsec(), userTimeZone(), 'not scheduled')}`);
    }
  }
}
