// Every failure leaves the host exactly as it was: a failure after a step of every kind in the registry (and part-way
// through a step, and of a step's own helper after it ran) in install, uninstall, schedule, secret set and secret
// rotate, each compared with the host before; the known defects of the first transaction; the post-check; a verified
// rollback that finds a real difference; and no fault hooks in what ships.
import { readFileSync } from 'node:fs';
import { stepKinds } from '../../src/core/steps/index.js';
import { stepNumber, stepsOf } from '../helpers/faults.js';
import { hostState } from '../helpers/host-state.js';
import { describeInSandbox, type Sandbox } from '../helpers/sandbox.js';

const fixtures = `${process.cwd()}/test/fixtures/rollback`;
const job = `${fixtures}/job`;
const units = ['rollback-job.service', 'rollback-job.timer'];
const timer = 'rollback-job.timer';

interface ErrorData {
  step?: string;
  reason?: string;
  notUndone?: string[];
  differences?: string[];
}

function errorOf(stdout: string): ErrorData {
  try {
    return (JSON.parse(stdout) as { error?: ErrorData }).error ?? {};
  } catch {
    return {};
  }
}

/** Failure runs aimed at one sandbox: each compares the host before and after, and records the step kind it hit. */
function failures(sandbox: Sandbox) {
  /** Step kind → how a failure at it was tested ("install: fail-after", "uninstall: tool-fail:userdel"…). */
  const tested = new Map<string, Set<string>>();
  const record = (kind: string, how: string) => tested.set(kind, (tested.get(kind) ?? new Set()).add(how));

  /** Runs the test build with `fault`: exit 1, the fault seen in its output, nothing left undone, the host as before. */
  async function failsCleanly(args: string[], fault: string, seen: string): Promise<ErrorData> {
    const before = await hostState(sandbox, units);
    const result = await sandbox.svcctlTest([...args, '--json'], { env: { SVCCTL_FAULT_INJECTION: fault } });
    const error = errorOf(result.stdout);
    const after = await hostState(sandbox, units);
    const what = `${args.slice(0, 2).join(' ')} with ${fault}`;
    expect({ what, exitCode: result.exitCode, seen: result.stderr.includes(seen) ? seen : result.stderr, notUndone: error.notUndone, differences: error.differences }).toEqual({
      what,
      exitCode: 1,
      seen,
      notUndone: [],
      differences: [],
    });
    expect({ what, host: after }).toEqual({ what, host: before });
    return error;
  }

  /**
   * A failure after the first step of each kind in the transaction, and after its last step — there every undo runs,
   * also once before its step acts (it must find nothing to undo), and twice in the rollback (the second changes nothing).
   */
  async function afterEachKind(label: string, args: string[]): Promise<string[]> {
    const kinds = await stepsOf(sandbox, args);
    const steps = [...new Set([...new Set(kinds)].map((k) => kinds.indexOf(k) + 1))].filter((step) => step < kinds.length);
    for (const step of steps) {
      await failsCleanly(args, `fail-after:${step}`, `injected failure after step ${step} of ${kinds.length} (${kinds[step - 1]})`);
      record(kinds[step - 1]!, `${label}: fail-after`);
    }
    const last = kinds.length;
    await failsCleanly(args, `fail-after:${last},undo-first,undo-twice`, `injected failure after step ${last} of ${last} (${kinds[last - 1]})`);
    for (const kind of kinds) record(kind, `${label}: fail-after:${last} (undo with nothing to undo, and twice)`);
    return kinds;
  }

  /** Part-way through step `step` (it made the first of its changes), which must be of kind `kind`. */
  async function partway(label: string, args: string[], kinds: string[], step: number, kind: string): Promise<void> {
    expect({ step, kind: kinds[step - 1] }).toEqual({ step, kind });
    await failsCleanly(args, `fail-partway:${step}`, `injected failure partway step ${step} of ${kinds.length} (${kind})`);
    record(kind, `${label}: fail-partway`);
  }

  /** Helper `tool` of a step of kind `kind` runs, then reports failure (`seen`: how the step words that failure). */
  async function toolFails(label: string, args: string[], tool: string, kind: string, seen = `injected failure of ${tool} after it ran`): Promise<void> {
    const error = await failsCleanly(args, `tool-fail:${tool}`, seen);
    expect({ tool, failedStep: error.step }).toEqual({ tool, failedStep: expect.any(String) });
    record(kind, `${label}: tool-fail:${tool}`);
  }

  return { tested, failsCleanly, afterEachKind, partway, toolFails };
}

