// The secret flows: list (names, never values), set, and rotate (write, restart or trigger, health check,
// restore the old value on failure). Values live only in memory and in the 0600 secrets file.
import type { Bundle, SecretSpec } from '../bundle/types.js';
import { OperationError, UserError } from '../errors.js';
import { checkProperties, evaluateCheck, subjectFromReceipt, type CheckResult } from '../plan/health.js';
import { managedHeader } from '../plan/plan.js';
import { parseEnvFile, renderEnvFile } from '../plan/render.js';
import { nowUsec } from '../plan/time.js';
import { paths, type Receipt, type ReceiptArtifact } from '../plan/types.js';
import { intentReceipt } from '../apply/apply.js';
import { atomicWrite, inspectPath, makeDirectory, readFileIfExists, removeEmptyDirectory, removeFile, sha256 } from '../system/fs.js';
import { liveHost } from '../system/host.js';
import { generate, readSecretSource } from '../system/inputs.js';
import { acquireLock } from '../system/lock.js';
import { requireRoot } from '../system/privileges.js';
import { canPrompt, cannotPrompt, promptSecret } from '../system/prompt.js';
import { writeReceipt } from '../system/receipts.js';
import { requireSystemd, showUnits, systemctl } from '../system/systemd.js';
import { exec } from '../system/exec.js';
import { say, stepDone, stepFailed, style } from '../output.js';
import { probeUrl } from './check.js';
import { bundleNameOf, requireInstalled, sourceBundle } from './installed.js';

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
}

/** Where a new value comes from; with none of them: stdin when it is not a terminal, else a masked prompt. */
export interface ValueOptions {
  fromFile?: string;
  generate: boolean;
}

export interface SecretChangeResult {
  bundle: string;
  file: string;
  keys: string[];
  changedAt: string;
  /** rotate: what was restarted or run, and the health check that followed. */
  restarted?: string;
  triggered?: string;
  check?: { status: string; summary: string };
}

/** What the secret commands work on, read under the lock: receipt, source bundle, the file's bytes and values. */
interface SecretsState {
  receipt: Receipt;
  bundle?: Bundle;
  specs: SecretSpec[];
  file: string;
  content?: Buffer;
  values: Map<string, string>;
}

async function readState(name: string): Promise<SecretsState> {
  const receipt = await requireInstalled(liveHost, name);
  const bundle = await sourceBundle(receipt);
  const file = paths.secretsFile(name);
  const info = await inspectPath(file, false);
  if (info && info.kind !== 'file') throw new OperationError(`${file} is a ${info.kind}, not a regular file: refusing to read or replace it`, `inspect it; svcctl doctor ${name} says more`);
  const content = info ? await readFileIfExists(file) : undefined;
  const values = parseEnvFile(content?.toString('utf8') ?? '');
  // Without the bundle (its directory moved), the receipt still names the secrets that were set.
  const specs = bundle?.secrets ?? receipt.secrets.map((s) => ({ key: s.key, prompt: s.key, required: false }));
  return { receipt, ...(bundle ? { bundle } : {}), specs, file, ...(content ? { content } : {}), values };
}

export async function listSecrets(reference: string): Promise<SecretListResult> {
  requireRoot('svcctl secret list (the receipt and the secrets file are readable by root only)');
  const name = await bundleNameOf(reference);
  const state = await readState(name);
  const changed = new Map(state.receipt.secrets.map((s) => [s.key, s.changedAt]));
  const rows: SecretRow[] = state.specs.map((spec) => ({
    key: spec.key,
    set: (state.values.get(spec.key) ?? '') !== '',
    declared: true,
    required: spec.required,
    generator: spec.generate ?? null,
    changedAt: changed.get(spec.key) ?? null,
  }));
  for (const key of state.values.keys()) {
    if (!rows.some((r) => r.key === key)) rows.push({ key, set: (state.values.get(key) ?? '') !== '', declared: false, required: false, generator: null, changedAt: changed.get(key) ?? null });
  }
  if (!state.bundle) say(`${style.yellow('!')} the bundle's directory ${state.receipt.source} does not load: secrets it declares but that were never set are not listed`);
  return { bundle: name, file: state.file, secrets: rows };
}

