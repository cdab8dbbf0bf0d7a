// observe(): read-only probes of the host that plan() needs (paths, users, existing secrets, unit states).
import type { Bundle } from '../core/bundle/types.js';
import { installTargets } from '../core/plan.js';
import { parseEnvFile } from '../core/render.js';
import { paths, type Observed, type Receipt, type UnitState } from '../core/types.js';
import { inspectPath, readTextIfExists } from './fs.js';
import { onHost, type Target } from '../core/target.js';
import { readReceipt } from './receipts.js';
import { readAccounts } from './accounts.js';
import { SystemdClient } from './systemd.js';

/** The files, users and secrets an install plans from; unit states come from observeUnitStates(). */
export async function observeInstall(host: Target, bundle: Bundle): Promise<Observed> {
  const receipt = await readReceipt(host, bundle.name);
  const targets = new Set(installTargets(bundle));
  for (const artifact of receipt?.artifacts ?? []) targets.add(artifact.path);
  for (const dir of receipt?.directories ?? []) targets.add(dir.path);
  return observe(host, [...targets], [], bundle.secrets.length > 0 ? bundle.name : undefined, receipt);
}

/** Whether each unit is enabled and active, in one `systemctl show` call (none with --root). */
export async function observeUnitStates(host: Target, units: string[]): Promise<Record<string, UnitState>> {
  if (host.offline || units.length === 0) return {};
  const states = await new SystemdClient(host).show(units, ['ActiveState', 'UnitFileState'] as const);
  return Object.fromEntries(Object.entries(states).map(([unit, props]) => [unit, { activeState: props.ActiveState ?? '', unitFileState: props.UnitFileState ?? '' }]));
}

export async function observeUninstall(host: Target, receipt: Receipt): Promise<Observed> {
  const targets = [...receipt.artifacts.map((a) => a.path), ...receipt.directories.map((d) => d.path)];
  // planUninstall stops and disables whatever the state: unit states are not asked for (one process less).
  return observe(host, targets, [], undefined, receipt);
}

async function observe(host: Target, targets: string[], units: string[], secretsOf: string | undefined, receipt: Receipt | undefined): Promise<Observed> {
  const entries = await Promise.all(targets.map(async (t) => [t, (await inspectPath(onHost(host, t))) ?? null] as const));
  const [accounts, secretsText, unitsOut] = await Promise.all([
    readAccounts(host),
    secretsOf ? readTextIfExists(onHost(host, paths.secretsFile(secretsOf))) : Promise.resolve(undefined),
    observeUnitStates(host, units),
  ]);
  return {
    ...(receipt ? { receipt } : {}),
    paths: Object.fromEntries(entries),
    users: [...accounts.users.keys()],
    groups: [...accounts.groups.keys()],
    existingSecrets: secretsText ? Object.fromEntries(parseEnvFile(secretsText)) : {},
    units: unitsOut,
  };
}
