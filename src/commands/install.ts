import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { install, type InstallResult } from '../flows/install.js';
import { installLines } from '../views/install.js';
import { say } from '../views/output.js';
import { terminalUi } from '../views/progress.js';
import { userFlag } from '../flags.js';

export default class Install extends SvcctlCommand {
  static override summary = 'Install bundles as one transaction: payload, user, directories, secrets, units, one reload, one enable --now.';
  static override description = `Shows the plan (secrets masked), asks to confirm on a terminal (or takes --yes), then applies it step by step. A failing step undoes the completed ones. Installing again converges: "up to date" when nothing changed, otherwise only the changed steps.

Secrets come from --secret KEY=@FILE, --secret KEY=- (stdin), the environment variable SVCCTL_SECRET_<KEY>, the value already installed, the bundle's generator, or a masked prompt (terminal only). A value on the command line (--secret KEY=value) is refused: every local user can read argv.

--alert sends a failed run, or a daemon systemd gave up restarting, to a person (docs/alerts.md): the URL or routing key is read from its file, like a secret.`;
  static override examples = [
    '<%= config.bin %> install cleanup-blocking',
    '<%= config.bin %> install cleanup-blocking --yes --secret REDIS_PASSWORD=@/root/redis.pass --set STALE_THRESHOLD_SECONDS=1200',
    'printf %s "$PW" | <%= config.bin %> install cleanup-blocking --yes --secret REDIS_PASSWORD=-',
    '<%= config.bin %> install cleanup-blocking --yes --alert slack=@/root/slack.url --alert email=ops@example.com',
    '<%= config.bin %> install ./my-bundle --dry-run --json',
    '<%= config.bin %> install cleanup-blocking --root /srv/image --yes',
    '<%= config.bin %> install ./my-job --user',
  ];
  static override strict = false;
  static override args = { bundle: Args.string({ description: 'bundle names or paths (one transaction for all)', required: true }) };
  static override flags = {
    set: Flags.string({ description: 'a setting, KEY=VALUE (repeatable)', multiple: true, default: [] }),
    secret: Flags.string({ description: 'a secret source: KEY=@FILE or KEY=- for stdin (repeatable; never the value itself)', multiple: true, default: [] }),
    alert: Flags.string({ description: 'a failure alert: webhook=@FILE, slack=@FILE, pagerduty=@FILE (FILE holds the URL or routing key; - for stdin) or email=ADDRESS (repeatable; replaces the channels set before, which are kept when none is given)', multiple: true }),
    'alert-on-restart': Flags.boolean({ description: 'alert also when a daemon fails and systemd restarts it, not only when it gives up (--no-alert-on-restart: not). Default: as the last install chose', allowNo: true }),
    schedule: Flags.string({ description: 'replace the default schedule: an interval (15min) or a calendar expression ("*-*-* 02:00:00 Europe/Paris")' }),
    'dry-run': Flags.boolean({ description: 'print the plan and change nothing (no root needed)' }),
    yes: Flags.boolean({ char: 'y', description: 'apply without asking (required when stdin is not a terminal)' }),
    force: Flags.boolean({ description: 'replace files svcctl did not create (backed up, restored on uninstall)' }),
    start: Flags.boolean({ description: 'start the enabled units now (--no-start: only enable them)', default: true, allowNo: true }),
    enable: Flags.boolean({ description: 'enable (and start) the units the bundle lists; --no-enable installs them without enabling or starting anything (svcctl enable BUNDLE later). Default: as the last install chose', allowNo: true }),
    authorize: Flags.string({ description: 'the explicit authorization a bundle may require: who authorized it and why (recorded in the receipt, shown by status)' }),
    root: Flags.directory({ description: 'render the tree under this directory instead of the live system (no systemd needed; root, or unshare -r / fakeroot for image builds)' }),
    user: userFlag,
  };

  async run(): Promise<InstallResult> {
    const { argv, flags } = await this.parse(Install);
    const result = await install(argv as string[], {
      set: flags.set,
      secret: flags.secret,
      ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}),
      dryRun: flags['dry-run'],
      yes: flags.yes,
      force: flags.force,
      start: flags.start,
      ...(flags.enable !== undefined ? { enable: flags.enable } : {}),
      ...(flags.authorize !== undefined ? { authorize: flags.authorize } : {}),
      ...(flags.root !== undefined ? { root: flags.root } : {}),
      ...(flags.alert !== undefined ? { alert: flags.alert } : {}),
      ...(flags['alert-on-restart'] !== undefined ? { alertOnRestart: flags['alert-on-restart'] } : {}),
      user: flags.user,
    }, terminalUi);
    for (const line of installLines(result)) say(line);
    return result;
  }
}