describeInSandbox('a failure at any step of any command leaves the host as it was', (sandbox) => {
  const { tested, afterEachKind, partway, toolFails, failsCleanly } = failures(sandbox);
  const install = ['install', job, '--yes', '--force'];
  const purge = ['uninstall', 'job', '--purge', '--yes'];
  const status = async () => JSON.parse((await sandbox.svcctl(['status', 'job', '--json'])).stdout) as { health: string; state: string };

  test('setup: someone else\'s script and directory where the bundle installs (so it installs with --force)', async () => {
    const setup = await sandbox.sh(
      'printf "#!/bin/sh\\necho hand-installed\\n" > /usr/local/bin/rollback-job.sh && chmod 755 /usr/local/bin/rollback-job.sh && mkdir -m 0700 /srv/rollback-job && printf token-one > /run/token-one',
    );
    expect(setup.exitCode).toBe(0);
  });

  test('install --force: a failure after a step of each kind', async () => {
    const kinds = await afterEachKind('install', install);
    expect(kinds).toEqual(expect.arrayContaining(['make-directory', 'write-file', 'apply-sysusers', 'apply-tmpfiles', 'daemon-reload', 'enable', 'check-active', 'check-installed']));
  }, 180_000);

  test('install --force: part-way through replacing a file; each helper failing after it ran', async () => {
    const kinds = await stepsOf(sandbox, install);
    // The payload goes over someone else's script: backed up, then written.
    await partway('install', install, kinds, await stepNumber(sandbox, install, 'replace (original backed up) /usr/local/bin/rollback-job.sh'), 'write-file');
    await toolFails('install', install, 'systemd-sysusers', 'apply-sysusers');
    await toolFails('install', install, 'systemd-tmpfiles', 'apply-tmpfiles');
    await toolFails('install', install, 'systemctl-daemon-reload', 'daemon-reload');
    await toolFails('install', install, 'systemctl-enable', 'enable');
  }, 120_000);

  test('installed for real, with data in its directory', async () => {
    const result = await sandbox.svcctl([...install, '--secret', 'JOB_TOKEN=@/run/token-one']);
    expect(result.exitCode).toBe(0);
    expect((await sandbox.sh('printf data > /srv/rollback-job/state/kept && chown rollback-job:rollback-job /srv/rollback-job/state/kept')).exitCode).toBe(0);
    expect(await status()).toMatchObject({ health: 'ok', state: 'installed' });
  });

  test('uninstall --purge: a failure after a step of each kind', async () => {
    const kinds = await afterEachKind('uninstall --purge', purge);
    expect(kinds).toEqual(expect.arrayContaining(['stop-disable', 'remove-file', 'stop-user-processes', 'remove-directory', 'restore-directory', 'purge-directory', 'remove-user', 'daemon-reload', 'reset-failed']));
  }, 180_000);

  test('uninstall --purge: part-way (stopped, not yet disabled; a file removed, its original not yet back); each helper failing', async () => {
    const kinds = await stepsOf(sandbox, purge);
    await partway('uninstall --purge', purge, kinds, 1, 'stop-disable');
    // The payload is removed, and the original comes back from its backup.
    await partway('uninstall --purge', purge, kinds, await stepNumber(sandbox, purge, 'remove /usr/local/bin/rollback-job.sh and restore the original'), 'remove-file');
    await toolFails('uninstall --purge', purge, 'systemctl-stop', 'stop-disable');
    await toolFails('uninstall --purge', purge, 'systemctl-disable', 'stop-disable');
    await toolFails('uninstall --purge', purge, 'userdel', 'remove-user');
    await toolFails('uninstall --purge', purge, 'systemctl-daemon-reload', 'daemon-reload');
  }, 120_000);

  test('a failed plain uninstall leaves the timer enabled and active again (issue 9 item 12)', async () => {
    const plain = ['uninstall', 'job', '--yes'];
    const kinds = await stepsOf(sandbox, plain);
    await failsCleanly(plain, `fail-after:${kinds.length}`, `injected failure after step ${kinds.length}`);
    expect((await sandbox.run(['systemctl', 'is-enabled', timer])).stdout.trim()).toBe('enabled');
    expect((await sandbox.run(['systemctl', 'is-active', timer])).stdout.trim()).toBe('active');
    expect(await status()).toMatchObject({ health: 'ok', state: 'installed' });
  });

  test('schedule: a failure after a step of each kind, and systemctl restart failing; the old schedule stays', async () => {
    const schedule = ['schedule', 'job', '30min'];
    const kinds = await afterEachKind('schedule', schedule);
    expect(kinds).toEqual(expect.arrayContaining(['make-directory', 'write-file', 'daemon-reload', 'restart', 'check-timer']));
    await toolFails('schedule', schedule, 'systemctl-restart', 'restart');
    expect(await status()).toMatchObject({ health: 'ok', state: 'installed', schedule: '1h' });
  }, 120_000);

  test('schedule --reset: a failure after a step of each kind; the override stays', async () => {
    expect((await sandbox.svcctl(['schedule', 'job', '30min'])).exitCode).toBe(0);
    const kinds = await afterEachKind('schedule --reset', ['schedule', 'job', '--reset']);
    expect(kinds).toEqual(expect.arrayContaining(['remove-file', 'remove-directory', 'daemon-reload', 'restart', 'check-timer']));
    expect(await status()).toMatchObject({ health: 'ok', schedule: '30min' });
    expect((await sandbox.svcctl(['schedule', 'job', '--reset'])).exitCode).toBe(0);
  }, 120_000);

  test('secret set: a failure after its step; the old secret stays and the timer runs', async () => {
    await sandbox.sh('printf token-two > /run/token-two');
    await afterEachKind('secret set', ['secret', 'set', 'job', 'JOB_TOKEN', '--from-file', '/run/token-two']);
    const secrets = await sandbox.run(['cat', '/etc/svcctl/job/secrets.env']);
    expect(secrets.stdout).toContain('token-one');
    expect(await status()).toMatchObject({ health: 'ok', state: 'installed' });
  });

  test('secret rotate: a failure after each step, and the run failing; the old secret stays and the timer runs', async () => {
    const rotate = ['secret', 'rotate', 'job'];
    const kinds = await afterEachKind('secret rotate', rotate);
    expect(kinds).toEqual(['write-file', 'run-job', 'check-health']);
    // The job ran (and succeeded); systemctl said otherwise: run-job words it from the unit's result.
    await toolFails('secret rotate', rotate, 'systemctl-start', 'run-job', 'run rollback-job.service now (systemctl start): rollback-job.service failed');
    expect((await sandbox.run(['cat', '/etc/svcctl/job/secrets.env'])).stdout).toContain('token-one');
    expect(await status()).toMatchObject({ health: 'ok', state: 'installed' });
    expect((await sandbox.svcctl(['run', 'job'])).exitCode).toBe(0);
  }, 120_000);

  test('every step kind of the registry had a failure test (a new kind needs one here)', () => {
    const untested = Object.keys(stepKinds).filter((kind) => !tested.has(kind));
    expect(untested).toEqual([]);
  });

  test('finally: uninstall --purge puts back what was there, and the sandbox is as booted once the setup is gone', async () => {
    expect((await sandbox.svcctl(purge)).exitCode).toBe(0);
    expect((await sandbox.sh('grep -c hand-installed /usr/local/bin/rollback-job.sh; stat -c "%a %U" /srv/rollback-job')).stdout.split('\n')).toEqual(['1', '700 root']);
    await sandbox.sh('rm -rf /usr/local/bin/rollback-job.sh /srv/rollback-job');
    expect(await sandbox.changes()).toEqual([]);
  });
});

