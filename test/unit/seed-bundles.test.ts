// The seed bundles plms-invariants, clerk-reconcile and mira-federation-discovery as svcctl renders them (desire and
// plan, no host): where each value lands, who may read it, what follows a setting, and the order of the steps.
import path from 'node:path';
import { desire, type DesiredFile, type DesiredState, type Inputs } from '../../src/core/desired.js';
import { UserError } from '../../src/core/errors.js';
import { emptyHost, type Observed } from '../../src/core/observed.js';
import { planInstall } from '../../src/core/plan.js';
import { mergeActions } from '../../src/core/steps/index.js';
import { layout, systemTarget } from '../../src/core/target.js';
import { loadBundle } from '../../src/system/bundles/load.js';
import { builtinBundlesDir } from '../../src/system/paths.js';
import type { Bundle } from '../../src/core/bundle/types.js';

const target = systemTarget();
const paths = layout(target);
const load = (name: string) => loadBundle(path.join(builtinBundlesDir, name));

function inputs(bundle: Bundle, settings: Record<string, string> = {}, secrets: Record<string, string> = {}): Inputs {
  const defaults = Object.fromEntries(bundle.settings.filter((s) => s.default !== undefined).map((s) => [s.key, s.default!]));
  return {
    settings: { ...defaults, ...settings },
    secrets: Object.fromEntries(Object.entries(secrets).map(([k, value]) => [k, { value, source: 'environment' as const }])),
    force: false,
    start: true,
    enable: true,
    now: '2026-12-01T00:00:00.000Z',
    svcctlVersion: '0.1.0',
  };
}

const fileAt = (d: DesiredState, p: string): DesiredFile => {
  const file = d.files.find((f) => f.path === p);
  if (!file) throw new Error(`no file ${p} in ${d.files.map((f) => f.path).join(', ')}`);
  return file;
};
const text = (d: DesiredState, p: string) => fileAt(d, p).content.toString('utf8');

/** A host with the usual directories and nothing of the bundle: every step of a first install. */
function freshHost(): Observed {
  const dir = { kind: 'directory' as const, mode: 0o755, uid: 0, gid: 0 };
  return { ...emptyHost(), paths: Object.fromEntries(['/etc', '/etc/systemd', '/etc/systemd/system', '/etc/default', '/usr', '/usr/local', '/usr/local/bin', '/opt', '/var', '/var/lib'].map((p) => [p, dir])) };
}

function firstInstall(d: DesiredState) {
  const plan = planInstall(d, freshHost(), { target, hostKey: Buffer.alloc(32, 1), force: false, now: '2026-12-01T00:00:00.000Z', svcctlVersion: '0.1.0' });
  return mergeActions([plan.actions]).map((a) => (a.kind === 'write-file' ? `write ${a.path}` : a.kind));
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error.message;
    throw error;
  }
  throw new Error('expected a UserError');
}

