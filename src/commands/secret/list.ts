import { Args } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { listSecrets, type SecretListResult } from '../../flows/secrets.js';
import { say } from '../../views/output.js';
import { secretListNotes, secretTable } from '../../views/secrets.js';
import { userFlag } from '../../flags.js';

export default class SecretList extends SvcctlCommand {
  static override summary = "List a bundle's secrets: name, set or unset, when it last changed. Never a value.";
  static override description = 'Needs root: the receipt and the secrets file (/etc/svcctl/<bundle>/secrets.env, mode 0600) are readable by root only; with --user, your own (~/.config/svcctl/<bundle>/secrets.env). Only the presence of each value is looked at.';
  static override examples = ['<%= config.bin %> secret list cleanup-blocking', '<%= config.bin %> secret list cleanup-blocking --json'];
  static override args = { bundle: Args.string({ description: 'installed bundle name (or bundle path)', required: true }) };
  static override flags = { user: userFlag };

  async run(): Promise<SecretListResult> {
    const { args, flags } = await this.parse(SecretList);
    const result = await listSecrets(args.bundle, { user: flags.user });
    this.print(secretTable(result));
    for (const line of secretListNotes(result)) say(line);
    return result;
  }
}
