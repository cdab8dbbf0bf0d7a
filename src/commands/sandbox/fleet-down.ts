import { SvcctlCommand } from '../../base-command.js';
import { fleetDown } from '../../flows/sandbox.js';
import { say } from '../../views/output.js';
import { fleetNameFlag } from './fleet-up.js';

export default class SandboxFleetDown extends SvcctlCommand {
  static override summary = 'Take the fleet down: every host, its network namespace, its keys and state. Nothing is left on the host.';
  static override examples = ['<%= config.bin %> sandbox fleet down'];
  static override flags = { name: fleetNameFlag };

  async run(): Promise<{ name: string; stopped: boolean }> {
    const { flags } = await this.parse(SandboxFleetDown);
    const stopped = await fleetDown(flags.name);
    say(stopped ? `fleet "${flags.name}" is down` : `fleet "${flags.name}" was not running`);
    return { name: flags.name, stopped };
  }
}
