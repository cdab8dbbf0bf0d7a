// User scope, the pure parts: the layout of a home, whom the directory walk trusts, what a user manager cannot honour,
// the manifest's scope rules, and desire()/plan() for a user's own manager (refusals included).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { desire, type Inputs } from '../../src/core/desired.js';
import { emptyHost, type Observed, type PathState } from '../../src/core/observed.js';
import { planInstall, planUninstall, unsafeAncestors } from '../../src/core/plan.js';
import { parseReceipt } from '../../src/core/receipt.js';
import { expandHome, layout, systemTarget, trustsOwner, userTarget, type Target } from '../../src/core/target.js';
import { userScopeProblems } from '../../src/core/bundle/scope.js';
import { unitFileEntries } from '../../src/core/unit-file.js';
import type { Bundle } from '../../src/core/bundle/types.js';
import { UserError } from '../../src/core/errors.js';
import { BundleManifestError } from '../../src/core/bundle/manifest.js';
import { loadBundle } from '../../src/system/bundles/load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const scratch = path.resolve(here, `../.tmp-user-scope-${process.pid}`);
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const alice: Target = userTarget({ name: 'alice', group: 'alice', uid: 1000, gid: 1000, home: '/home/alice', runtimeDir: '/run/user/1000' });
const hostKey = Buffer.alloc(32, 3);

function userBundle(overrides: Partial<Bundle> = {}): Bundle {
  return {
    name: 'hello',
    description: 'a job of a user',
    directory: '/home/alice/bundles/hello',
    manifestPath: '/home/alice/bundles/hello/bundle.yaml',
    digest: 'd1',
    scopes: ['user'],
    units: [
      { name: 'hello.service', content: '[Service]\nType=oneshot\nExecStart=%h/.local/bin/hello.sh\n' },
      { name: 'hello.timer', content: '[Timer]\nOnActiveSec=5min\n[Install]\nWantedBy=timers.target\n' },
    ],
    enable: ['hello.timer'],
    payload: [{ source: 'hello.sh', destination: '~/.local/bin/hello.sh', mode: 0o755, content: Buffer.from('#!/bin/sh\necho hi\n') }],
    directories: [{ path: '~/.local/share/hello', owner: 'root', group: 'root', mode: 0o700 }],
    settings: [],
    secrets: [{ key: 'TOKEN', prompt: 'token', generate: 'hex32', required: true }],
    configFiles: [],
    directives: [],
    schedule: { timer: 'hello.timer', default: '5min' },
    ...overrides,
  };
}

function inputs(overrides: Partial<Inputs> = {}): Inputs {
  return { settings: {}, secrets: { TOKEN: { value: 'a-secret', source: 'generated' } }, force: false, start: true, enable: true, now: '2026-12-01T00:00:00.000Z', svcctlVersion: '0.1.0', ...overrides };
}

const homeDir = (uid: number, mode = 0o755): PathState => ({ kind: 'directory', mode, uid, gid: uid });

/** A fresh home: /home (root's) and /home/alice (hers), nothing in it. */
function freshHome(): Observed {
  return { ...emptyHost(), users: { root: { uid: 0, gid: 0 }, alice: { uid: 1000, gid: 1000 } }, groups: { root: { gid: 0 }, alice: { gid: 1000 } }, paths: { '/home': homeDir(0), '/home/alice': homeDir(1000, 0o750) } };
}

describe('layout of a user scope', () => {
  test('every path is in the home (or the runtime directory, for the lock); no sysusers.d', () => {
    const l = layout(alice);
    expect({
      unitDir: l.unitDir,
      stateDir: l.stateDir,
      configDir: l.configDir,
      tmpfilesDir: l.tmpfilesDir,
      lockFile: l.lockFile,
      binDir: l.binDir,
      payloadRoots: l.payloadRoots,
      secretsFile: l.secretsFile('hello'),
      receipt: l.receipt('hello'),
      sysusers: l.sysusers('hello'),
    }).toEqual({
      unitDir: '/home/alice/.config/systemd/user',
      stateDir: '/home/alice/.local/state/svcctl',
      configDir: '/home/alice/.config/svcctl',
      tmpfilesDir: '/home/alice/.config/user-tmpfiles.d',
      lockFile: '/run/user/1000/svcctl.lock',
      binDir: '/home/alice/.local/bin',
      payloadRoots: ['/home/alice'],
      secretsFile: '/home/alice/.config/svcctl/hello/secrets.env',
      receipt: '/home/alice/.local/state/svcctl/hello.json',
      sysusers: undefined,
    });
    expect(l.sysusersDir).toBeUndefined();
    expect(l.vendorUnitDirs).toContain('/usr/lib/systemd/user');
    // The home and its standard directories are never a bundle's: never re-moded, never purged.
    for (const d of ['/home/alice', '/home/alice/.config', '/home/alice/.local/bin', '/home/alice/.local/share', '/etc']) expect(l.standardDirectories.has(d)).toBe(true);
    expect(l.standardDirectories.has('/home/alice/.local/share/hello')).toBe(false);
  });

  test('~/ paths are inside the home; absolute ones stay as they are', () => {
    expect(expandHome('~/.local/bin/x.sh', alice)).toBe('/home/alice/.local/bin/x.sh');
    expect(expandHome('/usr/local/bin/x.sh', alice)).toBe('/usr/local/bin/x.sh');
  });
});

