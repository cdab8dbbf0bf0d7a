import { Args } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { listAlerts, type AlertListResult } from '../../flows/alert.js';
import { alertTable } from '../../views/alert.js';

export default class AlertList extends SvcctlCommand {
  static override summary = 'List the failure alert channels of installed bundles: kinds and email addresses, never a URL or a routing key.';
  static override description = 'Needs root: the receipts are readable by root only. `svcctl status BUNDLE` shows the channel kinds too.';
  static override examples = ['<%= config.bin %> alert list', '<%= config.bin %> alert list cleanup-blocking --json'];
  static override args = { bundle: Args.string({ description: 'installed bundle name (default: every installed bundle)' }) };

  async run(): Promise<AlertListResult> {
    const { args } = await this.parse(AlertList);
    const result = await listAlerts(args.bundle);
    this.print(alertTable(result));
    return result;
  }
}
