import { Args } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { execInSandbox, showHostBundles } from '../../flows/sandbox.js';
import { say, style } from '../../views/output.js';
import { UserError } from '../../core/errors.js';
import { nameFlag } from '../../flags.js';

export default class SandboxExec extends SvcctlCommand {
  static override summary = 'Run a command inside a sandbox as root; its exit code is passed through.';
  static override description =
    'stdin, stdout and stderr are connected. The project\'s CLI is on PATH inside as `svcctl`. Everything after -- reaches the command unchanged, in order. The sandbox has its own /tmp, /run and /dev/shm: a bundle directory (or its bundle.yaml) named by its absolute path under one of the host\'s is shown inside at the same path, read-only, for the rest of the sandbox\'s life.';
  static override examples = [
    '<%= config.bin %> sandbox exec -- systemctl list-units --type=timer',
    '<%= config.bin %> sandbox exec -- svcctl install cleanup-blocking --yes',
    '<%= config.bin %> sandbox exec -- svcctl install /tmp/my-bundle --yes',
  ];
  static override flags = { name: nameFlag };
  static override enableJsonFlag = false;
  // Not strict, with an argument: oclif then stops reading a command id at the first word after `sandbox exec`.
  static override strict = false;
  static override args = { command: Args.string({ description: 'the command and its arguments, after --', required: false }) };

  async run(): Promise<void> {
    // oclif's parser regroups repeated values (and takes `--name` or the sandbox's name out of the command),
    // so it only sees the words before `--`; the command is the rest of the raw argv, as given.
    const separator = this.argv.indexOf('--');
    const own = separator === -1 ? this.argv : this.argv.slice(0, separator);
    const command = separator === -1 ? [] : this.argv.slice(separator + 1);
    const { argv: stray, flags } = await this.parse(SandboxExec, own);
    if (stray.length > 0 || command.length === 0) {
      throw new UserError(stray.length > 0 ? `the command must come after --: ${String(stray[0])}` : 'no command given', 'put the command after --, e.g. svcctl sandbox exec -- systemctl status');
    }
    for (const { target, outcome } of await showHostBundles(flags.name, command)) {
      if (outcome === 'shown') say(`${style.dim('→')} the host's ${target} is shown read-only inside the sandbox`);
      if (outcome === 'shadowed') say(`${style.yellow('!')} ${target} exists inside the sandbox: the command sees the sandbox's own, not the host's`);
    }
    process.exitCode = await execInSandbox(flags.name, command);
  }
}
