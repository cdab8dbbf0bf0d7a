import { Args, Flags } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { addAlerts } from '../../flows/alert.js';
import type { InstallResult } from '../../flows/install.js';
import { installLines } from '../../views/install.js';
import { say } from '../../views/output.js';
import { terminalUi } from '../../views/progress.js';

export default class AlertAdd extends SvcctlCommand {
  static override summary = "Add failure alert channels to an installed bundle: a failed run, or a daemon systemd gave up restarting, reaches a person.";
  static override description = `Each channel is KIND=@FILE (FILE holds the webhook or Slack URL, or the PagerDuty routing key; KIND=- reads it from stdin) or email=ADDRESS (sent through the local MTA's sendmail). A URL or key on the command line is refused: every local user can read argv.

The bundle is installed again with all its other inputs as they are (shown, confirmed, applied as one transaction; nothing is started or restarted), and svcctl-alerts with it when it is not installed yet. docs/alerts.md describes the messages and the noise rules.`;
  static override examples = [
    '<%= config.bin %> alert add cleanup-blocking slack=@/root/slack.url',
    '<%= config.bin %> alert add cleanup-blocking pagerduty=@/root/pd.key email=ops@example.com --yes',
    '<%= config.bin %> alert add my-daemon --alert-on-restart',
  ];
  static override strict = false;
  static override args = {
    bundle: Args.string({ description: 'installed bundle name', required: true }),
    channel: Args.string({ description: 'channels: webhook=@FILE, slack=@FILE, pagerduty=@FILE, email=ADDRESS (none: only --alert-on-restart changes)' }),
  };
  static override flags = {
    'dry-run': Flags.boolean({ description: 'print the plan and change nothing' }),
    yes: Flags.boolean({ char: 'y', description: 'apply without asking (required when stdin is not a terminal)' }),
    'alert-on-restart': Flags.boolean({ description: 'alert also when a daemon fails and systemd restarts it (--no-alert-on-restart: only when it gives up)', allowNo: true }),
  };

  async run(): Promise<InstallResult> {
    const { args, argv, flags } = await this.parse(AlertAdd);
    const result = await addAlerts(args.bundle, (argv as string[]).slice(1), { dryRun: flags['dry-run'], yes: flags.yes, ...(flags['alert-on-restart'] !== undefined ? { alertOnRestart: flags['alert-on-restart'] } : {}) }, terminalUi);
    for (const line of installLines(result)) say(line);
    return result;
  }
}
