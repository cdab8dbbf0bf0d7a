// The secret flows: list (names, never values), set, and rotate (write, restart or trigger, health check, restore the
// old value on failure). Values live only in memory and in the 0600 secrets file; results are data for the views.
import type { Bundle, ConfigFile, SecretSpec } from '../core/bundle/types.js';
import { configFileOf, managedHeader } from '../core/desired.js';
import { OperationError, StepFailed, UserError } from '../core/errors.js';
import { planSecretsWrite } from '../core/changes.js';
import { subjectFromReceipt } from '../core/health.js';
import type { Plan } from '../core/plan.js';
import { intentReceipt, type Receipt } from '../core/receipt.js';
import { parseEnvFile } from '../core/escape/index.js';
import type { Action } from '../core/steps/types.js';
import { expandHome, layout, onHost, type Target } from '../core/target.js';
import { applyTransaction, type StepReporter, type Transaction } from '../apply/transaction.js';
import { inspectPath, readFileIfExists } from '../system/fs.js';
import { checkSecretValue, generate, readSecretSource } from '../system/inputs.js';
import { acquireLock } from '../system/lock.js';
import { requireRoot } from '../system/privileges.js';
import { canPrompt, cannotPrompt, promptSecret } from '../system/prompt.js';
import { readHostKey } from '../system/receipts.js';
import { SystemdClient } from '../system/systemd.js';
import { bundleNameOf, requireInstalled, sourceBundle } from './installed.js';
import { targetFor, type ScopeOptions } from './target.js';
import type { FlowUi } from './ui.js';

export interface SecretRow {
  key: string;
  /** A non-empty value is in the secrets file. */
  set: boolean;
  /** Declared by the bundle (false: a key in the file the bundle does not know). */
  declared: boolean;
  required: boolean;
  generator: string | null;
  changedAt: string | null;
}

export interface SecretListResult {
  bundle: string;
  file: string;
  secrets: SecretRow[];
  /** The bundle's directory does not load: secrets it declares but never set are not listed. */
  sourceMissing?: string;
}

/** Where a new value comes from. `secret set`: --from-file, --generate, stdin when not a terminal, else a prompt. */
export interface ValueOptions extends ScopeOptions {
  /** A file, or "-" for stdin. */
  fromFile?: string;
  generate: boolean;
}

export interface SecretChangeResult {
  bundle: string;
  file: string;
  keys: string[];
  /** set: whether the key had a value before. */
  replaced?: boolean;
  changedAt: string;
  /** When the new value takes effect, in words. */
  effect?: string;
  /** rotate: what was restarted or run, and the health check that followed. */
  restarted?: string;
  triggered?: string;
  check?: { status: string; summary: string };
  /** rotate: the service was not running, so nothing was restarted or checked. */
  notRunning?: string;
}

/** What the secret commands work on, read under the lock: receipt, source bundle, the file's bytes and values. */
interface SecretsState {
  target: Target;
  receipt: Receipt;
  bundle?: Bundle;
  specs: SecretSpec[];
  file: string;
  content?: Buffer;
  /** The values of the secrets file. */
  values: Map<string, string>;
  /** The secrets the bundle's config files hold (those its install wrote): each key's file, and the values there. */
  configHeld: Map<string, ConfigFile>;
  configValues: Map<string, string>;
}

async function readState(target: Target, name: string, finishing = false): Promise<SecretsState> {
  const receipt = await requireInstalled(target, name, { finishing });
  const bundle = await sourceBundle(receipt);
  const file = layout(target).secretsFile(name);
  const info = await inspectPath(onHost(target, file), { content: false });
  if (info && info.kind !== 'file') throw new OperationError(`${file} is a ${info.kind}, not a regular file: refusing to read or replace it`, `inspect it; svcctl doctor ${name} says more`);
  const content = info ? await readFileIfExists(onHost(target, file)) : undefined;
  const values = parseEnvFile(content?.toString('utf8') ?? '');
  // Without the bundle (its directory moved), the receipt still names the secrets that were set.
  const specs = bundle?.secrets ?? receipt.secrets.map((s) => ({ key: s.key, prompt: s.key, required: false }));
  // Secrets kept in the bundle's own config files (an EnvironmentFile= at the application's path) live there.
  const configHeld = new Map<string, ConfigFile>();
  const configValues = new Map<string, string>();
  const written = new Set(receipt.artifacts.filter((a) => a.role === 'config').map((a) => a.path));
  // A config file's path as on the target (`~/...` of a bundle for user scope is in the home).
  for (const config of (bundle?.configFiles ?? []).map((c) => ({ ...c, path: expandHome(c.path, target) }))) {
    const held = config.entries.filter((key) => specs.some((s) => s.key === key));
    if (held.length === 0 || !written.has(config.path)) continue;
    const text = await readFileIfExists(onHost(target, config.path));
    const found = parseEnvFile(text?.toString('utf8') ?? '');
    for (const key of held) {
      configHeld.set(key, config);
      if (found.has(key)) configValues.set(key, found.get(key)!);
    }
  }
  return { target, receipt, ...(bundle ? { bundle } : {}), specs, file, ...(content ? { content } : {}), values, configHeld, configValues };
}

