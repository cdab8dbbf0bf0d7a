// svcctl schedule against a real systemd: validated by systemd's parser, a drop-in recorded in the receipt, reset, uninstall.
import { describeInSandbox } from '../helpers/sandbox.js';

const lifecycle = `${process.cwd()}/test/fixtures/lifecycle`;
const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const dropIn = '/etc/systemd/system/tick.timer.d/schedule.conf';
const newYork = '*-*-* 02:00:00 America/New_York';

describeInSandbox('svcctl schedule', (sandbox) => {
  const receipt = async () => JSON.parse((await sandbox.run(['cat', '/var/lib/svcctl/tick.json'])).stdout);
  const sha = async (file: string) => (await sandbox.run(['sha256sum', file])).stdout.split(' ')[0];
  const show = async (property: string) => (await sandbox.run(['systemctl', 'show', '-p', property, 'tick.timer'])).stdout;

  test('setup: tick installed (every second)', async () => {
    expect((await sandbox.svcctl(['install', `${lifecycle}/tick`, '--yes'])).exitCode).toBe(0);
    expect(await show('TimersMonotonic')).toContain('OnUnitActiveUSec=1s ;');
  });

  test('--dry-run validates and shows the drop-in, changes nothing', async () => {
    const before = await sha('/var/lib/svcctl/tick.json');
    const result = await sandbox.svcctl(['schedule', 'tick', newYork, '--dry-run']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`OnCalendar=${newYork}`);
    expect(result.stderr).toContain('dry run: nothing was changed');
    expect((await sandbox.run(['test', '-e', dropIn])).exitCode).not.toBe(0);
    expect(await sha('/var/lib/svcctl/tick.json')).toBe(before);
  });

  test('a calendar expression with a time zone: one reload, the timer shows it, the next three elapses are printed', async () => {
    const result = await sandbox.svcctl(['schedule', 'tick', newYork]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr.match(/✔ systemctl daemon-reload/g)).toHaveLength(1);
    expect(result.stderr).toContain('✔ systemctl restart tick.timer');
    expect(result.stderr).toContain('✔ check that systemd reads the new schedule of tick.timer');
    // 02:00 in New York is 07:00 UTC in winter, 06:00 UTC in summer (the sandbox runs in UTC).
    const elapses = result.stdout.split('\n').filter((line) => /^\s+(next elapse:|then:)/.test(line));
    expect(elapses).toHaveLength(3);
    for (const line of elapses) expect(line).toMatch(/\d{4}-\d\d-\d\d 0[67]:00:00 UTC$/);
    expect(await show('TimersCalendar')).toContain(`OnCalendar=${newYork} ;`);
    expect((await sandbox.run(['systemctl', 'is-active', 'tick.timer'])).stdout.trim()).toBe('active');
    const listed = await sandbox.run(['systemctl', 'list-timers', 'tick.timer', '--no-pager']);
    expect(listed.stdout).toMatch(/0[67]:00:00 UTC/);
  });

  test('the drop-in is in the receipt with its checksum and role "schedule"', async () => {
    const data = await receipt();
    expect(data.state).toBe('installed');
    expect(data.schedule).toBe(newYork);
    expect(data.scheduleOverridden).toBe(true);
    expect(data.artifacts).toContainEqual({ path: dropIn, role: 'schedule', checksum: `sha256:${await sha(dropIn)}`, mode: 0o644, owner: 'root', group: 'root' });
    expect(data.directories).toContainEqual({ path: '/etc/systemd/system/tick.timer.d', created: true, own: true });
    expect((await sandbox.run(['stat', '-c', '%a %U:%G', dropIn])).stdout.trim()).toBe('644 root:root');
  });

  test('the same schedule again: nothing to do', async () => {
    const before = await sha('/var/lib/svcctl/tick.json');
    const result = await sandbox.svcctl(['schedule', 'tick', newYork, '--json']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ changed: false, schedule: newYork, normalized: newYork, overridden: true, dropIn });
    expect(await sha('/var/lib/svcctl/tick.json')).toBe(before);
  });

  test('an interval, "every 15min" (unquoted words are joined): both interval triggers, next elapses 15 min apart', async () => {
    const result = await sandbox.svcctl(['schedule', 'tick', 'every', '15min', '--json']);
    expect(result.exitCode).toBe(0);
    const data = JSON.parse(result.stdout);
    expect(data).toMatchObject({ changed: true, kind: 'interval', schedule: 'every 15min', normalized: '15min', overridden: true });
    expect(data.nextElapses).toHaveLength(3);
    expect(Date.parse(data.nextElapse) - Date.now()).toBeGreaterThan(14 * 60_000);
    const monotonic = await show('TimersMonotonic');
    expect(monotonic).toContain('OnActiveUSec=15min ;');
    expect(monotonic).toContain('OnUnitActiveUSec=15min ;');
    expect(await show('TimersCalendar')).toBe('');
  });

  test('install again keeps the schedule set with svcctl schedule', async () => {
    const before = await sha(dropIn);
    const result = await sandbox.svcctl(['install', `${lifecycle}/tick`, '--yes']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).not.toContain(dropIn);
    expect(await sha(dropIn)).toBe(before);
    expect(await show('TimersMonotonic')).toContain('OnUnitActiveUSec=15min ;');
  });

  test('an invalid expression is refused by systemd\'s parser with exit 2; nothing changes', async () => {
    const before = { dropIn: await sha(dropIn), receipt: await sha('/var/lib/svcctl/tick.json') };
    for (const args of [['schedule', 'tick', '*-*-* 25:00'], ['schedule', 'tick', 'every blue moon'], ['schedule', 'tick'], ['schedule', 'tick', 'daily', '--reset']]) {
      const result = await sandbox.svcctl(args);
      expect(result.exitCode).toBe(2);
    }
    const invalid = await sandbox.svcctl(['schedule', 'tick', '*-*-* 25:00']);
    expect(invalid.stderr).toMatch(/invalid schedule "\*-\*-\* 25:00": Failed to parse calendar specification/);
    expect({ dropIn: await sha(dropIn), receipt: await sha('/var/lib/svcctl/tick.json') }).toEqual(before);
  });

  test('without root: exit 77, nothing changes; a bundle not installed: exit 2', async () => {
    const denied = await sandbox.run([...nobody, 'svcctl', 'schedule', 'tick', 'daily']);
    expect(denied.exitCode).toBe(77);
    expect(denied.stderr).toMatch(/needs root/);
    const missing = await sandbox.svcctl(['schedule', 'nothere', 'daily']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('not installed');
  });

  test('a write that fails is rolled back: the old drop-in, the old receipt, the old trigger', async () => {
    const before = { dropIn: await sha(dropIn), receipt: await sha('/var/lib/svcctl/tick.json') };
    // A symlink where the drop-in goes: svcctl never writes through one.
    await sandbox.sh(`mv ${dropIn} /tmp/schedule.conf.saved && ln -s /tmp/elsewhere.conf ${dropIn}`);
    const result = await sandbox.svcctl(['schedule', 'tick', 'hourly']);
    await sandbox.sh(`rm ${dropIn} && mv /tmp/schedule.conf.saved ${dropIn}`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/changing the schedule of tick.timer failed: refusing to write through a symlink/);
    expect(await sha('/var/lib/svcctl/tick.json')).toBe(before.receipt);
    expect(await sha(dropIn)).toBe(before.dropIn);
    expect((await sandbox.run(['test', '-e', '/tmp/elsewhere.conf'])).exitCode).not.toBe(0);
    await sandbox.run(['systemctl', 'daemon-reload']);
    expect(await show('TimersMonotonic')).toContain('OnUnitActiveUSec=15min ;');
  });

  test('--randomized-delay: systemd spreads the runs by up to that; a later schedule and install keep it; a bad span changes nothing', async () => {
    const result = await sandbox.svcctl(['schedule', 'tick', '--randomized-delay', '45s']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('now runs on every 15min, randomized delay up to 45s');
    expect((await show('RandomizedDelayUSec')).trim()).toBe('RandomizedDelayUSec=45s');
    expect((await receipt()).scheduleRandomizedDelay).toBe('45s');
    // a new expression keeps the delay; so does an install (as it keeps the schedule)
    expect((await sandbox.svcctl(['schedule', 'tick', '20min'])).exitCode).toBe(0);
    expect((await show('RandomizedDelayUSec')).trim()).toBe('RandomizedDelayUSec=45s');
    expect((await sandbox.svcctl(['install', `${lifecycle}/tick`, '--yes'])).exitCode).toBe(0);
    expect((await show('RandomizedDelayUSec')).trim()).toBe('RandomizedDelayUSec=45s');
    expect(await show('TimersMonotonic')).toContain('OnUnitActiveUSec=20min ;');
    const before = { dropIn: await sha(dropIn), receipt: await sha('/var/lib/svcctl/tick.json') };
    const bad = await sandbox.svcctl(['schedule', 'tick', '--randomized-delay', 'a while']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('the randomized delay "a while" is not a time span');
    expect((await sandbox.svcctl(['schedule', 'tick', '--randomized-delay', '1s', '--reset'])).exitCode).toBe(2);
    expect({ dropIn: await sha(dropIn), receipt: await sha('/var/lib/svcctl/tick.json') }).toEqual(before);
  });

  test('--reset: the drop-in and its directory are removed, the bundle\'s default is back', async () => {
    const result = await sandbox.svcctl(['schedule', 'tick', '--reset']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`✔ remove ${dropIn}`);
    expect(result.stderr).toContain("now runs on 1s (the bundle's default)");
    expect((await sandbox.run(['test', '-e', '/etc/systemd/system/tick.timer.d'])).exitCode).not.toBe(0);
    const data = await receipt();
    expect(data.schedule).toBe('1s');
    expect(data.scheduleOverridden).toBe(false);
    expect(data.artifacts.map((a: { path: string }) => a.path)).not.toContain(dropIn);
    expect(data.directories.map((d: { path: string }) => d.path)).not.toContain('/etc/systemd/system/tick.timer.d');
    expect(await show('TimersMonotonic')).toContain('OnUnitActiveUSec=1s ;');
    expect(data).not.toHaveProperty('scheduleRandomizedDelay');
    expect((await show('RandomizedDelayUSec')).trim()).toBe('RandomizedDelayUSec=0');
    const again = await sandbox.svcctl(['schedule', 'tick', '--reset']);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('nothing to do');
  });

  test('uninstall --purge after a schedule change removes the drop-in too: nothing left', async () => {
    expect((await sandbox.svcctl(['schedule', 'tick', newYork])).exitCode).toBe(0);
    const result = await sandbox.svcctl(['uninstall', 'tick', '--purge', '--yes']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`remove ${dropIn}`);
    expect(await sandbox.changes()).toEqual([]);
  });
});
