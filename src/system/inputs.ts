// Resolves settings and secrets from flags, files, stdin, the environment, the previous install, generators and prompts.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import type { Bundle, SecretSpec } from '../core/bundle/types.js';
import { UserError } from '../core/errors.js';
import type { Receipt } from '../core/receipt.js';
import type { SecretInput } from '../core/desired.js';
import { canPrompt, cannotPrompt, promptSecret, promptText, readStdin } from './prompt.js';
import { parseAlertFlag, secretChannel, type AlertChannel } from '../core/alerts/channels.js';

/** What inputs are resolved from besides flags: the receipt's settings and the secrets already set. */
export interface Previous {
  receipt?: Receipt;
  existingSecrets: Record<string, string>;
  /** The alert channels already set up (secrets included), kept when no --alert is given; undefined when unreadable. */
  alerts?: AlertChannel[];
}

/**
 * The largest value a secret may have: a service gets it as one environment string KEY=value, and Linux refuses to
 * exec with a string longer than MAX_ARG_STRLEN (128 KiB), which systemd reports as 203/EXEC.
 */
const MAX_ARG_STRLEN = 128 * 1024;
/** A secret file or stdin longer than this is not read at all. */
const MAX_SECRET_SOURCE_BYTES = MAX_ARG_STRLEN;

/** Refuses a value that would not reach the service as given (exit 2, nothing changed). */
export function checkSecretValue(key: string, value: string): string {
  if (value.includes('\0')) throw new UserError(`the value given for secret ${key} contains a NUL byte`, 'systemd environment files cannot carry NUL');
  const bytes = Buffer.byteLength(`${key}=${value}`, 'utf8') + 1;
  if (bytes > MAX_ARG_STRLEN) throw new UserError(`the value given for secret ${key} is ${bytes} bytes as an environment string; Linux passes at most ${MAX_ARG_STRLEN} (MAX_ARG_STRLEN) to a service`, 'store large data in a file the service reads, and give its path as a setting');
  return value;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeSecret(key: string, bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new UserError(`the value given for secret ${key} is not valid UTF-8 text`, 'systemd reads environment files as UTF-8; encode binary secrets (e.g. base64 or hex)');
  }
}

export interface InputFlags {
  set: string[];
  secret: string[];
  schedule?: string;
}