/** A secret's value wherever it is kept: the bundle's config file that holds it, or the secrets file. */
function valueOf(state: SecretsState, key: string): string | undefined {
  return state.configHeld.has(key) ? state.configValues.get(key) : state.values.get(key);
}

export async function listSecrets(reference: string, scope: ScopeOptions = {}): Promise<SecretListResult> {
  if (!scope.user) requireRoot('svcctl secret list (the receipt and the secrets file are readable by root only)');
  const target = await targetFor(scope);
  const name = await bundleNameOf(reference);
  const state = await readState(target, name);
  const changed = new Map(state.receipt.secrets.map((s) => [s.key, s.changedAt]));
  const rows: SecretRow[] = state.specs.map((spec) => ({
    key: spec.key,
    set: (valueOf(state, spec.key) ?? '') !== '',
    declared: true,
    required: spec.required,
    generator: spec.generate ?? null,
    changedAt: changed.get(spec.key) ?? null,
  }));
  for (const key of state.values.keys()) {
    if (!rows.some((r) => r.key === key)) rows.push({ key, set: (state.values.get(key) ?? '') !== '', declared: false, required: false, generator: null, changedAt: changed.get(key) ?? null });
  }
  return { bundle: name, file: state.file, secrets: rows, ...(state.bundle ? {} : { sourceMissing: state.receipt.source }) };
}

export async function setSecret(reference: string, key: string, options: ValueOptions, ui: FlowUi): Promise<SecretChangeResult> {
  if (!options.user) requireRoot('svcctl secret set');
  const target = await targetFor(options);
  const name = await bundleNameOf(reference);
  // Read again under the lock; an unfinished receipt here is one this command finishes (a killed set or rotate).
  const spec = specFor(await readState(target, name, true), key);
  const value = await newValue(name, spec, options, 'set'); // asked before the lock is taken: a prompt may wait long
  const lock = await acquireLock(target);
  try {
    const state = await readState(target, name, true);
    const plan = await planWrite(state, new Map([[spec.key, value]]));
    // The result says what was done; steps are shown when something goes wrong.
    await applyTransaction(await transaction(state, plan), (description, status, step) => {
      if (status !== 'done') ui.step(description, status, step);
    });
    return { bundle: name, file: state.configHeld.get(spec.key)?.path ?? state.file, keys: [spec.key], replaced: valueOf(state, spec.key) !== undefined, changedAt: plan.receipt!.updatedAt, effect: effectOf(state.receipt) };
  } finally {
    await lock.release();
  }
}

/** When a new value takes effect: services read their EnvironmentFile= when they start. */
function effectOf(receipt: Receipt): string {
  if (receipt.timer && receipt.service) return `the next run of ${receipt.service} uses it (run it now: systemctl start ${receipt.service})`;
  if (receipt.service) return `${receipt.service} reads it when it restarts (\`svcctl secret rotate\` restarts it, checks its health and reverts on failure)`;
  return "the bundle's services read it when they start";
}

function specFor(state: SecretsState, key: string): SecretSpec {
  const spec = state.specs.find((s) => s.key === key);
  if (spec) return spec;
  const known = state.specs.map((s) => s.key).join(', ') || 'none';
  if (!state.bundle) throw new UserError(`bundle ${state.receipt.bundle} has no secret ${key} on record, and its directory ${state.receipt.source} does not load`, `secrets on record: ${known}`);
  throw new UserError(`bundle ${state.receipt.bundle} has no secret ${key}`, `secrets it declares: ${known}`);
}

/**
 * A new value, never from argv: --from-file FILE (or "-" for stdin), --generate, and then — for `set` — stdin when it
 * is not a terminal or a masked prompt; for `rotate` the key's own generator first (so a rotation from cron needs
 * nothing on stdin), then the same.
 */