describe('whom the directory walk trusts', () => {
  test('root everywhere; the user only at and below his home; nobody else, and no one in system scope but root', () => {
    expect(trustsOwner(alice, '/', 0)).toBe(true);
    expect(trustsOwner(alice, '/home/alice', 1000)).toBe(true);
    expect(trustsOwner(alice, '/home/alice/.config/systemd/user', 1000)).toBe(true);
    expect(trustsOwner(alice, '/home', 1000)).toBe(false);
    expect(trustsOwner(alice, '/home/alice2', 1000)).toBe(false);
    expect(trustsOwner(alice, '/srv/alice', 1000)).toBe(false);
    expect(trustsOwner(alice, '/home/alice/x', 1001)).toBe(false);
    expect(trustsOwner(systemTarget(), '/home/alice', 1000)).toBe(false);
  });

  test('unsafeAncestors: her own home is fine, a directory of hers above it or one writable by others is not', () => {
    const files = ['/home/alice/.config/systemd/user/hello.service'];
    const ok = freshHome();
    ok.paths['/home/alice/.config'] = homeDir(1000);
    expect(unsafeAncestors(files, ok, alice)).toEqual([]);
    const groupWritable = freshHome();
    groupWritable.paths['/home/alice/.config'] = homeDir(1000, 0o775);
    expect(unsafeAncestors(files, groupWritable, alice)).toEqual([expect.stringContaining('/home/alice/.config has mode 0775: writable by its group')]);
    const hersAbove = freshHome();
    hersAbove.paths['/home'] = homeDir(1000);
    expect(unsafeAncestors(files, hersAbove, alice)).toEqual([expect.stringContaining('/home is owned by uid 1000')]);
    const someoneElse = freshHome();
    someoneElse.paths['/home/alice/.config'] = homeDir(1001);
    expect(unsafeAncestors(files, someoneElse, alice)).toEqual([expect.stringContaining('/home/alice/.config is owned by uid 1001')]);
  });
});

