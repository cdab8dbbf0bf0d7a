// The "ansible" export: a role (tasks, files, templates, defaults for settings) and a site.yml applying it to
// `hosts: all`, built from ansible.builtin modules only, that puts on a host what `svcctl install` puts there — the
// same files, modes, owners, user, directories, enabled and started units — and svcctl's receipt, so that status,
// logs, check and uninstall work on hosts the role deployed. Pure.
//
// How the role is rendered from the desired state without ever holding a value that varies per host: desire() runs
// once with a sentinel word for every setting and secret, every file without one is copied as it is (files/), and
// every file with one becomes a template where each sentinel is the variable escaped for the dialect it stands in —
// an env file's "…", an Environment= line, a plain directive — so that a host gets the bytes svcctl would write.
import path from 'node:path';
import type { Bundle } from '../bundle/types.js';
import { UserError } from '../errors.js';
import { desire, directoryPolicy, isOwnDirectory, managedHeader, sha256, type DesiredFile, type Inputs, type SecretInput } from '../desired.js';
import { yamlString } from '../escape/index.js';
import { ancestors, isSharedDirectory, receiptFieldsOf } from '../plan.js';
import { RECEIPT_FORMAT } from '../receipt.js';
import { layout as layoutOf, systemDirectories, type Target } from '../target.js';
import { escapedExpression, jinjaLiteral, jinjaName, templateHeader, type Dialect } from './jinja.js';
import { manifestEntryOf, manifestExportFile, manifestOf, octal, type ExportFile, type ExportTree } from './tree.js';

export interface AnsibleOptions {
  /** The role's defaults: each setting's value (from --set, else the bundle's default; undefined: the play must set it). */
  settings: Record<string, string | undefined>;
  /** --schedule: replaces the bundle's default schedule (a drop-in, as for install). */
  schedule?: string;
  svcctlVersion: string;
}

const sentinelPrefix = 'SVCCTLSENTINEL';
const settingToken = (i: number) => `${sentinelPrefix}S${i}X`;
const secretToken = (i: number) => `${sentinelPrefix}K${i}X`;
const tokenPattern = new RegExp(`${sentinelPrefix}([SK])(\\d+)X`, 'g');

export const settingVariable = (key: string) => `svcctl_setting_${key}`;
export const secretVariable = (key: string) => `svcctl_secret_${key}`;

/** Role names are Python identifiers for Ansible: a bundle's "-" becomes "_". */
export function roleName(bundle: string): string {
  return `svcctl_${bundle.replace(/-/g, '_')}`;
}

/** A Jinja expression among the role's data: templated by Ansible (everything else is !unsafe). */
class Expr {
  constructor(readonly expr: string) {}
}
const expr = (text: string) => new Expr(text);

/** A value in YAML: strings !unsafe (Ansible never templates them: a unit's "{{" stays text), lists and maps in block style. */
function yamlValue(value: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  if (value instanceof Expr) return yamlString(value.expr);
  if (typeof value === 'string') return `!unsafe ${yamlString(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return value.map((v) => `\n${pad}- ${yamlValue(v, indent + 2).replace(/^\n\s*/, '')}`).join('');
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return entries.map(([k, v]) => `\n${pad}${yamlString(k)}: ${yamlValue(v, indent + 2)}`).join('');
  }
  throw new Error(`yamlValue: ${String(value)}`);
}

/** A mapping of top-level variables (vars/main.yml): static data !unsafe, expressions (Expr) templated. */
function varsFile(header: string, vars: [string, unknown][]): string {
  const lines = [`# ${header}`, '---'];
  for (const [name, value] of vars) {
    const rendered = yamlValue(value, 2);
    lines.push(`${name}:${rendered.startsWith('\n') ? '' : ' '}${rendered}`);
  }
  return `${lines.join('\n')}\n`;
}

const safeFileName = (p: string) => path.posix.basename(p).replace(/[^A-Za-z0-9._-]/g, '_');

interface TemplatedFile {
  file: DesiredFile;
  template: string;
}

