// Interactive prompts, only ever on a TTY; without one, callers get an error naming the flag to use.
import { UserError } from '../core/errors.js';
import { importModule } from '../modules.js';

type Prompts = typeof import('@inquirer/prompts');

export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY);
}

/** Throws the non-interactive error: what was needed and which flag or variable supplies it. */
export function cannotPrompt(what: string, hint: string): never {
  throw new UserError(`${what}, and stdin is not a terminal to ask on`, hint);
}

export async function promptSecret(message: string): Promise<string> {
  const { password } = await importModule<Prompts>('@inquirer/prompts');
  return password({ message, mask: '*', validate: (v) => (v.length > 0 ? true : 'a value is required') }, { output: process.stderr });
}

export async function promptText(message: string, validate: (value: string) => true | string): Promise<string> {
  const { input } = await importModule<Prompts>('@inquirer/prompts');
  return input({ message, validate }, { output: process.stderr });
}

export async function promptConfirm(message: string): Promise<boolean> {
  const { confirm } = await importModule<Prompts>('@inquirer/prompts');
  return confirm({ message, default: false }, { output: process.stderr });
}

/** Reads all of stdin (for `--secret KEY=-`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