async function newValue(bundle: string, spec: SecretSpec, options: ValueOptions, command: 'set' | 'rotate'): Promise<string> {
  if (options.fromFile !== undefined && options.generate) throw new UserError('give either --from-file or --generate, not both');
  if (options.fromFile === '-') return (await readSecretSource(spec.key, '-', { used: false })).value;
  if (options.fromFile !== undefined) return (await readSecretSource(spec.key, `@${options.fromFile}`, { used: false })).value;
  if (options.generate || (command === 'rotate' && spec.generate)) return generate({ ...spec, generate: spec.generate ?? 'hex32' })!.value;
  if (!process.stdin.isTTY) return (await readSecretSource(spec.key, '-', { used: false })).value;
  if (!canPrompt()) cannotPrompt(`a value for ${spec.key} of ${bundle} is needed`, `pass --from-file FILE, --from-file - (stdin), or --generate`);
  return checkSecretValue(spec.key, await promptSecret(`${spec.prompt} (${spec.key}):`));
}

/**
 * The secrets file with `changes` applied (see planSecretsWrite), refusing anything but a directory where the config
 * directory and the bundle's secrets directory go. The receipt keeps only names, times and a keyed checksum.
 */
async function planWrite(state: SecretsState, changes: Map<string, string>): Promise<Plan> {
  const name = state.receipt.bundle;
  const l = layout(state.target);
  const missing: string[] = [];
  for (const dir of [l.configDir, l.secretsDir(name)]) {
    const info = await inspectPath(onHost(state.target, dir), { content: false });
    if (!info) missing.push(dir);
    else if (info.kind !== 'directory') throw new OperationError(`${dir} is a ${info.kind}, not a directory: refusing to write secrets through it`, `inspect it; svcctl doctor ${name} says more`);
  }
  const current = state.content !== undefined ? state.values : undefined;
  const { key: hostKey } = await readHostKey(state.target);
  // Each config file that holds a changed key, rendered again: the settings on record, its other secrets as they are.
  const configFiles = [...new Set([...changes.keys()].flatMap((key) => state.configHeld.get(key) ?? []))].map((config) => {
    const secrets = new Map([...state.configValues, ...[...changes].filter(([key]) => state.configHeld.has(key))]);
    return configFileOf(state.bundle!, config, state.receipt.settings, secrets, managedHeader(name), state.target);
  });
  return planSecretsWrite(state.receipt, state.specs, current, changes, missing, { now: new Date().toISOString(), hostKey, target: state.target }, configFiles);
}

/** The write, then `follow` (restart or run, health check), as one transaction with the receipt written ahead. */
async function transaction(state: SecretsState, plan: Plan, follow: Action[] = []): Promise<Transaction> {
  const before = state.receipt;
  return {
    target: state.target,
    actions: [...plan.actions, ...follow],
    receipts: [{ bundle: before.bundle, before, intent: intentReceipt(before, plan.receipt, 'installing'), after: plan.receipt! }],
    hostKey: await readHostKey(state.target),
  };
}

