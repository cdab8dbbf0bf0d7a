import { Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { timers, type TimersResult } from '../flows/timers.js';
import { renderTimers, timersFooter } from '../views/timers.js';
import { say } from '../views/output.js';
import { userFlag } from '../flags.js';

export default class ListTimers extends SvcctlCommand {
  static override summary = 'List timers like `systemctl list-timers`, with the last result of the service each one activates.';
  static override description = `Columns: NEXT, LEFT, LAST, PASSED, UNIT, ACTIVATES, RESULT (the activated service's last run — its own, a manual \`svcctl run\` included: success, exit N, a signal, running, never run). Times are in your time zone.

By default it lists the timers of installed bundles (stopped ones included); without root it finds them in the public index (/var/lib/svcctl/.installed.json). --all lists every timer systemd knows. Three systemd calls however many timers.`;
  static override examples = ['<%= config.bin %> list-timers', '<%= config.bin %> list-timers --all', '<%= config.bin %> list-timers --json | jq -r \'.timers[] | select(.lastRun.state == "failed") | .unit\''];
  static override flags = {
    user: userFlag,
    all: Flags.boolean({ char: 'a', description: 'every timer on the host, not only those of installed bundles', default: false }),
  };

  async run(): Promise<TimersResult> {
    const { flags } = await this.parse(ListTimers);
    const result = await timers({ all: flags.all, user: flags.user });
    if (result.timers.length > 0) this.print(renderTimers(result));
    for (const line of timersFooter(result)) say(line);
    return result;
  }
}
