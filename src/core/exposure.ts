// The exposure score of services (systemd-analyze security): reads `--offline=yes --json=short` output, scores each
// service as systemd scores the installed unit, and names the directives that would lower the score most. Pure.
//
// systemd 252's JSON has no overall score, and each item's "exposure" is rounded up on its own (their sum overshoots
// by several points), so svcctl runs it with SYSTEMD_ANALYZE_DEBUG=1, which adds each item's weight, badness and range:
// the score is then computed exactly as analyze-security.c does. One difference between --offline=yes and the
// installed unit is corrected (see asInstalled): without it, cleanup-blocking's service scores 1.8 offline, 1.6 installed.

export type ExposureLevel = 'PERFECT' | 'SAFE' | 'OK' | 'MEDIUM' | 'EXPOSED' | 'UNSAFE' | 'DANGEROUS';

/** One check of systemd-analyze security, as installed. */
export interface ExposureItem {
  /** systemd's name of the check, e.g. "ProtectHome=" or "CapabilityBoundingSet=~CAP_SYS_ADMIN". */
  name: string;
  /** systemd's json_field, e.g. "ProtectHome". */
  field: string;
  description: string;
  /** What this check adds to the score, as systemd prints it (0 when it passes); null when it does not apply. */
  exposure: number | null;
}

/** A line to add to the unit (or a drop-in) and how much lower the score would be with it. */
export interface ExposureSuggestion {
  directive: string;
  lowersBy: number;
  /** The checks it passes. */
  checks: string[];
}

export type ServiceExposure =
  | { service: string; score: number; level: ExposureLevel; suggestions: ExposureSuggestion[]; items: ExposureItem[] }
  | { service: string; score: null; reason: string };

/** One check as systemd-analyze prints it with SYSTEMD_ANALYZE_DEBUG=1. */
export interface AssessedCheck {
  name: string;
  field: string;
  description: string;
  weight: number;
  /** 0 (passes) to range (fails); undefined when the check does not apply (systemd prints UINT64_MAX). */
  badness: number | undefined;
  range: number;
}

/** How many suggestions a score comes with: the few that matter. */
export const suggestionCount = 3;

const levels: [number, ExposureLevel][] = [
  [100, 'DANGEROUS'],
  [90, 'UNSAFE'],
  [75, 'EXPOSED'],
  [50, 'MEDIUM'],
  [10, 'OK'],
  [1, 'SAFE'],
  [0, 'PERFECT'],
];

/** systemd's word for a score (in tenths, as analyze-security.c compares them). */
export function exposureLevel(tenths: number): ExposureLevel {
  return (levels.find(([from]) => tenths >= from) ?? levels[levels.length - 1]!)[1];
}

const applies = (item: AssessedCheck): item is AssessedCheck & { badness: number } => item.badness !== undefined;

/** The overall exposure in tenths (0–100): DIV_ROUND_UP(Σ DIV_ROUND_UP(badness·weight, range) · 100, Σ weight). */
export function scoreTenths(items: readonly AssessedCheck[]): number | undefined {
  let badness = 0;
  let weight = 0;
  for (const item of items.filter(applies)) {
    badness += Math.ceil((item.badness * item.weight) / item.range);
    weight += item.weight;
  }
  return weight > 0 ? Math.ceil((badness * 100) / weight) : undefined;
}

// Checks whose setting implies a private mount namespace. systemd's own analysis of an installed unit (over D-Bus)
// counts PrivateMounts= as set when one of them is (analyze-security.c, acquire_security_info); the --offline=yes
// path reads the literal setting only (systemd 252). RootImage= implies it too, but its check is shared with
// RootDirectory= (which does not), so a unit whose only such setting is RootImage= scores about 0.2 above its installed score.
const impliesPrivateMounts = ['PrivateDevices', 'PrivateTmp', 'ProtectControlGroups', 'ProtectKernelTunables', 'ProtectKernelModules'];
// ProtectHome= and ProtectSystem= imply it unless they are "no", which is the only value that fails their check entirely.
const impliesUnlessNo = ['ProtectHome', 'ProtectSystem'];