export async function setSecret(reference: string, key: string, options: ValueOptions): Promise<SecretChangeResult> {
  requireRoot('svcctl secret set');
  const name = await bundleNameOf(reference);
  const known = await readState(name);
  const spec = specFor(known, key);
  const value = await newValue(name, spec, options); // asked before the lock is taken: a prompt may wait long
  const lock = await acquireLock(liveHost);
  try {
    const state = await readState(name);
    const tx = await writeSecrets(state, new Map([[spec.key, value]]));
    await tx.commit();
    say(`${style.green('✔')} ${spec.key} of ${name} ${state.values.has(spec.key) ? 'replaced' : 'set'} in ${state.file} (0600 root:root; the value is not shown)`);
    say(`  ${style.dim('→')} ${effectHint(state.receipt)}`);
    return { bundle: name, file: state.file, keys: [spec.key], changedAt: tx.changedAt };
  } finally {
    await lock.release();
  }
}

/** When a new value takes effect: services read their EnvironmentFile= when they start. */
function effectHint(receipt: Receipt): string {
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

/** A new value from --from-file, --generate, stdin (not a terminal) or a masked prompt. Never from argv. */
async function newValue(bundle: string, spec: SecretSpec, options: ValueOptions): Promise<string> {
  if (options.fromFile !== undefined && options.generate) throw new UserError('give either --from-file or --generate, not both');
  if (options.fromFile !== undefined) return (await readSecretSource(spec.key, `@${options.fromFile}`, { used: false })).value;
  if (options.generate) return generate({ ...spec, generate: spec.generate ?? 'hex32' })!.value;
  if (!process.stdin.isTTY) return (await readSecretSource(spec.key, '-', { used: false })).value;
  if (!canPrompt()) cannotPrompt(`a value for ${spec.key} of ${bundle} is needed`, `pass --from-file FILE, --generate, or pipe the value on stdin`);
  const value = await promptSecret(`${spec.prompt} (${spec.key})`);
  if (value.includes('\0')) throw new UserError(`the value given for secret ${spec.key} contains a NUL byte`, 'systemd environment files cannot carry NUL');
  return value;
}

interface SecretsWrite {
  changedAt: string;
  /** Writes the final receipt (state "installed"). */
  commit(): Promise<void>;
  /** Puts the previous file (or its absence) and the previous receipt back. */
  rollback(): Promise<string[]>;
}

/**
 * Writes the secrets file with `changes` applied: the receipt first (state "installing", the new checksum),
 * then the file through atomicWrite (0600 root, created with that mode; its directory 0700). The receipt
 * keeps only names and times.
 */
async function writeSecrets(state: SecretsState, changes: Map<string, string>): Promise<SecretsWrite> {
  const { receipt: before, file } = state;
  const name = before.bundle;
  const values = new Map(state.values);
  for (const [key, value] of changes) values.set(key, value);
  // The order install writes (the bundle's), then keys the bundle does not declare, so that nothing is lost.
  const ordered = [...state.specs.map((s) => s.key).filter((k) => values.has(k)), ...[...values.keys()].filter((k) => !state.specs.some((s) => s.key === k))];
  const content = Buffer.from(renderEnvFile(ordered.map((key) => ({ key, value: values.get(key)! })), managedHeader(name)));
  const now = new Date().toISOString();

  const dirs = [paths.configDir, paths.secretsDir(name)];
  const missing: string[] = [];
  for (const dir of dirs) {
    const info = await inspectPath(dir, false);
    if (!info) missing.push(dir);
    else if (info.kind !== 'directory') throw new OperationError(`${dir} is a ${info.kind}, not a directory: refusing to write secrets through it`, `inspect it; svcctl doctor ${name} says more`);
  }
  const artifact: ReceiptArtifact = { path: file, role: 'secrets', sha256: sha256(content), mode: 0o600, owner: 'root', group: 'root' };
  const changedTimes = new Map(before.secrets.map((s) => [s.key, s.changedAt]));
  for (const key of changes.keys()) changedTimes.set(key, now);
  const after: Receipt = {
    ...before,
    updatedAt: now,
    secrets: ordered.filter((k) => changedTimes.has(k)).map((key) => ({ key, changedAt: changedTimes.get(key)! })),
    artifacts: before.artifacts.some((a) => a.path === file) ? before.artifacts.map((a) => (a.path === file ? { ...a, ...artifact, ...(a.backup ? { backup: a.backup } : {}) } : a)) : [...before.artifacts, artifact],
    directories: [...before.directories, ...missing.filter((d) => !before.directories.some((r) => r.path === d)).map((path) => ({ path, created: true, own: true }))].sort((a, b) =>
      a.path.localeCompare(b.path),
    ),
  };
  const removeCreatedDirectories = async () => {
    for (const dir of [...missing].reverse()) await removeEmptyDirectory(dir);
  };
  await writeReceipt(liveHost, intentReceipt(before, after, 'installing'));
  try {
    for (const dir of missing) await makeDirectory(dir, { mode: dir === paths.configDir ? 0o755 : 0o700, uid: 0, gid: 0 });
    await atomicWrite(file, content, { mode: 0o600, uid: 0, gid: 0 });
  } catch (error) {
    await removeCreatedDirectories().catch(() => undefined);
    await writeReceipt(liveHost, before);
    throw error;
  }
  return {
    changedAt: now,
    commit: () => writeReceipt(liveHost, after),
    rollback: async () => {
      const failed: string[] = [];
      try {
        if (state.content) await atomicWrite(file, state.content, { mode: 0o600, uid: 0, gid: 0 });
        else {
          await removeFile(file);
          await removeCreatedDirectories();
        }
      } catch (error) {
        failed.push(`restore ${file} (${(error as Error).message})`);
      }
      await writeReceipt(liveHost, before).catch((error: Error) => failed.push(`restore the receipt (${error.message})`));
      return failed;
    },
  };
}

export async function rotateSecrets(reference: string, key: string | undefined, options: ValueOptions & { timeoutMs?: number }): Promise<SecretChangeResult> {
  requireRoot('svcctl secret rotate');
  const name = await bundleNameOf(reference);
  await requireSystemd();
  const known = await readState(name);
  const specs = key !== undefined ? [specFor(known, key)] : known.specs.filter((s) => s.generate);
  if (specs.length === 0) {
    throw new UserError(`bundle ${name} declares no secret with a generator`, `name the secret and give its new value: svcctl secret rotate ${name} KEY --from-file FILE (or on stdin)`);
  }
  if (key === undefined && (options.fromFile !== undefined)) throw new UserError('--from-file needs the KEY it is for', `svcctl secret rotate ${name} KEY --from-file FILE`);
  const changes = new Map<string, string>();
  for (const spec of specs) changes.set(spec.key, key === undefined ? generate(spec)!.value : await newValue(name, spec, options));

  const lock = await acquireLock(liveHost);
  try {
    const state = await readState(name);
    const receipt = state.receipt;
    const service = receipt.service;
    const timerJob = Boolean(receipt.timer);
    const names = [...changes.keys()].join(', ');
    const before = service ? (await showUnits([service], ['ActiveState'] as const))[service]?.ActiveState : undefined;
    const tx = await writeSecrets(state, changes);
    stepDone(`write the new ${names} to ${state.file} (0600 root:root; values not shown)`);
    const result: SecretChangeResult = { bundle: name, file: state.file, keys: [...changes.keys()], changedAt: tx.changedAt };
    if (!service || (!timerJob && before !== 'active')) {
      await tx.commit();
      say(`  ${style.yellow('!')} ${service ?? 'no service'} is not running: no restart and no health check; it reads the new value when it starts`);
      return result;
    }
    let failure: string | undefined;
    let check: CheckResult | undefined;
    const action = timerJob ? `run ${service} now (systemctl start)` : `systemctl restart ${service}`;
    try {
      if (timerJob) await runJob(service);
      else await systemctl(['restart', service]);
      stepDone(action);
    } catch (error) {
      failure = (error as Error).message;
      stepFailed(`${action}: ${failure}`);
    }
    if (failure === undefined) {
      check = await awaitHealth(receipt, timerJob, options.timeoutMs ?? 10_000);
      failure = verdict(check);
      (failure === undefined ? stepDone : stepFailed)(`health check: ${check.status} - ${check.summary}`);
    }
    if (timerJob) result.triggered = service;
    else result.restarted = service;
    if (check) result.check = { status: check.status, summary: check.summary };
    if (failure === undefined) {
      await tx.commit();
      say(`${style.green('✔')} ${names} of ${name} rotated`);
      return result;
    }
    const problems = await tx.rollback();
    if (problems.length === 0) stepDone(`restore the previous ${names} in ${state.file}`);
    const again = timerJob ? `run ${service} again with the previous value` : `restart ${service} with the previous value`;
    let recovery: string;
    try {
      if (timerJob) await runJob(service);
      else await systemctl(['restart', service]);
      const after = await awaitHealth(receipt, timerJob, options.timeoutMs ?? 10_000);
      recovery = `${again}: ${after.status} - ${after.summary}`;
      (verdict(after) === undefined ? stepDone : stepFailed)(recovery);
    } catch (error) {
      recovery = `${again}: failed (${(error as Error).message.split('\n')[0]})`;
      stepFailed(recovery);
    }
    throw new OperationError(
      `rotating ${names} of ${name} failed: ${failure}; the previous value was restored`,
      problems.length === 0 ? `see journalctl -u ${service}; svcctl check ${name}` : 'the previous value could not be fully restored (listed above): fix it by hand, or set it with svcctl secret set',
      [problems.length === 0 ? `restored the previous ${names} in ${state.file}` : `could not: ${problems.join('; ')}`, recovery],
    );
  } finally {
    await lock.release();
  }
}

/**
 * Runs a timer's job now and waits for it (a oneshot's start job ends with the run). A run already under
 * way began before the new value was written, so it is waited out first (it could pass with the old one).
 */
async function runJob(service: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const state = (await showUnits([service], ['ActiveState'] as const))[service]?.ActiveState;
    if (state !== 'activating' && state !== 'deactivating') break;
    await sleep(200);
  }
  const result = await exec(['systemctl', 'start', service], { check: false });
  if (result.exitCode === 0) return;
  const props = (await showUnits([service], ['Result', 'ExecMainStatus'] as const))[service];
  const how = props?.Result === 'exit-code' ? `exit status ${props.ExecMainStatus}` : props?.Result || result.stderr.trim().split('\n')[0];
  throw new OperationError(`${service} failed (${how})`);
}

