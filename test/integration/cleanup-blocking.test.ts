// The built-in bundle end to end: installed by svcctl, triggered through systemd, against a real Redis with a password.
import { describeInSandbox } from '../helpers/sandbox.js';

describeInSandbox('cleanup-blocking installed by svcctl against a real Redis', (sandbox) => {
  const password = 'pw-"quoted" $and %percent';
  const redis = (command: string) => sandbox.sh(`REDISCLI_AUTH="$(cat /run/test-redis/pass)" redis-cli -h 127.0.0.1 ${command}`);

  beforeAll(async () => {
    await sandbox.run(['sh', '-c', 'umask 077 && mkdir -p /run/test-redis && cat > /run/test-redis/pass'], { input: password });
    await sandbox.sh(
      [
        'umask 077',
        // requirepass takes the rest of the line literally when quoted; the quote characters are escaped for Redis.
        `printf 'port 6379\\nbind 127.0.0.1\\nsave ""\\nappendonly no\\ndir /run/test-redis\\nrequirepass "%s"\\n' "$(sed 's/["\\\\]/\\\\&/g' /run/test-redis/pass)" > /run/test-redis/redis.conf`,
        'systemd-run --quiet --unit=test-redis /usr/bin/redis-server /run/test-redis/redis.conf',
        'for i in $(seq 50); do redis-cli -h 127.0.0.1 PING >/dev/null 2>&1 && break; sleep 0.1; done',
      ].join(' && '),
    );
    const now = Math.floor(Date.now() / 1000);
    const seeded = await redis(
      `MSET blocking:heartbeat:old ${now - 7200} blocking:signal:old pending coordinator:activity:old x blocking:heartbeat:new ${now} blocking:signal:new pending unrelated:key keep`,
    );
    expect(seeded.stdout.trim()).toBe('OK');
  }, 60_000);

  test('install with the Redis password from a file, run it through systemd: stale coordinators gone, live ones kept', async () => {
    const install = await sandbox.svcctl(['install', 'cleanup-blocking', '--yes', '--secret', 'REDIS_PASSWORD=@/run/test-redis/pass']);
    expect(install.exitCode).toBe(0);
    const run = await sandbox.svcctl(['run', 'cleanup-blocking']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/deleted stale coordinator old/);
    const keys = await redis('--scan --pattern "*"');
    expect(keys.stdout.trim().split('\n').sort()).toEqual(['blocking:heartbeat:new', 'blocking:signal:new', 'unrelated:key']);
    const status = await sandbox.run(['systemctl', 'show', '-p', 'Result,ExecMainStatus', 'cleanup-blocking-coordination.service']);
    expect(status.stdout).toContain('Result=success');
    expect(status.stdout).toContain('ExecMainStatus=0');
    const journal = await sandbox.run(['journalctl', '-u', 'cleanup-blocking-coordination.service', '-o', 'cat', '--no-pager']);
    expect(journal.stdout).not.toContain('pw-');
  });

  test('with Redis down the job fails through systemd with a non-zero status, and check says CRITICAL', async () => {
    await sandbox.run(['systemctl', 'stop', 'test-redis']);
    const run = await sandbox.svcctl(['run', 'cleanup-blocking']);
    expect(run.exitCode).not.toBe(0);
    const check = await sandbox.svcctl(['check', 'cleanup-blocking']);
    expect(check.exitCode).toBe(2);
    expect(check.stdout).toMatch(/^SVCCTL CRITICAL - cleanup-blocking: /);
  });

  test('uninstall --purge leaves nothing behind', async () => {
    expect((await sandbox.svcctl(['uninstall', 'cleanup-blocking', '--purge', '--yes'])).exitCode).toBe(0);
    await sandbox.sh('systemctl reset-failed test-redis 2>/dev/null; rm -rf /run/test-redis');
    expect(await sandbox.changes()).toEqual([]);
  });
});
