// What a rollback test compares before and after a failed transaction: every path the sandbox changed (against the
// host it was booted from) with its kind, mode, owner, group and content checksum or symlink target, the states of
// the bundle's units, and the failed units — inside the sandbox, in three commands.
import type { Sandbox } from './sandbox.js';

export interface HostState {
  /** One line per changed path: "PATH file 644 0:0 <sha256>", "PATH symlink 777 0:0 -> TARGET", "PATH absent". */
  paths: string[];
  /** `systemctl show` of the units asked about: load, enabled and active state. */
  units: string;
  /** `systemctl list-units --failed`: a rollback leaves no unit failed that was not. */
  failed: string;
}

const describePaths = [
  'while IFS= read -r p; do',
  '  if [ -L "$p" ]; then echo "$p symlink $(stat -c "%a %u:%g" -- "$p") -> $(readlink -- "$p")";',
  '  elif [ -d "$p" ]; then echo "$p directory $(stat -c "%a %u:%g" -- "$p")";',
  '  elif [ -f "$p" ]; then echo "$p file $(stat -c "%a %u:%g" -- "$p") $(sha256sum < "$p" | cut -c1-64)";',
  '  elif [ -e "$p" ]; then echo "$p other $(stat -c "%F %a %u:%g" -- "$p")";',
  '  else echo "$p absent"; fi',
  'done',
].join('\n');

export async function hostState(sandbox: Sandbox, units: string[]): Promise<HostState> {
  const changes = await sandbox.changes();
  const described = await sandbox.run(['sh', '-c', describePaths], { input: changes.map((c) => `${c.path}\n`).join('') });
  const show = await sandbox.run(['systemctl', 'show', '--property=Id,LoadState,UnitFileState,ActiveState', '--', ...units]);
  const failed = await sandbox.run(['systemctl', 'list-units', '--failed', '--all', '--no-legend', '--plain']);
  return { paths: described.stdout.split('\n').filter(Boolean), units: show.stdout.trim(), failed: failed.stdout.trim() };
}
