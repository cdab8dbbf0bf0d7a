// install/uninstall against a real systemd: the whole transaction, convergence, rollback, crashes, locking, --root.
import { describeInSandbox } from '../helpers/sandbox.js';

const fixtures = `${process.cwd()}/test/fixtures/install`;
const bundle = 'cleanup-blocking';
const timer = 'cleanup-blocking-coordination.timer';

describeInSandbox('install and uninstall cleanup-blocking', (sandbox) => {
  test('--dry-run prints the plan, changes nothing, and needs no root', async () => {
    const result = await sandbox.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'svcctl', 'install', bundle, '--dry-run']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('create system user claude-flow');
    expect(result.stderr).toContain('systemctl enable --now cleanup-blocking-coordination.timer');
    expect(result.stderr).toContain('dry run: nothing was changed');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('--dry-run --json prints the plan as one JSON document without file contents', async () => {
    const result = await sandbox.svcctl(['install', bundle, '--dry-run', '--json']);
    expect(result.exitCode).toBe(0);
    const data = JSON.parse(result.stdout);
    expect(data.dryRun).toBe(true);
    expect(data.bundles[0].actions.map((a: { kind: string }) => a.kind)).toContain('daemon-reload');
    expect(result.stdout).not.toContain('"content"');
  });

  test('without root it refuses with exit 77 before touching anything', async () => {
    const result = await sandbox.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'svcctl', 'install', bundle, '--yes']);
    expect(result.exitCode).toBe(77);
    expect(result.stderr).toMatch(/needs root/);
    expect(await sandbox.changes()).toEqual([]);
  });

  test('without a terminal and without --yes it refuses with exit 2 naming --yes', async () => {
    const result = await sandbox.svcctl(['install', bundle]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--yes');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a secret value on the command line is refused with exit 2 and the reason', async () => {
    const result = await sandbox.svcctl(['install', bundle, '--yes', '--secret', 'REDIS_PASSWORD=hunter2']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/readable by every local user/);
    expect(result.stderr).toContain('REDIS_PASSWORD=@FILE');
    expect(result.stderr).not.toContain('hunter2');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a required secret and setting missing without a terminal: exit 2 naming the flag and variable', async () => {
    const setting = await sandbox.svcctl(['install', `${fixtures}/needs-secret`, '--yes']);
    expect(setting.exitCode).toBe(2);
    expect(setting.stderr).toContain('--set TARGET_HOST=VALUE');
    const secret = await sandbox.svcctl(['install', `${fixtures}/needs-secret`, '--yes', '--set', 'TARGET_HOST=db1']);
    expect(secret.exitCode).toBe(2);
    expect(secret.stderr).toContain('--secret API_TOKEN=@FILE');
    expect(secret.stderr).toContain('SVCCTL_SECRET_API_TOKEN');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a bad setting is refused with exit 2 and nothing changes', async () => {
    const result = await sandbox.svcctl(['install', bundle, '--yes', '--set', 'STALE_THRESHOLD_SECONDS=soon']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('STALE_THRESHOLD_SECONDS="soon" does not match');
    const schedule = await sandbox.svcctl(['install', bundle, '--yes', '--schedule', 'every blue moon']);
    expect(schedule.exitCode).toBe(2);
    expect(schedule.stderr).toContain('invalid schedule');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a unit systemd-analyze verify warns about is refused (exit 2), even though verify itself exits 0', async () => {
    await sandbox.sh(
      [
        'mkdir -p /tmp/warned && cd /tmp/warned',
        'printf "name: warned\\ndescription: a typo in a unit\\nunits: [warned.service]\\nenable: []\\n" > bundle.yaml',
        'printf "[Service]\\nType=oneshot\\nExecStart=/bin/true\\nRestartSecc=5\\n" > warned.service',
      ].join(' && '),
    );
    const result = await sandbox.svcctl(['install', '/tmp/warned', '--yes']);
    await sandbox.sh('rm -rf /tmp/warned');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('systemd-analyze verify found problems in bundle warned');
    expect(result.stderr).toMatch(/warned\.service:4: Unknown key.*RestartSecc/);
    expect(await sandbox.changes()).toEqual([]);
  });

  test('install: files with their modes, user, directories, one reload, the timer active with a next elapse', async () => {
    await sandbox.sh('printf "r3dis-pa55\\n" > /tmp/redis.pass');
    const result = await sandbox.svcctl(['install', bundle, '--yes', '--secret', 'REDIS_PASSWORD=@/tmp/redis.pass'], { env: { DEBUG: 'svcctl' } });
    expect(result.stderr).toContain(`✔ systemctl enable --now ${timer}`);
    expect(result.exitCode).toBe(0);
    expect(result.stderr.match(/✔ systemctl daemon-reload/g)).toHaveLength(1);
    // Every process the install started (DEBUG traces the exec seam): the lock (flock(1) on svcctl's open file),
    // the preflight (systemd-analyze verify, and the sysusers.d/tmpfiles.d lines through the real tools in a scratch
    // root, at once), one reload, one enable, and one `systemctl show` that is both the post-check and the source of
    // the next run printed.
    const processes = [...result.stderr.matchAll(/^svcctl \+\d+ms exec (\[.*\])$/gm)].map((m) => (JSON.parse(m[1]!) as string[]).slice(0, 2).join(' ').replace(/^\/usr\/s?bin\//, '').replace(/--root=\S*\/svcctl-line-check-\w+\/root/, '--root=SCRATCH'));
    expect(processes.slice(0, 2)).toEqual(['flock --exclusive', 'systemctl show']);
    expect(processes.slice(2, 5).sort()).toEqual(['systemd-analyze verify', 'systemd-sysusers --root=SCRATCH', 'systemd-tmpfiles --create']);
    expect(processes.slice(5)).toEqual(['systemd-sysusers /etc/sysusers.d/svcctl-cleanup-blocking.conf', 'systemd-tmpfiles --create', 'systemctl daemon-reload', 'systemctl --no-reload', 'systemctl show']);
    const printed = result.stderr.match(new RegExp(`${timer}: next run (.+) \\(in [^)]+\\)`))?.[1];
    const listed = (await sandbox.run(['systemctl', 'list-timers', '--all', '--no-pager', '--no-legend', timer])).stdout;
    expect(printed).toBeDefined();
    expect(listed.startsWith(printed!)).toBe(true);
    const modes = await sandbox.run([
      'stat',
      '-c',
      '%n %a %U:%G',
      '/usr/local/bin/cleanup-blocking-coordination.sh',
      '/etc/systemd/system/cleanup-blocking-coordination.service',
      '/etc/systemd/system/cleanup-blocking-coordination.service.d/override.conf',
      '/etc/svcctl/cleanup-blocking',
      '/etc/svcctl/cleanup-blocking/secrets.env',
      '/var/lib/svcctl/cleanup-blocking.json',
      '/home/claude-flow/.claude-flow/logs',
    ]);
    expect(modes.stdout.trim().split('\n')).toEqual([
      '/usr/local/bin/cleanup-blocking-coordination.sh 755 root:root',
      '/etc/systemd/system/cleanup-blocking-coordination.service 644 root:root',
      '/etc/systemd/system/cleanup-blocking-coordination.service.d/override.conf 600 root:root',
      '/etc/svcctl/cleanup-blocking 700 root:root',
      '/etc/svcctl/cleanup-blocking/secrets.env 600 root:root',
      '/var/lib/svcctl/cleanup-blocking.json 600 root:root',
      '/home/claude-flow/.claude-flow/logs 750 claude-flow:claude-flow',
    ]);
    const user = await sandbox.run(['getent', 'passwd', 'claude-flow']);
    expect(user.stdout).toMatch(/^claude-flow:x:\d+:\d+:.*:\/opt\/claude-flow-novice:\/usr\/sbin\/nologin$/m);
    const state = await sandbox.run(['systemctl', 'is-active', timer]);
    expect(state.stdout.trim()).toBe('active');
    const enabled = await sandbox.run(['systemctl', 'is-enabled', timer]);
    expect(enabled.stdout.trim()).toBe('enabled');
    const secrets = await sandbox.run(['cat', '/etc/svcctl/cleanup-blocking/secrets.env']);
    expect(secrets.stdout).toMatch(/BLOCKING_COORDINATION_SECRET=.*[0-9a-f]{64}/);
    expect(secrets.stdout).toContain('r3dis-pa55');
    expect(secrets.stdout).not.toContain('r3dis-pa55\n"');
  });

  test('installing again with the same inputs: "up to date", nothing reloaded or restarted', async () => {
    const before = await sandbox.run(['systemctl', 'show', '-p', 'ActiveEnterTimestampMonotonic', '--value', timer]);
    const result = await sandbox.svcctl(['install', bundle, '--yes']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('cleanup-blocking is up to date');
    expect(result.stderr).not.toContain('daemon-reload');
    const after = await sandbox.run(['systemctl', 'show', '-p', 'ActiveEnterTimestampMonotonic', '--value', timer]);
    expect(after.stdout).toBe(before.stdout);
  });

  test('a changed setting rewrites only the drop-in; existing secrets are kept', async () => {
    const secretsBefore = await sandbox.run(['sha256sum', '/etc/svcctl/cleanup-blocking/secrets.env']);
    const result = await sandbox.svcctl(['install', bundle, '--yes', '--set', 'STALE_THRESHOLD_SECONDS=1200']);
    expect(result.exitCode).toBe(0);
    const steps = result.stderr.split('\n').filter((l) => l.startsWith('✔ ') && !l.includes('installed'));
    expect(steps).toEqual(['✔ update /etc/systemd/system/cleanup-blocking-coordination.service.d/override.conf (0600 root:root)', '✔ systemctl daemon-reload', '✔ check that the 7 files, 5 directories and user claude-flow of cleanup-blocking are in place']);
    const shown = await sandbox.run(['systemctl', 'show', '-p', 'Environment', '--value', 'cleanup-blocking-coordination.service']);
    expect(shown.stdout).toContain('STALE_THRESHOLD_SECONDS=1200');
    const secretsAfter = await sandbox.run(['sha256sum', '/etc/svcctl/cleanup-blocking/secrets.env']);
    expect(secretsAfter.stdout).toBe(secretsBefore.stdout);
  });

  test('a second transaction while one holds the lock fails with a clear message and changes nothing', async () => {
    // A unit holds the lock (flock(1) on the same file); its PID is written there, as a transaction writes its own.
    await sandbox.run(['systemd-run', '--unit=lock-holder.service', '/usr/bin/flock', '/run/svcctl.lock', '/bin/sleep', '600']);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      if ((await sandbox.run(['flock', '--nonblock', '/run/svcctl.lock', 'true'])).exitCode !== 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const holder = (await sandbox.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'lock-holder.service'])).stdout.trim();
    await sandbox.sh(`echo ${holder} > /run/svcctl.lock`);
    const result = await sandbox.svcctl(['install', bundle, '--yes', '--set', 'STALE_THRESHOLD_SECONDS=30'], { env: { SVCCTL_LOCK_WAIT_MS: '300' } });
    await sandbox.run(['systemctl', 'stop', 'lock-holder.service']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`another svcctl transaction is running (pid ${holder}, lock /run/svcctl.lock)`);
    const shown = await sandbox.run(['systemctl', 'show', '-p', 'Environment', '--value', 'cleanup-blocking-coordination.service']);
    expect(shown.stdout).toContain('STALE_THRESHOLD_SECONDS=1200');
  });

  test('uninstall without --purge keeps the user, data and secrets; --purge then leaves nothing at all', async () => {
    const plain = await sandbox.svcctl(['uninstall', bundle, '--yes']);
    expect(plain.exitCode).toBe(0);
    expect(plain.stderr).toMatch(/kept .*secrets\.env.*user claude-flow/);
    const timerGone = await sandbox.run(['systemctl', 'is-active', timer]);
    expect(timerGone.stdout.trim()).toBe('inactive');
    expect((await sandbox.run(['test', '-e', '/etc/systemd/system/cleanup-blocking-coordination.service'])).exitCode).toBe(1);
    expect((await sandbox.run(['getent', 'passwd', 'claude-flow'])).exitCode).toBe(0);
    const purge = await sandbox.svcctl(['uninstall', bundle, '--purge', '--yes']);
    expect(purge.exitCode).toBe(0);
    await sandbox.sh('rm -f /tmp/redis.pass');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('uninstalling what is not installed says so and exits 0', async () => {
    const result = await sandbox.svcctl(['uninstall', bundle, '--yes']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('not installed');
  });

  test("a group of the user's name that was there before: the user becomes its member, and --purge keeps the group as it was", async () => {
    // userdel deletes a user's primary group of the same name when it has no other members (Debian's
    // USERGROUPS_ENAB): svcctl did not create this one, so it must still be there, line for line.
    await sandbox.sh('groupadd --system claude-flow && printf "r3dis-pa55\\n" > /tmp/redis.pass');
    const groupLines = "grep '^claude-flow:' /etc/group /etc/gshadow";
    const before = (await sandbox.sh(groupLines)).stdout;
    expect(before).toMatch(/^\/etc\/group:claude-flow:x:\d+:$/m);
    const install = await sandbox.svcctl(['install', bundle, '--yes', '--secret', 'REDIS_PASSWORD=@/tmp/redis.pass']);
    expect(install.exitCode).toBe(0);
    const gid = before.match(/^\/etc\/group:claude-flow:x:(\d+):$/m)![1];
    expect((await sandbox.sh('getent passwd claude-flow')).stdout.split(':')[3]).toBe(gid);
    const purge = await sandbox.svcctl(['uninstall', bundle, '--purge', '--yes']);
    expect(purge.exitCode).toBe(0);
    expect(purge.stderr).toContain('✔ remove system user claude-flow\n');
    expect((await sandbox.run(['getent', 'passwd', 'claude-flow'])).exitCode).toBe(2);
    expect((await sandbox.sh(groupLines)).stdout).toBe(before);
    await sandbox.sh('groupdel claude-flow && rm -f /tmp/redis.pass');
    expect(await sandbox.changes()).toEqual([]);
  });
});

describeInSandbox('the transaction under failure', (sandbox) => {
  test('a failing step rolls back the completed ones: exit 1, the step, command and stderr named, host as before', async () => {
    const plan = await sandbox.svcctl(['install', bundle, '--dry-run', '--json']);
    const reload = (JSON.parse(plan.stdout).bundles[0].actions as { kind: string }[]).findIndex((a) => a.kind === 'daemon-reload') + 1;
    const result = await sandbox.svcctlTest(['install', bundle, '--yes'], { env: { SVCCTL_FAULT_INJECTION: `fail-before:${reload}` } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/step "systemctl daemon-reload" failed: injected failure/);
    expect(result.stderr).toMatch(/rolled back: .*create system user claude-flow/);
    expect(result.stderr).toContain('the host is as it was before');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a unit whose start fails makes `systemctl enable --now` fail: exit 1, the enable undone too, nothing left', async () => {
    const result = await sandbox.svcctl(['install', `${fixtures}/start-fails`, '--yes']);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ exitCode: 1 });
    expect(result.stderr).toMatch(/step "systemctl enable --now start-fails\.service" failed: .*exited with 1/);
    // enable --now had enabled the unit (its symlink) before the start failed: that half is undone as well.
    expect(result.stderr).toContain('Created symlink /etc/systemd/system/multi-user.target.wants/start-fails.service');
    expect(result.stderr).toMatch(/rolled back: .*create \/etc\/systemd\/system\/start-fails\.service/);
    expect(result.stderr).toContain('the host is as it was before');
    expect((await sandbox.run(['test', '-e', '/var/lib/svcctl/start-fails.json'])).exitCode).toBe(1);
    // Nor is it left in systemd's list of failed units.
    expect((await sandbox.run(['systemctl', 'list-units', '--failed', '--all', '--plain', '--no-legend', 'start-fails.service'])).stdout).toBe('');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a failure after `systemctl enable --now` (the post-check) undoes the enable too: exit 1, nothing left', async () => {
    // The real failures that would reach this step are timing races (a daemon dying within 300 ms) or end in
    // the enable step itself, so the fault is injected before the check that follows the enable, once the timer runs.
    const plan = await sandbox.svcctl(['install', bundle, '--dry-run', '--json']);
    const kinds = (JSON.parse(plan.stdout).bundles[0].actions as { kind: string }[]).map((a) => a.kind);
    const step = kinds.indexOf('check-active') + 1;
    expect(kinds[step - 2]).toBe('enable');
    const result = await sandbox.svcctlTest(['install', bundle, '--yes'], { env: { SVCCTL_FAULT_INJECTION: `fail-before:${step}` } });
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ exitCode: 1 });
    expect(result.stderr).toContain(`✔ systemctl enable --now ${timer}\n`);
    expect(result.stderr).toContain(`step "check that ${timer} is active" failed: injected failure before step ${step}`);
    expect(result.stderr).toMatch(new RegExp(`rolled back: systemctl enable --now ${timer}; .*create system user claude-flow`));
    expect(result.stderr).toContain('the host is as it was before');
    // The timer was running: the undo stopped and disabled it, and systemd no longer knows it.
    expect((await sandbox.run(['systemctl', 'show', '-p', 'LoadState,ActiveState', timer])).stdout.split('\n').sort()).toEqual(['ActiveState=inactive', 'LoadState=not-found']);
    // Nothing left: no unit file, no enablement symlink, no user, no receipt (the write-ahead one is removed too).
    expect((await sandbox.run(['test', '-e', `/var/lib/svcctl/${bundle}.json`])).exitCode).toBe(1);
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a foreign file at a target path is not overwritten without --force; with it, it is backed up and restored', async () => {
    await sandbox.sh('printf "#!/bin/sh\\necho hand-installed\\n" > /usr/local/bin/cleanup-blocking-coordination.sh && chmod 755 /usr/local/bin/cleanup-blocking-coordination.sh');
    const refused = await sandbox.svcctl(['install', bundle, '--yes']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('/usr/local/bin/cleanup-blocking-coordination.sh exists and was not created by svcctl');
    expect(refused.stderr).toContain('--force');
    const forced = await sandbox.svcctl(['install', bundle, '--yes', '--force']);
    expect(forced.exitCode).toBe(0);
    expect(forced.stderr).toContain('replace (original backed up) /usr/local/bin/cleanup-blocking-coordination.sh');
    const installed = await sandbox.run(['grep', '-c', 'hand-installed', '/usr/local/bin/cleanup-blocking-coordination.sh']);
    expect(installed.stdout.trim()).toBe('0');
    const removed = await sandbox.svcctl(['uninstall', bundle, '--purge', '--yes']);
    expect(removed.exitCode).toBe(0);
    const restored = await sandbox.run(['sha256sum', '/usr/local/bin/cleanup-blocking-coordination.sh']);
    const original = await sandbox.sh('printf "#!/bin/sh\\necho hand-installed\\n" | sha256sum');
    expect(restored.stdout.split(' ')[0]).toBe(original.stdout.split(' ')[0]);
    await sandbox.sh('rm -f /usr/local/bin/cleanup-blocking-coordination.sh');
    expect(await sandbox.changes()).toEqual([]);
  });
  // A SIGKILL at every step boundary of install and uninstall --purge: kill-recovery.test.ts.
});

describeInSandbox('install --root renders the tree without a running systemd', (sandbox) => {
  test('files land under DIR, the timer is enabled by symlink, and the live system is untouched', async () => {
    const result = await sandbox.svcctl(['install', bundle, '--root', '/srv/image', '--yes']);
    expect(result.exitCode).toBe(0);
    const tree = await sandbox.sh('cd /srv/image && find . -type f -o -type l | sort');
    expect(tree.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        './etc/systemd/system/cleanup-blocking-coordination.service',
        './etc/systemd/system/cleanup-blocking-coordination.timer',
        './etc/systemd/system/cleanup-blocking-coordination.service.d/override.conf',
        './etc/systemd/system/timers.target.wants/cleanup-blocking-coordination.timer',
        './etc/svcctl/cleanup-blocking/secrets.env',
        './etc/sysusers.d/svcctl-cleanup-blocking.conf',
        './etc/tmpfiles.d/svcctl-cleanup-blocking.conf',
        './usr/local/bin/cleanup-blocking-coordination.sh',
        './var/lib/svcctl/cleanup-blocking.json',
      ]),
    );
    expect((await sandbox.run(['test', '-e', '/etc/systemd/system/cleanup-blocking-coordination.service'])).exitCode).toBe(1);
    // Issue 9 item 26: the directories the tree gets are the modes a system has (they were 0700).
    expect((await sandbox.run(['stat', '-c', '%n %a', '/srv/image', '/srv/image/var', '/srv/image/var/lib', '/srv/image/var/lib/svcctl'])).stdout.trim().split('\n')).toEqual([
      '/srv/image 755',
      '/srv/image/var 755',
      '/srv/image/var/lib 755',
      '/srv/image/var/lib/svcctl 755',
    ]);
    const uninstall = await sandbox.svcctl(['uninstall', bundle, '--root', '/srv/image', '--purge', '--yes']);
    expect(uninstall.exitCode).toBe(0);
    const left = await sandbox.sh('find /srv/image -mindepth 1 -not -type d | sort');
    expect(left.stdout.trim()).toBe('');
    await sandbox.sh('rm -rf /srv/image');
    expect(await sandbox.changes()).toEqual([]);
  });
});

describeInSandbox('values reach the service byte for byte', (sandbox) => {
  test('settings (Environment=) and secrets (EnvironmentFile=) with quotes, backslashes, %, $, #, ;, unicode and newlines', async () => {
    const plain = `a "quoted" 'single' back\\slash %h %% $HOME \${X} #hash ;semi ünïcødé ✓ tab\tend`;
    const secret = `multi\nline "secret" with \\ and $dollar %percent #hash ;semi 'q' ünï\n trailing space `;
    await sandbox.run(['sh', '-c', 'cat > /tmp/secret.value'], { input: secret });
    const result = await sandbox.svcctl(['install', `${fixtures}/envdump`, '--yes', '--set', `PLAIN_VALUE=${plain}`, '--secret', 'SECRET_VALUE=@/tmp/secret.value']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).not.toContain('with \\ and $dollar');
    expect((await sandbox.run(['systemctl', 'start', 'envdump.service'])).exitCode).toBe(0);
    const dump = await sandbox.run(['cat', '/run/envdump/env']);
    const env = new Map(dump.stdout.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    expect(env.get('PLAIN_VALUE')).toBe(plain);
    // One trailing newline of a secret file is dropped (echo adds it); everything else arrives as written.
    expect(env.get('SECRET_VALUE')).toBe(secret.replace(/\n$/, ''));
    await sandbox.svcctl(['uninstall', 'envdump', '--purge', '--yes']);
    await sandbox.sh('rm -rf /tmp/secret.value /run/envdump');
    expect(await sandbox.changes()).toEqual([]);
  });
});

describeInSandbox('uninstall in two steps', (sandbox) => {
  test('a plain uninstall keeps user, data and secrets; again it says so and changes nothing; --purge then removes them', async () => {
    expect((await sandbox.svcctl(['install', bundle, '--yes'])).exitCode).toBe(0);
    const first = await sandbox.svcctl(['uninstall', bundle, '--yes']);
    expect(first.exitCode).toBe(0);
    expect(first.stderr).toMatch(/cleanup-blocking uninstalled; kept \/etc\/sysusers.d\/svcctl-cleanup-blocking.conf, .*\/etc\/svcctl\/cleanup-blocking\/secrets.env, user claude-flow/);
    const second = await sandbox.svcctl(['uninstall', bundle, '--yes']);
    expect(second.exitCode).toBe(0);
    expect(second.stderr).toContain('cleanup-blocking is already uninstalled; kept');
    expect(second.stderr).not.toContain('Plan');
    const purge = await sandbox.svcctl(['uninstall', bundle, '--yes', '--purge']);
    expect(purge.exitCode).toBe(0);
    expect(await sandbox.changes()).toEqual([]);
  });
});
