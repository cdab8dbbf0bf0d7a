import { Args } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { withExitCode } from '../core/errors.js';
import { doctor, type DoctorReport } from '../flows/doctor.js';
import { renderDoctor } from '../views/doctor.js';
import { userFlag } from '../flags.js';

export default class Doctor extends SvcctlCommand {
  static override summary = 'Troubleshoot installed bundles: each problem with the exact command that fixes it. Exit 0 when all is well, 1 otherwise.';
  static override description = `Runs the install guides' troubleshooting steps itself: timers enabled and active; the last run's result with the tail of its journal; units systemd must reload (NeedDaemonReload); installed files present and unchanged, payload executable; the secrets file present, parseable, 0600 root:root in a 0700 directory, with every required secret, and no secret in Environment= (readable by every user through systemctl show); the service user exists; every ExecStart= program present and executable; for daemons, the health URL's port free or held by the daemon itself, and the health URL answering (a daemon stopped with SIGSTOP is active to systemd but answers nothing); stale lock and temporary files.

Needs root: receipts, secrets files and other users' processes are visible to root only.`;
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor cleanup-blocking', '<%= config.bin %> doctor --json'];
  static override args = { bundle: Args.string({ description: 'installed bundle name (default: every installed bundle)', required: false }) };
  static override flags = { user: userFlag };

  async run(): Promise<DoctorReport> {
    const { args, flags } = await this.parse(Doctor);
    const report = await doctor(args.bundle, { user: flags.user });
    this.print(renderDoctor(report));
    return withExitCode(report, report.ok ? 0 : 1);
  }
}
