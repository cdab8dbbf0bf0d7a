// desire() and plan() are pure: these tests feed them in-memory bundles and observed hosts, no mocks and no I/O.
import { createHash } from 'node:crypto';
import { desire, type Inputs } from '../../src/core/desired.js';
import { emptyHost, type Observed, type PathState } from '../../src/core/observed.js';
import { installLinks, observationTargets, planInstall, planUninstall, purgeAsides, unsafeAncestors, type Plan } from '../../src/core/plan.js';
import type { Receipt } from '../../src/core/receipt.js';
import { describeAction, mergeActions, stepKinds } from '../../src/core/steps/index.js';
import { layout, systemTarget } from '../../src/core/target.js';
import type { Bundle } from '../../src/core/bundle/types.js';
import { UserError } from '../../src/core/errors.js';

const sha = (text: string | Buffer) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const target = systemTarget();
const paths = layout(target);
const hostKey = Buffer.alloc(32, 7);

function bundle(overrides: Partial<Bundle> = {}): Bundle {
  const name = overrides.name ?? 'demo';
  return {
    name,
    description: 'demo bundle',
    directory: `/bundles/${name}`,
    manifestPath: `/bundles/${name}/bundle.yaml`,
    digest: 'd1',
    units: [
      { name: `${name}.service`, content: '[Service]\nType=oneshot\nExecStart=/usr/local/bin/demo.sh\n' },
      { name: `${name}.timer`, content: '[Timer]\nOnActiveSec=5min\nOnUnitActiveSec=5min\n[Install]\nWantedBy=timers.target\n' },
    ],
    enable: [`${name}.timer`],
    payload: [{ source: 'demo.sh', destination: '/usr/local/bin/demo.sh', mode: 0o755, content: Buffer.from('#!/bin/sh\necho hi\n') }],
    user: { name: 'demo-user', home: '/opt/demo', shell: '/usr/sbin/nologin', groups: [] },
    directories: [{ path: '/var/lib/demo/logs', owner: 'demo-user', group: 'demo-user', mode: 0o750 }],
    settings: [{ key: 'THRESHOLD', description: 'threshold', default: '600', pattern: '[0-9]+', target: { kind: 'environment', name: 'THRESHOLD' } }],
    secrets: [{ key: 'TOKEN', prompt: 'token', generate: 'hex32', required: true }],
    schedule: { timer: `${name}.timer`, default: '5min' },
    health: { maxAge: '15min' },
    configFiles: [],
    directives: [],
    ...overrides,
  };
}

const dir: PathState = { kind: 'directory', mode: 0o755, uid: 0, gid: 0 };
const hostDirs = ['/usr', '/usr/local', '/usr/local/bin', '/etc', '/etc/systemd', '/etc/systemd/system', '/etc/sysusers.d', '/etc/tmpfiles.d', '/var', '/var/lib', '/opt', '/home'];

function freshHost(extra: Record<string, PathState | null> = {}): Observed {
  return { ...emptyHost(), paths: { ...Object.fromEntries(hostDirs.map((d) => [d, dir])), ...extra } };
}

function inputs(overrides: Partial<Inputs> = {}): Inputs {
  return {
    settings: { THRESHOLD: '600' },
    secrets: { TOKEN: { value: 'super-secret-value', source: 'generated' } },
    force: false,
    start: true,
    enable: true,
    now: '2026-11-22T00:00:00.000Z',
    svcctlVersion: '0.1.0',
    ...overrides,
  };
}

function plan(b: Bundle, observed: Observed, i: Partial<Inputs> = {}, t = target): Plan {
  const all = inputs(i);
  return planInstall(desire(b, all, t), observed, { target: t, hostKey, force: all.force, now: all.now, svcctlVersion: '0.1.0' });
}

/** The host as it is right after `p` was applied: every file written, directories made, units running. */
function hostAfter(p: Plan, b: Bundle): Observed {
  const observed = freshHost();
  observed.users['demo-user'] = { uid: 990, gid: 990 };
  observed.groups['demo-user'] = { gid: 990 };
  for (const action of p.actions) {
    if (action.kind === 'write-file') observed.paths[action.path] = { kind: 'file', mode: action.mode, uid: 0, gid: 0, checksum: action.checksum };
    if (action.kind === 'make-directory') observed.paths[action.path] = { ...dir, mode: action.mode };
    if (action.kind === 'apply-tmpfiles') for (const d of action.created) observed.paths[d] = dir;
  }
  for (const d of b.directories) observed.paths[d.path] = { kind: 'directory', mode: d.mode, uid: 990, gid: 990 };
  observed.units = Object.fromEntries(b.enable.map((u) => [u, { active: 'active', enabled: 'enabled' }]));
  observed.receipt = p.receipt!;
  observed.existingSecrets = { TOKEN: 'super-secret-value' };
  return observed;
}