/** The items as `systemd-analyze security UNIT` finds them once the unit is installed. */
function asInstalled(items: readonly AssessedCheck[]): AssessedCheck[] {
  const badness = (field: string) => items.find((i) => i.field === field && applies(i))?.badness;
  const implied =
    impliesPrivateMounts.some((f) => badness(f) === 0) ||
    impliesUnlessNo.some((f) => {
      const b = badness(f);
      return b !== undefined && b < items.find((i) => i.field === f)!.range;
    });
  return implied ? items.map((i) => (i.field === 'PrivateMounts' && applies(i) ? { ...i, badness: 0 } : i)) : [...items];
}

/** What an operator adds to pass a check: `Directive=value`, or an entry of a `Directive=~…` deny list. */
interface Fix {
  directive: string;
  value: string;
  deny?: boolean;
  /** Only a check that fails entirely is passed by this line (DeviceAllow= partly fails from ProtectClock='s rtc rule). */
  onlyWhenUnset?: boolean;
}

const set = (directive: string, value = 'yes'): Fix => ({ directive, value });
const deny = (directive: string, value: string): Fix => ({ directive, value, deny: true });

const fixes: Record<string, Fix> = {
  UserOrDynamicUser: set('DynamicUser'),
  SupplementaryGroups: set('SupplementaryGroups', ''),
  RemoveIPC: set('RemoveIPC'),
  NoNewPrivileges: set('NoNewPrivileges'),
  AmbientCapabilities: set('AmbientCapabilities', ''),
  PrivateDevices: set('PrivateDevices'),
  PrivateMounts: set('PrivateMounts'),
  PrivateNetwork: set('PrivateNetwork'),
  PrivateTmp: set('PrivateTmp'),
  PrivateUsers: set('PrivateUsers'),
  ProtectClock: set('ProtectClock'),
  ProtectControlGroups: set('ProtectControlGroups'),
  ProtectHome: set('ProtectHome'),
  ProtectHostname: set('ProtectHostname'),
  ProtectKernelLogs: set('ProtectKernelLogs'),
  ProtectKernelModules: set('ProtectKernelModules'),
  ProtectKernelTunables: set('ProtectKernelTunables'),
  ProtectProc: set('ProtectProc', 'invisible'),
  ProcSubset: set('ProcSubset', 'pid'),
  ProtectSystem: set('ProtectSystem', 'strict'),
  LockPersonality: set('LockPersonality'),
  MemoryDenyWriteExecute: set('MemoryDenyWriteExecute'),
  RestrictRealtime: set('RestrictRealtime'),
  RestrictSUIDSGID: set('RestrictSUIDSGID'),
  SystemCallArchitectures: set('SystemCallArchitectures', 'native'),
  KeyringMode: set('KeyringMode', 'private'),
  Delegate: set('Delegate', 'no'),
  NotifyAccess: set('NotifyAccess', 'main'),
  UMask: set('UMask', '0077'),
  IPAddressDeny: set('IPAddressDeny', 'any'),
  DeviceAllow: { ...set('DevicePolicy', 'closed'), onlyWhenUnset: true },
  // An allow list of the usual families passes the exotic ones; Internet and local sockets are each a deny entry.
  RestrictAddressFamilies_AF_PACKET: set('RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'),
  RestrictAddressFamilies_AF_NETLINK: set('RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'),
  RestrictAddressFamilies_OTHER: set('RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'),
  RestrictAddressFamilies_AF_INET_INET6: deny('RestrictAddressFamilies', 'AF_INET AF_INET6'),
  RestrictAddressFamilies_AF_UNIX: deny('RestrictAddressFamilies', 'AF_UNIX'),
};

// The capability checks that cover several capabilities (systemd names them with a pattern, e.g. CAP_(DAC_*|FOWNER|IPC_OWNER)).
const capabilityGroups: Record<string, string> = {
  CAP_DAC_FOWNER_IPC_OWNER: 'CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_IPC_OWNER',
  CAP_CHOWN_FSETID_SETFCAP: 'CAP_CHOWN CAP_FSETID CAP_SETFCAP',
  CAP_SET_UID_GID_PCAP: 'CAP_SETUID CAP_SETGID CAP_SETPCAP',
  CAP_MAC: 'CAP_MAC_ADMIN CAP_MAC_OVERRIDE',
  CAP_SYS_NICE_RESOURCE: 'CAP_SYS_NICE CAP_SYS_RESOURCE',
  // systemd 252's json_field carries the stray parenthesis.
  'CAP_NET_BIND_SERVICE_BROADCAST_RAW)': 'CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_RAW',
  CAP_AUDIT: 'CAP_AUDIT_CONTROL CAP_AUDIT_READ CAP_AUDIT_WRITE',
};

