// The read-only commands against a real systemd, for what they used to get wrong: a manual run that list-timers called
// "never run", a daemon that answers nothing which status and doctor called fine, and status/list-timers/logs/check
// refused without root although the unit states are public.
import { writeFiles } from '../helpers/sandbox-files.js';
import { describeInSandbox } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const root = process.cwd();
const lifecycle = `${root}/test/fixtures/lifecycle`;
const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

/** A job whose timer fires once a year (never during the test), and a daemon with a health URL, in the sandbox's /tmp. */
const bundles = {
  '/tmp/bundles/later/bundle.yaml': `name: later
description: Test - a oneshot whose timer fires once a year.
units: [later.service, later.timer]
enable: [later.timer]
schedule: { timer: later.timer, default: yearly }
`,
  '/tmp/bundles/later/later.service': `[Service]
Type=oneshot
ExecStart=/bin/echo later ran
`,
  '/tmp/bundles/later/later.timer': `[Timer]
OnCalendar=yearly

[Install]
WantedBy=timers.target
`,
  '/tmp/bundles/web/bundle.yaml': `name: web
description: Test - an HTTP daemon with a health URL.
units: [web.service]
enable: [web.service]
health: { url: "http://127.0.0.1:18094/" }
`,
  '/tmp/bundles/web/web.service': `[Service]
Type=simple
ExecStart=/usr/bin/python3 -m http.server 18094 --bind 127.0.0.1 --directory /usr/share
Restart=on-failure
RestartSec=1s

[Install]
WantedBy=multi-user.target
`,
};


/** Polls `probe` until it says ok (test/helpers/wait-for.ts), failing with what it last saw after a generous deadline. */
async function eventually(what: string, probe: () => Promise<{ ok: boolean; seen: unknown }>, timeoutMs = 30_000): Promise<void> {
  await waitFor(what, probe, (value) => value.ok, { timeoutMs });
}

interface TimerRow {
  unit: string;
  bundle: string | null;
  last: string | null;
  result: string;
  lastRun: { state: string; startedAt: string | null };
}

