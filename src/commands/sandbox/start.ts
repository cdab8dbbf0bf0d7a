import { SvcctlCommand } from '../../base-command.js';
import { startSandbox, type SandboxRecord } from '../../flows/sandbox.js';
import { say } from '../../views/output.js';
import { nameFlag } from '../../flags.js';

export default class SandboxStart extends SvcctlCommand {
  static override summary = 'Boot a throwaway real systemd in private namespaces.';
  static override description =
    'Boots systemd as PID 1 over a copy-on-write view of the host: nothing done inside reaches the host\'s /etc, /var, /usr/local, /home, /opt, /root, /tmp, /run or network. Waits until it is running and prints its PID. Idempotent: a running sandbox is left as it is.';
  static override examples = ['<%= config.bin %> sandbox start', '<%= config.bin %> sandbox start --name review'];
  static override flags = { name: nameFlag };

  async run(): Promise<SandboxRecord> {
    const { flags } = await this.parse(SandboxStart);
    const started = Date.now();
    const record = await startSandbox(flags.name);
    say(`sandbox "${record.name}" running (booted in ${((Date.now() - started) / 1000).toFixed(2)} s); run commands with: svcctl sandbox exec${flags.name === 'default' ? '' : ` --name ${flags.name}`} -- CMD`);
    this.print(String(record.pid));
    return record;
  }
}
