import { SvcctlCommand } from '../../base-command.js';
import { fleetInventory, type FleetRecord } from '../../flows/sandbox.js';
import { fleetNameFlag } from './fleet-up.js';

export default class SandboxFleetInventory extends SvcctlCommand {
  static override summary = 'Print the running fleet\'s Ansible inventory (hosts, addresses, the controller\'s key).';
  static override examples = ['<%= config.bin %> sandbox fleet inventory', '<%= config.bin %> sandbox fleet inventory --json'];
  static override flags = { name: fleetNameFlag };

  async run(): Promise<FleetRecord> {
    const { flags } = await this.parse(SandboxFleetInventory);
    const { record, text } = await fleetInventory(flags.name);
    this.print(text);
    return record;
  }
}
