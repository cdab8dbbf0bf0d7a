import { SvcctlCommand } from '../../base-command.js';
import { sandboxStatusOf, type SandboxStatus } from '../../flows/sandbox.js';
import { nameFlag } from '../../flags.js';

export default class SandboxStatusCommand extends SvcctlCommand {
  static override summary = 'Show whether a sandbox is running, its PID and its systemd state.';
  static override examples = ['<%= config.bin %> sandbox status', '<%= config.bin %> sandbox status --name review --json'];
  static override flags = { name: nameFlag };

  async run(): Promise<SandboxStatus> {
    const { flags } = await this.parse(SandboxStatusCommand);
    const status = await sandboxStatusOf(flags.name);
    this.print(status.running ? `${status.name}: running (pid ${status.pid}, systemd ${status.state}, since ${status.startedAt})` : `${status.name}: not running`);
    return status;
  }
}
