// svcctl list-timers against a real systemd: tick (fires every second), failing (exit 3), and 200 generated timers.
import { describeInSandbox } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';
import type { TimerRow } from '../../src/flows/timers.js';

const lifecycle = `${process.cwd()}/test/fixtures/lifecycle`;
const manyTimers = `${process.cwd()}/scripts/make-many-timers.sh`;
const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

type Row = TimerRow;

describeInSandbox('svcctl list-timers', (sandbox) => {
  beforeAll(async () => {
    const install = await sandbox.svcctl(['install', `${lifecycle}/tick`, `${lifecycle}/failing`, '--yes']);
    expect(install.exitCode).toBe(0);
    await sandbox.run(['systemctl', 'start', 'failing.service']);
    const tickRuns = async () => Number((await sandbox.sh("journalctl _SYSTEMD_UNIT=tick.service -o cat | grep -c '^tick: '")).stdout.trim());
    await waitFor('tick.timer to have fired twice', tickRuns, (runs) => runs >= 2, { timeoutMs: 60_000 });
  }, 90_000);

  /**
   * list-timers (--json or not) again until tick.timer waits: while tick.service runs (every second, for as
   * long as a loaded machine makes it), the timer has no next elapse.
   */
  const listWhileTickWaits = (args: string[], waits: (stdout: string) => boolean) =>
    waitFor(`tick.timer waiting in svcctl ${args.join(' ')}`, () => sandbox.svcctl(args), (result) => result.exitCode === 0 && waits(result.stdout));

  test('the timers of installed bundles, with the columns of systemctl list-timers plus RESULT', async () => {
    const tickRow = (stdout: string) => stdout.split('\n').find((r) => r.includes(' tick.timer '));
    const result = await listWhileTickWaits(['list-timers'], (stdout) => !tickRow(stdout)?.startsWith('n/a'));
    const [header, ...rows] = result.stdout.trim().split('\n');
    expect(header).toMatch(/^NEXT\s+LEFT\s+LAST\s+PASSED\s+UNIT\s+ACTIVATES\s+RESULT$/);
    expect(rows).toHaveLength(2);
    const tick = rows.find((r) => r.includes(' tick.timer '));
    const failing = rows.find((r) => r.includes(' failing.timer '));
    // LEFT is at most 1s without any timing: the next elapse is 1 s after tick.service last started, which was
    // before systemd answered, which was before the listing's "now". PASSED grows with the machine's load.
    expect(tick).toMatch(/^\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+(\d+ms|1s)\s+\w{3} \S+ \S+ UTC\s+(\d+\w+( \d+\w+)? ago|now)\s+tick\.timer\s+tick\.service\s+(success|running)$/);
    expect(failing).toMatch(/^\w{3} \S+ \S+ UTC\s+(59min \d+s|1h)\s+n\/a\s+n\/a\s+failing\.timer\s+failing\.service\s+exit 3$/);
    expect(result.stderr).toContain('2 timers listed. Pass --all to see every timer.');
  });

  test('--json: absolute times, seconds left and passed, the bundle, the activated service\'s result', async () => {
    const tickOf = (stdout: string) => (JSON.parse(stdout) as { timers: Row[] }).timers.find((t) => t.unit === 'tick.timer');
    const result = await listWhileTickWaits(['list-timers', '--json'], (stdout) => typeof tickOf(stdout)?.next === 'string');
    const data = JSON.parse(result.stdout) as { all: boolean; now: string; timers: Row[]; missing: string[] };
    expect(data.all).toBe(false);
    expect(data.missing).toEqual([]);
    const tick = data.timers.find((t) => t.unit === 'tick.timer')!;
    expect(tick).toMatchObject({ activates: 'tick.service', bundle: 'tick' });
    const [now, next, last] = [data.now, tick.next!, tick.last!].map((iso) => Date.parse(iso));
    // LEFT and PASSED are the absolute times against "now" (the ISO strings are cut to milliseconds).
    expect(Math.abs(tick.leftSeconds! - (next! - now!) / 1000)).toBeLessThan(0.002);
    expect(Math.abs(tick.passedSeconds! - (now! - last!) / 1000)).toBeLessThan(0.002);
    // The schedule, free of timing: the next elapse is 1 s after tick.service's last start, which followed the
    // last trigger and came before systemd answered, and so before "now".
    expect(next! - last!).toBeGreaterThanOrEqual(999);
    expect(tick.leftSeconds).toBeLessThanOrEqual(1.002);
    const failing = data.timers.find((t) => t.unit === 'failing.timer')!;
    expect(failing).toMatchObject({ bundle: 'failing', last: null, passedSeconds: null, result: 'exit 3' });
    expect(failing.lastRun).toMatchObject({ state: 'failed', exitStatus: 3 });
  });

  test('--all lists every timer and needs no root; the default reads the public index, and without one needs root (exit 77)', async () => {
    const all = await sandbox.run([...nobody, 'svcctl', 'list-timers', '--all', '--json']);
    expect(all.exitCode).toBe(0);
    const data = JSON.parse(all.stdout) as { timers: Row[] };
    expect(data.timers.map((t) => t.unit)).toEqual(expect.arrayContaining(['tick.timer', 'failing.timer', 'systemd-tmpfiles-clean.timer']));
    expect(data.timers.find((t) => t.unit === 'systemd-tmpfiles-clean.timer')).toMatchObject({ bundle: null, result: 'never run' });
    const asRoot = JSON.parse((await sandbox.svcctl(['list-timers', '--all', '--json'])).stdout) as { timers: Row[] };
    expect(asRoot.timers.find((t) => t.unit === 'tick.timer')?.bundle).toBe('tick');
    // Without root the default listing reads the public index every transaction writes; without it, exit 77.
    const fromIndex = await sandbox.run([...nobody, 'svcctl', 'list-timers', '--json']);
    expect(fromIndex.exitCode).toBe(0);
    expect((JSON.parse(fromIndex.stdout) as { timers: Row[] }).timers.map((t) => t.unit).sort()).toEqual(['failing.timer', 'tick.timer']);
    await sandbox.sh('mv /var/lib/svcctl/.installed.json /var/lib/svcctl/.installed.json.away');
    try {
      const denied = await sandbox.run([...nobody, 'svcctl', 'list-timers']);
      expect(denied.exitCode).toBe(77);
      expect(denied.stderr).toContain('(list-timers --all needs no root)');
    } finally {
      await sandbox.sh('mv /var/lib/svcctl/.installed.json.away /var/lib/svcctl/.installed.json');
    }
  });

  test('a stopped timer of a bundle is still listed, with no next elapse', async () => {
    await sandbox.run(['systemctl', 'stop', 'failing.timer']);
    try {
      const data = JSON.parse((await sandbox.svcctl(['list-timers', '--json'])).stdout) as { timers: Row[]; missing: string[] };
      expect(data.missing).toEqual([]);
      expect(data.timers.find((t) => t.unit === 'failing.timer')).toMatchObject({ next: null, leftSeconds: null });
      expect((await sandbox.svcctl(['list-timers'])).stdout).toMatch(/^n\/a\s+n\/a\s+n\/a\s+n\/a\s+failing\.timer/m);
    } finally {
      await sandbox.run(['systemctl', 'start', 'failing.timer']);
    }
  });

  test('times in the user\'s time zone', async () => {
    const result = await sandbox.svcctl(['list-timers'], { env: { TZ: 'America/New_York' } });
    expect(result.stdout).toMatch(/^\w{3} \S+ \S+ E[SD]T\s/m);
  });

  test('with 200 installed timers: the same systemd calls, none per timer, and little more CPU time', async () => {
    // CPU time (user + system) of the whole CLI and what it starts, best of five: on a shared, loaded machine
    // wall times say more about the neighbours than about svcctl; they are printed for the record only.
    const measure = async (commands: string[]) => {
      const cpu: Record<string, number[]> = Object.fromEntries(commands.map((c) => [c, []]));
      const wall: Record<string, number[]> = Object.fromEntries(commands.map((c) => [c, []]));
      for (let i = 0; i < 5; i++) {
        for (const command of commands) {
          // bash's `times`, second line: user and system time of the children it has waited for (svcctl and theirs).
          const timed = await sandbox.run(['bash', '-c', `s=$(date +%s%N); svcctl ${command} >/dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000000 )); times`]);
          const [ms, , children] = timed.stdout.trim().split('\n');
          const seconds = [...children!.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
          expect(seconds).toHaveLength(2);
          cpu[command]!.push(Math.round((seconds[0]! + seconds[1]!) * 1000));
          wall[command]!.push(Number(ms));
        }
      }
      return { cpu, wall };
    };
    const best = (times: Record<string, number[]>, command: string) => Math.min(...times[command]!);
    /** The systemctl processes a command starts, as the exec seam's debug trace lists them. */
    const systemctlCalls = async (command: string) => {
      const traced = await sandbox.svcctl([command], { env: { DEBUG: 'svcctl' } });
      expect(traced.exitCode).toBe(0);
      return traced.stderr
        .split('\n')
        .map((line) => line.match(/^svcctl .*exec (\["[^"]*\/systemctl".*\])$/)?.[1])
        .filter((argv): argv is string => argv !== undefined)
        .map((argv) => JSON.parse(argv) as string[]);
    };
    const verbs = (calls: string[][]) => calls.map((argv) => argv.find((word, i) => i > 0 && !word.startsWith('-'))).sort();
    const few = await measure(['list-timers', 'status', 'list-timers --help']);
    const fewCalls = await systemctlCalls('list-timers');

    const made = await sandbox.run(['/bin/sh', manyTimers, '/root/many', '200']);
    expect(made.exitCode).toBe(0);
    const install = await sandbox.svcctl(['install', '/root/many', '--yes'], { timeoutMs: 180_000 });
    expect(install.exitCode).toBe(0);

    const listing = JSON.parse((await sandbox.svcctl(['list-timers', '--json'])).stdout) as { timers: Row[] };
    expect(listing.timers).toHaveLength(202);
    expect(listing.timers.filter((t) => t.bundle === 'many')).toHaveLength(200);

    // The same calls with 202 timers as with 2: one listing of the timers, one of the services, and at most one
    // `show` for the services those listings say too little about (failing.service among them), whatever their number.
    const manyCalls = await systemctlCalls('list-timers');
    expect(verbs(manyCalls)).toEqual(['list-timers', 'list-units', 'show']);
    expect(verbs(fewCalls)).toEqual(['list-timers', 'list-units', 'show']);
    expect(manyCalls.find((argv) => argv[1] === 'show')).toContain('failing.service');

    const many = await measure(['list-timers', 'status', 'list-timers --help']);
    const show = (times: Record<string, number[]>) => Object.entries(times).map(([c, t]) => `${c} ${t.join('/')}`).join('; ');
    process.stderr.write(`list-timers/status with 2 timers: CPU ms ${show(few.cpu)}; wall ms ${show(few.wall)}\nwith 202 timers: CPU ms ${show(many.cpu)}; wall ms ${show(many.wall)}\n`);
    // 200 timers add well under 100 ms of CPU here; a systemctl process per timer would add over a second.
    expect(best(many.cpu, 'list-timers') - best(few.cpu, 'list-timers')).toBeLessThan(500);
    expect(best(many.cpu, 'status') - best(few.cpu, 'status')).toBeLessThan(500);
    expect(best(many.cpu, 'list-timers') - best(many.cpu, 'list-timers --help')).toBeLessThan(1000);
  }, 300_000);
});
