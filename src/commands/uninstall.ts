import { Args, Flags } from '../oclif.js';
import { userFlag } from '../flags.js';
import { SvcctlCommand } from '../base-command.js';
import { uninstall, type UninstallResult } from '../flows/uninstall.js';
import { uninstallLines } from '../views/install.js';
import { say } from '../views/output.js';
import { terminalUi } from '../views/progress.js';

export default class Uninstall extends SvcctlCommand {
  static override summary = 'Stop, disable and remove exactly what the receipt lists; --purge also removes the user, data directories and secrets.';
  static override description =
    'A file changed since install is reported and left in place unless --force. Files svcctl replaced with --force are restored. Uninstalling a bundle that is not installed does nothing and exits 0.';
  static override examples = ['<%= config.bin %> uninstall cleanup-blocking', '<%= config.bin %> uninstall cleanup-blocking --purge --yes', '<%= config.bin %> uninstall cleanup-blocking --dry-run --json'];
  static override strict = false;
  static override args = { bundle: Args.string({ description: 'installed bundle names', required: true }) };
  static override flags = {
    purge: Flags.boolean({ description: 'also remove the system user, directories and secrets svcctl created' }),
    force: Flags.boolean({ description: 'also remove files changed since install' }),
    'dry-run': Flags.boolean({ description: 'print the plan and change nothing' }),
    yes: Flags.boolean({ char: 'y', description: 'apply without asking (required when stdin is not a terminal)' }),
    root: Flags.directory({ description: 'act on a tree rendered with install --root', exists: true }),
    user: userFlag,
  };

  async run(): Promise<UninstallResult> {
    const { argv, flags } = await this.parse(Uninstall);
    const result = await uninstall(argv as string[], {
      purge: flags.purge,
      force: flags.force,
      dryRun: flags['dry-run'],
      yes: flags.yes,
      ...(flags.root !== undefined ? { root: flags.root } : {}),
      user: flags.user,
    }, terminalUi);
    for (const line of uninstallLines(result)) say(line);
    return result;
  }
}