export function exportAnsible(bundle: Bundle, target: Target, options: AnsibleOptions): ExportTree {
  if (target.scope !== 'system') throw new UserError('an Ansible export is for system scope', 'export without --user');
  const texts = [...bundle.units.map((u) => u.content), ...bundle.payload.map((p) => p.content.toString('latin1')), ...bundle.directives.map((d) => d.value)];
  if (texts.some((t) => t.includes(sentinelPrefix))) throw new UserError(`bundle ${bundle.name} contains the word ${sentinelPrefix}, which the Ansible export uses as a placeholder`, 'rename it in the bundle');
  const l = layoutOf(target);
  const role = roleName(bundle.name);
  const p = `${role}__`;
  const header = managedHeader(bundle.name);

  // The desired state with a sentinel for every setting and every secret (validation patterns are the role's to check).
  const sentinelBundle: Bundle = { ...bundle, settings: bundle.settings.map((s) => ({ ...s, pattern: undefined })) };
  const inputs: Inputs = {
    settings: Object.fromEntries(bundle.settings.map((s, i) => [s.key, settingToken(i)])),
    secrets: Object.fromEntries(bundle.secrets.map((s, i): [string, SecretInput] => [s.key, { value: secretToken(i), source: 'generated' }])),
    ...(options.schedule !== undefined ? { schedule: options.schedule } : {}),
    force: false,
    start: true,
    enable: true,
    now: '',
    svcctlVersion: options.svcctlVersion,
  };
  const desired = desire(sentinelBundle, inputs, target);

  const out: ExportFile[] = [];
  const roleDir = `roles/${role}`;
  const staticFiles: { src: string; dest: string; mode: string; owner: string; group: string }[] = [];
  const templated: TemplatedFile[] = [];
  const secretTemplated: TemplatedFile[] = [];
  const artifacts: { entry: Record<string, unknown>; template?: string }[] = [];
  const dialects = new Map<string, Set<Dialect>>();
  desired.files.forEach((file, index) => {
    const name = `${index}-${safeFileName(file.path)}`;
    const holdsToken = file.content.includes(sentinelPrefix);
    const entry: Record<string, unknown> = { path: file.path, role: file.role, checksum: '', mode: file.mode, owner: file.owner, group: file.group, ...(file.secret ? { secret: true } : {}) };
    if (!holdsToken) {
      out.push({ path: `${roleDir}/files/${name}`, content: file.content, mode: 0o644, kind: 'file' });
      staticFiles.push({ src: name, dest: file.path, mode: octal(file.mode), owner: file.owner, group: file.group });
      artifacts.push({ entry: { ...entry, checksum: file.secret ? '' : `sha256:${sha256(file.content)}` } });
      return;
    }
    const template = `${name}.j2`;
    out.push({ path: `${roleDir}/templates/${template}`, content: Buffer.from(templateOf(file, bundle, p, dialects)), mode: 0o644, kind: 'file' });
    if (file.secret) {
      secretTemplated.push({ file, template });
      artifacts.push({ entry });
    } else {
      templated.push({ file, template });
      artifacts.push({ entry, template });
    }
  });

  // Directories: svcctl's own (drop-in and secrets directories: 0755/0700 root) and the declared data directories get
  // their mode and owner; the shared ones on the way (/etc/svcctl, /var/lib/svcctl, …) are made 0755 root when
  // missing and otherwise left as they are; the system's own directories (/etc, /usr/local/bin, /home …) are never
  // touched. Whether each was there before comes from the task's own result (before: absent), not from a second look.
  const byDepth = (a: string, b: string) => a.split('/').length - b.split('/').length || (a < b ? -1 : a > b ? 1 : 0);
  const ensure: { path: string; mode?: string; owner?: string; group?: string }[] = [];
  const records: { path: string; created?: Record<string, unknown>; existing?: Record<string, unknown> }[] = [];
  const chain = [...new Set([...desired.files.flatMap((f) => ancestors(f.path)), ...ancestors(l.receipt(bundle.name))])].sort(byDepth);
  for (const dir of chain.filter((d) => !systemDirectories.has(d))) {
    const own = isOwnDirectory(dir, bundle.name, l);
    const shared = isSharedDirectory(dir, l);
    ensure.push(own ? { path: dir, mode: octal(directoryPolicy(dir, bundle.name, l)), owner: target.user, group: target.group } : { path: dir });
    // The receipt's own directory is svcctl's, recorded by no install (as svcctl's writeReceipt makes it).
    if (dir === l.stateDir) continue;
    records.push({ path: dir, created: { path: dir, created: true, own, ...(shared ? { shared: true } : {}) }, ...(own ? { existing: { path: dir, created: false, own: true } } : {}) });
  }
  for (const d of desired.directories.filter((x) => x.kind === 'data')) {
    for (const a of [...ancestors(d.path).reverse()].filter((x) => !systemDirectories.has(x) && !ensure.some((e) => e.path === x))) {
      ensure.push({ path: a });
      records.push({ path: a, created: { path: a, created: true, own: false } });
    }
    const declared = { path: d.path, mode: octal(d.mode), owner: d.owner, group: d.group };
    const at = ensure.findIndex((e) => e.path === d.path);
    if (at >= 0) ensure[at] = declared;
    else ensure.push(declared);
    const record = { path: d.path, created: { path: d.path, created: true, own: false, data: true }, existing: { path: d.path, created: false, own: false, data: true } };
    const r = records.findIndex((x) => x.path === d.path);
    if (r >= 0) records[r] = record;
    else records.push(record);
  }

  // What each enabled unit restarts for: its own files, and for a service the payload, secrets and config files.
  const unitPaths = (unit: string) => desired.files.filter((f) => f.path === l.unitFile(unit) || f.path.startsWith(`${l.dropInDir(unit)}/`)).map((f) => f.path);
  const jobInputs = desired.files.filter((f) => f.role === 'payload' || f.role === 'secrets' || f.role === 'config').map((f) => f.path);
  const restartable = desired.enable.map((unit) => ({ unit, unitFile: l.unitFile(unit), paths: [...unitPaths(unit), ...(unit.endsWith('.service') ? jobInputs : [])] }));
  const unitRolePaths = desired.files.filter((f) => f.role === 'unit' || f.role === 'drop-in' || f.role === 'schedule').map((f) => f.path);

  const receiptBase = receiptFieldsOf(desired, options.svcctlVersion);
  const secretFileOf = (key: string) => desired.files.find((f) => f.secret && (f.secretKeys ?? []).includes(key))?.path ?? '';
  const registered = ['r_group', 'r_user', 'r_directories', 'r_files', 'r_templated', 'r_secrets', 'r_reload', 'r_enable', 'r_restart'].filter((r) => {
    if (r === 'r_group' || r === 'r_user') return desired.user !== undefined;
    if (r === 'r_files') return staticFiles.length > 0;
    if (r === 'r_templated') return templated.length > 0;
    if (r === 'r_secrets') return secretTemplated.length > 0;
    if (r === 'r_enable' || r === 'r_restart') return desired.enable.length > 0;
    if (r === 'r_reload') return desired.enable.length === 0;
    return true;
  });
  const fileResults = ['r_files', 'r_templated', 'r_secrets'].filter((r) => registered.includes(r));
  const secretFiles = desired.files.filter((f) => f.secret).map((f) => f.path);

  const vars: [string, unknown][] = [
    [`${p}static_files`, staticFiles],
    [`${p}templated_files`, templated.map((t) => ({ src: t.template, dest: t.file.path, mode: octal(t.file.mode), owner: t.file.owner, group: t.file.group }))],
    [`${p}secret_files`, secretTemplated.map((t) => ({ src: t.template, dest: t.file.path, mode: octal(t.file.mode), owner: t.file.owner, group: t.file.group }))],
    [`${p}secret_paths`, secretFiles],
    [`${p}directories`, ensure],
    [`${p}directory_records`, records],
    [`${p}unit_role_paths`, unitRolePaths],
    [`${p}enable`, desired.enable.map((unit, i) => ({ unit, unitFile: l.unitFile(unit), first: i === 0 }))],
    [`${p}restartable`, restartable],
    [`${p}artifacts`, artifacts],
    [`${p}receipt`, receiptBase],
    [`${p}secret_keys`, bundle.secrets.map((s) => ({ key: s.key, file: secretFileOf(s.key) }))],
    [`${p}setting_patterns`, Object.fromEntries(bundle.settings.filter((s) => s.pattern).map((s) => [s.key, `^(?:${s.pattern})\\Z`]))],
    [`${p}line_patterns`, Object.fromEntries(bundle.secrets.map((s) => [s.key, `(?m)^${s.key}="(?:[^"\\\\]|\\\\[\\s\\S])*"`]))],
    [`${p}read_paths`, [l.receipt(bundle.name), ...secretFiles]],
    [`${p}previous`, expr(`{{ (${p}r_read.results[0].content | b64decode | from_json) if (${p}r_read.results[0].content is defined) else {} }}`)],
    [`${p}made`, expr(`{{ ${p}r_directories.results | selectattr('diff', 'defined') | selectattr('diff.before.state', 'defined') | selectattr('diff.before.state', 'equalto', 'absent') | map(attribute='item.path') | list }}`)],
    [`${p}existing_text`, expr(secretFiles.length > 0 ? `{{ ${p}r_read.results[1:] | selectattr('content', 'defined') | map(attribute='content') | map('b64decode') | join('\\n') }}` : '')],
    [`${p}existing`, Object.fromEntries(bundle.secrets.map((s) => [s.key, expr(`{{ ${p}existing_text | regex_search(${p}line_patterns['${s.key}']) | default('', true) }}`)]))],
    [`${p}secret_set`, Object.fromEntries(bundle.secrets.map((s) => [s.key, expr(`{{ (${secretVariable(s.key)} is defined) or (${p}existing['${s.key}'] != '')${s.generate ? ' or true' : ''} }}`)]))],
    [`${p}changed_paths`, expr(fileResults.length > 0 ? `{{ [${fileResults.map((r) => p + r).join(', ')}] | map(attribute='results') | flatten | selectattr('changed') | map(attribute='item.dest') | list }}` : '{{ [] }}')],
    [`${p}started`, expr(desired.enable.length > 0 ? `{{ ${p}r_enable.results | selectattr('changed') | map(attribute='item.unit') | list }}` : '{{ [] }}')],
    [`${p}changed`, expr(`{{ [${registered.map((r) => p + r).join(', ')}] | selectattr('changed', 'defined') | selectattr('changed') | list | length > 0 }}`)],
  ];
  out.push({ path: `${roleDir}/vars/main.yml`, content: Buffer.from(renderVars(header, vars)), mode: 0o644, kind: 'file' });
  out.push({ path: `${roleDir}/defaults/main.yml`, content: Buffer.from(defaultsOf(bundle, options.settings, header)), mode: 0o644, kind: 'file' });
  out.push({ path: `${roleDir}/templates/receipt.json.j2`, content: Buffer.from(receiptTemplate(bundle, p, desired.user?.name)), mode: 0o644, kind: 'file' });
  out.push({ path: `${roleDir}/tasks/main.yml`, content: Buffer.from(tasksOf({ bundle, p, desired, dialects, receiptPath: l.receipt(bundle.name), staticFiles: staticFiles.length, templated: templated.length, secretFiles: secretFiles.length, secretTemplated: secretTemplated.length })), mode: 0o644, kind: 'file' });
  out.push({ path: `${roleDir}/meta/main.yml`, content: Buffer.from(`# ${header}\n---\ngalaxy_info:\n  role_name: ${role}\n  description: ${yamlString(desired.description || bundle.name)}\n  min_ansible_version: "2.14"\ndependencies: []\n`), mode: 0o644, kind: 'file' });
  out.push({ path: 'site.yml', content: Buffer.from(`# ${header}\n# ansible-playbook -i INVENTORY site.yml  (secrets: svcctl_secret_<KEY>, e.g. in an ansible-vault file)\n- name: ${yamlString(`svcctl bundle ${bundle.name}`)}\n  hosts: all\n  become: true\n  gather_facts: false\n  roles:\n    - ${role}\n`), mode: 0o644, kind: 'file' });
  out.push({ path: 'ansible.cfg', content: Buffer.from(`# ${header}\n[defaults]\nroles_path = roles\ninterpreter_python = auto_silent\nretry_files_enabled = false\n\n[ssh_connection]\npipelining = true\n`), mode: 0o644, kind: 'file' });

  const notes = [
    `roles/${role}: ansible-playbook -i INVENTORY site.yml applies it to every host of the inventory`,
    ...bundle.settings.map((s) => `setting ${s.key}: variable ${settingVariable(s.key)}${options.settings[s.key] !== undefined ? ` (default ${JSON.stringify(options.settings[s.key])})` : ' (required: no default)'}`),
    ...bundle.secrets.map((s) => `secret ${s.key}: variable ${secretVariable(s.key)} (${s.generate ? 'generated once per host when not set, then kept' : s.required ? 'required: kept from the host when already set' : 'optional'}; keep it in ansible-vault)`),
    ...(bundle.authorization?.required ? ['the bundle requires explicit authorization: set svcctl_authorize to who authorized it and why (recorded in the receipt)'] : []),
    'svcctl status, logs, check and uninstall --purge work on the hosts it deployed (it writes svcctl\'s receipt)',
  ];
  const manifest = manifestOf('ansible', desired, desired.files.map((f) => manifestEntryOf(f)), notes);
  return { format: 'ansible', bundle: bundle.name, files: [...out, manifestExportFile(manifest)], directories: [], manifest, notes };
}

