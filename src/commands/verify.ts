import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { verify, type VerifyResult } from '../flows/verify.js';
import { ExitCode, UserError } from '../core/errors.js';
import { say } from '../views/output.js';
import { verifyLines } from '../views/verify.js';
import { userFlag } from '../flags.js';

export default class Verify extends SvcctlCommand {
  static override summary = 'Lint bundles: the manifest, settings, rendered units and drop-ins, and the schedule, as install checks them. Changes nothing; no root needed.';
  static override description = `Runs the checks install makes before its first change, without a host: the manifest against its schema and rules (each problem with file:line:column and the field), every setting's validation, the unit files with the drop-ins svcctl would write checked by systemd-analyze verify (any warning about them is a problem), and the schedule with systemd's own parser. Secrets are not needed: they only reach the secrets file, which systemd does not parse.

Each service's exposure score (systemd-analyze security, 0 to 10, lower is better) is shown as it will be once installed, with the directives that would lower it most; --max-exposure N makes a score above N a problem.

Exit 0 when every bundle passes, 2 when any has a problem (all of them are listed).`;
  static override examples = [
    '<%= config.bin %> verify ./my-bundle',
    '<%= config.bin %> verify cleanup-blocking --set STALE_THRESHOLD_SECONDS=1200 --schedule "*-*-* 02:00:00"',
    '<%= config.bin %> verify ./bundles/* --json',
    '<%= config.bin %> verify ./my-bundle --max-exposure 2.0',
    '<%= config.bin %> verify ./my-job --user',
  ];
  static override strict = false;
  static override args = { bundle: Args.string({ description: 'bundle names or paths', required: true }) };
  static override flags = {
    user: userFlag,
    set: Flags.string({ description: 'a setting to render the units with, KEY=VALUE (repeatable)', multiple: true, default: [] }),
    schedule: Flags.string({ description: 'check this schedule instead of the default: an interval (15min) or a calendar expression' }),
    'max-exposure': Flags.custom<number>({ description: 'a problem when a service scores above this on systemd-analyze security (0 to 10, e.g. 2.0)', parse: async (text) => exposureLimit(text) })(),
  };

  async run(): Promise<VerifyResult> {
    const { argv, flags } = await this.parse(Verify);
    const result = await verify(argv as string[], { set: flags.set, ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}), ...(flags['max-exposure'] !== undefined ? { maxExposure: flags['max-exposure'] } : {}), user: flags.user });
    for (const line of verifyLines(result)) say(line);
    if (!result.ok) process.exitCode = ExitCode.usage;
    return result;
  }
}

function exposureLimit(text: string): number {
  const limit = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  if (!(limit >= 0 && limit <= 10)) throw new UserError(`--max-exposure ${text} is not a score`, 'give a number from 0 to 10, e.g. --max-exposure 2.0');
  return limit;
}