/** Splits KEY=VALUE at the first "=". */
export function parseAssignment(flag: string, text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`${flag} ${JSON.stringify(text)} is not KEY=VALUE`, `write it as ${flag} KEY=VALUE`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

export const secretEnvName = (key: string) => `SVCCTL_SECRET_${key}`;

export async function resolveSettings(bundle: Bundle, observed: Previous, flags: InputFlags): Promise<Record<string, string>> {
  const given = new Map<string, string>();
  for (const text of flags.set) {
    const [key, value] = parseAssignment('--set', text);
    const setting = bundle.settings.find((s) => s.key === key);
    if (!setting) {
      if (bundle.secrets.some((s) => s.key === key)) {
        throw new UserError(`${key} is a secret of ${bundle.name}, and --set would put its value on the command line`, `pass it with --secret ${key}=@FILE, --secret ${key}=- (stdin) or ${secretEnvName(key)}`);
      }
      throw new UserError(`bundle ${bundle.name} has no setting ${key}`, `settings it knows: ${bundle.settings.map((s) => s.key).join(', ') || 'none'}`);
    }
    given.set(key, value);
  }
  const previous = observed.receipt?.settings ?? {};
  const settings: Record<string, string> = {};
  for (const setting of bundle.settings) {
    let value = given.get(setting.key) ?? previous[setting.key] ?? setting.default;
    if (value === undefined) {
      if (!canPrompt()) cannotPrompt(`setting ${setting.key} of ${bundle.name} has no default`, `pass --set ${setting.key}=VALUE`);
      const pattern = setting.pattern ? new RegExp(`^(?:${setting.pattern})$`, 'u') : undefined;
      value = await promptText(`${setting.key} — ${setting.description}`, (v) => (pattern && !pattern.test(v) ? `must match ${setting.pattern}` : v.length > 0 || 'a value is required'));
    }
    settings[setting.key] = value;
  }
  return settings;
}

export async function resolveSecrets(bundle: Bundle, observed: Previous, flags: InputFlags, stdin: { used: boolean }): Promise<Record<string, SecretInput>> {
  const fromFlags = new Map<string, SecretInput>();
  for (const text of flags.secret) {
    const [key, source] = parseAssignment('--secret', text);
    if (source !== '-' && !source.startsWith('@')) {
      throw new UserError(
        `refusing --secret ${key}=<value>: a value on the command line is readable by every local user (ps, /proc/PID/cmdline) and lands in shell history`,
        `pass --secret ${key}=@FILE, --secret ${key}=- (read from stdin) or set ${secretEnvName(key)}`,
      );
    }
    const spec = bundle.secrets.find((s) => s.key === key);
    if (!spec) throw new UserError(`bundle ${bundle.name} has no secret ${key}`, `secrets it knows: ${bundle.secrets.map((s) => s.key).join(', ') || 'none'}`);
    fromFlags.set(key, await readSecretSource(key, source, stdin));
  }
  const secrets: Record<string, SecretInput> = {};
  for (const spec of bundle.secrets) {
    const value = fromFlags.get(spec.key) ?? fromEnvironment(spec) ?? fromExisting(spec, observed) ?? generate(spec) ?? (await ask(bundle, spec));
    if (value) secrets[spec.key] = value;
  }
  return secrets;
}

/** Reads the value of `--secret KEY=@FILE` or `KEY=-`; one trailing newline (from echo or an editor) is dropped. */
export async function readSecretSource(key: string, source: string, stdin: { used: boolean }): Promise<SecretInput> {
  let raw: Buffer;
  let from: SecretInput['source'];
  if (source === '-') {
    if (stdin.used) throw new UserError(`only one secret can be read from stdin (--secret ${key}=-)`, 'give the others as @FILE or in the environment');
    if (process.stdin.isTTY) throw new UserError(`--secret ${key}=- reads stdin, which is a terminal`, `pipe the value in, or omit the flag to be asked with a masked prompt`);
    stdin.used = true;
    raw = await readStdin(MAX_SECRET_SOURCE_BYTES + 2);
    from = 'stdin';
  } else {
    const file = source.slice(1);
    raw = await readCapped(file, key);
    from = 'file';
  }
  if (raw.length > MAX_SECRET_SOURCE_BYTES + 2) throw new UserError(`the value given for secret ${key} is longer than ${MAX_SECRET_SOURCE_BYTES} bytes`, 'store large data in a file the service reads, and give its path as a setting');
  const value = decodeSecret(key, raw).replace(/\r?\n$/, '');
  if (value.length === 0) throw new UserError(`the value given for secret ${key} is empty`, 'put the secret in the file or on stdin');
  return { value: checkSecretValue(key, value), source: from };
}

/** Reads a regular file of at most the cap (a FIFO or a huge file is refused, not read for ever). */
async function readCapped(file: string, key: string): Promise<Buffer> {
  const fail = (why: string) => new UserError(`cannot read the secret file for ${key}: ${file} (${why})`, 'check the path after @');
  const info = await fsp.stat(file).catch((error: NodeJS.ErrnoException) => {
    throw fail(error.code ?? error.message);
  });
  if (!info.isFile()) throw fail('not a regular file');
  if (info.size > MAX_SECRET_SOURCE_BYTES + 2) throw new UserError(`the secret file for ${key} (${file}) is ${info.size} bytes, more than the ${MAX_SECRET_SOURCE_BYTES} a secret may have`, 'store large data in a file the service reads, and give its path as a setting');
  return fsp.readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw fail(error.code ?? error.message);
  });
}

function fromEnvironment(spec: SecretSpec): SecretInput | undefined {
  const value = process.env[secretEnvName(spec.key)];
  return value ? { value: checkSecretValue(spec.key, value), source: 'environment' } : undefined;
}

function fromExisting(spec: SecretSpec, observed: Previous): SecretInput | undefined {
  const value = observed.existingSecrets[spec.key];
  return value !== undefined && value !== '' ? { value, source: 'existing' } : undefined;
}

export function generate(spec: SecretSpec): SecretInput | undefined {
  return spec.generate === 'hex32' ? { value: randomBytes(32).toString('hex'), source: 'generated' } : undefined;
}

async function ask(bundle: Bundle, spec: SecretSpec): Promise<SecretInput | undefined> {
  if (!canPrompt()) {
    if (!spec.required) return undefined;
    cannotPrompt(`secret ${spec.key} of ${bundle.name} is required`, `pass --secret ${spec.key}=@FILE, --secret ${spec.key}=- (stdin) or set ${secretEnvName(spec.key)}`);
  }
  // One masked question each; an optional secret is left unset by an empty answer.
  const value = await promptSecret(spec.required ? `${spec.prompt} (${spec.key}):` : `${spec.prompt} (${spec.key}; optional, Enter for none):`, { required: spec.required });
  if (value === '') return undefined;
  return { value: checkSecretValue(spec.key, value), source: 'prompt' };
}

/** The channels of --alert flags: a URL or routing key read from its file (or stdin), an email address as given. */
export async function resolveAlertFlags(flags: readonly string[], stdin: { used: boolean }): Promise<AlertChannel[]> {
  const channels: AlertChannel[] = [];
  for (const text of flags) {
    const request = parseAlertFlag(text);
    if (request.kind === 'email') channels.push({ kind: 'email', to: request.to });
    else channels.push(secretChannel(request.kind, (await readSecretSource(`alert ${request.kind}`, request.source, stdin)).value));
  }
  return channels;
}
