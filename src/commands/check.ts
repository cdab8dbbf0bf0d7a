import { Args, Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { check, type CheckOutput } from '../flows/check.js';
import { EndedEarly, withExitCode } from '../core/errors.js';
import { notInstalled } from '../core/health.js';
import { renderCheck, textfileNote } from '../views/check.js';
import { say } from '../views/output.js';
import { userFlag } from '../flags.js';

export default class Check extends SvcctlCommand {
  static override summary = 'Monitoring check of a bundle with the Nagios plugin convention: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.';
  static override description = `Prints one line, "SVCCTL OK - …" with perfdata after "|", from one \`systemctl show\` call and, for a daemon with a health URL, one HTTP GET (2 s timeout).

OK: units loaded, enabled, the timer active and the last run successful and recent enough (the daemon active and its URL answering 2xx).
WARNING: never ran yet, late but within twice the max age, not enabled, starting.
CRITICAL: the last run or the daemon failed, the timer is inactive, the last success is older than twice the max age, the health URL is down.
UNKNOWN: not installed, systemd not running, or any error of the check itself (it always exits 0-3).

The max age is --max-age, else the manifest's health.maxAge, else derived from the schedule: twice an interval (at least interval + 1 min), a calendar's period plus up to an hour (25 h for a daily job).

Without root the receipt (mode 0600) cannot be read: the check then takes the units, schedule and health settings from the public index (/var/lib/svcctl/.installed.json, written with every change), or where there is none from the bundle's manifest (by name on the search path, or by path), so a schedule changed with \`svcctl schedule\` is not seen.

--textfile DIR also writes DIR/svcctl_<bundle>.prom for node_exporter's textfile collector (status, up, last run, last success, next run, last exit status, max age), atomically.`;
  static override examples = [
    '<%= config.bin %> check cleanup-blocking',
    '<%= config.bin %> check cleanup-blocking --max-age 25h',
    '<%= config.bin %> check cleanup-blocking --textfile /var/lib/prometheus/node-exporter',
    '<%= config.bin %> check cleanup-blocking --json',
  ];
  static override args = { bundle: Args.string({ description: 'installed bundle name (or bundle path)', required: true }) };
  static override flags = {
    user: userFlag,
    'max-age': Flags.string({ description: 'the last success may be at most this old (systemd time span: 30min, 25h, 2d)' }),
    textfile: Flags.string({ description: 'also write node_exporter textfile metrics into this directory' }),
  };

  async run(): Promise<CheckOutput> {
    const { args, flags } = await this.parse(Check);
    const result = await check(args.bundle, {
      ...(flags['max-age'] !== undefined ? { maxAge: flags['max-age'] } : {}),
      ...(flags.textfile !== undefined ? { textfile: flags.textfile } : {}),
      user: flags.user,
    });
    const note = textfileNote(result);
    if (note) say(note);
    this.print(renderCheck(result));
    return withExitCode(result, result.exitCode);
  }

  /** Whatever goes wrong (a usage error included), a monitoring check answers UNKNOWN and exits 3. */
  protected override async catch(error: Error): Promise<unknown> {
    const result = notInstalled(bundleArgument(this.argv) ?? '?', `check failed: ${error.message.split('\n')[0]}`);
    if (this.jsonEnabled()) this.logJson(result);
    else this.print(renderCheck(result));
    throw new EndedEarly(result.exitCode);
  }
}

/** The BUNDLE argument when parsing failed: the first word that is neither a flag nor a flag's value. */
function bundleArgument(argv: string[]): string | undefined {
  const takesValue = new Set(['--max-age', '--textfile']);
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (takesValue.has(word)) i++;
    else if (!word.startsWith('-')) return word;
  }
  return undefined;
}
