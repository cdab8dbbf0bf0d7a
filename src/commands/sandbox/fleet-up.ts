import { Args, Flags } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { fleetUp, type FleetRecord } from '../../flows/sandbox.js';
import { fleetLines } from '../../views/fleet.js';
import { say } from '../../views/output.js';

export const fleetNameFlag = Flags.string({ char: 'n', description: 'which fleet (several can run side by side)', default: 'fleet' });

export default class SandboxFleetUp extends SvcctlCommand {
  static override summary = 'Boot N throwaway systemd hosts joined by SSH, to try an Ansible role before real hosts.';
  static override description =
    'Each host is a sandbox (NAME-1 … NAME-N) running Debian\'s sshd on a private address that exists only inside the namespaces svcctl makes: a veth pair from each host to a bridge in a network namespace of the fleet\'s own. The host\'s network, routes and firewall are never touched and nothing listens on it. The controller (ansible-playbook, ssh) runs in that namespace with a key, HOME and known_hosts of its own: `svcctl sandbox fleet exec controller -- ansible-playbook site.yml` (the inventory is preset).';
  static override examples = ['<%= config.bin %> sandbox fleet up 3', '<%= config.bin %> sandbox fleet up 2 --name review'];
  static override args = { count: Args.integer({ description: 'how many hosts', required: true, min: 1, max: 200 }) };
  static override flags = { name: fleetNameFlag };

  async run(): Promise<FleetRecord> {
    const { args, flags } = await this.parse(SandboxFleetUp);
    const started = Date.now();
    const record = await fleetUp(flags.name, args.count);
    for (const line of fleetLines(record, (Date.now() - started) / 1000)) say(line);
    this.print(record.inventory);
    return record;
  }
}
