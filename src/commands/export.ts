import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { exportBundle, type ExportResult } from '../flows/export.js';
import { exportLines, exportListing } from '../views/export.js';
import { say } from '../views/output.js';

export default class Export extends SvcctlCommand {
  static override summary = 'Export what install would put on a host: the unit tree, an /etc/cron.d job, or an Ansible role for fleets.';
  static override description = `units: the tree \`svcctl install --root\` renders, for review and packaging. cron: the job as an /etc/cron.d entry (its user, the unit's environment, output to the journal or --log-file, flock against overlapping runs); what cron cannot express — a daemon, a calendar in another time zone than the host's, a randomized delay, seconds — is refused (exit 2). ansible: a role and a site.yml (ansible.builtin modules only) that deploy the same files, user, directories and units as install, with svcctl's receipt, so that status, logs, check and uninstall work on those hosts; settings are variables svcctl_setting_<KEY>, secrets svcctl_secret_<KEY> (ansible-vault).

No export ever holds a secret value: secret files appear as their path, mode, owner and the secrets that fill them. Without --output the files are printed on stdout.`;
  static override examples = [
    '<%= config.bin %> export cleanup-blocking --format units --output ./tree',
    '<%= config.bin %> export ./nightly-report --format cron --set REPORT_DIR=/srv/reports',
    '<%= config.bin %> export cleanup-blocking --format ansible --output ./deploy && cd deploy && ansible-playbook -i hosts.ini site.yml',
  ];
  static override args = { bundle: Args.string({ description: 'bundle name or path', required: true }) };
  static override flags = {
    format: Flags.string({ description: 'what to export', options: ['units', 'cron', 'ansible'], required: true }),
    output: Flags.string({ char: 'o', description: 'write the files under this new or empty directory (default: print them)' }),
    set: Flags.string({ description: 'a setting, KEY=VALUE (repeatable); for ansible it becomes the role\'s default', multiple: true, default: [] }),
    schedule: Flags.string({ description: 'replace the default schedule, as for install' }),
    'time-zone': Flags.string({ description: 'cron: the time zone the host\'s cron runs in (default: this machine\'s)' }),
    'log-file': Flags.string({ description: 'cron: append the job\'s output to this file instead of the journal' }),
  };

  async run(): Promise<ExportResult> {
    const { args, flags } = await this.parse(Export);
    const { result, tree } = await exportBundle(args.bundle, {
      format: flags.format,
      set: flags.set,
      ...(flags.output !== undefined ? { output: flags.output } : {}),
      ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}),
      ...(flags['time-zone'] !== undefined ? { timeZone: flags['time-zone'] } : {}),
      ...(flags['log-file'] !== undefined ? { logFile: flags['log-file'] } : {}),
    });
    if (result.output === undefined) this.print(exportListing(tree));
    for (const line of exportLines(result)) say(line);
    return result;
  }
}