// A sandbox of its own: the failing runs above restart rollback-job.timer again and again, close to systemd's default
// start limit (5 starts in 10 s). With this test among them, on an idle machine the uninstall rollbacks' timer start
// hit it (start-limit-hit), which this test is not about.
describeInSandbox('a failed alert add leaves the host as it was', (sandbox) => {
  const { afterEachKind, failsCleanly } = failures(sandbox);

  test('alert add with email: a failure after exim\'s instance drop-in is written, and after a step of each kind', async () => {
    expect((await sandbox.svcctl(['install', job, '--yes'])).exitCode).toBe(0);
    // svcctl-alerts joins the transaction; the email channel gives the job's alert instances their drop-ins.
    const add = ['alert', 'add', 'job', 'email=root@localhost', '--yes'];
    const dropIn = await stepNumber(sandbox, add, 'create /etc/systemd/system/svcctl-alert-resolved@rollback-job.service.service.d/svcctl-alerts.conf');
    await failsCleanly(add, `fail-after:${dropIn}`, `injected failure after step ${dropIn} of`);
    await afterEachKind('alert add', add);
    expect((await sandbox.svcctl(['uninstall', 'job', '--purge', '--yes'])).exitCode).toBe(0);
    expect(await sandbox.changes()).toEqual([]);
  }, 180_000);
});

