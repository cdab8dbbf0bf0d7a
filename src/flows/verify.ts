// `svcctl verify`: the checks install makes before its first change, with no root, no host state and no running
// systemd: the manifest, every setting's validation, the desired state rendered for an empty host, the units with
// svcctl's drop-ins (systemd-analyze verify) and the schedule (systemd's own parser); and each service's exposure
// score (systemd-analyze security, one process per bundle), held to --max-exposure when given. Nothing is written
// outside a scratch directory that systemd-analyze reads.
import { userInfo } from 'node:os';
import type { Bundle } from '../core/bundle/types.js';
import { desire, type SecretInput } from '../core/desired.js';
import { UserError } from '../core/errors.js';
import { systemTarget, userTarget, type Target } from '../core/target.js';
import { resolveSettings } from '../system/inputs.js';
import { findBundle } from '../system/bundles/lookup.js';
import { SystemdClient } from '../system/systemd.js';
import { svcctlVersion } from '../system/version.js';
import { exposureOf, preflightProblems, refuseScheduleWithoutTimer } from './preflight.js';
import { exposureAboveLimit, type ServiceExposure } from '../core/exposure.js';
import { declaredScheduleProblem } from '../core/schedule.js';

export interface VerifyOptions {
  set: string[];
  schedule?: string;
  /** --user: check the bundle for user scope only (by default: every scope it declares). */
  user?: boolean;
  /** A service scoring above this (systemd-analyze security, 0–10) is a problem. */
  maxExposure?: number;
}

export interface BundleVerdict {
  /** The bundle's name, or the reference given when the bundle could not be loaded. */
  bundle: string;
  directory?: string;
  ok: boolean;
  /** What is wrong, one entry per problem (manifest problems carry file:line:column and the field). */
  problems: string[];
  hint?: string;
  /** Each service's exposure score as installed, once the bundle's units could be rendered. */
  exposure?: ServiceExposure[];
}

export interface VerifyResult {
  ok: boolean;
  bundles: BundleVerdict[];
}

export async function verify(references: string[], options: VerifyOptions): Promise<VerifyResult> {
  if (references.length === 0) throw new UserError('no bundle given', 'name one or more bundles or bundle directories, e.g. svcctl verify ./my-bundle');
  const bundles: BundleVerdict[] = [];
  for (const reference of references) {
    let bundle: Bundle | undefined;
    try {
      bundle = await findBundle(reference);
      const { problems, exposure } = await verifyBundle(bundle, options);
      bundles.push({ bundle: bundle.name, directory: bundle.directory, ok: problems.length === 0, problems, ...(problems.length > 0 ? { hint: `fix them in ${bundle.directory}` } : {}), exposure });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      bundles.push({ bundle: bundle?.name ?? reference, ...(bundle ? { directory: bundle.directory } : {}), ok: false, problems: error.problems, ...(error.hint ? { hint: error.hint } : {}) });
    }
  }
  return { ok: bundles.every((b) => b.ok), bundles };
}

async function verifyBundle(bundle: Bundle, options: VerifyOptions): Promise<{ problems: string[]; exposure: ServiceExposure[] }> {
  refuseScheduleWithoutTimer(bundle, options.schedule);
  // A setting without a default cannot be rendered: verify says which value it needs rather than prompting.
  const missing = bundle.settings.filter((s) => s.default === undefined && !options.set.some((a) => a.startsWith(`${s.key}=`)));
  if (missing.length > 0) {
    throw new UserError(`settings without a default: ${missing.map((s) => s.key).join(', ')}`, `give them to verify the units rendered with them: ${missing.map((s) => `--set ${s.key}=VALUE`).join(' ')}`);
  }
  const settings = await resolveSettings(bundle, { existingSecrets: {} }, { set: options.set, secret: [] });
  // Secrets only reach the 0600 secrets file, which systemd-analyze does not read: placeholders render it.
  const secrets = Object.fromEntries(bundle.secrets.map((s): [string, SecretInput] => [s.key, { value: 'placeholder', source: 'generated' }]));
  const problems: string[] = [];
  let exposure: ServiceExposure[] = [];
  // Each scope the bundle may be installed in (or, with --user, user scope: refused, with its reasons, if undeclared).
  const targets = options.user ? [verifyUserTarget()] : (bundle.scopes ?? ['system']).map((s) => (s === 'user' ? verifyUserTarget() : systemTarget()));
  for (const [i, target] of targets.entries()) {
    const desired = desire(
      bundle,
      { settings, secrets, ...(options.schedule !== undefined ? { schedule: options.schedule } : {}), force: false, start: true, enable: true, now: new Date().toISOString(), svcctlVersion },
      target,
    );
    const systemd = new SystemdClient(target);
    // The exposure score is the first scope's (the system's, when the bundle has both).
    const [found, scored] = await Promise.all([preflightProblems(systemd, desired, target, { defaultSchedule: true }), i === 0 ? exposureOf(systemd, desired, target) : Promise.resolve([])]);
    if (i === 0) exposure = scored;
    problems.push(...found.map((p) => (targets.length > 1 ? `${target.scope} scope: ${p}` : p)));
  }
  // The manifest's default schedule is what the timer file itself does when svcctl writes no drop-in: they must agree.
  if (bundle.schedule) {
    const timer = bundle.units.find((u) => u.name === bundle.schedule!.timer);
    const mismatch = timer ? declaredScheduleProblem(timer.name, bundle.schedule.default, timer.content) : undefined;
    if (mismatch) problems.push(mismatch);
  }
  const limit = options.maxExposure;
  if (limit !== undefined) problems.push(...exposure.flatMap((e) => exposureAboveLimit(e, limit) ?? []));
  return { problems: [...new Set(problems)], exposure };
}

/**
 * The user scope verify renders for: the invoking user's home when he has one, root's when verify runs as root (a CI
 * job checking a bundle for user scope). Nothing is installed, so whose home it is matters only for the paths shown.
 */
function verifyUserTarget(): Target {
  const info = userInfo();
  return userTarget({ name: info.username, group: info.username, uid: info.uid, gid: info.gid, home: info.homedir });
}
