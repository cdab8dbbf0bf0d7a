import { Args } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { fleetExec } from '../../flows/sandbox.js';
import { UserError } from '../../core/errors.js';
import { fleetNameFlag } from './fleet-up.js';

export default class SandboxFleetExec extends SvcctlCommand {
  static override summary = 'Run a command on host I of the fleet (1…N), or on its controller; its exit code is passed through.';
  static override description =
    'On a host the command runs as root inside that sandbox, with svcctl on PATH. On the controller it runs in the fleet\'s network namespace with the fleet\'s HOME, ANSIBLE_HOME, inventory (ANSIBLE_INVENTORY) and known_hosts, so that ansible-playbook and ssh reach the hosts and nothing lands in your own home. Everything after -- reaches the command unchanged.';
  static override examples = [
    '<%= config.bin %> sandbox fleet exec controller -- ansible-playbook site.yml',
    '<%= config.bin %> sandbox fleet exec 2 -- svcctl status',
  ];
  static override flags = { name: fleetNameFlag };
  static override enableJsonFlag = false;
  static override strict = false;
  static override args = { host: Args.string({ description: 'host number (1…N) or "controller"', required: true }) };

  async run(): Promise<void> {
    const separator = this.argv.indexOf('--');
    const own = separator === -1 ? this.argv : this.argv.slice(0, separator);
    const command = separator === -1 ? [] : this.argv.slice(separator + 1);
    const { args, argv, flags } = await this.parse(SandboxFleetExec, own);
    if (argv.length > 1 || command.length === 0) throw new UserError(command.length === 0 ? 'no command given' : `the command must come after --: ${String(argv[1])}`, 'put the command after --, e.g. svcctl sandbox fleet exec 1 -- systemctl status');
    process.exitCode = await fleetExec(flags.name, args.host, command);
  }
}