/** Health of the bundle after the restart: a daemon gets until the deadline to become active and answer on its URL. */
async function awaitHealth(receipt: Receipt, timerJob: boolean, timeoutMs: number): Promise<CheckResult> {
  const subject = subjectFromReceipt(receipt);
  const units = [...new Set([...subject.units, ...(subject.service ? [subject.service] : [])])];
  const deadline = Date.now() + timeoutMs;
  let healthySince: number | undefined;
  for (;;) {
    const [properties, url] = await Promise.all([showUnits(units, checkProperties, { utc: true }), subject.health?.url ? probeUrl(subject.health.url, 2000) : Promise.resolve(undefined)]);
    const result = evaluateCheck({ subject, units: properties, ...(url ? { url } : {}), now: nowUsec(), monotonicNow: Number(process.hrtime.bigint() / 1000n) });
    const failing = verdict(result);
    if (timerJob) return result; // the run is over: its result is final
    if (failing === undefined) {
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

/** Why the health check after a rotation fails, or undefined: only problems of the service itself count. */
function verdict(result: CheckResult): string | undefined {
  const relevant = result.problems.filter((p) => p.status !== 'WARNING' && (p.topic === 'service' || p.topic === 'url' || p.topic === 'unit' || p.topic === 'systemd'));
  return relevant.length > 0 ? relevant.map((p) => p.message).join('; ') : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `secret set B KEY value` and `secret set B KEY=value` put the value where every local user can read it. */
export function refuseValueOnArgv(argv: string[], key: string | undefined): void {
  const hint = 'pass it with --from-file FILE, pipe it on stdin, use --generate, or leave them out to be asked with a masked prompt';
  if (key?.includes('=')) {
    throw new UserError(`refusing ${key.slice(0, key.indexOf('='))}=<value>: a value on the command line is readable by every local user (ps, /proc/PID/cmdline) and lands in shell history`, hint);
  }
  if (argv.length > 2) throw new UserError('secret commands take no value on the command line: it is readable by every local user (ps, /proc/PID/cmdline) and lands in shell history', hint);
}
