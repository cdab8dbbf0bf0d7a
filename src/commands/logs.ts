import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { withExitCode } from '../core/errors.js';
import { defaultJsonLines, logFormats, logs, type LogsResult } from '../flows/logs.js';
import { userFlag } from '../flags.js';

export default class Logs extends SvcctlCommand {
  static override summary = 'Show the journal of all the units of an installed bundle (journalctl).';
  static override description = `Runs journalctl for every unit the bundle installed (or only --unit). -f follows until Ctrl-C, which exits 0. Works on a pipe: \`svcctl logs BUNDLE | grep ...\`; when the reader goes away journalctl stops at its next line.

--since takes what journalctl takes ("1 hour ago", today, "2026-01-31 08:00", -15min) and is checked before anything is shown. --json collects the newest entries (${defaultJsonLines} unless -n) into one JSON document; for a stream of JSON objects use --output json, with -f if you like.

Without root it finds the bundle's units in the public index (/var/lib/svcctl/.installed.json) and needs membership in the systemd-journal or adm group, whose members may read the system journal (exit 77 otherwise).`;
  static override examples = [
    '<%= config.bin %> logs cleanup-blocking -n 50',
    '<%= config.bin %> logs cleanup-blocking -f',
    '<%= config.bin %> logs cleanup-blocking --since "1 hour ago" | grep -i redis',
    '<%= config.bin %> logs cleanup-blocking --unit cleanup-blocking-coordination.timer',
    '<%= config.bin %> logs cleanup-blocking --output json -f | jq -r .MESSAGE',
  ];
  static override args = { bundle: Args.string({ description: 'an installed bundle', required: true }) };
  static override flags = {
    user: userFlag,
    follow: Flags.boolean({ char: 'f', description: 'keep printing new entries until Ctrl-C' }),
    lines: Flags.integer({ char: 'n', description: 'show the N most recent entries (journalctl: all, or 10 with -f)', min: 0 }),
    since: Flags.string({ description: 'only entries since this time ("1 hour ago", today, "2026-01-31 08:00", -15min)' }),
    unit: Flags.string({ char: 'u', description: 'only this unit of the bundle (its suffix may be left out)' }),
    output: Flags.string({ char: 'o', description: 'journalctl output format', options: [...logFormats], default: 'short' }),
  };

  async run(): Promise<LogsResult> {
    const { args, flags } = await this.parse(Logs);
    const result = await logs(args.bundle, {
      follow: flags.follow,
      ...(flags.lines !== undefined ? { lines: flags.lines } : {}),
      ...(flags.since !== undefined ? { since: flags.since } : {}),
      ...(flags.unit !== undefined ? { unit: flags.unit } : {}),
      output: flags.output as (typeof logFormats)[number],
      json: this.jsonEnabled(),
      user: flags.user,
    });
    return withExitCode(result, result.exitCode);
  }
}
