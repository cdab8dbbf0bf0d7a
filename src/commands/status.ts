import { Args } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { status, type StatusResult } from '../flows/status.js';
import { lingerLine, renderBundleStatus, renderOverview, restrictedNote } from '../views/status.js';
import { userFlag } from '../flags.js';
import { say } from '../views/output.js';

export default class Status extends SvcctlCommand {
  static override summary = 'Show how installed bundles are doing: units, last run and result, next run, health URL, drift, secrets set.';
  static override description = `Without BUNDLE: one line per installed bundle with a health word (ok, failed, missing, stopped, unhealthy, drifted, incomplete, retained), its last run and its next run.

With BUNDLE: when and from what it was installed; per unit its load, active and sub state and whether it is enabled; for services the last run's start, end, result and exit status; for daemons the restart policy, the restarts so far and the start limit, and whether the health URL answers (as \`svcctl check\` asks it); for timers the last trigger and next elapse (absolute in your time zone, and relative); drift (files changed or missing since install, by the receipt's checksums); the names of the secrets that are set (never their values) and the settings.

Without root it shows what every user may see: the bundles named in the public index (/var/lib/svcctl/.installed.json), their units' state, last and next runs and health URL. Drift, secrets and settings come from the receipts, which only root may read.`;
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status cleanup-blocking',
    '<%= config.bin %> status cleanup-blocking --json | jq .lastRun',
    '<%= config.bin %> status --user',
  ];
  static override args = { bundle: Args.string({ description: 'an installed bundle (default: all of them, one line each)', required: false }) };
  static override flags = { user: userFlag };

  async run(): Promise<StatusResult> {
    const { args, flags } = await this.parse(Status);
    const result = await status(args.bundle, { user: flags.user });
    if ('bundles' in result) {
      if (result.bundles.length === 0) say(`no bundles installed (install one with \`svcctl install BUNDLE\`${result.userScopeHint ? `; ${result.userScopeHint}` : ''})`);
      else this.print(renderOverview(result.bundles));
      const note = restrictedNote(result.bundles);
      if (note && !this.jsonEnabled()) say(note);
    } else {
      this.print(renderBundleStatus(result));
    }
    const linger = lingerLine(result.user);
    if (linger && !this.jsonEnabled()) say(linger);
    return result;
  }
}