// A deny list this long reads better as the one line that closes the whole directive (for address families: the
// Internet and local sockets both, which leaves none).
const wholeDirective: Record<string, { line: string; from: number }> = {
  CapabilityBoundingSet: { line: 'CapabilityBoundingSet=', from: 4 },
  RestrictNamespaces: { line: 'RestrictNamespaces=yes', from: 4 },
  RestrictAddressFamilies: { line: 'RestrictAddressFamilies=none', from: 3 },
};

function fixFor(item: AssessedCheck): Fix | undefined {
  const known = fixes[item.field];
  if (known) return known.onlyWhenUnset && item.badness !== item.range ? undefined : known;
  const prefixed = /^(CapabilityBoundingSet|RestrictNamespaces|SystemCallFilter)_(.+)$/.exec(item.field);
  if (!prefixed) return undefined;
  const [, directive, rest] = prefixed as unknown as [string, string, string];
  if (directive === 'CapabilityBoundingSet') return deny(directive, capabilityGroups[rest] ?? rest);
  if (directive === 'RestrictNamespaces') return deny(directive, rest);
  return deny(directive, `@${rest.replace(/_/g, '-')}`);
}

/** The lines that would lower the score most, each with how much lower it would be with that line alone. */
export function suggestionsFor(items: readonly AssessedCheck[], count = suggestionCount): ExposureSuggestion[] {
  const score = scoreTenths(asInstalled(items));
  if (score === undefined) return [];
  const failing = asInstalled(items).filter((i): i is AssessedCheck & { badness: number } => applies(i) && i.badness > 0);
  const groups = new Map<string, { fields: Set<string>; checks: string[]; directive: string; values: string[]; deny: boolean }>();
  for (const item of failing) {
    const fix = fixFor(item);
    if (!fix) continue;
    const key = fix.deny ? `${fix.directive}=~` : `${fix.directive}=${fix.value}`;
    const group = groups.get(key) ?? { fields: new Set<string>(), checks: [], directive: fix.directive, values: [], deny: fix.deny === true };
    group.fields.add(item.field);
    group.checks.push(item.name);
    if (!group.values.includes(fix.value)) group.values.push(fix.value);
    groups.set(key, group);
  }
  const suggestions: ExposureSuggestion[] = [];
  for (const group of groups.values()) {
    // The line's effect: the same items with these checks passing, then what systemd derives from them.
    const passed = items.map((i) => (group.fields.has(i.field) && applies(i) ? { ...i, badness: 0 } : i));
    const lowersBy = score - scoreTenths(asInstalled(passed))!;
    if (lowersBy <= 0) continue;
    const whole = wholeDirective[group.directive];
    const entries = group.values.join(' ').split(' ');
    const directive = !group.deny ? `${group.directive}=${group.values[0]}` : whole && entries.length >= whole.from ? whole.line : `${group.directive}=~${entries.join(' ')}`;
    suggestions.push({ directive, lowersBy: lowersBy / 10, checks: group.checks });
  }
  return suggestions.sort((a, b) => b.lowersBy - a.lowersBy || a.directive.localeCompare(b.directive)).slice(0, count);
}

const unsignedMax = 2 ** 53; // badness UINT64_MAX ("does not apply") arrives as a float far above this

