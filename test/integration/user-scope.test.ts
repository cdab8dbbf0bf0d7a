// User scope against a real user manager: a test user with linger (user@UID.service runs), svcctl run as that user
// with --user for the whole life of a job and a daemon, then nothing left in the home that svcctl made and nothing
// changed outside it. Also what such a user meets: exit 77 that names --user, --user as root, a bundle a user manager
// cannot run, no linger, no user manager at all, and a home on a file system that ignores modes.
import { describeInSandbox, type RunResult, type Sandbox } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const job = {
  'bundle.yaml': `name: ujob
description: Test - a job of a user every 2 seconds.
scopes: [user]
units: [ujob.service, ujob.timer]
enable: [ujob.timer]
payload:
  - { source: ujob.sh, destination: ~/.local/bin/ujob.sh, mode: "0755" }
directories:
  - { path: ~/.local/share/ujob, mode: "0700" }
secrets:
  - { key: UJOB_TOKEN, prompt: A token, generate: hex32 }
schedule: { timer: ujob.timer, default: 2s }
health: { maxAge: 10min }
`,
  'ujob.service': `[Unit]
Description=Test job of a user

[Service]
Type=oneshot
ExecStart=%h/.local/bin/ujob.sh
`,
  'ujob.timer': `[Timer]
OnActiveSec=2s
OnUnitActiveSec=2s
AccuracySec=1s

[Install]
WantedBy=timers.target
`,
  // The token's checksum, so that the test sees which value a run had without the value reaching the journal.
  'ujob.sh': `#!/bin/sh
sum=$(printf %s "$UJOB_TOKEN" | sha256sum | cut -c1-16)
echo "ujob ran with token $sum"
date +%s >> "$HOME/.local/share/ujob/runs"
`,
};

const daemon = {
  'bundle.yaml': `name: uweb
description: Test - an HTTP daemon of a user with a health URL.
scopes: [user]
units: [uweb.service]
enable: [uweb.service]
health: { url: "http://127.0.0.1:18097/", startTimeout: 20s }
`,
  'uweb.service': `[Service]
ExecStart=/usr/bin/python3 -m http.server 18097 --bind 127.0.0.1 --directory /usr/share
Restart=on-failure

[Install]
WantedBy=default.target
`,
};

/** A bundle that declares nothing about scope and needs a system user and root's directives. */
const privileged = {
  'bundle.yaml': `name: upriv
description: Test - needs the system manager.
units: [upriv.service]
`,
  'upriv.service': `[Service]
User=nobody
CapabilityBoundingSet=
ExecStart=/bin/true

[Install]
WantedBy=multi-user.target
`,
};

interface TestUser {
  name: string;
  uid: number;
  home: string;
}

