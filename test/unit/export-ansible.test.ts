// The Ansible export, pure: a role of ansible.builtin modules only, every task that touches a secret no_log, the
// files svcctl would write copied byte for byte, each setting a variable escaped for where it lands, YAML that reads
// back as the data it was made from, and never a secret value.
import fc from 'fast-check';
import { parse, parseAllDocuments } from 'yaml';
import { loadBundle } from '../../src/system/bundles/load.js';
import { desire } from '../../src/core/desired.js';
import { exportAnsible, roleName } from '../../src/core/export/ansible.js';
import { jinjaLiteral } from '../../src/core/export/jinja.js';
import { exportUnits } from '../../src/core/export/units.js';
import { systemTarget } from '../../src/core/target.js';
import type { Bundle } from '../../src/core/bundle/types.js';
import type { ExportTree } from '../../src/core/export/tree.js';

const target = systemTarget();
const unsafeTag = { tag: '!unsafe', resolve: (value: string) => value };
const readYaml = (text: string) => parse(text, { customTags: [unsafeTag] }) as unknown;
const file = (tree: ExportTree, p: string) => tree.files.find((f) => f.path === p)?.content.toString('utf8');

describe('exportAnsible (cleanup-blocking)', () => {
  let bundle: Bundle;
  let tree: ExportTree;
  const role = 'roles/svcctl_cleanup_blocking';
  beforeAll(async () => {
    bundle = await loadBundle(`${process.cwd()}/units/cleanup-blocking`);
    tree = exportAnsible(bundle, target, { settings: { STALE_THRESHOLD_SECONDS: '1200', REDIS_HOST: '127.0.0.1', REDIS_PORT: '6379', REDIS_DB: '0', LOG_DIR: '/home/claude-flow/.claude-flow/logs' }, svcctlVersion: 'test' });
  });

  test('a role and a site.yml for hosts: all, built from ansible.builtin modules only', () => {
    expect(roleName('cleanup-blocking')).toBe('svcctl_cleanup_blocking');
    const site = readYaml(file(tree, 'site.yml')!) as { hosts: string; roles: string[] }[];
    expect(site[0]).toEqual(expect.objectContaining({ hosts: 'all', roles: ['svcctl_cleanup_blocking'] }));
    const tasks = readYaml(file(tree, `${role}/tasks/main.yml`)!) as Record<string, unknown>[];
    const keywords = new Set(['name', 'loop', 'loop_control', 'register', 'when', 'no_log', 'failed_when']);
    for (const task of tasks) {
      const modules = Object.keys(task).filter((k) => !keywords.has(k));
      expect(modules).toHaveLength(1);
      expect(modules[0]).toMatch(/^ansible\.builtin\.(slurp|assert|group|user|file|copy|template|systemd_service)$/);
    }
  });

  test('every task that reads or writes a secret file is no_log', () => {
    const tasks = readYaml(file(tree, `${role}/tasks/main.yml`)!) as Record<string, unknown>[];
    const touching = tasks.filter((t) => JSON.stringify(t).includes('secret'));
    const byModule = touching.filter((t) => 'ansible.builtin.slurp' in t || 'ansible.builtin.template' in t && JSON.stringify(t).includes('secret_files'));
    expect(byModule.length).toBe(2);
    for (const task of byModule) expect(task.no_log).toBe(true);
  });

  test('the files without settings are svcctl\'s own bytes; the templates hold every setting as its variable', () => {
    const desired = desire(bundle, { settings: { STALE_THRESHOLD_SECONDS: '1200', REDIS_HOST: '127.0.0.1', REDIS_PORT: '6379', REDIS_DB: '0', LOG_DIR: '/home/claude-flow/.claude-flow/logs' }, secrets: {}, force: false, start: true, enable: true, now: '', svcctlVersion: 'test' }, target);
    const units = desired.files.filter((f) => f.role === 'unit' || f.role === 'payload');
    for (const unit of units) {
      const copied = tree.files.find((f) => f.path.startsWith(`${role}/files/`) && f.content.equals(unit.content));
      expect(copied).toBeDefined();
    }
    const override = tree.files.find((f) => f.path.startsWith(`${role}/templates/`) && f.path.endsWith('override.conf.j2'))!.content.toString();
    expect(override.startsWith('#jinja2: trim_blocks: False, lstrip_blocks: False\n')).toBe(true);
    expect(override).toContain(`Environment="STALE_THRESHOLD_SECONDS={% endraw %}{{ svcctl_setting_STALE_THRESHOLD_SECONDS | string | replace('\\\\', '\\\\\\\\') | replace('"', '\\\\"') | replace('%', '%%') }}`);
    expect(override).not.toContain('SVCCTLSENTINEL');
    const secrets = tree.files.find((f) => f.path.endsWith('secrets.env.j2'))!.content.toString();
    expect(secrets).toContain("{% if svcctl_secret_REDIS_PASSWORD is defined %}REDIS_PASSWORD=");
    expect(secrets).toContain("lookup('ansible.builtin.password', '/dev/null length=64 chars=0123456789abcdef')");
    expect(secrets).not.toContain('SVCCTLSENTINEL');
    const defaults = readYaml(file(tree, `${role}/defaults/main.yml`)!) as Record<string, string>;
    expect(defaults.svcctl_setting_STALE_THRESHOLD_SECONDS).toBe('1200');
    expect(Object.keys(defaults).some((k) => k.startsWith('svcctl_secret_'))).toBe(false);
  });

  test('the role\'s data reads back as YAML: the receipt\'s static part, the files, their modes and owners', () => {
    const vars = readYaml(file(tree, `${role}/vars/main.yml`)!) as Record<string, unknown>;
    const p = 'svcctl_cleanup_blocking__';
    expect(vars[`${p}receipt`]).toEqual(expect.objectContaining({ format: 2, bundle: 'cleanup-blocking', scope: 'system', state: 'installed', enabled: ['cleanup-blocking-coordination.timer'] }));
    expect(vars[`${p}static_files`]).toContainEqual({ src: expect.stringMatching(/cleanup-blocking-coordination\.sh$/), dest: '/usr/local/bin/cleanup-blocking-coordination.sh', mode: '0755', owner: 'root', group: 'root' });
    expect(vars[`${p}secret_files`]).toEqual([{ src: expect.stringMatching(/secrets\.env\.j2$/), dest: '/etc/svcctl/cleanup-blocking/secrets.env', mode: '0600', owner: 'root', group: 'root' }]);
    const dirs = vars[`${p}directories`] as { path: string; mode?: string }[];
    expect(dirs).toContainEqual({ path: '/etc/svcctl/cleanup-blocking', mode: '0700', owner: 'root', group: 'root' });
    expect(dirs).toContainEqual({ path: '/home/claude-flow/.claude-flow/logs', mode: '0750', owner: 'claude-flow', group: 'claude-flow' });
    // The system's own directories are never in it (never re-moded); parents come before children.
    expect(dirs.map((d) => d.path)).not.toContain('/etc');
    expect(dirs.map((d) => d.path)).not.toContain('/usr/local/bin');
    const order = dirs.map((d) => d.path);
    for (const d of order) for (const other of order) if (other.startsWith(`${d}/`)) expect(order.indexOf(d)).toBeLessThan(order.indexOf(other));
  });

  test('a bundle\'s "{{" stays text: static data is !unsafe, literal template text is raw', () => {
    const vars = file(tree, `${role}/vars/main.yml`)!;
    for (const line of vars.split('\n').filter((l) => /^\s*(- )?"?(path|dest|description)"?: /.test(l))) expect(line).toContain('!unsafe');
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        if (/\{%[-+]?\s*endraw/.test(text)) expect(() => jinjaLiteral(text, 'x')).toThrow(/endraw/);
        else expect(jinjaLiteral(text, 'x')).toBe(text === '' ? '' : `{% raw %}${text}{% endraw %}`);
      }),
    );
  });

  test('every YAML file of the role parses (as Ansible\'s YAML 1.1 reader would)', () => {
    for (const f of tree.files.filter((x) => x.path.endsWith('.yml'))) {
      const docs = parseAllDocuments(f.content.toString(), { version: '1.1', customTags: [unsafeTag] });
      for (const doc of Array.isArray(docs) ? docs : [docs]) expect(doc.errors).toEqual([]);
    }
  });

  test('a bundle that uses the placeholder word itself is refused', () => {
    const odd: Bundle = { ...bundle, units: bundle.units.map((u) => ({ ...u, content: `${u.content}\n# SVCCTLSENTINEL\n` })) };
    expect(() => exportAnsible(odd, target, { settings: {}, svcctlVersion: 'test' })).toThrow(/placeholder/);
  });
});

