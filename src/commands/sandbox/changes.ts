import { SvcctlCommand } from '../../base-command.js';
import { sandboxChanges, type SandboxChange } from '../../flows/sandbox.js';
import { say } from '../../views/output.js';
import { nameFlag } from '../../flags.js';

export default class SandboxChanges extends SvcctlCommand {
  static override summary = 'List the files a sandbox created, changed or deleted relative to the host.';
  static override description =
    'Boot noise (journal, /var/lib/systemd, /etc/mtab, passwd/group backups and locks) is left out, and copied-up files whose content and mode equal the host\'s are not counted. An empty list after `uninstall --purge` proves nothing was left behind.';
  static override examples = ['<%= config.bin %> sandbox changes', '<%= config.bin %> sandbox changes --json'];
  static override flags = { name: nameFlag };

  async run(): Promise<{ changes: SandboxChange[] }> {
    const { flags } = await this.parse(SandboxChanges);
    const changes = await sandboxChanges(flags.name);
    const mark = { created: '+', modified: '~', deleted: '-' } as const;
    for (const change of changes) this.print(`${mark[change.change]} ${change.path}${change.kind === 'directory' ? '/' : ''}`);
    if (changes.length === 0) say('no changes');
    return { changes };
  }
}