describe('what a user manager cannot honour', () => {
  const unit = (body: string) => new Map([['x.service', body]]);
  const problemsOf = (body: string) => userScopeProblems({ scopes: ['user'], units: ['x.service'] }, unit(body)).map((p) => p.message);

  test.each([
    ['User=alice', 'cannot switch to another'],
    ['Group=adm', 'cannot change the group'],
    ['SupplementaryGroups=adm', 'cannot add groups'],
    ['DynamicUser=yes', 'cannot allocate a user'],
    ['CapabilityBoundingSet=', 'capability bounding set'],
    ['CapabilityBoundingSet=CAP_NET_ADMIN', 'capability bounding set'],
    ['AmbientCapabilities=CAP_NET_BIND_SERVICE', 'no capabilities to grant'],
    ['SecureBits=keep-caps', 'secure bits'],
    ['PrivateDevices=yes', 'drops capabilities'],
    ['ProtectKernelModules=true', 'drops capabilities'],
    ['ProtectKernelLogs=on', 'drops capabilities'],
    ['ProtectClock=1', 'drops capabilities'],
    ['RootDirectory=/srv/root', 'needs root'],
    ['NetworkNamespacePath=/run/netns/x', 'needs root'],
    ['CPUSchedulingPolicy=fifo', 'real-time scheduling'],
    ['IOSchedulingClass=realtime', 'real-time I/O'],
  ])('[Service] %s is refused', (line, why) => {
    expect(problemsOf(`[Service]\nExecStart=/bin/true\n${line}\n`)).toEqual([expect.stringMatching(new RegExp(`^x\\.service:3: ${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*${why}`))]);
  });

  test.each(['PrivateDevices=no', 'CapabilityBoundingSet=~', 'ProtectSystem=strict', 'PrivateTmp=yes', 'NoNewPrivileges=yes', 'IOSchedulingClass=idle', 'CPUSchedulingPolicy=batch', 'Nice=10'])('[Service] %s works under a user manager', (line) => {
    expect(problemsOf(`[Service]\nExecStart=/bin/true\n${line}\n`)).toEqual([]);
  });

  test('a unit wanted by a system target would never start; default.target and timers.target are fine', () => {
    expect(problemsOf('[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n')).toEqual([expect.stringContaining('a user manager has no multi-user.target')]);
    expect(problemsOf('[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\n')).toEqual([]);
    expect(problemsOf('[Timer]\nOnActiveSec=1min\n[Install]\nWantedBy=timers.target\n')).toEqual([]);
  });

  test('User= in the [Unit] section or a comment is not a directive of the process', () => {
    expect(problemsOf('[Unit]\nDescription=User=root is not here\n# User=root\n; Group=root\n[Service]\nExecStart=/bin/true\n')).toEqual([]);
  });

  test('continued lines are one directive, at the line it starts on (the one unit-file reader)', () => {
    expect(unitFileEntries('[Service]\nExecStart=/bin/echo \\\n  two \\\n  three\nUser=x\n')).toEqual([
      { section: 'Service', key: 'ExecStart', value: expect.stringMatching(/^\/bin\/echo\s+two\s+three$/), line: 2 },
      { section: 'Service', key: 'User', value: 'x', line: 5 },
    ]);
    expect(problemsOf('[Service]\nExecStart=/bin/true\nDynamicUser=\\\n  yes\n')).toEqual([expect.stringMatching(/^x\.service:3: DynamicUser=/)]);
  });

  test('the manifest: a system user, paths outside the home, owners, and drop-in directives', () => {
    const problems = userScopeProblems(
      {
        scopes: ['user'],
        units: [],
        user: { name: 'svc' },
        payload: [{ destination: '/usr/local/bin/x.sh' }, { destination: '~/.local/bin/y.sh', owner: 'root' }],
        directories: [{ path: '/var/lib/x' }],
        configFiles: [{ path: '~/.config/x.env', group: 'adm' }],
        settings: [{ directive: 'User', default: 'nobody' }, { directive: 'WorkingDirectory', default: '/tmp' }],
        directives: [{ directive: 'Service.DynamicUser', value: 'yes' }],
      },
      new Map(),
    );
    expect(problems.map((p) => [p.at.join('.'), p.message.split(':')[0]])).toEqual([
      ['user', 'declares the system user svc, which a user manager can neither create nor run services as'],
      ['payload.0.destination', '"/usr/local/bin/x.sh" is outside the home'],
      ['payload.1.owner', 'in user scope everything belongs to the user who installs the bundle'],
      ['directories.0.path', '"/var/lib/x" is outside the home'],
      ['configFiles.0.group', 'in user scope everything belongs to the user who installs the bundle'],
      ['settings.0.directive', 'User='],
      ['directives.0.directive', 'DynamicUser='],
    ]);
  });

  test('any text: the directive reader never throws, and directives outside the list are never refused', () => {
    const refused = new Set(['User', 'Group', 'SupplementaryGroups', 'DynamicUser', 'CapabilityBoundingSet', 'AmbientCapabilities', 'SecureBits', 'PrivateDevices', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectClock', 'RootDirectory', 'RootImage', 'NetworkNamespacePath', 'CPUSchedulingPolicy', 'IOSchedulingClass', 'WantedBy', 'RequiredBy', 'UpheldBy']);
    fc.assert(
      fc.property(fc.string(), fc.stringMatching(/^[A-Z][A-Za-z]{0,20}$/), fc.string(), (noise, key, value) => {
        unitFileEntries(noise);
        const line = value.replace(/[\r\n\\]/g, '');
        const problems = problemsOf(`[Service]\n${key}=${line}\n`);
        return refused.has(key) || problems.length === 0;
      }),
    );
  });
});

describe('desire() and plan() for a user manager', () => {
  test('files in the home, all owned by the user, secrets 0600 in a 0700 directory, tmpfiles in her own tmpfiles.d', () => {
    const d = desire(userBundle(), inputs(), alice);
    expect(d.scope).toBe('user');
    expect(d.user).toBeUndefined();
    expect(d.files.map((f) => [f.path, f.role, f.mode.toString(8), `${f.owner}:${f.group}`])).toEqual([
      ['/home/alice/.local/bin/hello.sh', 'payload', '755', 'alice:alice'],
      ['/home/alice/.config/user-tmpfiles.d/svcctl-hello.conf', 'tmpfiles', '644', 'alice:alice'],
      ['/home/alice/.config/svcctl/hello/secrets.env', 'secrets', '600', 'alice:alice'],
      ['/home/alice/.config/systemd/user/hello.service', 'unit', '644', 'alice:alice'],
      ['/home/alice/.config/systemd/user/hello.timer', 'unit', '644', 'alice:alice'],
      ['/home/alice/.config/systemd/user/hello.service.d/override.conf', 'drop-in', '600', 'alice:alice'],
    ]);
    expect(d.files.find((f) => f.role === 'tmpfiles')!.content.toString()).toContain('d /home/alice/.local/share/hello 0700 alice alice');
    expect(d.directories).toContainEqual({ path: '/home/alice/.config/svcctl/hello', mode: 0o700, owner: 'alice', group: 'alice', kind: 'own' });
    expect(d.directories).toContainEqual({ path: '/home/alice/.local/share/hello', mode: 0o700, owner: 'alice', group: 'alice', kind: 'data' });
    expect(d.executables).toEqual(['/home/alice/.local/bin/hello.sh']);
  });

  test('a fresh home: svcctl makes the directories it needs (recorded, so uninstall removes them), never the receipts\' ones', () => {
    const d = desire(userBundle(), inputs(), alice);
    const p = planInstall(d, freshHome(), { target: alice, hostKey, force: false, now: '2026-12-01T00:00:00.000Z', svcctlVersion: '0.1.0' });
    const made = p.actions.filter((a) => a.kind === 'make-directory').map((a) => (a as { path: string }).path);
    expect(made).toEqual(expect.arrayContaining(['/home/alice/.config', '/home/alice/.config/systemd', '/home/alice/.config/systemd/user', '/home/alice/.local/bin', '/home/alice/.config/svcctl/hello']));
    // ~/.local and ~/.local/state hold the state directory: the intent receipt's write makes them, no step.
    expect(made).not.toContain('/home/alice/.local');
    const tmpfiles = p.actions.find((a) => a.kind === 'apply-tmpfiles') as { created: string[] };
    expect(tmpfiles.created).toEqual(['/home/alice/.local/share', '/home/alice/.local/share/hello']);
    expect(p.actions.map((a) => a.kind)).not.toContain('apply-sysusers');
    expect(p.receipt!.scope).toBe('user');
    expect(p.receipt!.directories.map((d) => d.path)).toEqual(expect.arrayContaining(['/home/alice/.config', '/home/alice/.local/bin', '/home/alice/.local/share']));
    // The receipt is one a user-scope read accepts (paths inside the home).
    expect(() => parseReceipt(JSON.parse(JSON.stringify(p.receipt)), 'hello', layout(alice))).not.toThrow();
  });

  test('uninstall --purge of that receipt stops nothing of a system user and removes the data directory', () => {
    const d = desire(userBundle(), inputs(), alice);
    const p = planInstall(d, freshHome(), { target: alice, hostKey, force: false, now: '2026-12-01T00:00:00.000Z', svcctlVersion: '0.1.0' });
    const after = freshHome();
    for (const dir of p.receipt!.directories) after.paths[dir.path] = homeDir(1000);
    for (const a of p.receipt!.artifacts) after.paths[a.path] = { kind: 'file', mode: a.mode, uid: 1000, gid: 1000, checksum: a.checksum };
    const u = planUninstall(p.receipt!, after, { purge: true, force: false }, alice);
    const kinds = u.actions.map((a) => a.kind);
    expect(kinds).not.toContain('stop-user-processes');
    expect(kinds).not.toContain('remove-user');
    // moved aside next to the topmost directory svcctl made (~/.local/share), removed once the rest is done
    expect(u.actions).toContainEqual({ kind: 'purge-directory', path: '/home/alice/.local/share/hello', aside: '/home/alice/.local/.share.hello.svcctl-purged' });
    expect(u.receipt).toBeUndefined();
  });

  test('refusals (exit 2, before any plan): a bundle that does not declare user scope, with every reason; a user-only bundle in system scope', () => {
    const systemBundle = userBundle({
      scopes: undefined,
      user: { name: 'svc', home: '/var/lib/svc', shell: '/usr/sbin/nologin', groups: [] },
      payload: [{ source: 'x.sh', destination: '/usr/local/bin/x.sh', mode: 0o755, content: Buffer.from('') }],
      directories: [],
      units: [{ name: 'hello.service', content: '[Service]\nUser=svc\nExecStart=/usr/local/bin/x.sh\n' }],
      enable: [],
      schedule: undefined,
    });
    let refused: unknown;
    try {
      desire(systemBundle, inputs(), alice);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as UserError).problems).toEqual([
      expect.stringContaining('does not declare it'),
      expect.stringContaining('user: declares the system user svc'),
      expect.stringContaining('payload[0].destination: "/usr/local/bin/x.sh" is outside the home'),
      expect.stringContaining('units[0]: hello.service:2: User=svc'),
    ]);
    expect(() => desire(userBundle(), inputs(), systemTarget())).toThrow(/is for user scope only/);
    // Declared for both, with nothing a user manager cannot do: either scope renders.
    const both = userBundle({ scopes: ['system', 'user'], payload: [], directories: [], units: [{ name: 'hello.service', content: '[Service]\nExecStart=/usr/bin/true\n' }], enable: [], schedule: undefined });
    expect(desire(both, inputs(), alice).files.every((f) => f.path.startsWith('/home/alice/'))).toBe(true);
    expect(desire(both, inputs(), systemTarget()).files.every((f) => f.owner === 'root')).toBe(true);
  });
});

describe('the manifest: scopes and ~/ paths', () => {
  const units = { 'hello.service': '[Service]\nType=oneshot\nExecStart=%h/.local/bin/hello.sh\n', 'hello.sh': '#!/bin/sh\n' };
  async function bundleDir(name: string, manifest: string, files: Record<string, string> = units): Promise<string> {
    const dir = path.join(scratch, name);
    await mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
    await writeFile(path.join(dir, 'bundle.yaml'), manifest);
    return dir;
  }
  const problemsOf = async (dir: string) =>
    loadBundle(dir).then(
      () => [],
      (error: unknown) => {
        if (!(error instanceof BundleManifestError)) throw error;
        return error.problems;
      },
    );

  test('a bundle for user scope with ~/ paths loads; its scopes are kept', async () => {
    const dir = await bundleDir('ok', 'name: hello\ndescription: d\nscopes: [user]\nunits: [hello.service]\npayload:\n  - { source: hello.sh, destination: ~/.local/bin/hello.sh, mode: "0755" }\ndirectories:\n  - { path: ~/.local/share/hello }\n');
    const bundle = await loadBundle(dir);
    expect(bundle.scopes).toEqual(['user']);
    expect(bundle.payload[0]!.destination).toBe('~/.local/bin/hello.sh');
  });

  test('~/ needs scopes: [user] alone; svcctl\'s and systemd\'s places and the home\'s standard directories are refused', async () => {
    const dir = await bundleDir('bad', 'name: hello\ndescription: d\nscopes: [system, user]\nunits: [hello.service]\npayload:\n  - { source: hello.sh, destination: ~/.local/bin/hello.sh, mode: "0755" }\n');
    expect(await problemsOf(dir)).toEqual([expect.stringMatching(/bundle\.yaml:6:\d+: payload\[0\]\.destination: "~\/\.local\/bin\/hello\.sh" is in the home of the user who installs the bundle, which only a bundle for user scope alone has/)]);
    const places = await bundleDir('places', 'name: hello\ndescription: d\nscopes: [user]\nunits: [hello.service]\npayload:\n  - { source: hello.sh, destination: ~/.config/systemd/user/x.sh, mode: "0755" }\ndirectories:\n  - { path: ~/.config }\n  - { path: ~/../bob }\n');
    expect(await problemsOf(places)).toEqual([
      expect.stringContaining('payload[0].destination: "~/.config/systemd/user/x.sh" is under ~/.config/systemd'),
      expect.stringContaining('directories[0].path: "~/.config" is one of the home\'s standard directories'),
      expect.stringContaining('directories[1].path: "~/../bob" must not contain ..'),
    ]);
  });

  test('a bundle declaring user scope is refused at load for what a user manager cannot do, at the unit\'s line in the manifest', async () => {
    const dir = await bundleDir('privileged', 'name: hello\ndescription: d\nscopes: [user]\nunits: [hello.service]\n', { 'hello.service': '[Service]\nExecStart=/bin/true\nDynamicUser=yes\n' });
    expect(await problemsOf(dir)).toEqual([expect.stringMatching(/bundle\.yaml:4:\d+: units\[0\]: hello\.service:3: DynamicUser=yes: a user manager cannot allocate a user/)]);
  });
});
