import { SvcctlCommand } from '../../base-command.js';
import { execInSandbox } from '../../flows/sandbox.js';
import { nameFlag } from '../../flags.js';

export default class SandboxShell extends SvcctlCommand {
  static override summary = 'Open an interactive root shell inside a sandbox.';
  static override examples = ['<%= config.bin %> sandbox shell'];
  static override flags = { name: nameFlag };
  static override enableJsonFlag = false;

  async run(): Promise<void> {
    const { flags } = await this.parse(SandboxShell);
    process.exitCode = await execInSandbox(flags.name, ['/bin/bash', '-l']);
  }
}