describeInSandbox('user scope (--user), as a user without root', (sandbox: Sandbox) => {
  let tester: TestUser;

  /** Runs argv as `user` the way a login would: his HOME, his runtime directory (unless `runtimeDir` is false), no root. */
  const as = (user: TestUser, argv: string[], options: { input?: string; runtimeDir?: boolean; timeoutMs?: number } = {}): Promise<RunResult> =>
    sandbox.run(
      [
        'setpriv', `--reuid=${user.uid}`, `--regid=${user.uid}`, '--init-groups',
        'env', '-i', `HOME=${user.home}`, `USER=${user.name}`, `LOGNAME=${user.name}`, 'PATH=/run/svcctl-sandbox/bin:/usr/bin:/bin', 'NO_COLOR=1',
        ...(options.runtimeDir === false ? [] : [`XDG_RUNTIME_DIR=/run/user/${user.uid}`]),
        ...argv,
      ],
      { ...(options.input !== undefined ? { input: options.input } : {}), timeoutMs: options.timeoutMs ?? 120_000 },
    );
  const svcctl = (user: TestUser, args: string[], options: { input?: string; runtimeDir?: boolean } = {}) => as(user, ['svcctl', ...args], options);
  const json = (result: RunResult) => {
    expect(result).toMatchObject({ exitCode: 0 });
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };

  async function makeUser(name: string, manager: 'linger' | 'started' | 'none'): Promise<TestUser> {
    const made = await sandbox.sh(`useradd -m -s /bin/sh ${name} && id -u ${name}`);
    expect(made.exitCode).toBe(0);
    const user = { name, uid: Number(made.stdout.trim()), home: `/home/${name}` };
    if (manager === 'linger') expect((await sandbox.run(['loginctl', 'enable-linger', name])).exitCode).toBe(0);
    if (manager === 'started') expect((await sandbox.run(['systemctl', 'start', `user@${user.uid}.service`])).exitCode).toBe(0);
    if (manager !== 'none') await waitFor(`${name}'s user manager`, () => as(user, ['systemctl', '--user', 'is-system-running']), (r) => r.stdout.trim() === 'running', { timeoutMs: 60_000 });
    return user;
  }

  /** Writes a bundle into the user's home, as the user (a bundle of his own). */
  async function writeBundle(user: TestUser, name: string, files: Record<string, string>): Promise<string> {
    const dir = `${user.home}/bundles/${name}`;
    for (const [file, content] of Object.entries(files)) {
      const written = await as(user, ['sh', '-c', `mkdir -p ${dir} && cat > ${dir}/${file} && chmod ${file.endsWith('.sh') ? 755 : 644} ${dir}/${file}`], { input: content });
      expect(written.exitCode).toBe(0);
    }
    return dir;
  }

  /** Everything in the home with its mode and owner (the bundles are the user's own, written before). */
  const homeListing = async (user: TestUser) => (await sandbox.sh(`find ${user.home} -printf '%p %M %u:%g\\n' | sort`)).stdout;
  /** The sandbox's changes outside the home. */
  const changesOutside = async (user: TestUser) => (await sandbox.changes()).filter((c) => c.path !== user.home && !c.path.startsWith(`${user.home}/`));

  let jobDir: string;
  let webDir: string;
  let privDir: string;
  let homeBefore: string;
  let outsideBefore: Awaited<ReturnType<typeof changesOutside>>;

  beforeAll(async () => {
    tester = await makeUser('tester', 'linger');
    jobDir = await writeBundle(tester, 'ujob', job);
    webDir = await writeBundle(tester, 'uweb', daemon);
    privDir = await writeBundle(tester, 'upriv', privileged);
    homeBefore = await homeListing(tester);
    outsideBefore = await changesOutside(tester);
  }, 120_000);

  test('without root and without --user: exit 77, and the message says --user would do', async () => {
    for (const args of [['install', jobDir, '--yes'], ['doctor'], ['run', 'ujob'], ['uninstall', 'ujob', '--yes'], ['secret', 'list', 'ujob']]) {
      const result = await svcctl(tester, args);
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 77 });
      expect(result.stderr).toMatch(/needs root/);
      expect(result.stderr).toContain('--user');
    }
    // status needs no root: nothing in the system's manager, and where the user's own bundles are.
    const status = await svcctl(tester, ['status']);
    expect(status.exitCode).toBe(0);
    expect(status.stderr).toContain('no bundles installed');
    expect(status.stderr).toContain('svcctl status --user');
  });

  test('--user as root (under sudo) is refused: it would install into root\'s own manager', async () => {
    const result = await sandbox.run(['svcctl', 'install', jobDir, '--user', '--yes'], { env: { SUDO_USER: 'tester' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("svcctl runs as root (under sudo, for tester): it would install into root's manager");
    expect(result.stderr).toContain('run it as tester, without sudo');
    expect((await sandbox.run(['test', '-e', '/root/.config/systemd/user/ujob.service'])).exitCode).not.toBe(0);
  });

  test('a bundle a user manager cannot run is refused by verify and install, naming every reason; nothing changes', async () => {
    const verified = await svcctl(tester, ['verify', privDir, '--user']);
    expect(verified.exitCode).toBe(2);
    for (const reason of ['does not declare it', 'upriv.service:2: User=nobody', 'upriv.service:3: CapabilityBoundingSet=', 'a user manager has no multi-user.target']) expect(verified.stderr).toContain(reason);
    const installed = await svcctl(tester, ['install', privDir, '--user', '--yes']);
    expect(installed.exitCode).toBe(2);
    expect(installed.stderr).toContain('bundle upriv cannot be installed in user scope');
    expect(installed.stderr).toContain('User=nobody');
    expect(await homeListing(tester)).toBe(homeBefore);
  });

  test('a job: installed, its timer fires; status, list-timers, logs, run, check, doctor, schedule, secret rotate', async () => {
    const installed = await svcctl(tester, ['install', jobDir, '--user', '--yes']);
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).toContain("ujob installed in tester's systemd user manager");
    expect(installed.stderr).toContain('systemctl daemon-reload');
    // The files are the user's, in his home: the secret 0600 in a 0700 directory.
    const stat = (p: string) => as(tester, ['stat', '-c', '%a %U:%G', p]).then((r) => r.stdout.trim());
    expect(await stat(`${tester.home}/.config/svcctl/ujob/secrets.env`)).toBe('600 tester:tester');
    expect(await stat(`${tester.home}/.config/svcctl/ujob`)).toBe('700 tester:tester');
    expect(await stat(`${tester.home}/.config/systemd/user/ujob.service`)).toBe('644 tester:tester');
    expect(await stat(`${tester.home}/.local/share/ujob`)).toBe('700 tester:tester');
    expect(await stat(`${tester.home}/.local/state/svcctl/ujob.json`)).toBe('600 tester:tester');
    expect((await as(tester, ['systemctl', '--user', 'is-active', 'ujob.timer'])).stdout.trim()).toBe('active');
    // Fires: two runs of its own, on the 2 s timer.
    await waitFor('two runs of ujob', () => as(tester, ['sh', '-c', `wc -l < ${tester.home}/.local/share/ujob/runs 2>/dev/null || echo 0`]), (r) => Number(r.stdout.trim()) >= 2, { timeoutMs: 60_000 });

    const status = json(await svcctl(tester, ['status', 'ujob', '--user', '--json']));
    expect(status).toMatchObject({ bundle: 'ujob', health: 'ok', user: { name: 'tester', linger: true }, secrets: [{ key: 'UJOB_TOKEN' }] });
    expect((status.drift as { changed: unknown[] }).changed).toEqual([]);
    // Without XDG_RUNTIME_DIR (su, cron) svcctl finds the manager at /run/user/UID.
    expect(json(await svcctl(tester, ['status', '--user', '--json'], { runtimeDir: false }))).toMatchObject({ bundles: [{ bundle: 'ujob' }] });

    const timers = json(await svcctl(tester, ['list-timers', '--user', '--json'])) as { timers: { unit: string; bundle: string; lastRun: { state: string } }[] };
    expect(timers.timers).toEqual([expect.objectContaining({ unit: 'ujob.timer', bundle: 'ujob' })]);

    const logs = await waitFor('a run\'s line in svcctl logs', () => svcctl(tester, ['logs', 'ujob', '--user', '-n', '50']), (r) => /ujob ran with token [0-9a-f]{16}/.test(r.stdout), { timeoutMs: 60_000 });
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toMatch(/ujob ran with token [0-9a-f]{16}/);

    const run = await svcctl(tester, ['run', 'ujob', '--user']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/ujob ran with token [0-9a-f]{16}/);

    const check = await svcctl(tester, ['check', 'ujob', '--user']);
    expect(check.exitCode).toBe(0);
    expect(check.stdout).toMatch(/^SVCCTL OK - ujob/);

    const doctor = await svcctl(tester, ['doctor', 'ujob', '--user']);
    expect(doctor.stdout).toContain('linger is on for tester');
    expect(doctor.stdout).toContain(`/run/user/${tester.uid}/svcctl.lock`);
    expect(doctor.exitCode).toBe(0);

    const scheduled = await svcctl(tester, ['schedule', 'ujob', '1h', '--user']);
    expect(scheduled.exitCode).toBe(0);
    expect((await as(tester, ['cat', `${tester.home}/.config/systemd/user/ujob.timer.d/schedule.conf`])).stdout).toContain('OnUnitActiveSec=1h');
    const rescheduled = json(await svcctl(tester, ['list-timers', '--user', '--json'])) as { timers: { next: string }[] };
    expect(Date.parse(rescheduled.timers[0]!.next) - Date.now()).toBeGreaterThan(50 * 60_000);

    // Rotation: a new value, the job run with it and checked. Which value a run had shows as its checksum.
    const tokenSum = async () => (await as(tester, ['sh', '-c', `. ${tester.home}/.config/svcctl/ujob/secrets.env && printf %s "$UJOB_TOKEN" | sha256sum | cut -c1-16`])).stdout.trim();
    const before = await tokenSum();
    const rotated = await svcctl(tester, ['secret', 'rotate', 'ujob', '--user']);
    expect(rotated.exitCode).toBe(0);
    expect(rotated.stderr).toContain('UJOB_TOKEN of ujob rotated');
    const after = await tokenSum();
    expect(after).not.toBe(before);
    expect(await stat(`${tester.home}/.config/svcctl/ujob/secrets.env`)).toBe('600 tester:tester');
    // The job's stdout reaches the journal through journald's stream, which may be read after systemd's own
    // "Finished" line: the line is waited for, not expected at once.
    const rotatedLogs = await waitFor('the rotated run\'s line in svcctl logs', () => svcctl(tester, ['logs', 'ujob', '--user', '-n', '20']), (r) => r.stdout.includes(`ujob ran with token ${after}`), { timeoutMs: 60_000 });
    expect(rotatedLogs.stdout).toContain(`ujob ran with token ${after}`);
  });

  test('a daemon with a health URL: installed only once it answers, restarted, healthy', async () => {
    const installed = await svcctl(tester, ['install', webDir, '--user', '--yes']);
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).toMatch(/check the health of uweb\n.*OK - uweb/);
    const status = json(await svcctl(tester, ['status', 'uweb', '--user', '--json']));
    expect(status).toMatchObject({ health: 'ok', url: { ok: true, status: 200 } });
    const restarted = await svcctl(tester, ['restart', 'uweb', '--user']);
    expect(restarted.exitCode).toBe(0);
    expect(restarted.stderr).toContain('uweb.service restarted; OK - uweb');
    expect((await as(tester, ['systemctl', '--user', 'is-enabled', 'uweb.service'])).stdout.trim()).toBe('enabled');
  });

  test('uninstall --purge: nothing svcctl made is left in the home, and nothing changed outside it', async () => {
    const removed = await svcctl(tester, ['uninstall', 'ujob', 'uweb', '--user', '--purge', '--yes']);
    expect(removed.exitCode).toBe(0);
    expect((await as(tester, ['systemctl', '--user', 'list-unit-files', 'ujob*', 'uweb*', '--no-legend'])).stdout.trim()).toBe('');
    expect(await homeListing(tester)).toBe(homeBefore);
    expect(await changesOutside(tester)).toEqual(outsideBefore);
  });

  test('without linger install says so (and how to turn it on); status and doctor show it', async () => {
    const nolinger = await makeUser('nolinger', 'started');
    const dir = await writeBundle(nolinger, 'ujob', job);
    const installed = await svcctl(nolinger, ['install', dir, '--user', '--yes']);
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).toContain('linger is off for nolinger');
    expect(installed.stderr).toContain('loginctl enable-linger');
    expect(json(await svcctl(nolinger, ['status', '--user', '--json']))).toMatchObject({ user: { name: 'nolinger', linger: false } });
    const doctor = await svcctl(nolinger, ['doctor', '--user']);
    expect(doctor.stdout).toContain('linger is off for nolinger: the units (timers included) stop when nolinger logs out');
    expect(doctor.exitCode).not.toBe(0);
    expect((await svcctl(nolinger, ['uninstall', 'ujob', '--user', '--purge', '--yes'])).exitCode).toBe(0);
  });

  test('no user manager running: a clear error, exit 2, nothing written', async () => {
    const lonely = await makeUser('lonely', 'none');
    const dir = await writeBundle(lonely, 'ujob', job);
    const before = await homeListing(lonely);
    for (const args of [['install', dir, '--user', '--yes'], ['status', '--user']]) {
      const result = await svcctl(lonely, args, { runtimeDir: false });
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 2 });
      expect(result.stderr).toContain('no systemd user manager is running for lonely');
    }
    expect(await homeListing(lonely)).toBe(before);
  });

  test('a home on a file system that ignores modes: the secrets file is refused before a byte is written, and rolled back', async () => {
    // bindfs over ~/.config/svcctl shows every file readable by all, whatever mode it is given (as vfat or some network mounts).
    const backing = '/srv/modeless';
    const mounted = await sandbox.sh(`mkdir -p ${backing} ${tester.home}/.config/svcctl && chown tester:tester ${backing} ${tester.home}/.config ${tester.home}/.config/svcctl && bindfs -o allow_other --perms=a+r --chmod-ignore ${backing} ${tester.home}/.config/svcctl`);
    expect(mounted).toMatchObject({ exitCode: 0 });
    try {
      const installed = await svcctl(tester, ['install', jobDir, '--user', '--yes']);
      expect(installed.exitCode).toBe(1);
      expect(installed.stderr).toContain(`refusing to write ${tester.home}/.config/svcctl/ujob/secrets.env: its file system ignores file modes`);
      expect(installed.stderr).toContain('the host is as it was before');
      expect((await sandbox.sh(`find ${backing} -mindepth 1`)).stdout.trim()).toBe('');
      expect((await as(tester, ['systemctl', '--user', 'list-unit-files', 'ujob*', '--no-legend'])).stdout.trim()).toBe('');
    } finally {
      await sandbox.sh(`umount ${tester.home}/.config/svcctl; rmdir ${tester.home}/.config/svcctl ${tester.home}/.config`);
    }
  });
});
