import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { schedule, type ScheduleResult } from '../flows/schedule.js';
import { describeElapses, scheduleMessages } from '../views/schedule.js';
import { say } from '../views/output.js';
import { terminalUi } from '../views/progress.js';
import { userFlag } from '../flags.js';

export default class Schedule extends SvcctlCommand {
  static override summary = "Change when a bundle's timer runs: a calendar expression (time zone included) or an interval; --reset returns to the bundle's default.";
  static override description = `The expression is validated with systemd's own parser (systemd-analyze) before anything changes. svcctl then writes a drop-in for the timer (/etc/systemd/system/<timer>.d/schedule.conf, recorded in the receipt so uninstall removes it and install keeps it), reloads systemd once, restarts the timer, checks that systemd reads the new trigger, and prints the next three elapses. A failure puts the previous schedule back.

Calendar expressions follow systemd.time(7) and may name a time zone, so "02:00 New York time" needs no change of the server's clock: "*-*-* 02:00:00 America/New_York". Intervals are a time span, optionally after "every": 15min, "every 15min", "1h 30min" (the timer fires that long after it starts, then that long after each run starts).`;
  static override examples = [
    '<%= config.bin %> schedule plms-invariants "*-*-* 02:00:00 America/New_York"',
    '<%= config.bin %> schedule cleanup-blocking "every 10min"',
    '<%= config.bin %> schedule cleanup-blocking "Mon..Fri 09:00" --dry-run',
    '<%= config.bin %> schedule vx11-autosync 10min --randomized-delay 1min',
    '<%= config.bin %> schedule cleanup-blocking --reset',
  ];
  static override args = {
    bundle: Args.string({ description: 'installed bundle name (or bundle path)', required: true }),
    expression: Args.string({ description: 'calendar expression or interval (the words after BUNDLE are joined: quoting is optional)', required: false }),
  };
  static override strict = false;
  static override flags = {
    user: userFlag,
    'randomized-delay': Flags.string({ description: "spread each run over up to SPAN after its time (the timer's RandomizedDelaySec=; systemd only delays, never runs early); 0 for none. Kept until changed or --reset", helpValue: 'SPAN' }),
    reset: Flags.boolean({ description: "return to the bundle's default schedule and delay (removes the drop-in)", default: false }),
    'dry-run': Flags.boolean({ description: 'validate and show what would change; change nothing', default: false }),
  };

  async run(): Promise<ScheduleResult> {
    const { args, argv, flags } = await this.parse(Schedule);
    const words = (argv as string[]).slice(1);
    const result = await schedule(args.bundle, {
      ...(words.length > 0 ? { expression: words.join(' ') } : {}),
      ...(flags['randomized-delay'] !== undefined ? { randomizedDelay: flags['randomized-delay'] } : {}),
      reset: flags.reset,
      dryRun: flags['dry-run'],
      user: flags.user,
    }, terminalUi);
    for (const line of scheduleMessages(result)) say(line);
    this.print(describeElapses(result).join('\n'));
    return result;
  }
}
