import { Flags } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { whenStdoutCloses } from '../flows/status.js';
import { renderTimers, timers, type TimersResult } from '../flows/timers.js';
import { say, style } from '../views/output.js';

export default class ListTimers extends SvcctlCommand {
  static override summary = 'List timers like `systemctl list-timers`, with the last result of the service each one activates.';
  static override description = `Columns: NEXT, LEFT, LAST, PASSED, UNIT, ACTIVATES, RESULT (the activated service's last run: success, exit N, a signal, running, never run). Times are in your time zone.

By default it lists the timers of installed bundles (stopped ones included), which needs root to read the receipts; --all lists every timer systemd knows and needs no root. Two systemd calls however many timers.`;
  static override examples = ['<%= config.bin %> list-timers', '<%= config.bin %> list-timers --all', '<%= config.bin %> list-timers --json | jq -r \'.timers[] | select(.lastRun.state == "failed") | .unit\''];
  static override flags = {
    all: Flags.boolean({ char: 'a', description: 'every timer on the host, not only those of installed bundles', default: false }),
  };

  async run(): Promise<TimersResult> {
    const { flags } = await this.parse(ListTimers);
    whenStdoutCloses();
    const result = await timers({ all: flags.all });
    if (result.timers.length > 0) this.print(renderTimers(result));
    for (const unit of result.missing) say(`${style.yellow('!')} ${unit} is listed in a receipt but systemd does not know it (see svcctl status)`);
    say(style.dim(`${result.timers.length} timer${result.timers.length === 1 ? '' : 's'} listed.${flags.all ? '' : ' Pass --all to see every timer.'}`));
    return result;
  }
}
