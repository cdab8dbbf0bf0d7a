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

/** A masked question: what is typed shows as `*`, never as itself. */
export async function promptSecret(message: string, options: { required: boolean } = { required: true }): Promise<string> {
  const { password } = await importModule<Prompts>('@inquirer/prompts');
  return password({ message, mask: '*', validate: (v) => (v.length > 0 || !options.required ? true : 'a value is required') }, { output: process.stderr });
}

export async function promptText(message: string, validate: (value: string) => true | string): Promise<string> {
  const { input } = await importModule<Prompts>('@inquirer/prompts');
  return input({ message, validate }, { output: process.stderr });
}

export async function promptConfirm(message: string): Promise<boolean> {
  const { confirm } = await importModule<Prompts>('@inquirer/prompts');
  return confirm({ message, default: false }, { output: process.stderr });
}

/** Reads stdin (for `--secret KEY=-`), at most `maxBytes` (a value that long is refused by the caller). */
export async function readStdin(maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    total += (chunk as Buffer).length;
    if (total > maxBytes) break;
  }
  return Buffer.concat(chunks);
}
