import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { restartBundle, type RestartResult } from '../flows/restart.js';
import { say, style } from '../views/output.js';
import { userFlag } from '../flags.js';

export default class Restart extends SvcctlCommand {
  static override summary = "Restart a daemon bundle's services, then check its health (units active, health URL answering).";
  static override description = 'One systemctl restart for its enabled services; then svcctl waits (health.startTimeout, default 30 s, or --timeout) until they are active and the health URL answers 2xx, and exits 1 with what it saw if they do not. A job run by a timer is run with svcctl run instead.';
  static override examples = ['<%= config.bin %> restart mira-federation-discovery'];
  static override args = { bundle: Args.string({ description: 'an installed bundle', required: true }) };
  static override flags = {
    timeout: Flags.integer({ description: 'seconds the services have to become healthy', min: 1 }),
    user: userFlag,
  };

  async run(): Promise<RestartResult> {
    const { args, flags } = await this.parse(Restart);
    const result = await restartBundle(args.bundle, 'restart', { ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout * 1000 } : {}), user: flags.user });
    say(`${style.green('✔')} ${result.units.join(', ')} restarted${result.health ? `; ${result.health}` : ''}`);
    return result;
  }
}
