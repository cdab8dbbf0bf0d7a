import { Args, Flags } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { removeAlerts } from '../../flows/alert.js';
import type { InstallResult } from '../../flows/install.js';
import { installLines } from '../../views/install.js';
import { say } from '../../views/output.js';
import { terminalUi } from '../../views/progress.js';

export default class AlertRemove extends SvcctlCommand {
  static override summary = 'Remove failure alert channels from an installed bundle.';
  static override description = 'A channel is named by its kind (slack removes every Slack channel of the bundle) or, for email, as email=ADDRESS. The bundle is installed again with its other inputs as they are (one transaction); with its last channel gone, its units lose their OnFailure=/OnSuccess= drop-in and their channel files.';
  static override examples = ['<%= config.bin %> alert remove cleanup-blocking slack', '<%= config.bin %> alert remove cleanup-blocking email=ops@example.com --yes'];
  static override strict = false;
  static override args = {
    bundle: Args.string({ description: 'installed bundle name', required: true }),
    channel: Args.string({ description: 'channels: webhook, slack, pagerduty, email or email=ADDRESS', required: true }),
  };
  static override flags = {
    'dry-run': Flags.boolean({ description: 'print the plan and change nothing' }),
    yes: Flags.boolean({ char: 'y', description: 'apply without asking (required when stdin is not a terminal)' }),
  };

  async run(): Promise<InstallResult> {
    const { args, argv, flags } = await this.parse(AlertRemove);
    const result = await removeAlerts(args.bundle, (argv as string[]).slice(1), { dryRun: flags['dry-run'], yes: flags.yes }, terminalUi);
    for (const line of installLines(result)) say(line);
    return result;
  }
}
