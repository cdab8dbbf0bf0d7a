import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { withExitCode } from '../core/errors.js';
import { runBundle, type RunResult } from '../flows/run.js';
import { say } from '../views/output.js';
import { renderRunOutcome, runOutputWriter } from '../views/run.js';
import { userFlag } from '../flags.js';

export default class Run extends SvcctlCommand {
  static override summary = "Start a bundle's service now, stream this run's output, and exit with the service's exit status.";
  static override description = `The manual trigger of the install guides ("sudo systemctl start X.service"), done right: only the output of this run is shown (selected by its invocation id, not by time), and svcctl exits with the service's own exit status (128+N when a signal killed it, 1 for other failures such as a timeout).

A oneshot already running (say, fired by its timer) is joined rather than queued. A daemon is started, or restarted when it runs, and its first lines are shown for up to two seconds; svcctl exits 0 once it is up, or with its status when it failed.

A job may exit with any status, 2 and 77 included, which svcctl itself uses for invalid usage and missing root. svcctl's own errors happen before the service starts and are printed as "✖ …" lines; with --json the document holds either \`run\` (the job ran: its status is run.exitStatus) or \`error\` (svcctl refused or failed: error.exitCode), never both, so a script tells them apart by which key is there.

--no-follow shows no output and only waits for the result. --json collects the lines into the document. Ctrl-C stops following and leaves the service running (exit 130). Needs root.`;
  static override examples = [
    '<%= config.bin %> run cleanup-blocking',
    '<%= config.bin %> run cleanup-blocking --no-follow && echo ok',
    '<%= config.bin %> run cleanup-blocking --json | jq .run.exitStatus',
  ];
  static override args = { bundle: Args.string({ description: 'an installed bundle', required: true }) };
  static override flags = {
    user: userFlag,
    follow: Flags.boolean({ description: "stream the run's output (--no-follow: only wait for its result)", default: true, allowNo: true }),
  };

  async run(): Promise<RunResult & { output?: string[] }> {
    const { args, flags } = await this.parse(Run);
    const json = this.jsonEnabled();
    const output: string[] = [];
    const result = await runBundle(args.bundle, { follow: flags.follow, emit: runOutputWriter(json ? output : undefined), user: flags.user });
    say(renderRunOutcome(result));
    return withExitCode(json && flags.follow ? { ...result, output } : result, result.exitCode);
  }
}
