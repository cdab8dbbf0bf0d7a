// Why a bundle cannot be installed under a user's own systemd manager: a system user, a path outside the home, an
// owner other than the user, or a directive a user manager cannot honour. Pure: the manifest and the unit files' text.
import { HOME_PREFIX, type Scope } from '../target.js';
import type { Bundle } from './types.js';
import { unitFileEntries } from '../unit-file.js';

/** A field's location inside the manifest, e.g. ['payload', 0, 'destination'] (as manifest.ts's FieldPath). */
type FieldPath = ReadonlyArray<string | number>;

/** The parts of a manifest (as written: owners only when given) that decide whether a user manager can install it. */
export interface ScopeManifest {
  scopes?: Scope[];
  units: string[];
  user?: { name: string };
  payload?: { destination: string; owner?: string; group?: string }[];
  directories?: { path: string; owner?: string; group?: string }[];
  configFiles?: { path: string; owner?: string; group?: string }[];
  settings?: { directive?: string; default?: string | number | boolean }[];
  directives?: { directive: string; value: string }[];
}

/** The scopes a manifest declares (default: the system manager only). */
export function declaredScopes(m: Pick<ScopeManifest, 'scopes'>): Scope[] {
  return m.scopes && m.scopes.length > 0 ? [...m.scopes] : ['system'];
}

export interface ScopeProblem {
  at: FieldPath;
  message: string;
  hint?: string;
}

const truthy = (value: string) => /^(1|yes|y|true|t|on)$/i.test(value.trim());
const nonEmpty = (value: string) => value.trim() !== '';

/**
 * Directives a user manager cannot honour: the service fails to start (systemd 252 reports 216/GROUP, 217/USER,
 * 218/CAPABILITIES, 210/CHROOT, 225/NETWORK, 211/IOPRIO or 214/SETSCHEDULER), each found by starting a unit with it
 * under a real user manager. Hardening that works through user namespaces (ProtectSystem=, PrivateTmp=, …) is not here.
 */
const privilegedDirectives: { directive: string; applies: (value: string) => boolean; why: string }[] = [
  { directive: 'User', applies: () => true, why: 'a user manager runs every service as its own user and cannot switch to another' },
  { directive: 'Group', applies: nonEmpty, why: 'a user manager cannot change the group a service runs as' },
  { directive: 'SupplementaryGroups', applies: nonEmpty, why: 'a user manager cannot add groups' },
  { directive: 'DynamicUser', applies: truthy, why: 'a user manager cannot allocate a user' },
  { directive: 'CapabilityBoundingSet', applies: (v) => v.trim() !== '~', why: 'changing the capability bounding set needs capabilities a user manager does not have' },
  { directive: 'AmbientCapabilities', applies: nonEmpty, why: 'a user manager has no capabilities to grant' },
  { directive: 'SecureBits', applies: nonEmpty, why: 'setting secure bits needs capabilities a user manager does not have' },
  { directive: 'PrivateDevices', applies: truthy, why: 'it drops capabilities, which a user manager cannot do' },
  { directive: 'ProtectKernelModules', applies: truthy, why: 'it drops capabilities, which a user manager cannot do' },
  { directive: 'ProtectKernelLogs', applies: truthy, why: 'it drops capabilities, which a user manager cannot do' },
  { directive: 'ProtectClock', applies: truthy, why: 'it drops capabilities, which a user manager cannot do' },
  { directive: 'RootDirectory', applies: nonEmpty, why: 'changing the root directory needs root' },
  { directive: 'RootImage', applies: nonEmpty, why: 'mounting a root image needs root' },
  { directive: 'NetworkNamespacePath', applies: nonEmpty, why: 'joining a network namespace needs root' },
  { directive: 'CPUSchedulingPolicy', applies: (v) => /^(fifo|rr)$/i.test(v.trim()), why: 'real-time scheduling needs privileges a user manager does not have' },
  { directive: 'IOSchedulingClass', applies: (v) => /^(realtime|1)$/i.test(v.trim()), why: 'real-time I/O scheduling needs privileges a user manager does not have' },
];

/** Targets of the system manager that a user manager does not have: a unit wanted by one would never start. */
const systemOnlyTargets = new Set(['multi-user.target', 'graphical.target', 'sysinit.target', 'rescue.target', 'emergency.target', 'local-fs.target', 'remote-fs.target', 'network.target', 'network-online.target', 'getty.target']);

/** Sections whose directives set up the process a unit runs. */
const execSections = new Set(['Service', 'Socket', 'Mount', 'Swap']);

