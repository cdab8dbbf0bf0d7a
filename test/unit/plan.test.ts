// plan() is pure: these tests feed it in-memory bundles and observed hosts, no mocks and no I/O.
import { createHash } from 'node:crypto';
import { describeAction, mergePlans, planInstall, planUninstall } from '../../src/core/plan.js';
import { paths, type Inputs, type Observed, type Receipt } from '../../src/core/types.js';
import type { Bundle } from '../../src/core/bundle/types.js';
import type { PathState } from '../../src/system/fs.js';
import { UserError } from '../../src/core/errors.js';

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

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
    settings: [
      { key: 'THRESHOLD', description: 'threshold', default: '600', pattern: '[0-9]+', target: { kind: 'environment', name: 'THRESHOLD' } },
    ],
    secrets: [{ key: 'TOKEN', prompt: 'token', generate: 'hex32', required: true }],
    schedule: { timer: `${name}.timer`, default: '5min' },
    health: { maxAge: '15min' },
    ...overrides,
  };
}

const dir: PathState = { kind: 'directory', mode: 0o755, uid: 0, gid: 0 };
const hostDirs = ['/usr', '/usr/local', '/usr/local/bin', '/etc', '/etc/systemd', '/etc/systemd/system', '/etc/sysusers.d', '/etc/tmpfiles.d', '/var', '/var/lib'];

function freshHost(extra: Record<string, PathState | null> = {}): Observed {
  return { paths: { ...Object.fromEntries(hostDirs.map((d) => [d, dir])), ...extra }, users: ['root'], groups: ['root'], existingSecrets: {}, units: {} };
}

function inputs(overrides: Partial<Inputs> = {}): Inputs {
  return {
    settings: { THRESHOLD: '600' },
    secrets: { TOKEN: { value: 'super-secret-value', source: 'generated' } },
    force: false,
    start: true,
    offline: false,
    now: '2026-11-22T00:00:00.000Z',
    svcctlVersion: '0.1.0',
    ...overrides,
  };
}

/** The host as it is right after `plan` was applied: every file written, directories made, units running. */
function hostAfter(plan: ReturnType<typeof planInstall>, b: Bundle): Observed {
  const observed = freshHost();
  for (const action of plan.actions) {
    if (action.kind === 'write-file') observed.paths[action.path] = { kind: 'file', mode: action.mode, uid: 0, gid: 0, sha256: action.sha256 };
    if (action.kind === 'make-directory') observed.paths[action.path] = { ...dir, mode: action.mode };
  }
  for (const d of b.directories) observed.paths[d.path] = dir;
  observed.paths['/var/lib/demo'] = dir;
  observed.users.push(b.user!.name);
  observed.groups.push(b.user!.name);
  observed.units = Object.fromEntries(b.enable.map((u) => [u, { activeState: 'active', unitFileState: 'enabled' }]));
  observed.receipt = plan.receipt!;
  observed.existingSecrets = { TOKEN: 'super-secret-value' };
  return observed;
}