describe('plms-invariants', () => {
  const secrets = { SLACK_WEBHOOK_URL: 'https://hooks.slack.example/services/T/B/secret-slack', PD_ROUTING_KEY: 'pd-secret-key' };

  test('/etc/default/plms-invariants holds the settings and secrets, root:plms 0640; nothing in svcctl\'s own secrets file or in Environment=', async () => {
    const bundle = await load('plms-invariants');
    const d = desire(bundle, inputs(bundle, { DB_PATH: '/opt/lnsp-phase-4/data/plms.db' }, secrets), target);
    expect(fileAt(d, '/etc/default/plms-invariants')).toMatchObject({ mode: 0o640, owner: 'root', group: 'plms', secret: true, role: 'config' });
    expect(text(d, '/etc/default/plms-invariants').split('\n').slice(1)).toEqual([
      'DB_PATH="/opt/lnsp-phase-4/data/plms.db"',
      'ENV_NAME="production"',
      'ALERT_EMAIL=""',
      'SLACK_WEBHOOK_URL="https://hooks.slack.example/services/T/B/secret-slack"',
      'PD_ROUTING_KEY="pd-secret-key"',
      '',
    ]);
    expect(d.files.some((f) => f.path === paths.secretsFile('plms-invariants'))).toBe(false);
    const override = text(d, paths.override('plms-invariants.service'));
    expect(override).toContain('EnvironmentFile=/etc/default/plms-invariants');
    expect(override).not.toMatch(/secret-slack|pd-secret-key|DB_PATH|ENV_NAME/);
  });

  test('the project location follows PROJECT_DIR: working directory, writable logs and artifacts, the directories the user owns', async () => {
    const bundle = await load('plms-invariants');
    const d = desire(bundle, inputs(bundle, { DB_PATH: 'db.sqlite', PROJECT_DIR: '/srv/lnsp' }), target);
    const override = text(d, paths.override('plms-invariants.service'));
    expect(override).toContain('Environment="PROJECT_DIR=/srv/lnsp"');
    expect(override).toContain('WorkingDirectory=/srv/lnsp');
    expect(override).toContain('ReadWritePaths=/srv/lnsp/logs /srv/lnsp/artifacts');
    expect(override).not.toContain('/opt/lnsp-phase-4');
    expect(d.directories.filter((x) => x.kind === 'data')).toEqual([
      { path: '/srv/lnsp/logs', mode: 0o750, owner: 'plms', group: 'plms', kind: 'data' },
      { path: '/srv/lnsp/artifacts', mode: 0o750, owner: 'plms', group: 'plms', kind: 'data' },
    ]);
    expect(refusal(() => desire(bundle, inputs(bundle, { DB_PATH: 'x', PROJECT_DIR: '/srv/../etc' }), target))).toContain('PROJECT_DIR');
    // ProtectHome=yes (the guide's) hides the homes: a project there could not even be the working directory.
    expect(refusal(() => desire(bundle, inputs(bundle, { DB_PATH: 'x', PROJECT_DIR: '/home/deploy/lnsp' }), target))).toContain('PROJECT_DIR="/home/deploy/lnsp" does not match');
    expect(desire(bundle, inputs(bundle, { DB_PATH: 'x', PROJECT_DIR: '/homes/lnsp' }), target).settings.PROJECT_DIR).toBe('/homes/lnsp');
  });

  test('daily at 02:00 in the timer\'s own time zone; DB_PATH is required', async () => {
    const bundle = await load('plms-invariants');
    expect(bundle.schedule).toEqual({ timer: 'plms-invariants.timer', default: '*-*-* 02:00:00 America/New_York' });
    expect(bundle.units.find((u) => u.name === 'plms-invariants.timer')!.content).toMatch(/^OnCalendar=\*-\*-\* 02:00:00 America\/New_York$/m);
    expect(refusal(() => desire(bundle, inputs(bundle), target))).toContain('setting DB_PATH of bundle plms-invariants needs a value');
  });

  test('the user exists before a file of its group is written', async () => {
    const bundle = await load('plms-invariants');
    const steps = firstInstall(desire(bundle, inputs(bundle, { DB_PATH: 'db' }, secrets), target));
    expect(steps.indexOf('apply-sysusers')).toBeGreaterThan(-1);
    expect(steps.indexOf('apply-sysusers')).toBeLessThan(steps.indexOf('write /etc/default/plms-invariants'));
    expect(steps.indexOf('apply-sysusers')).toBeLessThan(steps.indexOf('apply-tmpfiles'));
  });
});

describe('clerk-reconcile', () => {
  test('the guide\'s paths are settings: working directory, clerk, storage (its only writable path), threshold, user', async () => {
    const bundle = await load('clerk-reconcile');
    const d = desire(bundle, inputs(bundle, { STORAGE_DIR: '/srv/civic/sites', THRESHOLD_HOURS: '6', SERVICE_USER: 'civic' }), target);
    const override = text(d, paths.override('clerk-reconcile.service'));
    expect(override).toContain('WorkingDirectory=/home/deploy/civic-band');
    expect(override).toContain('User=civic');
    expect(override).toContain('Environment="CLERK=/home/deploy/civic-band/.venv/bin/clerk"');
    expect(override).toContain('Environment="STORAGE_DIR=/srv/civic/sites"');
    expect(override).toContain('Environment="THRESHOLD_HOURS=6"');
    expect(override).toContain('ReadWritePaths=-/srv/civic/sites');
    expect(bundle.schedule?.default).toBe('*:0/15');
  });

  test('STORAGE_DIR has no default (the guide\'s is a macOS path); root and relative paths are refused', async () => {
    const bundle = await load('clerk-reconcile');
    expect(refusal(() => desire(bundle, inputs(bundle), target))).toContain('setting STORAGE_DIR of bundle clerk-reconcile needs a value');
    expect(refusal(() => desire(bundle, inputs(bundle, { STORAGE_DIR: 'sites' }), target))).toContain('STORAGE_DIR="sites" does not match');
    expect(refusal(() => desire(bundle, inputs(bundle, { STORAGE_DIR: '/srv/sites', SERVICE_USER: 'root' }), target))).toContain('SERVICE_USER="root" does not match');
    expect(refusal(() => desire(bundle, inputs(bundle, { STORAGE_DIR: '/srv/sites', THRESHOLD_HOURS: '0' }), target))).toContain('THRESHOLD_HOURS="0" does not match');
  });
});

