import { SvcctlCommand } from '../base-command.js';
import { availableBundles, type BundleListing } from '../flows/bundles.js';
import { formatTable, say } from '../views/output.js';

export default class Bundles extends SvcctlCommand {
  static override summary = 'List the bundles svcctl can install, and where each was found.';
  static override description = 'Searched in order: each directory of SVCCTL_BUNDLE_PATH (colon-separated), /etc/svcctl/bundles, then the built-in bundles. The first bundle of a name wins.';
  static override examples = ['<%= config.bin %> bundles', 'SVCCTL_BUNDLE_PATH=/srv/bundles <%= config.bin %> bundles --json'];

  async run(): Promise<{ searchPath: string[]; bundles: BundleListing[] }> {
    await this.parse(Bundles);
    const { searchPath, bundles } = await availableBundles();
    this.print(formatTable(['NAME', 'DESCRIPTION', 'SOURCE'], bundles.map((b) => [b.name, b.error ? `(invalid: ${b.error})` : b.description, b.source])));
    if (bundles.length === 0) say('no bundles found');
    return { searchPath, bundles };
  }
}