describeInSandbox('read-only commands', (sandbox) => {
  const mainPid = async (unit: string) => Number((await sandbox.run(['systemctl', 'show', '-p', 'MainPID', '--value', unit])).stdout.trim());

  beforeAll(async () => {
    await writeFiles(sandbox, bundles);
    const install = await sandbox.svcctl(['install', `${lifecycle}/tick`, '/tmp/bundles/later', '/tmp/bundles/web', '--yes']);
    expect(install.exitCode).toBe(0);
    await eventually('web answers', async () => {
      const check = await sandbox.svcctl(['check', 'web']);
      return { ok: check.exitCode === 0, seen: check.stdout };
    });
  }, 120_000);

  describe('list-timers counts the service\'s own last run', () => {
    test('after `svcctl run`, before its timer ever fired, RESULT says how the run went', async () => {
      const before = JSON.parse((await sandbox.svcctl(['list-timers', '--json'])).stdout) as { timers: TimerRow[] };
      expect(before.timers.find((t) => t.unit === 'later.timer')).toMatchObject({ last: null, result: 'never run' });
      const run = await sandbox.svcctl(['run', 'later']);
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toBe('later ran');
      const after = JSON.parse((await sandbox.svcctl(['list-timers', '--json'])).stdout) as { timers: TimerRow[] };
      const later = after.timers.find((t) => t.unit === 'later.timer')!;
      expect(later).toMatchObject({ bundle: 'later', last: null, result: 'success', lastRun: { state: 'success' } });
      expect(Date.parse(later.lastRun.startedAt!)).toBeLessThanOrEqual(Date.now());
      const text = await sandbox.svcctl(['list-timers']);
      expect(text.stdout).toMatch(/^\S.*\sn\/a\s+n\/a\s+later\.timer\s+later\.service\s+success$/m);
    });
  });

  describe('a daemon whose health URL does not answer', () => {
    test('status shows the restart policy, the restarts so far and the start limit; a crash counts as a restart', async () => {
      const text = await sandbox.svcctl(['status', 'web']);
      expect(text.stdout).toMatch(/restarts:\s+restart on-failure after 1s, 0 restarts so far, start limit 5 in 10s/);
      expect(text.stdout).toMatch(/health URL:\s+http:\/\/127\.0\.0\.1:18094\/ answered 200 in \d+ ms/);
      const pid = await mainPid('web.service');
      await sandbox.run(['kill', '-KILL', String(pid)]);
      await eventually('web.service restarted after the crash', async () => {
        const data = JSON.parse((await sandbox.svcctl(['status', 'web', '--json'])).stdout);
        const unit = data.units.find((u: { unit: string }) => u.unit === 'web.service');
        return { ok: unit.restarts?.count === 1 && unit.active === 'active' && data.health === 'ok', seen: { health: data.health, unit } };
      });
      expect((await sandbox.svcctl(['status', 'web'])).stdout).toMatch(/1 restart so far/);
    });

    test('stopped with SIGSTOP: status says unhealthy, doctor finds it with the fix, check is CRITICAL; the fix makes it well', async () => {
      const pid = await mainPid('web.service');
      expect(pid).toBeGreaterThan(0);
      await sandbox.run(['kill', '-STOP', String(pid)]);
      try {
        const data = JSON.parse((await sandbox.svcctl(['status', 'web', '--json'])).stdout);
        expect(data.health).toBe('unhealthy');
        expect(data.url).toMatchObject({ url: 'http://127.0.0.1:18094/', ok: false });
        expect((await sandbox.svcctl(['status'])).stdout).toMatch(/^web\s+unhealthy\s/m);
        expect((await sandbox.svcctl(['status', 'web'])).stdout).toMatch(/health URL:\s+http:\/\/127\.0\.0\.1:18094\/ does not answer \(no answer within 2000 ms\)/);
        const check = await sandbox.svcctl(['check', 'web']);
        expect(check.exitCode).toBe(2);
        const doctor = await sandbox.svcctl(['doctor', 'web', '--json']);
        expect(doctor.exitCode).toBe(1);
        const findings = (JSON.parse(doctor.stdout) as { bundles: { findings: { check: string; ok: boolean; message: string; fix?: string }[] }[] }).bundles[0]!.findings;
        const url = findings.find((f) => f.check === 'health URL')!;
        expect(url).toMatchObject({ ok: false, fix: `kill -CONT ${pid}` });
        expect(url.message).toContain(`the main process of web.service (pid ${pid}) is stopped (SIGSTOP)`);
        expect((await sandbox.sh(url.fix!)).exitCode).toBe(0);
      } finally {
        await sandbox.run(['kill', '-CONT', String(pid)]);
      }
      await eventually('web is well again', async () => {
        const doctor = await sandbox.svcctl(['doctor', 'web']);
        return { ok: doctor.exitCode === 0, seen: doctor.stdout };
      });
      expect(JSON.parse((await sandbox.svcctl(['status', 'web', '--json'])).stdout).health).toBe('ok');
      expect((await sandbox.svcctl(['doctor', 'web'])).stdout).toMatch(/✔ http:\/\/127\.0\.0\.1:18094\/ answered 200 in \d+ ms/);
    });
  });

  describe('without root', () => {
    // The public index as every transaction writes it (.installed.json, 0644, in a 0755 /var/lib/svcctl; receipts 0600).
    const publishIndex = () =>
      sandbox.sh(`chmod 0755 /var/lib/svcctl && node --input-type=module -e '
        const { listReceipts } = await import("${root}/dist/system/receipts.js");
        const { writePublicIndex } = await import("${root}/dist/system/public-index.js");
        const { systemTarget } = await import("${root}/dist/core/target.js");
        const receipts = (await listReceipts(systemTarget())).filter((r) => typeof r.bundle === "string");
        await writePublicIndex(systemTarget(), receipts.map((r) => ({ bundle: r.bundle, description: r.description, state: r.state, units: r.units, enabled: r.enabled, service: r.service, timer: r.timer, schedule: r.schedule, health: r.health, updatedAt: r.updatedAt })));
      '`);
    const withdrawIndex = () => sandbox.sh('rm -f /var/lib/svcctl/.installed.json && chmod 0700 /var/lib/svcctl');
    const asNobody = (args: string[], groups?: string) => sandbox.run([...nobody.filter((a) => !groups || a !== '--clear-groups'), ...(groups ? [`--groups=${groups}`] : []), 'svcctl', ...args]);

    beforeAll(async () => {
      const published = await publishIndex();
      expect(published.stderr).toBe('');
      expect(published.exitCode).toBe(0);
      expect((await sandbox.run(['stat', '-c', '%a', '/var/lib/svcctl/.installed.json', '/var/lib/svcctl/tick.json'])).stdout.split('\n').slice(0, 2)).toEqual(['644', '600']);
    }, 60_000);
    afterAll(async () => {
      await withdrawIndex();
    });

    test('status: every bundle with its health, last and next run; says that drift, secrets and settings need root', async () => {
      const overview = await asNobody(['status']);
      expect(overview.exitCode).toBe(0);
      expect(overview.stdout).toMatch(/^tick\s+ok\s+(success, \S+ ago|running)\s/m);
      expect(overview.stdout).toMatch(/^web\s+ok\s+running for /m);
      expect(overview.stderr).toContain('without root: no drift, secrets, settings');
      const detail = await asNobody(['status', 'tick']);
      expect(detail.exitCode).toBe(0);
      expect(detail.stdout).toMatch(/tick\.timer\s+loaded\s+active\s+(waiting|running)\s+enabled/);
      expect(detail.stdout).toMatch(/tick\.timer → tick\.service \(schedule 1s\)/);
      expect(detail.stdout).toMatch(/not shown:\s+drift, secrets, settings, alerts, where it was installed from: the receipt is readable by root only \(sudo svcctl status tick\)/);
      expect(detail.stdout).not.toMatch(/drift:|secrets:|settings:|TICK_TOKEN/);
      const json = JSON.parse((await asNobody(['status', 'tick', '--json'])).stdout);
      expect(json).toMatchObject({ bundle: 'tick', health: 'ok', restricted: { hidden: expect.arrayContaining(['drift', 'secrets', 'settings']) } });
      expect(json.drift).toBeUndefined();
      expect(json.secrets).toBeUndefined();
    });

    test('list-timers: the timers of installed bundles, with each service\'s last run', async () => {
      const result = await asNobody(['list-timers', '--json']);
      expect(result.exitCode).toBe(0);
      const data = JSON.parse(result.stdout) as { timers: TimerRow[] };
      expect(data.timers.map((t) => [t.unit, t.bundle]).sort()).toEqual([['later.timer', 'later'], ['tick.timer', 'tick']]);
      expect(data.timers.find((t) => t.unit === 'later.timer')!.result).toBe('success');
    });

    test('check: by name, from the index (the schedule in effect, not the manifest\'s)', async () => {
      const result = await asNobody(['check', 'tick']);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/^SVCCTL OK - tick: /);
      expect(result.stdout).not.toContain('receipt unreadable');
      expect((await asNobody(['check', 'web'])).stdout).toMatch(/^SVCCTL OK - web: web\.service active for \S+, http:\/\/127\.0\.0\.1:18094\/ answered 200/);
    });

    test('logs: for members of systemd-journal; others are told so (exit 77)', async () => {
      const gid = (await sandbox.run(['getent', 'group', 'systemd-journal'])).stdout.split(':')[2]!;
      // The unit's journal holds systemd's own lines about it too ("Finished tick.service…"): count the service's.
      const member = await asNobody(['logs', 'tick', '-n', '20', '-o', 'cat'], gid);
      expect(member.exitCode).toBe(0);
      expect(member.stdout.trim().split('\n').filter((line) => /^tick: hello/.test(line)).length).toBeGreaterThanOrEqual(2);
      const stranger = await asNobody(['logs', 'tick']);
      expect(stranger.exitCode).toBe(77);
      expect(stranger.stderr).toMatch(/svcctl logs needs root, or membership in systemd-journal or adm: only they may read the system journal/);
    });

    test('what needs root still says so: run, doctor; and without an index, status explains why it cannot list', async () => {
      expect((await asNobody(['run', 'tick'])).exitCode).toBe(77);
      expect((await asNobody(['doctor'])).exitCode).toBe(77);
      await withdrawIndex();
      try {
        const denied = await asNobody(['status']);
        expect(denied.exitCode).toBe(77);
        expect(denied.stderr).toContain('the public index of installed bundles (/var/lib/svcctl/.installed.json, written by svcctl with every change) is not there to read instead');
      } finally {
        await publishIndex();
      }
    });
  });
});