describeInSandbox('the defects of the first transaction, and the checks that catch a failure', (sandbox) => {
  const { failsCleanly } = failures(sandbox);

  test('enable --now of a unit whose start fails: no link in multi-user.target.wants, no failed unit left behind', async () => {
    const result = await sandbox.svcctl(['install', `${fixtures}/enable-fails`, '--yes']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Created symlink /etc/systemd/system/multi-user.target.wants/enable-fails.service');
    expect(result.stderr).toContain('the host is as it was before');
    expect((await sandbox.run(['systemctl', 'list-units', '--failed', '--all', '--no-legend', '--plain'])).stdout.trim()).toBe('');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('systemd-tmpfiles failing on one directory: the one it made, owned by the new user, goes with the user', async () => {
    await sandbox.sh('mkdir /srv/rb-read-only && mount -t tmpfs -o ro tmpfs /srv/rb-read-only');
    const result = await sandbox.svcctl(['install', `${fixtures}/tmpfiles-rejects`, '--yes']);
    const left = await sandbox.sh('ls -lan /srv; getent passwd rb-tmpfiles');
    await sandbox.sh('umount /srv/rb-read-only && rmdir /srv/rb-read-only');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/systemd-tmpfiles --create .* exited with 73: Failed to create directory or subvolume "\/srv\/rb-read-only\/data": Read-only file system/);
    expect(result.stderr).toContain('the host is as it was before');
    expect(left.stdout).not.toContain('rb-tmpfiles');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a declared directory whose parent is a regular file: systemd-tmpfiles exits 0, the post-check fails the install and it is rolled back', async () => {
    await sandbox.sh('printf x > /srv/rb-parent-is-file');
    const result = await sandbox.svcctl(['install', `${fixtures}/parent-is-file`, '--yes']);
    await sandbox.sh('rm /srv/rb-parent-is-file');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).not.toContain('installed\n');
    expect(result.stderr).toMatch(/step "check that the .* of parent-is-file are in place" failed: parent-is-file is not installed as declared: \/srv\/rb-parent-is-file\/data is missing \(\/srv\/rb-parent-is-file is a file, not a directory\)/);
    expect(result.stderr).toContain('the host is as it was before');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('the post-check catches helpers that failed quietly: systemd-sysusers and systemd-tmpfiles exiting 0, having done nothing', async () => {
    // Stand-ins that do nothing and exit 0; every other helper is the real one (the test build looks there first).
    await sandbox.sh('mkdir -p /run/quiet && for t in systemd-sysusers systemd-tmpfiles; do printf "#!/bin/sh\\nexit 0\\n" > /run/quiet/$t && chmod 755 /run/quiet/$t; done');
    const result = await sandbox.svcctlTest(['install', job, '--yes'], { env: { SVCCTL_TEST_TOOL_PATH: '/run/quiet:/usr/sbin:/usr/bin:/sbin:/bin' } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('job is not installed as declared: user rollback-job does not exist; /srv/rollback-job is missing; /srv/rollback-job/state is missing');
    expect(result.stderr).toContain('the host is as it was before');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('the verified rollback finds a real difference: a unit that wrote into the directory svcctl made for it', async () => {
    const result = await sandbox.svcctl(['install', `${fixtures}/meddles`, '--yes']);
    await sandbox.sh('rm -rf /etc/systemd/system/meddles.service.d && systemctl daemon-reload && systemctl reset-failed');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^  differs from before: \/etc\/systemd\/system\/meddles\.service\.d: was absent, is a directory 0755 0:0$/m);
    expect(result.stderr).toContain('the host is not fully as it was');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a rollback puts back a receipt in the older format byte for byte (not rewritten in the new one)', async () => {
    // The install the format-1 fixture was written for (test/fixtures/receipts/README.md), then that receipt.
    await sandbox.sh('printf fixed-coordination-secret > /run/f && printf "r3dis pass" > /run/g');
    const installed = await sandbox.svcctl(['install', 'cleanup-blocking', '--yes', '--secret', 'BLOCKING_COORDINATION_SECRET=@/run/f', '--secret', 'REDIS_PASSWORD=@/run/g']);
    expect(installed.exitCode).toBe(0);
    const v1 = readFileSync(`${process.cwd()}/test/fixtures/receipts/cleanup-blocking.v1.json`, 'utf8').replace('@PACKAGE_ROOT@', process.cwd());
    await sandbox.run(['sh', '-c', 'cat > /var/lib/svcctl/cleanup-blocking.json'], { input: v1 });
    const receipt = async () => (await sandbox.run(['sha256sum', '/var/lib/svcctl/cleanup-blocking.json'])).stdout;
    const before = await receipt();
    const schedule = ['schedule', 'cleanup-blocking', '10min'];
    const steps = (await stepsOf(sandbox, schedule)).length;
    const failed = await sandbox.svcctlTest(schedule, { env: { SVCCTL_FAULT_INJECTION: `fail-after:${steps}` } });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain('the previous schedule is back in place');
    expect(await receipt()).toBe(before);
    // --force: the fixture holds 0.1's checksum of the payload, and the bundle's script has changed since.
    expect((await sandbox.svcctl(['uninstall', 'cleanup-blocking', '--purge', '--force', '--yes'])).exitCode).toBe(0);
    await sandbox.sh('rm -f /run/f /run/g');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('ENOSPC where the final receipt is written: rolled back, exit 1, the error named', async () => {
    // A first install tells the receipt's size; then a tmpfs at /var/lib/svcctl with room for the host key and the
    // intent receipt, and not for the final one's temporary file beside it.
    expect((await sandbox.svcctl(['install', job, '--yes'])).exitCode).toBe(0);
    const size = Number((await sandbox.run(['stat', '-c', '%s', '/var/lib/svcctl/job.json'])).stdout);
    expect((await sandbox.svcctl(['uninstall', 'job', '--purge', '--yes'])).exitCode).toBe(0);
    const pages = 1 + Math.ceil(size / 4096);
    await sandbox.sh(`mkdir -m 0755 /var/lib/svcctl && mount -t tmpfs -o size=${pages * 4096},mode=0755 tmpfs /var/lib/svcctl`);
    const result = await sandbox.svcctl(['install', job, '--yes']);
    const left = await sandbox.sh('ls -A /var/lib/svcctl');
    await sandbox.sh('umount /var/lib/svcctl && rmdir /var/lib/svcctl');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/step "write the final receipt" failed: .*ENOSPC/);
    expect(result.stderr).toContain('the host is as it was before');
    expect(left.stdout.trim()).toBe('');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('the shipped svcctl has no fault hooks: it ignores SVCCTL_FAULT_INJECTION and SVCCTL_TEST_TOOL_PATH', async () => {
    const env = { SVCCTL_FAULT_INJECTION: 'fail-before:1,kill-after:2,fail-partway:3,tool-fail:systemctl-enable,list-steps', SVCCTL_TEST_TOOL_PATH: '/nonexistent' };
    // The same environment fails the test build at once (a helper not found, or the fault)…
    await failsCleanly(['install', job, '--yes'], env.SVCCTL_FAULT_INJECTION, 'injected failure before step 1');
    // …and the shipped one installs as if it were not there.
    const shipped = await sandbox.svcctl(['install', job, '--yes'], { env });
    expect(shipped.exitCode).toBe(0);
    expect(shipped.stderr).not.toContain('svcctl-test steps');
    expect((await sandbox.svcctl(['uninstall', 'job', '--purge', '--yes'], { env })).exitCode).toBe(0);
    expect(await sandbox.changes()).toEqual([]);
    const built = readFileSync(`${process.cwd()}/dist/cli/svcctl.cjs`, 'utf8');
    const testBuild = readFileSync(`${process.cwd()}/dist/test/svcctl.cjs`, 'utf8');
    const markers = ['SVCCTL_FAULT_INJECTION', 'SVCCTL_TEST_TOOL_PATH', 'injected failure', 'tool-fail', 'svcctl-test steps'];
    expect(markers.filter((m) => built.includes(m))).toEqual([]);
    expect(markers.filter((m) => testBuild.includes(m))).toEqual(markers);
  });
});
