import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { setEnabled, type EnableResult } from '../flows/enable.js';
import { say, style } from '../views/output.js';
import { terminalUi } from '../views/progress.js';
import { userFlag } from '../flags.js';

export default class Disable extends SvcctlCommand {
  static override summary = 'Stop and disable the units of an installed bundle; its files, user and secrets stay (svcctl enable turns it back on).';
  static override description = 'One transaction: the units stopped and disabled, the receipt records it, so svcctl install keeps it disabled until svcctl enable.';
  static override examples = ['<%= config.bin %> disable vx11-autosync', '<%= config.bin %> disable vx11-autosync --dry-run'];
  static override args = { bundle: Args.string({ description: 'an installed bundle', required: true }) };
  static override flags = {
    user: userFlag,
    'dry-run': Flags.boolean({ description: 'show the plan and change nothing' }),
  };

  async run(): Promise<EnableResult> {
    const { args, flags } = await this.parse(Disable);
    const result = await setEnabled(args.bundle, false, { dryRun: flags['dry-run'], start: false, user: flags.user }, terminalUi);
    if (!result.changed) say(`${style.green('✔')} ${result.bundle} is already ${result.operation}d`);
    else if (!result.dryRun) say(`${style.green('✔')} ${result.bundle} ${result.operation}d: ${result.units.join(', ')}`);
    else say(style.dim('dry run: nothing was changed'));
    return result;
  }
}