describe('planInstall on a fresh host', () => {
  const b = bundle();
  const plan = planInstall(b, freshHost(), inputs());
  const kinds = plan.actions.map((a) => a.kind);

  test('orders the steps: directories, payload, user, directories, secrets, units, one reload, one enable, post-check', () => {
    expect(kinds).toEqual([
      'make-directory', // /etc/svcctl
      'make-directory', // /etc/svcctl/demo
      'make-directory', // /etc/systemd/system/demo.service.d
      'write-file', // payload
      'write-file', // sysusers.d
      'apply-sysusers',
      'write-file', // tmpfiles.d
      'apply-tmpfiles',
      'write-file', // secrets.env
      'write-file', // demo.service
      'write-file', // demo.timer
      'write-file', // override.conf
      'daemon-reload',
      'enable',
      'check-active',
    ]);
    expect(kinds.filter((k) => k === 'daemon-reload')).toHaveLength(1);
  });

  test('the secrets file is 0600 in a 0700 directory, marked secret, referenced by EnvironmentFile= only', () => {
    const secrets = plan.actions.find((a) => a.kind === 'write-file' && a.path === paths.secretsFile('demo'));
    expect(secrets).toMatchObject({ mode: 0o600, secret: true, owner: 'root' });
    expect(plan.actions).toContainEqual({ kind: 'make-directory', path: '/etc/svcctl/demo', mode: 0o700 });
    const override = plan.actions.find((a) => a.kind === 'write-file' && a.path === paths.override('demo.service'));
    const text = override?.kind === 'write-file' ? override.content.toString() : '';
    expect(text).toContain('EnvironmentFile=/etc/svcctl/demo/secrets.env');
    expect(text).not.toContain('super-secret-value');
    expect(text).toMatch(/Environment="?THRESHOLD=600/);
    expect(override).toMatchObject({ mode: 0o600 });
  });

  test('no description and no receipt field ever contains a secret value', () => {
    const shown = plan.actions.map(describeAction).join('\n');
    expect(shown).not.toContain('super-secret-value');
    expect(shown).toContain('secret values hidden');
    expect(JSON.stringify(plan.receipt)).not.toContain('super-secret-value');
  });

  test('the receipt lists every artifact with its checksum, the user and the directories it created', () => {
    const receipt = plan.receipt!;
    expect(receipt.artifacts.map((a) => a.path).sort()).toEqual(
      ['/usr/local/bin/demo.sh', paths.sysusers('demo'), paths.tmpfiles('demo'), paths.secretsFile('demo'), '/etc/systemd/system/demo.service', '/etc/systemd/system/demo.timer', paths.override('demo.service')].sort(),
    );
    const payload = receipt.artifacts.find((a) => a.path === '/usr/local/bin/demo.sh');
    expect(payload?.sha256).toBe(sha('#!/bin/sh\necho hi\n'));
    expect(receipt.user).toEqual({ name: 'demo-user', created: true, groupCreated: true });
    expect(receipt.directories).toEqual(
      expect.arrayContaining([
        { path: '/var/lib/demo/logs', created: true, own: false },
        { path: '/var/lib/demo', created: true, own: false },
        { path: '/etc/svcctl/demo', created: true, own: true },
      ]),
    );
    expect(receipt.secrets).toEqual([{ key: 'TOKEN', changedAt: '2026-11-22T00:00:00.000Z' }]);
    expect(receipt.settings).toEqual({ THRESHOLD: '600' });
  });

  test('--no-start enables without --now and skips the post-check', () => {
    const noStart = planInstall(b, freshHost(), inputs({ start: false }));
    expect(noStart.actions).toContainEqual({ kind: 'enable', units: ['demo.timer'], now: false, offline: false });
    expect(noStart.actions.some((a) => a.kind === 'check-active')).toBe(false);
  });

  test('the directories systemd-tmpfiles creates are listed parents first', () => {
    const bare = freshHost();
    delete bare.paths['/var'];
    delete bare.paths['/var/lib'];
    const tmpfiles = planInstall(b, bare, inputs()).actions.find((a) => a.kind === 'apply-tmpfiles');
    expect(tmpfiles).toMatchObject({ created: ['/var', '/var/lib', '/var/lib/demo', '/var/lib/demo/logs'] });
  });

  test('--root (offline) renders files and enables with systemctl --root, no reload', () => {
    const offline = planInstall(b, freshHost(), inputs({ offline: true }));
    expect(offline.actions.some((a) => a.kind === 'daemon-reload' || a.kind === 'check-active' || a.kind === 'restart')).toBe(false);
    expect(offline.actions).toContainEqual({ kind: 'enable', units: ['demo.timer'], now: false, offline: true });
  });
});

describe('planInstall converges', () => {
  const b = bundle();
  const first = planInstall(b, freshHost(), inputs());

  test('the same inputs on the installed host: up to date, nothing reloaded or restarted', () => {
    const again = planInstall(b, hostAfter(first, b), inputs({ secrets: { TOKEN: { value: 'super-secret-value', source: 'existing' } }, now: '2026-11-23T00:00:00.000Z' }));
    expect(again.actions).toEqual([]);
    expect(again.upToDate).toBe(true);
    expect(again.receipt?.installedAt).toBe(first.receipt?.installedAt);
    expect(again.receipt?.secrets[0]?.changedAt).toBe('2026-11-22T00:00:00.000Z');
  });

  test('a changed setting rewrites only the drop-in, reloads once, and restarts nothing for a timer job', () => {
    const changed = planInstall(b, hostAfter(first, b), inputs({ settings: { THRESHOLD: '1200' }, secrets: { TOKEN: { value: 'super-secret-value', source: 'existing' } } }));
    expect(changed.actions.map((a) => (a.kind === 'write-file' ? `write ${a.path}` : a.kind))).toEqual([`write ${paths.override('demo.service')}`, 'daemon-reload']);
  });

  test('a changed schedule writes a timer drop-in and restarts the timer', () => {
    const changed = planInstall(b, hostAfter(first, b), inputs({ schedule: '15min', secrets: { TOKEN: { value: 'super-secret-value', source: 'existing' } } }));
    expect(changed.actions.map((a) => (a.kind === 'write-file' ? `write ${a.path}` : a.kind))).toEqual(['make-directory', `write ${paths.scheduleDropIn('demo.timer')}`, 'daemon-reload', 'restart', 'check-active']);
  });

  test('a new secret value rewrites only the secrets file', () => {
    const changed = planInstall(b, hostAfter(first, b), inputs({ secrets: { TOKEN: { value: 'rotated', source: 'file' } } }));
    expect(changed.actions.map((a) => (a.kind === 'write-file' ? `write ${a.path}` : a.kind))).toEqual([`write ${paths.secretsFile('demo')}`]);
  });
});

describe('planInstall and files it did not create', () => {
  const foreign: PathState = { kind: 'file', mode: 0o644, uid: 0, gid: 0, sha256: sha('hand-made') };

  test('refuses to overwrite without --force (exit 2, names the path and the flag)', () => {
    const observed = freshHost({ '/etc/systemd/system/demo.service': foreign });
    expect(() => planInstall(bundle(), observed, inputs())).toThrow(UserError);
    expect(() => planInstall(bundle(), observed, inputs())).toThrow(/\/etc\/systemd\/system\/demo.service exists and was not created by svcctl/);
  });

  test('with --force it backs the original up and records the backup for uninstall', () => {
    const plan = planInstall(bundle(), freshHost({ '/etc/systemd/system/demo.service': foreign }), inputs({ force: true }));
    const write = plan.actions.find((a) => a.kind === 'write-file' && a.path === '/etc/systemd/system/demo.service');
    expect(write).toMatchObject({ change: 'replace', backupTo: '/var/lib/svcctl/backups/demo/etc/systemd/system/demo.service' });
    expect(plan.receipt?.artifacts.find((a) => a.path === '/etc/systemd/system/demo.service')?.backup).toBe('/var/lib/svcctl/backups/demo/etc/systemd/system/demo.service');
  });

  test('a setting that does not match its pattern is refused before anything is planned', () => {
    expect(() => planInstall(bundle(), freshHost(), inputs({ settings: { THRESHOLD: 'ten' } }))).toThrow(/THRESHOLD="ten" does not match/);
  });
});

describe('planUninstall', () => {
  const b = bundle();
  const installed = planInstall(b, freshHost(), inputs());
  const host = hostAfter(installed, b);
  const receipt = installed.receipt as Receipt;

  test('stops, removes the listed files, reloads, resets failed; keeps user, data and secrets without --purge', () => {
    const plan = planUninstall(receipt, host, { purge: false, force: false, offline: false });
    expect(plan.actions[0]).toEqual({ kind: 'stop-disable', units: ['demo.service', 'demo.timer'], enabled: ['demo.timer'], offline: false });
    const removed = plan.actions.flatMap((a) => (a.kind === 'remove-file' ? [a.path] : []));
    expect(removed).toEqual(expect.arrayContaining(['/usr/local/bin/demo.sh', '/etc/systemd/system/demo.service', paths.override('demo.service')]));
    expect(removed).not.toContain(paths.secretsFile('demo'));
    expect(plan.actions.some((a) => a.kind === 'remove-user')).toBe(false);
    expect(plan.retained).toEqual(expect.arrayContaining([paths.secretsFile('demo'), 'user demo-user', '/var/lib/demo/logs/']));
    expect(plan.receipt?.state).toBe('retained');
  });

  test('--purge removes the user, the data directories and secrets too, and leaves no receipt', () => {
    const plan = planUninstall(receipt, host, { purge: true, force: false, offline: false });
    expect(plan.actions).toContainEqual({ kind: 'remove-user', user: 'demo-user', removeGroup: true });
    expect(plan.actions).toContainEqual({ kind: 'remove-directory', path: '/var/lib/demo/logs', recursive: true });
    expect(plan.actions).toContainEqual({ kind: 'remove-file', path: paths.secretsFile('demo'), role: 'secrets' });
    expect(plan.receipt).toBeUndefined();
  });

  test('a file changed since install is reported and kept, unless --force', () => {
    const drifted = { ...host, paths: { ...host.paths, '/usr/local/bin/demo.sh': { kind: 'file' as const, mode: 0o755, uid: 0, gid: 0, sha256: sha('edited by hand') } } };
    const plan = planUninstall(receipt, drifted, { purge: true, force: false, offline: false });
    expect(plan.drifted).toEqual(['/usr/local/bin/demo.sh']);
    expect(plan.actions.some((a) => a.kind === 'remove-file' && a.path === '/usr/local/bin/demo.sh')).toBe(false);
    const forced = planUninstall(receipt, drifted, { purge: true, force: true, offline: false });
    expect(forced.drifted).toEqual([]);
    expect(forced.actions.some((a) => a.kind === 'remove-file' && a.path === '/usr/local/bin/demo.sh')).toBe(true);
  });
});

describe('mergePlans', () => {
  test('several bundles share one daemon-reload and one systemctl enable call', () => {
    const a = planInstall(bundle({ name: 'alpha', user: undefined, directories: [] }), freshHost(), inputs());
    const b = planInstall(bundle({ name: 'beta', user: undefined, directories: [] }), freshHost(), inputs());
    const merged = mergePlans([a, b]);
    expect(merged.filter((x) => x.kind === 'daemon-reload')).toHaveLength(1);
    const enables = merged.filter((x) => x.kind === 'enable');
    expect(enables).toEqual([{ kind: 'enable', units: ['alpha.timer', 'beta.timer'], now: true, offline: false }]);
    expect(merged.at(-1)).toEqual({ kind: 'check-active', units: ['alpha.timer', 'beta.timer'] });
  });
});

describe('installTargets', () => {
  test('lists every path an install could write, whatever the inputs, so a foreign file there is always seen', async () => {
    const { installTargets } = await import('../../src/core/plan.js');
    const targets = installTargets(bundle());
    expect(targets).toEqual(
      expect.arrayContaining([
        paths.override('demo.service'),
        paths.override('demo.timer'),
        paths.scheduleDropIn('demo.timer'),
        paths.secretsFile('demo'),
        '/usr/local/bin/demo.sh',
        '/etc/systemd/system/demo.service.d',
        '/var/lib/demo/logs',
        '/var/lib/demo',
      ]),
    );
  });
});

describe('a byte-identical file svcctl did not create', () => {
  test('is not adopted silently (uninstall would delete it): a conflict, or backed up with --force', () => {
    const content = '[Service]\nType=oneshot\nExecStart=/usr/local/bin/demo.sh\n';
    const same: PathState = { kind: 'file', mode: 0o644, uid: 0, gid: 0, sha256: sha(content) };
    expect(() => planInstall(bundle(), freshHost({ '/etc/systemd/system/demo.service': same }), inputs())).toThrow(/demo.service exists and was not created by svcctl/);
    const forced = planInstall(bundle(), freshHost({ '/etc/systemd/system/demo.service': same }), inputs({ force: true }));
    expect(forced.actions.find((a) => a.kind === 'write-file' && a.path === '/etc/systemd/system/demo.service')).toMatchObject({ change: 'replace' });
  });
});