function renderVars(header: string, vars: [string, unknown][]): string {
  return varsFile(`${header} svcctl's data for this role: not for editing (settings and secrets are variables, see defaults/main.yml).`, vars);
}

/** The role's defaults: one variable per setting (the export's value), and the secrets' variables named in comments. */
function defaultsOf(bundle: Bundle, settings: Record<string, string | undefined>, header: string): string {
  const lines = [`# ${header}`, '# Settings: override per host or group. Secrets: set svcctl_secret_<KEY> (ansible-vault), never here.', '---'];
  for (const s of bundle.settings) {
    lines.push(`# ${s.description.replace(/[\r\n]+/g, ' ')}${s.pattern ? ` (must match ${s.pattern.replace(/[\r\n]+/g, ' ')})` : ''}`);
    const value = settings[s.key];
    if (value === undefined) lines.push(`# ${settingVariable(s.key)}: (required: no default)`);
    else lines.push(`${settingVariable(s.key)}: !unsafe ${yamlString(value)}`);
  }
  for (const s of bundle.secrets) {
    const how = s.generate ? 'generated once per host when not set, then kept' : s.required ? 'required (kept from the host when already set there)' : 'optional';
    lines.push(`# ${secretVariable(s.key)}: ${s.prompt.replace(/[\r\n]+/g, ' ')} — ${how}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The Jinja template of one file holding sentinels: literal text, and each sentinel as its escaped variable. */
function templateOf(file: DesiredFile, bundle: Bundle, p: string, dialects: Map<string, Set<Dialect>>): string {
  let out = templateHeader;
  let literal = '';
  const flush = () => {
    out += jinjaLiteral(literal, file.path);
    literal = '';
  };
  const lines = file.content.toString('utf8').split('\n');
  lines.forEach((line, index) => {
    const newline = index < lines.length - 1 ? '\n' : '';
    const secretLine = /^([A-Za-z_][A-Za-z0-9_]*)="SVCCTLSENTINELK(\d+)X"$/.exec(line);
    if ((file.role === 'secrets' || file.role === 'config') && secretLine) {
      const spec = bundle.secrets[Number(secretLine[2])]!;
      const variable = secretVariable(spec.key);
      flush();
      out += `{% if ${variable} is defined %}${spec.key}="${escapedExpression(variable, 'env-file')}"${newline}`;
      out += `{% elif ${p}existing[${jinjaName(spec.key)}] %}{{ ${p}existing[${jinjaName(spec.key)}] }}${newline}`;
      if (spec.generate === 'hex32') out += `{% else %}${spec.key}="{{ lookup('ansible.builtin.password', '/dev/null length=64 chars=0123456789abcdef') }}"${newline}`;
      out += '{% endif %}';
      return;
    }
    const dialect: Dialect | undefined = file.role === 'secrets' || file.role === 'config' ? 'env-file' : file.role === 'drop-in' ? (line.startsWith('Environment="') ? 'environment' : 'directive') : undefined;
    let last = 0;
    for (const match of line.matchAll(tokenPattern)) {
      if (dialect === undefined || match[1] === 'K') throw new Error(`export: a ${match[1] === 'K' ? 'secret' : 'setting'} in ${file.path} (${file.role}) where the Ansible export does not expect one`);
      const setting = bundle.settings[Number(match[2])]!;
      literal += line.slice(last, match.index);
      flush();
      out += escapedExpression(settingVariable(setting.key), dialect);
      const used = dialects.get(setting.key) ?? new Set<Dialect>();
      used.add(dialect);
      dialects.set(setting.key, used);
      last = match.index! + match[0].length;
    }
    literal += line.slice(last) + newline;
  });
  flush();
  return out;
}

/** svcctl's receipt, as the role writes it: the static part from vars, what this host says (times, directories it made, secrets set). */
function receiptTemplate(bundle: Bundle, p: string, user: string | undefined): string {
  const settings = bundle.settings.map((s) => `${jinjaName(s.key)}: (${settingVariable(s.key)} | string)`).join(', ');
  const userPart = user
    ? `, 'user': {'name': ${jinjaName(user)}, 'created': (prev.user.created if (prev.user is defined) else ('create_home' in ${p}r_user)), 'groupCreated': (prev.user.groupCreated if (prev.user is defined) else ${p}r_group.changed)}`
    : '';
  const authorization = bundle.authorization?.required
    ? `, 'authorization': (prev.authorization if (prev.authorization is defined) else {'text': (svcctl_authorize | string), 'by': 'ansible', 'at': ts})`
    : '';
  return `${templateHeader}{#- svcctl's receipt (format ${RECEIPT_FORMAT}): the part this role knows (vars/main.yml), and what this host says. -#}
{%- set prev = ${p}previous -%}
{%- set ts = now(utc=True, fmt='%Y-%m-%dT%H:%M:%S.000Z') -%}
{%- set artifacts = [] -%}
{%- for a in ${p}artifacts -%}
{%- if a.template is defined -%}
{%- set _ = artifacts.append(a.entry | combine({'checksum': 'sha256:' ~ (lookup('ansible.builtin.template', a.template) | hash('sha256'))})) -%}
{%- else -%}
{%- set _ = artifacts.append(a.entry) -%}
{%- endif -%}
{%- endfor -%}
{%- set dirs = {} -%}
{%- for d in prev.directories | default([]) -%}{%- set _ = dirs.update({d.path: d}) -%}{%- endfor -%}
{%- for c in ${p}directory_records if c.path not in dirs -%}
{%- if c.path in ${p}made -%}
{%- if c.created is defined -%}{%- set _ = dirs.update({c.path: c.created}) -%}{%- endif -%}
{%- elif c.existing is defined -%}{%- set _ = dirs.update({c.path: c.existing}) -%}
{%- endif -%}
{%- endfor -%}
{%- set secrets = [] -%}
{%- for s in ${p}secret_keys if ${p}secret_set[s.key] | bool -%}
{%- set before = (prev.secrets | default([]) | selectattr('key', 'equalto', s.key) | map(attribute='changedAt') | list | first | default('')) -%}
{%- set _ = secrets.append({'key': s.key, 'changedAt': (ts if (s.file in ${p}changed_paths or before == '') else before)}) -%}
{%- endfor -%}
{%- set receipt = ${p}receipt | combine({'installedAt': (prev.installedAt if (prev.installedAt is defined and prev.state != 'retained') else ts), 'updatedAt': (prev.updatedAt if (prev.updatedAt is defined and not (${p}changed | bool)) else ts), 'settings': {${settings}}, 'secrets': secrets, 'artifacts': artifacts, 'directories': (dirs.values() | sort(attribute='path'))${userPart}${authorization}}) -%}
{{ receipt | to_nice_json(indent=2) }}
`;
}

interface TaskContext {
  bundle: Bundle;
  p: string;
  desired: ReturnType<typeof desire>;
  dialects: Map<string, Set<Dialect>>;
  receiptPath: string;
  staticFiles: number;
  templated: number;
  secretFiles: number;
  secretTemplated: number;
}

const y = yamlString;

/** tasks/main.yml: check the variables, look at the host, make user and directories, write files, units, receipt. */
function tasksOf(ctx: TaskContext): string {
  const { bundle, p, desired } = ctx;
  const t: string[] = [`# ${managedHeader(bundle.name)}`, '# Each step as svcctl install takes it; the receipt last, so that svcctl status, logs, check and uninstall know the host.', '---'];
  const checks: { that: string; why: string }[] = [];
  for (const s of bundle.settings) {
    const v = settingVariable(s.key);
    checks.push({ that: `${v} is defined`, why: `setting ${s.key} has no value: set ${v}` });
    if (s.pattern) checks.push({ that: `(${v} | string) is regex(${p}setting_patterns['${s.key}'])`, why: `${v} must match ${s.pattern}` });
    const used = ctx.dialects.get(s.key) ?? new Set<Dialect>();
    if (used.has('environment') || used.has('directive')) checks.push({ that: `(${v} | string) is not regex('[\\x00-\\x1f\\x7f]')`, why: `${v} holds a control character, which a unit file line cannot hold` });
    if (used.has('directive')) checks.push({ that: `(${v} | string) is not regex('^ | $|\\\\$')`, why: `${v} starts or ends with a space or ends with a backslash, which systemd strips or joins` });
  }
  if (bundle.authorization?.required) checks.push({ that: 'svcctl_authorize is defined or (' + `${p}previous.authorization is defined)`, why: `bundle ${bundle.name} is installed only upon explicit authorization${bundle.authorization.reason ? ` (${bundle.authorization.reason})` : ''}: set svcctl_authorize to who authorized it and why` });
  const task = (lines: string[]) => t.push('', ...lines);
  task([
    `- name: ${y(`svcctl ${bundle.name}: the receipt of an earlier install${ctx.secretFiles > 0 ? ', and the secrets already set (kept when no variable replaces them)' : ''}`)}`,
    '  ansible.builtin.slurp:',
    '    src: "{{ item }}"',
    `  loop: "{{ ${p}read_paths }}"`,
    `  register: ${p}r_read`,
    '  failed_when: false',
    ...(ctx.secretFiles > 0 ? ['  no_log: true'] : []),
  ]);
  if (checks.length > 0) {
    task([
      `- name: ${y(`svcctl ${bundle.name}: settings are valid`)}`,
      '  ansible.builtin.assert:',
      '    quiet: true',
      '    that:',
      ...checks.map((c) => `      - ${y(c.that)}`),
      `    fail_msg: ${y(`svcctl ${bundle.name}: a setting is missing or not valid (the failed check is the assertion above); ${checks.filter((c) => c.that.includes(' is regex(')).map((c) => c.why).join('; ') || 'see defaults/main.yml'}`)}`,
    ]);
  }
  const required = bundle.secrets.filter((s) => s.required && !s.generate);
  if (required.length > 0) {
    task([
      `- name: ${y(`svcctl ${bundle.name}: required secrets are set`)}`,
      '  ansible.builtin.assert:',
      '    quiet: true',
      '    that:',
      ...required.map((s) => `      - ${y(`${p}secret_set['${s.key}'] | bool`)}`),
      `    fail_msg: ${y(`svcctl ${bundle.name}: set ${required.map((s) => secretVariable(s.key)).join(', ')} (keep it in ansible-vault); it is not on the host yet`)}`,
    ]);
  }
  if (desired.user) {
    const u = desired.user;
    task([
      `- name: ${y(`svcctl ${bundle.name}: group ${u.name}`)}`,
      '  ansible.builtin.group:',
      `    name: ${y(u.name)}`,
      '    system: true',
      `  register: ${p}r_group`,
    ]);
    task([
      `- name: ${y(`svcctl ${bundle.name}: user ${u.name} (as systemd-sysusers makes it)`)}`,
      '  ansible.builtin.user:',
      `    name: ${y(u.name)}`,
      `    group: ${y(u.name)}`,
      ...(u.groups.length > 0 ? [`    groups: [${u.groups.map(y).join(', ')}]`, '    append: true'] : []),
      `    comment: ${y(`svcctl bundle ${bundle.name}`)}`,
      `    home: ${y(u.home)}`,
      `    shell: ${y(u.shell)}`,
      '    system: true',
      '    create_home: false',
      `  register: ${p}r_user`,
    ]);
  }
  task([
    `- name: ${y(`svcctl ${bundle.name}: directories`)}`,
    '  ansible.builtin.file:',
    '    path: "{{ item.path }}"',
    '    state: directory',
    '    mode: "{{ item.mode | default(omit) }}"',
    '    owner: "{{ item.owner | default(omit) }}"',
    '    group: "{{ item.group | default(omit) }}"',
    `  loop: "{{ ${p}directories }}"`,
    '  loop_control:',
    '    label: "{{ item.path }}"',
    `  register: ${p}r_directories`,
  ]);
  const fileAttributes = ['    dest: "{{ item.dest }}"', '    mode: "{{ item.mode }}"', '    owner: "{{ item.owner }}"', '    group: "{{ item.group }}"'];
  if (ctx.staticFiles > 0) {
    task([`- name: ${y(`svcctl ${bundle.name}: payload, units and entries`)}`, '  ansible.builtin.copy:', '    src: "{{ item.src }}"', ...fileAttributes, `  loop: "{{ ${p}static_files }}"`, '  loop_control:', '    label: "{{ item.dest }}"', `  register: ${p}r_files`]);
  }
  if (ctx.templated > 0) {
    task([
      `- name: ${y(`svcctl ${bundle.name}: drop-ins and config files rendered with the settings`)}`,
      '  ansible.builtin.copy:',
      `    content: "{{ lookup('ansible.builtin.template', item.src) }}"`,
      ...fileAttributes,
      `  loop: "{{ ${p}templated_files }}"`,
      '  loop_control:',
      '    label: "{{ item.dest }}"',
      `  register: ${p}r_templated`,
    ]);
  }
  if (ctx.secretTemplated > 0) {
    task([`- name: ${y(`svcctl ${bundle.name}: secret files`)}`, '  ansible.builtin.template:', '    src: "{{ item.src }}"', ...fileAttributes, `  loop: "{{ ${p}secret_files }}"`, `  register: ${p}r_secrets`, '  no_log: true']);
  }
  // --check where a unit file would be written: systemd does not know the unit yet (or knows the old one), so its
  // steps wait for the real run.
  const unitKnown = `not (ansible_check_mode and item.unitFile in ${p}changed_paths)`;
  const reload = `${p}changed_paths | intersect(${p}unit_role_paths) | length > 0`;
  if (desired.enable.length === 0) {
    task([
      `- name: ${y(`svcctl ${bundle.name}: systemctl daemon-reload (unit files changed)`)}`,
      '  ansible.builtin.systemd_service:',
      '    daemon_reload: true',
      `  when: ${y(reload)}`,
      `  register: ${p}r_reload`,
    ]);
  } else {
    // The one daemon-reload goes with the first unit's enable: one call fewer on every host.
    task([
      `- name: ${y(`svcctl ${bundle.name}: enable${desired.start ? ' and start' : ''} (after one daemon-reload when unit files changed)`)}`,
      '  ansible.builtin.systemd_service:',
      '    name: "{{ item.unit }}"',
      '    enabled: true',
      ...(desired.start ? ['    state: started'] : []),
      `    daemon_reload: ${y(`{{ item.first and (${reload}) }}`)}`,
      `  loop: "{{ ${p}enable }}"`,
      '  loop_control:',
      '    label: "{{ item.unit }}"',
      `  when: ${y(unitKnown)}`,
      `  register: ${p}r_enable`,
    ]);
    task([
      `- name: ${y(`svcctl ${bundle.name}: restart what runs with changed files`)}`,
      '  ansible.builtin.systemd_service:',
      '    name: "{{ item.unit }}"',
      '    state: restarted',
      `  loop: "{{ ${p}restartable }}"`,
      '  loop_control:',
      '    label: "{{ item.unit }}"',
      `  when: ${y(`(${unitKnown}) and item.unit not in ${p}started and (${p}changed_paths | intersect(item.paths) | length > 0)`)}`,
      `  register: ${p}r_restart`,
    ]);
  }
  task([
    `- name: ${y(`svcctl ${bundle.name}: svcctl's receipt`)}`,
    '  ansible.builtin.template:',
    '    src: receipt.json.j2',
    `    dest: ${y(ctx.receiptPath)}`,
    '    mode: "0600"',
    '    owner: root',
    '    group: root',
  ]);
  return `${t.join('\n')}\n`;
}
