import { SvcctlCommand } from '../../base-command.js';
import { stopSandbox } from '../../flows/sandbox.js';
import { say } from '../../views/output.js';
import { nameFlag } from '../../flags.js';

export default class SandboxStop extends SvcctlCommand {
  static override summary = 'Power a sandbox off, wait for it to end, and remove its state.';
  static override examples = ['<%= config.bin %> sandbox stop', '<%= config.bin %> sandbox stop --name review'];
  static override flags = { name: nameFlag };

  async run(): Promise<{ name: string; stopped: boolean }> {
    const { flags } = await this.parse(SandboxStop);
    const stopped = await stopSandbox(flags.name);
    say(stopped ? `sandbox "${flags.name}" stopped` : `sandbox "${flags.name}" was not running`);
    return { name: flags.name, stopped };
  }
}
