import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { restartBundle, type RestartResult } from '../flows/restart.js';
import { say, style } from '../views/output.js';
import { userFlag } from '../flags.js';

export default class Reload extends SvcctlCommand {
  static override summary = "Reload a daemon bundle's services (their ExecReload=), then check its health.";
  static override description = 'Refused (exit 2) when a service has no ExecReload=: restart it instead. Afterwards the same health check as restart.';
  static override examples = ['<%= config.bin %> reload mira-federation-discovery'];
  static override args = { bundle: Args.string({ description: 'an installed bundle', required: true }) };
  static override flags = {
    timeout: Flags.integer({ description: 'seconds the services have to become healthy', min: 1 }),
    user: userFlag,
  };

  async run(): Promise<RestartResult> {
    const { args, flags } = await this.parse(Reload);
    const result = await restartBundle(args.bundle, 'reload', { ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout * 1000 } : {}), user: flags.user });
    say(`${style.green('✔')} ${result.units.join(', ')} reloaded${result.health ? `; ${result.health}` : ''}`);
    return result;
  }
}
