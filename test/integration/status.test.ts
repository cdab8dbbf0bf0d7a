// svcctl status against a real systemd: the tick fixture (a timer firing every second) and failing (exit 3).
import { describeInSandbox } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const lifecycle = `${process.cwd()}/test/fixtures/lifecycle`;
const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

describeInSandbox('svcctl status', (sandbox) => {
  /** When the one run of failing.service was started and when `systemctl start` had returned (ms since the epoch). */
  const failingRun = { before: 0, after: 0 };

  beforeAll(async () => {
    const install = await sandbox.svcctl(['install', `${lifecycle}/tick`, `${lifecycle}/failing`, '--yes']);
    expect(install.exitCode).toBe(0);
    const tickRuns = async () => Number((await sandbox.sh("journalctl _SYSTEMD_UNIT=tick.service -o cat | grep -c '^tick: '")).stdout.trim());
    await waitFor('tick.timer to have fired twice', tickRuns, (runs) => runs >= 2, { timeoutMs: 60_000 });
    // The sandbox shares the host's clock: the run's start time must fall between these two.
    failingRun.before = Date.now();
    const failed = await sandbox.run(['systemctl', 'start', 'failing.service']);
    failingRun.after = Date.now();
    expect(failed.exitCode).not.toBe(0);
  }, 90_000);

  test('without BUNDLE: one line per installed bundle with its health word, last and next run', async () => {
    const result = await sandbox.svcctl(['status']);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^BUNDLE\s+HEALTH\s+LAST RUN\s+NEXT RUN\s+DESCRIPTION$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^failing\s+failed\s+exit 3, \S+ ago\s+in (59min|1h)/);
    expect(lines[2]).toMatch(/^tick\s+ok\s+(success, \S+ ago|running)\s+(in \S+|now|running now|re-arming)\s/);
    expect(result.stdout).not.toContain('\u001b['); // no colour on a pipe
  });

  test('status tick: units, last run, next elapse within a second or two, secret names only', async () => {
    const result = await sandbox.svcctl(['status', 'tick']);
    expect(result.exitCode).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^tick — Test fixture/);
    expect(out).toMatch(/health:\s+ok/);
    expect(out).toMatch(/installed:\s+\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\S+( \S+)? ago\)/);
    expect(out).toContain(`${lifecycle}/tick (digest `);
    expect(out).toMatch(/tick\.service\s+loaded\s+(inactive|activating)\s+(dead|start)\s+static/);
    expect(out).toMatch(/tick\.timer\s+loaded\s+active\s+(waiting|running)\s+enabled/);
    expect(out).toMatch(/tick\.timer → tick\.service \(schedule 1s\)/);
    expect(out).toMatch(/next:\s+(\w{3} \S+ \S+ UTC \((in \d+ms|in 1s|now)\)|running now|re-arming)/);
    expect(out).toMatch(/drift:\s+none \(4 files match the receipt\)/);
    expect(out).toMatch(/secrets:\s+TICK_TOKEN \(changed/);
    expect(out).toContain('settings:     TICK_MESSAGE=hello');
    const secret = (await sandbox.run(['cat', '/etc/svcctl/tick/secrets.env'])).stdout.match(/TICK_TOKEN="?([0-9a-f]+)/)?.[1];
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(out).not.toContain(secret!);
    expect((await sandbox.svcctl(['status', 'tick', '--json'])).stdout).not.toContain(secret!);
  });

  test('status failing --json: failed, with the service\'s exit status 3 and run times', async () => {
    const result = await sandbox.svcctl(['status', 'failing', '--json']);
    expect(result.exitCode).toBe(0);
    const data = JSON.parse(result.stdout);
    expect(data).toMatchObject({ bundle: 'failing', health: 'failed', state: 'installed', service: 'failing.service', timer: 'failing.timer', schedule: '1h' });
    expect(data.lastRun).toMatchObject({ state: 'failed', result: 'exit-code', exitStatus: 3, text: 'exit 3' });
    // systemctl show gives whole seconds: the start is in the second the run began, or later, up to its end.
    const startedAt = Date.parse(data.lastRun.startedAt);
    expect(startedAt).toBeGreaterThanOrEqual(Math.floor(failingRun.before / 1000) * 1000);
    expect(startedAt).toBeLessThanOrEqual(failingRun.after);
    expect(data.lastRun.durationMs).toBeGreaterThan(0);
    expect(data.lastRun.durationMs).toBeLessThanOrEqual(failingRun.after - failingRun.before);
    const service = data.units.find((u: { unit: string }) => u.unit === 'failing.service');
    expect(service).toMatchObject({ load: 'loaded', active: 'failed', sub: 'failed', enabled: 'static' });
    const timer = data.units.find((u: { unit: string }) => u.unit === 'failing.timer');
    expect(timer).toMatchObject({ active: 'active', enabled: 'enabled', activates: 'failing.service', lastTrigger: null });
    const left = Date.parse(timer.nextElapse) - Date.now();
    expect(left).toBeGreaterThan(55 * 60_000);
    expect(left).toBeLessThanOrEqual(3600_000);
    expect(data.drift).toEqual({ checked: 2, changed: [], unknown: [] });
    expect(data.secrets).toEqual([]);
  });

  test('drift: a changed unit file, a secrets file opened up, a missing drop-in; health says drifted', async () => {
    await sandbox.sh('cp -p /etc/systemd/system/tick.timer /root/tick.timer.orig && echo "# edited by hand" >> /etc/systemd/system/tick.timer');
    await sandbox.sh('chmod 0644 /etc/svcctl/tick/secrets.env');
    await sandbox.sh('mv /etc/systemd/system/tick.service.d/override.conf /root/override.conf.orig');
    try {
      const data = JSON.parse((await sandbox.svcctl(['status', 'tick', '--json'])).stdout);
      expect(data.health).toBe('drifted');
      expect(data.drift.changed).toEqual([
        { path: '/etc/svcctl/tick/secrets.env', role: 'secrets', problem: 'mode', detail: 'mode 0644, installed 0600' },
        { path: '/etc/systemd/system/tick.timer', role: 'unit', problem: 'modified', detail: 'content differs from what was installed' },
        { path: '/etc/systemd/system/tick.service.d/override.conf', role: 'drop-in', problem: 'missing' },
      ]);
      const text = await sandbox.svcctl(['status', 'tick']);
      expect(text.stdout).toMatch(/drift:\s+3 files changed since install/);
      expect(text.stdout).toMatch(/modified\s+\/etc\/systemd\/system\/tick\.timer/);
      expect(text.stdout).toMatch(/missing\s+\/etc\/systemd\/system\/tick\.service\.d\/override\.conf/);
      const overview = await sandbox.svcctl(['status']);
      expect(overview.stdout).toMatch(/^tick\s+drifted\s/m);
    } finally {
      await sandbox.sh('mv /root/tick.timer.orig /etc/systemd/system/tick.timer && mv /root/override.conf.orig /etc/systemd/system/tick.service.d/override.conf && chmod 0600 /etc/svcctl/tick/secrets.env');
    }
    expect(JSON.parse((await sandbox.svcctl(['status', 'tick', '--json'])).stdout).health).toBe('ok');
  });

  test('a stopped timer makes the bundle "stopped"; a deleted unit file makes it "missing"', async () => {
    await sandbox.run(['systemctl', 'stop', 'tick.timer']);
    try {
      const data = JSON.parse((await sandbox.svcctl(['status', 'tick', '--json'])).stdout);
      expect(data.health).toBe('stopped');
      expect(data.nextRun).toBeNull();
      expect((await sandbox.svcctl(['status', 'tick'])).stdout).toMatch(/next:\s+not scheduled \(timer inactive\)/);
    } finally {
      await sandbox.run(['systemctl', 'start', 'tick.timer']);
    }
    await sandbox.sh('mv /etc/systemd/system/failing.timer /root/failing.timer && systemctl daemon-reload');
    try {
      const overview = JSON.parse((await sandbox.svcctl(['status', '--json'])).stdout);
      const failing = overview.bundles.find((b: { bundle: string }) => b.bundle === 'failing');
      expect(failing.health).toBe('missing');
      expect(failing.units.find((u: { unit: string }) => u.unit === 'failing.timer').load).toBe('not-found');
    } finally {
      await sandbox.sh('mv /root/failing.timer /etc/systemd/system/failing.timer && systemctl daemon-reload && systemctl start failing.timer');
    }
  });

  test('times are shown in the user\'s time zone', async () => {
    const result = await sandbox.svcctl(['status', 'failing'], { env: { TZ: 'Asia/Kolkata' } });
    expect(result.stdout).toMatch(/installed:\s+\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30 \(/);
    const paris = await sandbox.svcctl(['status', 'failing'], { env: { TZ: 'Europe/Paris' } });
    expect(paris.stdout).toMatch(/next:\s+\w{3} \S+ \S+ CES?T \(in /);
  });

  test('a bundle that is not installed: exit 2 with a hint to svcctl status', async () => {
    const result = await sandbox.svcctl(['status', 'nope']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('bundle nope is not installed');
    expect(result.stderr).toContain('svcctl status');
    expect(result.stdout).toBe('');
    const json = await sandbox.svcctl(['status', 'nope', '--json']);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ exitCode: 2, message: 'bundle nope is not installed' });
  });

  test('without root and without the public index: exit 77 saying the receipts are root-only, no stack trace', async () => {
    // Every transaction writes the public index, which status reads without root (readonly.test.ts); here it is gone.
    await sandbox.sh('mv /var/lib/svcctl/.installed.json /var/lib/svcctl/.installed.json.away');
    try {
      for (const args of [['status'], ['status', 'tick']]) {
        const result = await sandbox.run([...nobody, 'svcctl', ...args]);
        expect(result.exitCode).toBe(77);
        expect(result.stderr).toContain('svcctl status needs root: it reads the receipts in /var/lib/svcctl, which only root may read');
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }
    } finally {
      await sandbox.sh('mv /var/lib/svcctl/.installed.json.away /var/lib/svcctl/.installed.json');
    }
  });

  test('on a pipe whose reader leaves early it stops quietly', async () => {
    const result = await sandbox.sh('svcctl status tick 2>/root/status.err | head -1; cat /root/status.err');
    expect(result.stdout.split('\n')[0]).toMatch(/^tick — /);
    expect(result.stdout).not.toMatch(/EPIPE|Error/);
  });

  test('--help has examples', async () => {
    const result = await sandbox.svcctl(['status', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('EXAMPLES');
    expect(result.stdout).toContain('--json');
  });
});