const kinds = (p: Plan) => p.actions.map((a) => a.kind);
const summary = (p: Plan) => p.actions.map((a) => (a.kind === 'write-file' ? `write ${a.path}` : a.kind));

describe('planInstall on a fresh host', () => {
  const b = bundle();
  const p = plan(b, freshHost());

  test('orders the steps: directories, user, payload (it may belong to the user), directories, secrets, units, one reload, one enable, checks', () => {
    expect(kinds(p)).toEqual([
      'make-directory', // /etc/svcctl
      'make-directory', // /etc/svcctl/demo
      'make-directory', // /etc/systemd/system/demo.service.d
      'write-file', // sysusers.d
      'apply-sysusers',
      'write-file', // payload
      'write-file', // tmpfiles.d
      'apply-tmpfiles',
      'write-file', // secrets.env
      'write-file', // demo.service
      'write-file', // demo.timer
      'write-file', // override.conf
      'daemon-reload',
      'enable',
      'check-active',
      'check-installed',
    ]);
  });

  test('the secrets file is 0600 in a 0700 directory, marked secret, referenced by EnvironmentFile= only', () => {
    const secrets = p.actions.find((a) => a.kind === 'write-file' && a.path === paths.secretsFile('demo'));
    expect(secrets).toMatchObject({ mode: 0o600, secret: true, owner: 'root' });
    expect(p.actions).toContainEqual({ kind: 'make-directory', path: '/etc/svcctl/demo', mode: 0o700, owner: 'root', group: 'root' });
    const override = p.actions.find((a) => a.kind === 'write-file' && a.path === paths.override('demo.service'));
    const text = override?.kind === 'write-file' ? override.content.toString() : '';
    expect(text).toContain('EnvironmentFile=/etc/svcctl/demo/secrets.env');
    expect(text).not.toContain('super-secret-value');
    expect(text).toMatch(/Environment="?THRESHOLD=600/);
    expect(override).toMatchObject({ mode: 0o600 });
  });

  test('no description and no receipt field ever contains a secret value, nor a plain hash of it', () => {
    const shown = p.actions.map(describeAction).join('\n');
    expect(shown).not.toContain('super-secret-value');
    expect(shown).toContain('secret values hidden; readable by root only');
    const receiptText = JSON.stringify(p.receipt);
    expect(receiptText).not.toContain('super-secret-value');
    const secretsContent = (p.actions.find((a) => a.kind === 'write-file' && a.secret) as { content: Buffer }).content;
    expect(receiptText).not.toContain(sha(secretsContent).slice('sha256:'.length));
    expect(p.receipt!.artifacts.find((a) => a.role === 'secrets')?.checksum).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });

  test('the receipt lists every artifact with its checksum, the user and the directories it created', () => {
    const receipt = p.receipt!;
    expect(receipt.artifacts.map((a) => a.path).sort()).toEqual(
      ['/usr/local/bin/demo.sh', paths.sysusers('demo'), paths.tmpfiles('demo'), paths.secretsFile('demo'), '/etc/systemd/system/demo.service', '/etc/systemd/system/demo.timer', paths.override('demo.service')].sort(),
    );
    expect(receipt.artifacts.find((a) => a.path === '/usr/local/bin/demo.sh')?.checksum).toBe(sha('#!/bin/sh\necho hi\n'));
    expect(receipt.user).toEqual({ name: 'demo-user', created: true, groupCreated: true });
    expect(receipt.directories).toEqual(
      expect.arrayContaining([
        { path: '/var/lib/demo/logs', created: true, own: false, data: true },
        { path: '/var/lib/demo', created: true, own: false },
        { path: '/etc/svcctl/demo', created: true, own: true },
        { path: '/etc/svcctl', created: true, own: false, shared: true },
      ]),
    );
    expect(receipt.secrets).toEqual([{ key: 'TOKEN', changedAt: '2026-11-22T00:00:00.000Z' }]);
    expect(receipt.settings).toEqual({ THRESHOLD: '600' });
    expect(receipt.format).toBe(2);
  });

  test('enable records the units as they were and the links it may make ([Install] WantedBy=)', () => {
    expect(p.actions.find((a) => a.kind === 'enable')).toEqual({ kind: 'enable', units: ['demo.timer'], now: true, before: { 'demo.timer': { enabled: '', active: '' } }, links: ['/etc/systemd/system/timers.target.wants/demo.timer'] });
  });

  test('--no-start enables without --now and skips the check of active units', () => {
    const noStart = plan(b, freshHost(), { start: false });
    expect(noStart.actions.find((a) => a.kind === 'enable')).toMatchObject({ units: ['demo.timer'], now: false });
    expect(kinds(noStart)).not.toContain('check-active');
  });

  test('--no-enable installs the units and enables nothing; the receipt remembers it', () => {
    const deferred = plan(b, freshHost(), { enable: false });
    expect(kinds(deferred)).not.toContain('enable');
    expect(deferred.receipt).toMatchObject({ enableDeferred: true });
  });

  test('the directories systemd-tmpfiles creates are listed parents first', () => {
    const bare = freshHost();
    delete bare.paths['/var'];
    delete bare.paths['/var/lib'];
    const p2 = plan(b, bare);
    // /var and /var/lib hold the receipts' directory: the intent receipt's write makes them before the first step, so the
    // tool's undo (which removes what it made) must never take them.
    expect(p2.actions.find((a) => a.kind === 'apply-tmpfiles')).toMatchObject({ created: ['/var/lib/demo', '/var/lib/demo/logs'] });
    // /var/lib is the system's own: uninstall never removes it.
    expect(p2.receipt!.directories.map((d) => d.path)).not.toContain('/var/lib');
  });

  test('--root (offline) renders files and enables with systemctl --root: no reload, no check of running units', () => {
    const offline = plan(b, freshHost(), {}, systemTarget('/srv/image'));
    expect(kinds(offline).filter((k) => k === 'daemon-reload' || k === 'check-active' || k === 'restart')).toEqual([]);
    expect(offline.actions.find((a) => a.kind === 'enable')).toMatchObject({ units: ['demo.timer'], now: false });
  });

  test('a setting rendered into a directive is escaped once (WorkingDirectory=a%nb is a%%nb, not a%%%%nb)', () => {
    const withDir = bundle({ settings: [{ key: 'WD', description: 'dir', default: '/var/tmp/a%nb', target: { kind: 'directive', section: 'Service', directive: 'WorkingDirectory' } }] });
    const p2 = plan(withDir, freshHost(), { settings: { WD: '/var/tmp/a%nb' } });
    const override = p2.actions.find((a) => a.kind === 'write-file' && a.path === paths.override('demo.service')) as { content: Buffer };
    expect(override.content.toString()).toContain('WorkingDirectory=/var/tmp/a%%nb\n');
  });
});

describe('planInstall converges', () => {
  const b = bundle();
  const first = plan(b, freshHost());
  const kept = { TOKEN: { value: 'super-secret-value', source: 'existing' as const } };

  test('the same inputs on the installed host: up to date, nothing reloaded or restarted', () => {
    const again = plan(b, hostAfter(first, b), { secrets: kept, now: '2026-11-23T00:00:00.000Z' });
    expect(again.actions).toEqual([]);
    expect(again.upToDate).toBe(true);
    expect(again.receipt?.installedAt).toBe(first.receipt?.installedAt);
    expect(again.receipt?.secrets[0]?.changedAt).toBe('2026-11-22T00:00:00.000Z');
  });

  test('an unfinished receipt ("installing") is completed even when every file is in place', () => {
    const host = hostAfter(first, b);
    host.receipt = { ...host.receipt!, state: 'installing' };
    const again = plan(b, host, { secrets: kept });
    expect(again.upToDate).toBe(false);
    expect(kinds(again)).toEqual(['check-installed']);
    expect(again.receipt?.state).toBe('installed');
  });

  test('a changed setting rewrites only the drop-in, reloads once, and restarts nothing for a timer job', () => {
    expect(summary(plan(b, hostAfter(first, b), { settings: { THRESHOLD: '1200' }, secrets: kept }))).toEqual([`write ${paths.override('demo.service')}`, 'daemon-reload', 'check-installed']);
  });

  test('a changed schedule writes a timer drop-in and restarts the timer', () => {
    expect(summary(plan(b, hostAfter(first, b), { schedule: '15min', secrets: kept }))).toEqual(['make-directory', `write ${paths.scheduleDropIn('demo.timer')}`, 'daemon-reload', 'restart', 'check-active', 'check-installed']);
  });

  test('a randomized delay of svcctl schedule (on the default schedule) is a drop-in with RandomizedDelaySec=, kept in the receipt', () => {
    const p = plan(b, hostAfter(first, b), { randomizedDelay: '45s', secrets: kept });
    const dropIn = p.actions.find((a) => a.kind === 'write-file' && a.path === paths.scheduleDropIn('demo.timer')) as { content: Buffer } | undefined;
    expect(dropIn?.content.toString()).toMatch(/^OnUnitActiveSec=5min$/m);
    expect(dropIn?.content.toString()).toMatch(/^RandomizedDelaySec=45s$/m);
    expect(p.receipt).toMatchObject({ schedule: '5min', scheduleOverridden: true, scheduleRandomizedDelay: '45s' });
    expect(plan(b, hostAfter(first, b), { secrets: kept }).receipt).not.toHaveProperty('scheduleRandomizedDelay');
  });

  test('a new secret value rewrites only the secrets file', () => {
    expect(summary(plan(b, hostAfter(first, b), { secrets: { TOKEN: { value: 'rotated', source: 'file' } } }))).toEqual([`write ${paths.secretsFile('demo')}`, 'check-installed']);
  });

  test('a temporary file an interrupted write left is removed first', () => {
    const host = hostAfter(first, b);
    host.tempFiles = ['/etc/svcctl/demo/.secrets.env.svcctl-0123456789ab'];
    expect(summary(plan(b, host, { secrets: kept }))[0]).toBe('remove-file');
  });
});

describe('planInstall refuses what it must not touch', () => {
  const foreign: PathState = { kind: 'file', mode: 0o644, uid: 0, gid: 0, checksum: sha('hand-made') };

  test('a file it did not create: refused without --force (exit 2, names the path and the flag)', () => {
    const observed = freshHost({ '/etc/systemd/system/demo.service': foreign });
    expect(() => plan(bundle(), observed)).toThrow(UserError);
    expect(() => plan(bundle(), observed)).toThrow(/\/etc\/systemd\/system\/demo.service exists and was not created by svcctl/);
  });

  test('with --force it backs the original up and records the backup for uninstall', () => {
    const p = plan(bundle(), freshHost({ '/etc/systemd/system/demo.service': foreign }), { force: true });
    expect(p.actions.find((a) => a.kind === 'write-file' && a.path === '/etc/systemd/system/demo.service')).toMatchObject({ change: 'replace', backupTo: '/var/lib/svcctl/backups/demo/etc/systemd/system/demo.service' });
    expect(p.receipt?.artifacts.find((a) => a.path === '/etc/systemd/system/demo.service')?.backup).toBe('/var/lib/svcctl/backups/demo/etc/systemd/system/demo.service');
  });

  test('a byte-identical file is not adopted (uninstall would delete it)', () => {
    const same: PathState = { kind: 'file', mode: 0o644, uid: 0, gid: 0, checksum: sha('[Service]\nType=oneshot\nExecStart=/usr/local/bin/demo.sh\n') };
    expect(() => plan(bundle(), freshHost({ '/etc/systemd/system/demo.service': same }))).toThrow(/demo.service exists and was not created by svcctl/);
  });

  test('a unit name the distribution ships (systemd-journald.service) is a conflict', () => {
    const host = freshHost();
    host.vendorUnits = ['demo.service'];
    expect(() => plan(bundle(), host)).toThrow(/demo.service is a unit of the distribution/);
    expect(plan(bundle(), host, { force: true }).notes.join()).toMatch(/overrides the distribution's unit/);
  });

  test('a symlinked or loosely owned directory on the way to a file is refused before anything is planned', () => {
    const link = freshHost({ '/etc/svcctl': { kind: 'symlink', mode: 0o777, uid: 65534, gid: 65534, linkTarget: '/tmp/x' } });
    expect(() => plan(bundle(), link)).toThrow(/\/etc\/svcctl is a symlink to \/tmp\/x, not a directory/);
    const open = freshHost({ '/etc/svcctl': { ...dir, mode: 0o777 }, '/etc/svcctl/demo': { ...dir, mode: 0o700 } });
    expect(() => plan(bundle(), open)).toThrow(/\/etc\/svcctl has mode 0777: writable by every local user/);
    const owned = freshHost({ '/etc/systemd/system': { ...dir, uid: 1000 } });
    expect(() => plan(bundle(), owned)).toThrow(/\/etc\/systemd\/system is owned by uid 1000/);
    expect(unsafeAncestors(['/usr/local/bin/x'], freshHost(), target)).toEqual([]);
  });

  test('an existing directory whose mode or owner differs is changed only with --force, and the plan says so', () => {
    const host = freshHost({ '/var/lib/demo': dir, '/var/lib/demo/logs': { ...dir, mode: 0o777 } });
    expect(() => plan(bundle(), host)).toThrow(/\/var\/lib\/demo\/logs exists with mode 0777.*pass --force/);
    const forced = plan(bundle(), host, { force: true });
    expect(forced.actions.find((a) => a.kind === 'apply-tmpfiles')).toMatchObject({ adjusted: [{ path: '/var/lib/demo/logs', mode: 0o777, uid: 0, gid: 0 }] });
    expect(describeAction(forced.actions.find((a) => a.kind === 'apply-tmpfiles')!)).toMatch(/change the mode or owner of \/var\/lib\/demo\/logs/);
    expect(forced.receipt!.directories.find((d) => d.path === '/var/lib/demo/logs')?.previous).toEqual({ mode: 0o777, uid: 0, gid: 0 });
  });

  test("the system's own directories are never declared (not even with --force)", () => {
    const etc = bundle({ directories: [{ path: '/etc', owner: 'root', group: 'root', mode: 0o777 }] });
    expect(() => plan(etc, freshHost(), { force: true })).toThrow(/\/etc is one of the system's own directories/);
  });

  test('a setting that does not match its pattern is refused before anything is planned', () => {
    expect(() => plan(bundle(), freshHost(), { settings: { THRESHOLD: 'ten' } })).toThrow(/THRESHOLD="ten" does not match/);
  });

  test('a file another installed bundle owns is a conflict', () => {
    const other = plan(bundle({ name: 'other' }), freshHost()).receipt!;
    const host = freshHost({ '/usr/local/bin/demo.sh': { kind: 'file', mode: 0o755, uid: 0, gid: 0, checksum: sha('x') } });
    host.otherReceipts = [other];
    expect(() => plan(bundle(), host)).toThrow(/\/usr\/local\/bin\/demo.sh belongs to the installed bundle other/);
  });
});

describe('planUninstall', () => {
  const b = bundle();
  const installed = plan(b, freshHost());
  const host = hostAfter(installed, b);
  const receipt = installed.receipt as Receipt;

  test('stops, removes the listed files, reloads, resets failed; keeps user, data and secrets without --purge', () => {
    const p = planUninstall(receipt, host, { purge: false, force: false }, target);
    expect(p.actions[0]).toMatchObject({ kind: 'stop-disable', units: ['demo.service', 'demo.timer'], enabled: ['demo.timer'] });
    const removed = p.actions.flatMap((a) => (a.kind === 'remove-file' ? [a.path] : []));
    expect(removed).toEqual(expect.arrayContaining(['/usr/local/bin/demo.sh', '/etc/systemd/system/demo.service', paths.override('demo.service')]));
    expect(removed).not.toContain(paths.secretsFile('demo'));
    expect(kinds(p)).not.toContain('remove-user');
    expect(kinds(p)).not.toContain('purge-directory');
    expect(p.retained).toEqual(expect.arrayContaining([paths.secretsFile('demo'), 'user demo-user', '/var/lib/demo/logs/']));
    expect(p.receipt?.state).toBe('retained');
  });

  test('--purge stops the user’s processes, purges the data directory, removes the user, secrets and empty directories', () => {
    const p = planUninstall(receipt, host, { purge: true, force: false }, target);
    expect(kinds(p)).toEqual([
      'stop-disable',
      ...p.actions.filter((a) => a.kind === 'remove-file').map(() => 'remove-file'),
      'daemon-reload',
      'reset-failed',
      'stop-user-processes',
      'purge-directory',
      'remove-directory',
      'remove-directory',
      'remove-directory',
      'remove-directory',
      'remove-user',
    ]);
    // Moved aside beside /var/lib/demo (made by svcctl, removed after it) until the transaction stands.
    expect(p.actions).toContainEqual({ kind: 'purge-directory', path: '/var/lib/demo/logs', aside: '/var/lib/.demo.logs.svcctl-purged' });
    expect(p.actions).toContainEqual({ kind: 'remove-directory', path: '/var/lib/demo' });
    expect(p.actions).toContainEqual({ kind: 'remove-file', path: paths.secretsFile('demo'), role: 'secrets' });
    expect(p.receipt).toBeUndefined();
  });

  test('--purge after an uninstall killed once the data directory was moved aside: purged again, to delete the aside', () => {
    const killed = { ...host, paths: { ...host.paths, '/var/lib/demo': null, '/var/lib/demo/logs': null, '/var/lib/.demo.logs.svcctl-purged': { ...dir, uid: 990, gid: 990 } } };
    const p = planUninstall({ ...receipt, state: 'uninstalling' }, killed, { purge: true, force: false }, target);
    expect(p.actions).toContainEqual({ kind: 'purge-directory', path: '/var/lib/demo/logs', aside: '/var/lib/.demo.logs.svcctl-purged' });
    expect([...purgeAsides(receipt).values()]).toEqual(['/var/lib/.demo.logs.svcctl-purged']);
  });

  test('--purge gives a directory it re-moded (--force) back before it removes what is under it', () => {
    const existing = freshHost({ '/var/lib/demo': { ...dir, mode: 0o700 } });
    const forced = plan(bundle({ directories: [{ path: '/var/lib/demo', owner: 'demo-user', group: 'demo-user', mode: 0o750 }, { path: '/var/lib/demo/logs', owner: 'demo-user', group: 'demo-user', mode: 0o750 }] }), existing, { force: true });
    const after = { ...hostAfter(forced, bundle()), paths: { ...hostAfter(forced, bundle()).paths, '/var/lib/demo': { ...dir, mode: 0o750, uid: 990, gid: 990 }, '/var/lib/demo/logs': { ...dir, mode: 0o750, uid: 990, gid: 990 } } };
    const p = planUninstall(forced.receipt!, after, { purge: true, force: false }, target);
    const steps = kinds(p);
    expect(steps.indexOf('restore-directory')).toBeGreaterThan(-1);
    expect(steps.indexOf('restore-directory')).toBeLessThan(steps.indexOf('purge-directory'));
    expect(p.actions).toContainEqual({ kind: 'purge-directory', path: '/var/lib/demo/logs', aside: '/var/lib/demo/.logs.svcctl-purged' });
  });

  test('--purge keeps a user another installed bundle runs as, and leaves it to that bundle (no receipt kept for it)', () => {
    const other = { ...receipt, bundle: 'other', artifacts: [], directories: [] };
    const p = planUninstall(receipt, { ...host, otherReceipts: [other] }, { purge: true, force: false }, target);
    expect(kinds(p)).not.toContain('remove-user');
    expect(kinds(p)).not.toContain('stop-user-processes');
    expect(p.notes.join()).toMatch(/user demo-user is kept: other uses it too, and removes it when purged/);
    expect(p.receipt).toBeUndefined();
  });

  test('a file changed since install is reported and kept, unless --force', () => {
    const drifted = { ...host, paths: { ...host.paths, '/usr/local/bin/demo.sh': { kind: 'file' as const, mode: 0o755, uid: 0, gid: 0, checksum: sha('edited by hand') } } };
    const p = planUninstall(receipt, drifted, { purge: true, force: false }, target);
    expect(p.drifted).toEqual(['/usr/local/bin/demo.sh']);
    expect(p.actions.some((a) => a.kind === 'remove-file' && a.path === '/usr/local/bin/demo.sh')).toBe(false);
    const forced = planUninstall(receipt, drifted, { purge: true, force: true }, target);
    expect(forced.drifted).toEqual([]);
    expect(forced.actions.some((a) => a.kind === 'remove-file' && a.path === '/usr/local/bin/demo.sh')).toBe(true);
  });

  test('the last bundle out removes a shared directory another bundle made (/etc/svcctl)', () => {
    const alpha = plan(bundle({ name: 'alpha', user: undefined, directories: [], payload: [] }), freshHost()).receipt!;
    const afterAlpha = freshHost({ '/etc/svcctl': dir, '/etc/svcctl/alpha': { ...dir, mode: 0o700 } });
    afterAlpha.otherReceipts = [alpha];
    const beta = plan(bundle({ name: 'beta', user: undefined, directories: [], payload: [] }), afterAlpha).receipt!;
    expect(beta.directories.find((d) => d.path === '/etc/svcctl')).toEqual({ path: '/etc/svcctl', created: true, own: false, shared: true });
  });
});

describe('one transaction for several bundles', () => {
  const a = plan(bundle({ name: 'alpha', user: undefined, directories: [], payload: [] }), freshHost());
  const b = plan(bundle({ name: 'beta', user: undefined, directories: [], payload: [] }), freshHost());
  const merged = mergeActions([a.actions, b.actions]);

  test('one daemon-reload, one systemctl enable call, one check', () => {
    expect(merged.filter((x) => x.kind === 'daemon-reload')).toHaveLength(1);
    expect(merged.filter((x) => x.kind === 'enable')).toEqual([
      { kind: 'enable', units: ['alpha.timer', 'beta.timer'], now: true, before: { 'alpha.timer': { enabled: '', active: '' }, 'beta.timer': { enabled: '', active: '' } }, links: ['/etc/systemd/system/timers.target.wants/alpha.timer', '/etc/systemd/system/timers.target.wants/beta.timer'] },
    ]);
    expect(merged.filter((x) => x.kind === 'check-active')).toEqual([{ kind: 'check-active', units: ['alpha.timer', 'beta.timer'] }]);
  });

  test('a directory both need (/etc/svcctl) is made once, before either bundle’s files', () => {
    const made = merged.filter((x) => x.kind === 'make-directory').map((x) => (x as { path: string }).path);
    expect(made.filter((p) => p === '/etc/svcctl')).toHaveLength(1);
    expect(merged.findIndex((x) => x.kind === 'write-file')).toBeGreaterThan(merged.map((x) => x.kind).lastIndexOf('make-directory'));
  });
});

describe('observationTargets', () => {
  test('every path an install could write, whatever the inputs, so a foreign file there is always seen', () => {
    const d = desire(bundle(), inputs(), target);
    expect(observationTargets(d, undefined, target)).toEqual(
      expect.arrayContaining([
        paths.override('demo.service'),
        paths.override('demo.timer'),
        paths.scheduleDropIn('demo.timer'),
        paths.secretsFile('demo'),
        '/usr/local/bin/demo.sh',
        '/etc/systemd/system/demo.service.d',
        '/var/lib/demo/logs',
        '/var/lib/demo',
        '/etc/systemd/system/timers.target.wants/demo.timer',
        paths.receipt('demo'),
      ]),
    );
    expect(installLinks(d, paths)).toEqual(['/etc/systemd/system/timers.target.wants/demo.timer']);
  });
});

describe('the step registry', () => {
  test('every kind describes itself without a secret value', () => {
    const p = plan(bundle(), freshHost());
    for (const action of p.actions) expect(typeof stepKinds[action.kind].describe(action as never)).toBe('string');
    expect(Object.keys(stepKinds).length).toBeGreaterThanOrEqual(20);
  });
});

describe('a daemon with a health URL', () => {
  const daemon = bundle({
    name: 'web',
    units: [{ name: 'web.service', content: '[Service]\nExecStart=/usr/local/bin/demo.sh\n[Install]\nWantedBy=multi-user.target\n' }],
    enable: ['web.service'],
    schedule: undefined,
    health: { url: 'http://127.0.0.1:8080/', startTimeout: '45s' },
  });

  test('its URL is checked after the one enable and the check that it is active, also with other bundles', () => {
    const web = plan(daemon, freshHost());
    const other = plan(bundle({ name: 'alpha', user: undefined, directories: [], payload: [] }), freshHost());
    const merged = mergeActions([web.actions, other.actions]).map((a) => a.kind);
    expect(merged.indexOf('check-health')).toBeGreaterThan(merged.indexOf('check-active'));
    expect(merged.indexOf('check-active')).toBeGreaterThan(merged.indexOf('enable'));
    expect(web.actions.find((a) => a.kind === 'check-health')).toMatchObject({ timeoutMs: 45_000, once: false, subject: { bundle: 'web', service: 'web.service', health: { url: 'http://127.0.0.1:8080/' } } });
  });
});
