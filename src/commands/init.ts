import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { init, type InitResult } from '../flows/init.js';
import { UserError } from '../core/errors.js';
import { say, style } from '../views/output.js';

export default class Init extends SvcctlCommand {
  static override summary = 'Scaffold a new bundle: a manifest, a service, a timer (or a daemon) and its script, ready for svcctl verify.';
  static override description = `Writes NAME/ (or --directory DIR): bundle.yaml with a system user, a setting and an optional secret; NAME.service (hardened, running as that user); NAME.timer with --schedule (an interval such as 15min, or a calendar expression), or with --daemon a long-running service enabled at boot instead; and NAME.sh, installed to /usr/local/bin. Refuses a directory that already holds files. No root needed.`;
  static override examples = [
    '<%= config.bin %> init nightly-report --schedule "*-*-* 02:00:00"',
    '<%= config.bin %> init queue-worker --daemon --directory ./bundles/queue-worker',
    '<%= config.bin %> init nightly-report && <%= config.bin %> verify ./nightly-report',
  ];
  static override args = { name: Args.string({ description: 'the bundle name (lowercase letters, digits, dashes)', required: true }) };
  static override flags = {
    directory: Flags.string({ description: 'where to write the bundle (default: ./NAME)' }),
    schedule: Flags.string({ description: 'when the job runs: an interval (15min) or a calendar expression (default: 1h)' }),
    daemon: Flags.boolean({ description: 'a long-running service enabled at boot instead of a job run by a timer' }),
  };

  async run(): Promise<InitResult> {
    const { args, flags } = await this.parse(Init);
    if (flags.daemon && flags.schedule !== undefined) throw new UserError('a daemon has no schedule', 'drop --schedule, or --daemon for a job run by a timer');
    const result = await init(args.name, { daemon: flags.daemon, schedule: flags.schedule ?? '1h', ...(flags.directory !== undefined ? { directory: flags.directory } : {}) });
    say(`${style.green('✔')} created ${result.directory}: ${result.files.join(', ')}`);
    say(`  next: edit ${result.bundle}.sh, then \`svcctl verify ${result.directory}\` and \`sudo svcctl install ${result.directory}\``);
    return result;
  }
}