export async function rotateSecrets(reference: string, key: string | undefined, options: ValueOptions & { timeoutMs?: number }, ui: FlowUi): Promise<SecretChangeResult> {
  if (!options.user) requireRoot('svcctl secret rotate');
  const target = await targetFor(options);
  const name = await bundleNameOf(reference);
  const systemd = new SystemdClient(target);
  await systemd.requireRunning();
  const known = await readState(target, name, true);
  const specs = key !== undefined ? [specFor(known, key)] : known.specs.filter((s) => s.generate);
  if (specs.length === 0) {
    throw new UserError(`bundle ${name} declares no secret with a generator`, `name the secret and give its new value: svcctl secret rotate ${name} KEY --from-file FILE (or - for stdin)`);
  }
  if (key === undefined && options.fromFile !== undefined) throw new UserError('--from-file needs the KEY it is for', `svcctl secret rotate ${name} KEY --from-file FILE`);
  const changes = new Map<string, string>();
  for (const spec of specs) changes.set(spec.key, await newValue(name, spec, options, 'rotate'));

  const lock = await acquireLock(target);
  try {
    const state = await readState(target, name, true);
    const receipt = state.receipt;
    const service = receipt.service;
    const timerJob = Boolean(receipt.timer);
    const names = [...changes.keys()].join(', ');
    const before = service ? (await systemd.show([service], ['ActiveState'] as const))[service]?.ActiveState : undefined;
    const plan = await planWrite(state, changes);
    // Where the keys live: the secrets file, or the bundle's config file that holds them.
    const files = [...new Set([...changes.keys()].map((k) => state.configHeld.get(k)?.path ?? state.file))];
    const where = files.join(' and ');
    const result: SecretChangeResult = { bundle: name, file: files[0] ?? state.file, keys: [...changes.keys()], changedAt: plan.receipt!.updatedAt };
    const written = `write the new ${names} to ${where} (values not shown)`;
    if (!service || (!timerJob && before !== 'active')) {
      await applyTransaction(await transaction(state, plan), (description, status, step) => ui.step(step.action.kind === 'write-file' && step.phase === 'apply' ? written : description, status, step));
      return { ...result, notRunning: service ?? 'no service' };
    }
    // A failure restores the previous file and receipt, then restarts or runs the service again with it and checks
    // its health once more (the transaction's recovery); these lines say so in rotate's words.
    const again = timerJob ? `run ${service} again with the previous value` : `restart ${service} with the previous value`;
    let failure: { action: Action; message: string } | undefined;
    let recovery: string | undefined;
    const problems: string[] = [];
    const report: StepReporter = (description, status, step) => {
      const { action, phase, outcome, error } = step;
      const ok = status === 'done' || status === 'undone';
      if (phase === 'apply') {
        if (!ok) failure = { action, message: error ?? 'failed' };
        if (action.kind === 'write-file') ui.step(written, status, step);
        else if (action.kind === 'check-health') {
          const found = /^(\S+) - ([\s\S]*)$/.exec(outcome ?? '');
          if (found) result.check = { status: found[1]!, summary: found[2]! };
          ui.step(`health check: ${outcome ?? error}`, status, step);
        } else ui.step(ok ? description : `${description}: ${error}`, status, step);
      } else if (phase === 'undo') {
        const what = action.kind === 'write-file' ? `restore the previous ${names} in ${where}` : description;
        if (!ok) problems.push(`${what} (${error})`);
        if (!ok || action.kind === 'write-file') ui.step(what, status, step);
      } else if (action.kind === 'check-health') {
        recovery = `${again}: ${outcome ?? error}`;
        ui.step(recovery, status, step);
      } else if (!ok) {
        recovery = `${again}: failed (${(error ?? '').split('\n')[0]})`;
        ui.step(recovery, status, step);
      }
    };
    const follow: Action[] = [
      timerJob ? { kind: 'run-job', service } : { kind: 'restart', units: [service], revive: true },
      { kind: 'check-health', subject: subjectFromReceipt(receipt), timeoutMs: options.timeoutMs ?? 10_000, once: timerJob },
    ];
    if (timerJob) result.triggered = service;
    else result.restarted = service;
    try {
      await applyTransaction(await transaction(state, plan, follow), report);
    } catch (error) {
      // The write itself failed: nothing was restarted or run, and the error says what was rolled back.
      if (!(error instanceof StepFailed) || !failure || failure.action.kind === 'write-file' || failure.action.kind === 'make-directory') throw error;
      const restored = problems.length === 0 && error.clean;
      throw new StepFailed(
        error.step,
        error.reason,
        // What could not be undone is in the error's own notUndone and differences lines; problems are rotate's words for them.
        { ...error.fields, rolledBack: [...(restored ? [`restored the previous ${names} in ${where}`] : problems.length > 0 ? [`could not: ${problems.join('; ')}`] : []), ...(recovery ? [recovery] : [])] },
        restored ? `see journalctl ${target.scope === 'user' ? '--user ' : ''}-u ${service}; svcctl check ${name}${target.scope === 'user' ? ' --user' : ''}` : 'the previous value could not be fully restored (listed above): fix it by hand, or set it with svcctl secret set',
        `rotating ${names} of ${name} failed: ${failure.message}; the previous value was restored`,
      );
    }
    return result;
  } finally {
    await lock.release();
  }
}

/** `secret set B KEY value` and `secret set B KEY=value` put the value where every local user can read it. */
export function refuseValueOnArgv(argv: string[], key: string | undefined): void {
  const hint = 'pass it with --from-file FILE, --from-file - (stdin), --generate, or leave them out to be asked with a masked prompt';
  if (key?.includes('=')) {
    throw new UserError(`refusing ${key.slice(0, key.indexOf('='))}=<value>: a value on the command line is readable by every local user (ps, /proc/PID/cmdline) and lands in shell history`, hint);
  }
  if (argv.length > 2) throw new UserError('secret commands take no value on the command line: it is readable by every local user (ps, /proc/PID/cmdline) and lands in shell history', hint);
}