describe('mira-federation-discovery', () => {
  const secrets = { VAULT_ROLE_ID: 'role-id-value', VAULT_SECRET_ID: 'secret-id-value' };

  test('/etc/mira/federation.env root:mira 0640 with VAULT_ADDR and the AppRole credentials; the drop-in names it and binds 127.0.0.1', async () => {
    const bundle = await load('mira-federation-discovery');
    const d = desire(bundle, inputs(bundle, {}, secrets), target);
    expect(fileAt(d, '/etc/mira/federation.env')).toMatchObject({ mode: 0o640, owner: 'root', group: 'mira', secret: true });
    expect(text(d, '/etc/mira/federation.env').split('\n').slice(1)).toEqual(['VAULT_ADDR="http://localhost:8200"', 'VAULT_ROLE_ID="role-id-value"', 'VAULT_SECRET_ID="secret-id-value"', '']);
    const override = text(d, paths.override('mira-federation-discovery.service'));
    expect(override).toContain('EnvironmentFile=/etc/mira/federation.env');
    expect(override).toContain('Environment="BIND_ADDRESS=127.0.0.1"');
    expect(override).not.toMatch(/VAULT|role-id-value|secret-id-value/);
    expect(d.health).toEqual({ url: 'http://127.0.0.1:1113/api/v1/peers' });
  });

  test('PostgreSQL and Vault are ordered before it, never started by it unless WANTS says so', async () => {
    const bundle = await load('mira-federation-discovery');
    const unit = bundle.units[0]!.content;
    expect(unit).toMatch(/^After=network\.target postgresql\.service vault\.service$/m);
    expect(unit).not.toMatch(/^(Wants|Requires|BindsTo)=/m);
    const plain = text(desire(bundle, inputs(bundle, {}, secrets), target), paths.override('mira-federation-discovery.service'));
    expect(plain).toMatch(/^\[Unit\]\nWants=$/m);
    const wanting = text(desire(bundle, inputs(bundle, { WANTS: 'postgresql.service vault.service' }, secrets), target), paths.override('mira-federation-discovery.service'));
    expect(wanting).toMatch(/^Wants=postgresql\.service vault\.service$/m);
  });

  test('binds only 127.0.0.1 or 0.0.0.0, the addresses its health URL reaches', async () => {
    const bundle = await load('mira-federation-discovery');
    expect(text(desire(bundle, inputs(bundle, { BIND_ADDRESS: '0.0.0.0' }, secrets), target), paths.override('mira-federation-discovery.service'))).toContain('BIND_ADDRESS=0.0.0.0');
    expect(refusal(() => desire(bundle, inputs(bundle, { BIND_ADDRESS: '10.0.0.5' }, secrets), target))).toContain('BIND_ADDRESS="10.0.0.5" does not match');
  });

  test('a first install checks the daemon\'s health after the reload and the start, and the port before each start', async () => {
    const bundle = await load('mira-federation-discovery');
    const steps = firstInstall(desire(bundle, inputs(bundle, {}, secrets), target));
    expect(steps.slice(-5)).toEqual(['daemon-reload', 'enable', 'check-active', 'check-health', 'check-installed']);
    expect(steps.indexOf('apply-sysusers')).toBeLessThan(steps.indexOf('write /etc/mira/federation.env'));
    expect(bundle.units[0]!.content).toMatch(/^ExecStartPre=\+\/usr\/local\/bin\/mira-federation-port-check 1113$/m);
  });
});