/** What a directive means for a user manager: why it cannot honour it, or undefined when it can. */
function directiveProblem(section: string, key: string, value: string): { why: string; hint?: string } | undefined {
  if (execSections.has(section)) {
    const rule = privilegedDirectives.find((d) => d.directive === key);
    if (rule && rule.applies(value)) return { why: rule.why };
  }
  if (section === 'Install' && ['WantedBy', 'RequiredBy', 'UpheldBy'].includes(key)) {
    const missing = value.split(/\s+/).filter((t) => systemOnlyTargets.has(t));
    if (missing.length > 0) return { why: `a user manager has no ${missing.join(' or ')}, so the unit would never be started`, hint: 'use WantedBy=default.target (a timer: timers.target)' };
  }
  return undefined;
}

/** The same facts of a loaded bundle (owners as defaulted: only what the manifest said is checked there). */
export function scopeManifestOf(bundle: Bundle): ScopeManifest {
  const dropIn = (section: string, directive: string) => (section === 'Service' ? directive : `${section}.${directive}`);
  return {
    ...(bundle.scopes ? { scopes: bundle.scopes } : {}),
    units: bundle.units.map((u) => u.name),
    ...(bundle.user ? { user: { name: bundle.user.name } } : {}),
    payload: bundle.payload.map((p) => ({ destination: p.destination })),
    directories: bundle.directories.map((d) => ({ path: d.path })),
    configFiles: bundle.configFiles.map((f) => ({ path: f.path })),
    settings: bundle.settings.map((s) => (s.target.kind === 'directive' ? { directive: dropIn(s.target.section, s.target.directive), ...(s.default !== undefined ? { default: s.default } : {}) } : {})),
    directives: bundle.directives.map((d) => ({ directive: dropIn(d.section, d.directive), value: d.value })),
  };
}

/** Every reason `m` (with its unit files' text) cannot be installed in user scope; empty when it can. */
export function userScopeProblems(m: ScopeManifest, units: ReadonlyMap<string, string>): ScopeProblem[] {
  const problems: ScopeProblem[] = [];
  if (m.user) problems.push({ at: ['user'], message: `declares the system user ${m.user.name}, which a user manager can neither create nor run services as`, hint: 'leave user out: in user scope the services run as the user who installs the bundle' });
  const outside = (at: FieldPath, p: string) => {
    if (!p.startsWith(HOME_PREFIX)) problems.push({ at, message: `"${p}" is outside the home: in user scope a bundle installs only inside the home of the user who installs it`, hint: `write it relative to the home, e.g. ~/.local/bin/${p.split('/').pop() ?? 'NAME'}` });
  };
  const owned = (at: FieldPath, entry: { owner?: string; group?: string }) => {
    for (const field of ['owner', 'group'] as const) {
      if (entry[field] !== undefined) problems.push({ at: [...at, field], message: 'in user scope everything belongs to the user who installs the bundle', hint: `leave ${field} out` });
    }
  };
  (m.payload ?? []).forEach((f, i) => {
    outside(['payload', i, 'destination'], f.destination);
    owned(['payload', i], f);
  });
  (m.directories ?? []).forEach((d, i) => {
    outside(['directories', i, 'path'], d.path);
    owned(['directories', i], d);
  });
  (m.configFiles ?? []).forEach((f, i) => {
    outside(['configFiles', i, 'path'], f.path);
    owned(['configFiles', i], f);
  });
  // svcctl's own drop-ins: a setting or template that sets a directive the user manager cannot honour.
  const inDropIn = (at: FieldPath, directive: string, value: string) => {
    const dot = directive.indexOf('.');
    const [section, key] = dot < 0 ? ['Service', directive] : [directive.slice(0, dot), directive.slice(dot + 1)];
    const problem = directiveProblem(section, key, value || 'x');
    if (problem) problems.push({ at, message: `${key}=: ${problem.why}`, ...(problem.hint ? { hint: problem.hint } : {}) });
  };
  (m.settings ?? []).forEach((s, i) => {
    if (s.directive !== undefined) inDropIn(['settings', i, 'directive'], s.directive, s.default === undefined ? 'x' : String(s.default));
  });
  (m.directives ?? []).forEach((d, i) => inDropIn(['directives', i, 'directive'], d.directive, d.value));
  m.units.forEach((unit, i) => {
    const text = units.get(unit);
    if (text === undefined) return;
    for (const d of unitFileEntries(text)) {
      const problem = directiveProblem(d.section, d.key, d.value);
      if (problem) problems.push({ at: ['units', i], message: `${unit}:${d.line}: ${d.key}=${d.value}: ${problem.why}`, hint: problem.hint ?? `remove ${d.key}= from ${unit}, or install the bundle in system scope` });
    }
  });
  return problems;
}
