import { Args } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { execInSandbox } from '../../system/sandbox.js';
import { UserError } from '../../core/errors.js';
import { nameFlag } from '../../flags.js';

export default class SandboxExec extends SvcctlCommand {
  static override summary = 'Run a command inside a sandbox as root; its exit code is passed through.';
  static override description = 'stdin, stdout and stderr are connected. The project\'s CLI is on PATH inside as `svcctl`.';
  static override examples = [
    '<%= config.bin %> sandbox exec -- systemctl list-units --type=timer',
    '<%= config.bin %> sandbox exec -- svcctl install cleanup-blocking --yes',
  ];
  static override flags = { name: nameFlag };
  static override enableJsonFlag = false;
  static override strict = false;
  static override args = { command: Args.string({ description: 'the command and its arguments, after --', required: false }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(SandboxExec);
    const command = argv as string[];
    if (command.length === 0) throw new UserError('no command given', 'put the command after --, e.g. svcctl sandbox exec -- systemctl status');
    process.exitCode = await execInSandbox(flags.name, command);
  }
}