/** One service's items from one JSON array, or why they cannot be read. */
export function readAssessment(value: unknown): AssessedCheck[] | string {
  if (!Array.isArray(value) || value.length === 0) return 'its assessment is not a list of checks';
  const items: AssessedCheck[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return 'a check is not an object';
    const e = entry as Record<string, unknown>;
    const { name, json_field: field, description, weight, badness, range } = e;
    if (typeof name !== 'string' || typeof field !== 'string') return 'a check has no name';
    if (typeof weight !== 'number' || typeof badness !== 'number' || typeof range !== 'number') return `check ${name} has no weight, badness and range (systemd-analyze without SYSTEMD_ANALYZE_DEBUG support?)`;
    if (!Number.isSafeInteger(weight) || weight < 0 || !Number.isSafeInteger(range) || range <= 0) return `check ${name} has a weight or range that is not a count`;
    const applicable = badness < unsignedMax;
    if (applicable && !(Number.isInteger(badness) && badness >= 0 && badness <= range)) return `check ${name} has a badness outside 0–${range}`;
    items.push({ name, field, description: typeof description === 'string' ? description : '', weight, badness: applicable ? badness : undefined, range });
  }
  return items;
}

/** Each item's share of the score, in tenths, as systemd's table prints it. */
function itemsAsData(items: readonly AssessedCheck[]): ExposureItem[] {
  const weights = items.filter(applies).reduce((sum, i) => sum + i.weight, 0);
  return items.map((i) => ({
    name: i.name,
    field: i.field,
    description: i.description,
    exposure: !applies(i) ? null : i.badness === 0 ? 0 : Math.ceil(Math.ceil((i.badness * i.weight * 100) / i.range) / weights) / 10,
  }));
}

/** One service scored from its raw items (as installed), with its suggestions. */
export function scoreService(service: string, raw: readonly AssessedCheck[]): ServiceExposure {
  const items = asInstalled(raw);
  const tenths = scoreTenths(items);
  if (tenths === undefined) return { service, score: null, reason: 'no check applies to it' };
  return { service, score: tenths / 10, level: exposureLevel(tenths), suggestions: suggestionsFor(raw), items: itemsAsData(items) };
}

export interface SecurityOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * The services of one `systemd-analyze security --offline=yes --json=short SERVICE…` run, in the order asked. It prints
 * one JSON array per service it could load, in argument order, and names on stderr each one it could not ("Unit x.service
 * has a bad unit file setting."); when its output cannot be matched to the services, none is scored rather than a
 * score given to the wrong one.
 */
export function parseSecurityOutput(output: SecurityOutput, services: readonly string[]): ServiceExposure[] {
  const stderrLines = output.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const refused = new Map<string, string>();
  for (const service of services) {
    const line = stderrLines.find((l) => l.startsWith(`Unit ${service} `));
    if (line) refused.set(service, line);
  }
  const assessed = services.filter((s) => !refused.has(s));
  const arrays: unknown[] = [];
  let garbage: string | undefined;
  for (const line of output.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
    try {
      arrays.push(JSON.parse(line));
    } catch {
      garbage = `systemd-analyze printed what is not JSON: ${line.slice(0, 60)}${line.length > 60 ? '…' : ''}`;
      break;
    }
  }
  const firstError = stderrLines[0] ?? `systemd-analyze security exited ${output.exitCode}`;
  const unmatched = garbage ?? (arrays.length !== assessed.length ? `systemd-analyze security assessed ${arrays.length} of ${assessed.length} services (${firstError})` : undefined);
  return services.map((service): ServiceExposure => {
    const why = refused.get(service);
    if (why) return { service, score: null, reason: why };
    if (unmatched) return { service, score: null, reason: unmatched };
    const items = readAssessment(arrays[assessed.indexOf(service)]);
    return typeof items === 'string' ? { service, score: null, reason: `systemd-analyze's assessment cannot be read: ${items}` } : scoreService(service, items);
  });
}

/** "x.service: exposure 1.6 OK", or why it has no score. */
export function describeExposure(exposure: ServiceExposure): string {
  return exposure.score === null ? `${exposure.service}: exposure not scored (${exposure.reason})` : `${exposure.service}: exposure ${exposure.score.toFixed(1)} ${exposure.level}`;
}

/** The problem a service above the limit is (or one that could not be scored while a limit is asked for). */
export function exposureAboveLimit(exposure: ServiceExposure, limit: number): string | undefined {
  if (exposure.score === null) return `${exposure.service} could not be scored (${exposure.reason}), so --max-exposure ${limit} cannot be checked`;
  return exposure.score > limit ? `${exposure.service} scores ${exposure.score.toFixed(1)} ${exposure.level} on systemd-analyze security, above --max-exposure ${limit}` : undefined;
}
