import { Args } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { renderBundleStatus, renderOverview, status, whenStdoutCloses, type StatusResult } from '../flows/status.js';
import { say } from '../views/output.js';

export default class Status extends SvcctlCommand {
  static override summary = 'Show how installed bundles are doing: units, last run and result, next run, drift, secrets set.';
  static override description = `Without BUNDLE: one line per installed bundle with a health word (ok, failed, missing, stopped, drifted, incomplete, retained), its last run and its next run.

With BUNDLE: when and from what it was installed; per unit its load, active and sub state and whether it is enabled; for services the last run's start, end, result and exit status; for timers the last trigger and next elapse (absolute in your time zone, and relative); drift (files changed or missing since install, by the receipt's checksums); the names of the secrets that are set (never their values) and the settings.

Needs root: the receipts in /var/lib/svcctl are readable by root only (exit 77 otherwise). \`svcctl list-timers --all\` works without root.`;
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status cleanup-blocking',
    '<%= config.bin %> status cleanup-blocking --json | jq .lastRun',
  ];
  static override args = { bundle: Args.string({ description: 'an installed bundle (default: all of them, one line each)', required: false }) };

  async run(): Promise<StatusResult> {
    const { args } = await this.parse(Status);
    whenStdoutCloses();
    const result = await status(args.bundle);
    if ('bundles' in result) {
      if (result.bundles.length === 0) say('no bundles installed (install one with `svcctl install BUNDLE`)');
      else this.print(renderOverview(result.bundles));
    } else {
      this.print(renderBundleStatus(result));
    }
    return result;
  }
}
