import { Args } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { testAlerts, type AlertTestResult } from '../../flows/alert.js';
import { alertTestLines } from '../../views/alert.js';
import { say } from '../../views/output.js';

export default class AlertTest extends SvcctlCommand {
  static override summary = "Send a real test message through each of a bundle's alert channels and show each receiver's answer.";
  static override description = 'Shows the HTTP status of each webhook, Slack and PagerDuty request (a PagerDuty test is triggered and resolved at once) and the answer of the local MTA for email. Exit 1 when a channel did not take it. Needs root: the channel files are readable by root only.';
  static override examples = ['<%= config.bin %> alert test cleanup-blocking', '<%= config.bin %> alert test cleanup-blocking --json'];
  static override args = { bundle: Args.string({ description: 'installed bundle name', required: true }) };

  async run(): Promise<AlertTestResult> {
    const { args } = await this.parse(AlertTest);
    const result = await testAlerts(args.bundle);
    for (const line of alertTestLines(result)) say(line);
    return result;
  }
}
