// svcctl export against the real things: the units tree is what install --root writes; the cron file is accepted
// by Debian's real cron daemon and its job runs as the timer's would (user, directory, arguments, environment,
// secret from the file, output in the journal); what cron cannot express is refused; no export holds a secret.
import path from 'node:path';
import { describeInSandbox } from '../helpers/sandbox.js';

const fixture = `${process.cwd()}/test/fixtures/export/minutely`;
const daemon = `${process.cwd()}/test/fixtures/lifecycle/daemon`;
const token = 'c0ffee'.repeat(10) + 'c0ff';

/** Polls `check` until it holds or the deadline passes (CI is a loaded 2-core machine: no fixed sleeps). */
async function eventually(check: () => Promise<boolean>, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  return check();
}

describeInSandbox('export: units, cron and the real cron daemon', (sandbox) => {
  test('--format units writes the tree install --root writes (the secrets file as a description, no receipt)', async () => {
    const install = await sandbox.svcctl(['install', 'cleanup-blocking', '--root', '/root/installed', '--yes']);
    expect(install.exitCode).toBe(0);
    const exported = await sandbox.svcctl(['export', 'cleanup-blocking', '--format', 'units', '--output', '/root/exported']);
    expect(exported.exitCode).toBe(0);
    // Every path with its type, mode and link target; the receipt and the manifest are each side's own.
    const listing = (dir: string) => sandbox.sh(`cd ${dir} && find . -mindepth 1 ! -path './var' ! -path './var/lib' ! -path './var/lib/svcctl*' ! -name .svcctl-export.json -printf '%P %y %m %l\\n' | sort`);
    const [a, b] = await Promise.all([listing('/root/installed'), listing('/root/exported')]);
    expect(b.stdout).toBe(a.stdout);
    expect(b.stdout).toContain('etc/systemd/system/timers.target.wants/cleanup-blocking-coordination.timer l 777 /etc/systemd/system/cleanup-blocking-coordination.timer');
    const same = await sandbox.sh('cd /root && diff -r --no-dereference -x secrets.env -x svcctl -x var -x .svcctl-export.json installed exported');
    expect(same.exitCode).toBe(0);
    const described = await sandbox.sh('cat /root/exported/etc/svcctl/cleanup-blocking/secrets.env');
    expect(described.stdout).toContain('# BLOCKING_COORDINATION_SECRET="…"');
    expect(described.stdout).not.toMatch(/^[A-Z_]+=/m);
  });

  test('no export holds a secret value, even one given in the environment', async () => {
    const env = { SVCCTL_SECRET_REDIS_PASSWORD: 'export-secret-9f2', SVCCTL_SECRET_BLOCKING_COORDINATION_SECRET: 'export-secret-77a' };
    for (const format of ['units', 'ansible']) expect((await sandbox.svcctl(['export', 'cleanup-blocking', '--format', format, '--output', `/root/nosecret-${format}`], { env })).exitCode).toBe(0);
    expect((await sandbox.svcctl(['export', fixture, '--format', 'cron', '--output', '/root/nosecret-cron'], { env: { SVCCTL_SECRET_MINUTELY_TOKEN: 'export-secret-31c' } })).exitCode).toBe(0);
    const found = await sandbox.sh('grep -rl "export-secret-" /root/nosecret-units /root/nosecret-ansible /root/nosecret-cron');
    expect(found.stdout).toBe('');
    expect(found.exitCode).toBe(1);
  });

  test('what cron cannot express is refused with exit 2 and says why', async () => {
    const cases: [string[], RegExp][] = [
      [['cleanup-blocking'], /cron cannot run cleanup-blocking: Debian's cron has no randomized delay \(RandomizedDelaySec=15s\)/],
      [[fixture, '--schedule', '*-*-* 02:00:00 Europe/Paris', '--time-zone', 'UTC'], /runs in Europe\/Paris, the host in UTC, and Debian's cron has no CRON_TZ/],
      [[fixture, '--schedule', '*-*-* *:*:30'], /elapses at seconds other than :00/],
      [[daemon], /it has no timer: cron runs jobs on a schedule, not daemons/],
    ];
    for (const [args, why] of cases) {
      const result = await sandbox.svcctl(['export', ...args, '--format', 'cron']);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(why);
      expect(result.stdout).toBe('');
    }
  });

  test("Debian's cron accepts the exported file and runs the job as the timer would, output in the journal", async () => {
    const exported = await sandbox.svcctl(['export', fixture, '--format', 'cron', '--output', '/root/cron']);
    expect(exported.exitCode).toBe(0);
    const manifest = JSON.parse((await sandbox.sh('cat /root/cron/.svcctl-export.json')).stdout) as { files: { path: string; mode: string; owner: string; group: string; secretKeys?: string[] }[]; directories: { path: string; mode: string; owner: string; group: string }[] };
    // The secrets file is for the job's user to read, and only root to write.
    const secrets = manifest.files.find((f) => f.secretKeys)!;
    expect(secrets).toEqual(expect.objectContaining({ path: '/etc/svcctl/minutely/secrets.env', mode: '0640', owner: 'root', group: 'minutely', secretKeys: ['MINUTELY_TOKEN'] }));
    expect(manifest.directories).toContainEqual({ path: '/etc/svcctl/minutely', mode: '0750', owner: 'root', group: 'minutely' });
    // Put it in place as the manifest says: user and directories first, the secret filled in by the operator.
    const placed = await sandbox.sh(
      [
        'set -e',
        't=/root/cron',
        'install -D -m 0644 $t/etc/sysusers.d/svcctl-minutely.conf /etc/sysusers.d/svcctl-minutely.conf && systemd-sysusers /etc/sysusers.d/svcctl-minutely.conf',
        'install -D -m 0644 $t/etc/tmpfiles.d/svcctl-minutely.conf /etc/tmpfiles.d/svcctl-minutely.conf && systemd-tmpfiles --create /etc/tmpfiles.d/svcctl-minutely.conf',
        'install -D -m 0755 $t/usr/local/bin/minutely.sh /usr/local/bin/minutely.sh',
        'install -d -m 0750 -o root -g minutely /etc/svcctl/minutely',
        `printf 'MINUTELY_TOKEN="%s"\\n' ${token} > /etc/svcctl/minutely/secrets.env && chown root:minutely /etc/svcctl/minutely/secrets.env && chmod 0640 /etc/svcctl/minutely/secrets.env`,
        'install -m 0644 $t/etc/cron.d/svcctl-minutely /etc/cron.d/svcctl-minutely',
        'systemctl start cron.service',
      ].join('\n'),
    );
    expect(placed.exitCode).toBe(0);
    const want = 'minutely: user=minutely cwd=/var/lib/minutely args=[first word][second] greeting=[hello 100% from cron] token-length=64';
    const journal = () => sandbox.run(['journalctl', '-t', 'minutely', '-o', 'cat', '--no-pager']);
    // An every-minute entry fires within about 60 s of cron starting; a loaded machine gets a generous deadline.
    expect(await eventually(async () => (await journal()).stdout.includes(want), 150_000)).toBe(true);
    // cron found nothing to complain about in the file, and the job's token never reached the journal.
    const cron = await sandbox.run(['journalctl', '-u', 'cron.service', '-o', 'cat', '--no-pager']);
    expect(cron.stdout).not.toMatch(/Error|ignored|WRONG|bad/i);
    expect((await journal()).stdout).not.toContain(token);
  }, 240_000);

  test('the same export without --output prints every file for review', async () => {
    const printed = await sandbox.svcctl(['export', fixture, '--format', 'cron']);
    expect(printed.exitCode).toBe(0);
    expect(printed.stdout).toContain('==> etc/cron.d/svcctl-minutely (0644) <==');
    expect(printed.stdout).toMatch(/^\* \* \* \* \* minutely \/usr\/bin\/systemd-cat -t minutely \/usr\/bin\/flock -n \/usr\/local\/bin\/minutely\.sh /m);
    expect(path.basename(fixture)).toBe('minutely');
  });
});
