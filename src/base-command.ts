// The base of every svcctl command: --json support and errors reported the same way in JSON mode.
import { Command } from './oclif.js';
import { reportError } from './cli.js';
import { errorAsData, isExpectedError } from './core/errors.js';

export abstract class SvcctlCommand extends Command {
  static override enableJsonFlag = true;

  /** In JSON mode an error is still one JSON document on stdout, and one line on stderr. */
  protected override async catch(error: Error & { exitCode?: number; hint?: string }): Promise<unknown> {
    if (!this.jsonEnabled()) throw error;
    const exitCode = reportError(error);
    process.exitCode = exitCode;
    this.logJson({ error: isExpectedError(error) ? errorAsData(error) : { message: error.message, exitCode } });
    return undefined;
  }

  /** Writes data for machines to stdout (human-readable text; JSON goes through run()'s return value). */
  protected print(text: string): void {
    if (!this.jsonEnabled()) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}