describe('exportUnits', () => {
  test('the desired files, the enable links, and secret files as descriptions', async () => {
    const bundle = await loadBundle(`${process.cwd()}/units/cleanup-blocking`);
    const secretValue = 'units-export-secret-value';
    const desired = desire(bundle, { settings: Object.fromEntries(bundle.settings.map((s) => [s.key, s.default!])), secrets: { BLOCKING_COORDINATION_SECRET: { value: secretValue, source: 'generated' } }, force: false, start: true, enable: true, now: '', svcctlVersion: 'test' }, target);
    const tree = exportUnits(desired, bundle, target);
    for (const f of desired.files.filter((x) => !x.secret)) expect(tree.files.find((t) => t.path === f.path.slice(1))?.content.equals(f.content)).toBe(true);
    expect(tree.files.find((t) => t.kind === 'symlink')).toEqual({ path: 'etc/systemd/system/timers.target.wants/cleanup-blocking-coordination.timer', content: Buffer.from('/etc/systemd/system/cleanup-blocking-coordination.timer'), mode: 0o777, kind: 'symlink' });
    expect(tree.directories).toContainEqual({ path: 'etc/svcctl/cleanup-blocking', mode: 0o700 });
    for (const f of tree.files) expect(f.content.toString()).not.toContain(secretValue);
  });
});
