// `svcctl verify`: the checks install makes before its first change, with no root, no host state and no
// running systemd: the manifest, every setting's validation, the rendered units and drop-ins
// (systemd-analyze verify) and the schedule (systemd's own parser). Nothing is written outside a scratch
// directory that systemd-analyze reads.
import { findBundle } from '../system/bundles/lookup.js';
import { BundleManifestError, formatProblem } from '../core/bundle/manifest.js';
import type { Bundle } from '../core/bundle/types.js';
import { UserError } from '../core/errors.js';
import { planInstall } from '../core/plan.js';
import type { Observed, SecretInput } from '../core/types.js';
import { resolveSettings } from '../system/inputs.js';
import { svcctlVersion } from '../version.js';
import { preflight, refuseScheduleWithoutTimer } from './preflight.js';
import { SystemdClient } from '../system/systemd.js';
import { systemTarget } from '../core/target.js';

export interface VerifyOptions {
  set: string[];
  schedule?: string;
}

export interface BundleVerdict {
  /** The bundle's name, or the reference given when the bundle could not be loaded. */
  bundle: string;
  directory?: string;
  ok: boolean;
  /** What is wrong, one entry per problem (manifest problems carry file:line:column and the field). */
  problems: string[];
  hint?: string;
}

export interface VerifyResult {
  ok: boolean;
  bundles: BundleVerdict[];
}

/** A host with nothing on it: every file and directory is to be created, as on a fresh install. */
const freshHost: Observed = { paths: {}, users: [], groups: [], existingSecrets: {}, units: {} };

export async function verify(references: string[], options: VerifyOptions): Promise<VerifyResult> {
  if (references.length === 0) throw new UserError('no bundle given', 'name one or more bundles or bundle directories, e.g. svcctl verify ./my-bundle');
  const bundles: BundleVerdict[] = [];
  for (const reference of references) {
    let bundle: Bundle | undefined;
    try {
      bundle = await findBundle(reference);
      await verifyBundle(bundle, options);
      bundles.push({ bundle: bundle.name, directory: bundle.directory, ok: true, problems: [] });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      const problems = error instanceof BundleManifestError ? error.problems.map(formatProblem) : error.message.split('\n').map((line) => line.trim()).filter(Boolean);
      bundles.push({ bundle: bundle?.name ?? reference, ...(bundle ? { directory: bundle.directory } : {}), ok: false, problems, ...(error.hint ? { hint: error.hint } : {}) });
    }
  }
  return { ok: bundles.every((b) => b.ok), bundles };
}

async function verifyBundle(bundle: Bundle, options: VerifyOptions): Promise<void> {
  refuseScheduleWithoutTimer(bundle, options.schedule);
  // A setting without a default cannot be rendered: verify says which value it needs rather than prompting.
  const missing = bundle.settings.filter((s) => s.default === undefined && !options.set.some((a) => a.startsWith(`${s.key}=`)));
  if (missing.length > 0) {
    throw new UserError(`settings without a default: ${missing.map((s) => s.key).join(', ')}`, `give them to verify the units rendered with them: ${missing.map((s) => `--set ${s.key}=VALUE`).join(' ')}`);
  }
  const settings = await resolveSettings(bundle, freshHost, { set: options.set, secret: [] });
  // Secrets only reach the 0600 secrets file, which systemd-analyze does not read: placeholders render it.
  const secrets = Object.fromEntries(bundle.secrets.map((s): [string, SecretInput] => [s.key, { value: 'placeholder', source: 'generated' }]));
  const inputs = {
    settings,
    secrets,
    ...(options.schedule !== undefined ? { schedule: options.schedule } : {}),
    force: false,
    start: true,
    offline: false,
    now: new Date().toISOString(),
    svcctlVersion,
  };
  await preflight(new SystemdClient(systemTarget()), bundle, planInstall(bundle, freshHost, inputs), options.schedule ?? bundle.schedule?.default);
}
