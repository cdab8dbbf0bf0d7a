import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { setEnabled, type EnableResult } from '../flows/enable.js';
import { say, style } from '../views/output.js';
import { terminalUi } from '../views/progress.js';
import { userFlag } from '../flags.js';

export default class Enable extends SvcctlCommand {
  static override summary = 'Enable (and start) the units of a bundle installed with --no-enable, or disabled before.';
  static override description = 'One transaction: one systemctl enable --now for every unit the bundle enables, a check that they are active, the receipt updated. --no-start only enables them.';
  static override examples = ['<%= config.bin %> enable vx11-autosync', '<%= config.bin %> enable vx11-autosync --dry-run'];
  static override args = { bundle: Args.string({ description: 'an installed bundle', required: true }) };
  static override flags = {
    user: userFlag,
    'dry-run': Flags.boolean({ description: 'show the plan and change nothing' }),
    start: Flags.boolean({ description: 'start the units now (--no-start: only enable them)', default: true, allowNo: true }),
  };

  async run(): Promise<EnableResult> {
    const { args, flags } = await this.parse(Enable);
    const result = await setEnabled(args.bundle, true, { dryRun: flags['dry-run'], start: flags.start, user: flags.user }, terminalUi);
    if (!result.changed) say(`${style.green('✔')} ${result.bundle} is already ${result.operation}d`);
    else if (!result.dryRun) say(`${style.green('✔')} ${result.bundle} ${result.operation}d: ${result.units.join(', ')}`);
    else say(style.dim('dry run: nothing was changed'));
    return result;
  }
}
