// svcctl init against a real systemd: a scaffolded job and a scaffolded daemon pass verify, install,
// run (the job's output is the setting's value) with their hardening on, score "OK" (at most 2.0) on
// systemd-analyze security once installed, and leave nothing behind after uninstall --purge.
import { describeInSandbox, type Sandbox } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

/** The installed unit's score from `systemd-analyze security UNIT`, and the one `svcctl verify --json` gave before. */
async function scores(sandbox: Sandbox, dir: string, service: string): Promise<{ installed: number; verified: number }> {
  const shown = await sandbox.run(['systemd-analyze', 'security', service]);
  const installed = Number(/Overall exposure level for \S+: (\d+\.\d)/.exec(shown.stdout)?.[1]);
  const verify = JSON.parse((await sandbox.svcctl(['verify', dir, '--json'])).stdout) as { bundles: { exposure: { service: string; score: number }[] }[] };
  return { installed, verified: verify.bundles[0]!.exposure.find((e) => e.service === service)!.score };
}

describeInSandbox('svcctl init', (sandbox) => {
  test('a job: init, verify, install, run, scores at most 2.0 installed, uninstall --purge leaves nothing', async () => {
    const init = await sandbox.svcctl(['init', 'hello-job', '--directory', '/root/hello-job', '--schedule', '15min']);
    expect(init.exitCode).toBe(0);
    expect(init.stderr).toContain('✔ created /root/hello-job: bundle.yaml, hello-job.service, hello-job.timer, hello-job.sh');
    const verify = await sandbox.svcctl(['verify', '/root/hello-job', '--max-exposure', '2.0']);
    expect(verify.exitCode).toBe(0);
    expect(verify.stderr).toMatch(/\n  hello-job\.service: exposure [01]\.\d OK\n/);
    const install = await sandbox.svcctl(['install', '/root/hello-job', '--yes', '--set', 'GREETING=it works']);
    expect(install.exitCode).toBe(0);
    expect(install.stderr).toMatch(/hello-job\.timer: next run .+\(in 1[45]min/);
    const run = await sandbox.svcctl(['run', 'hello-job']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('it works');
    expect((await sandbox.run(['systemctl', 'show', '-p', 'User', 'hello-job.service'])).stdout.trim()).toBe('User=hello-job');
    const score = await scores(sandbox, '/root/hello-job', 'hello-job.service');
    expect(score.installed).toBeLessThanOrEqual(2.0);
    expect(score.verified).toBe(score.installed);
    expect((await sandbox.svcctl(['uninstall', 'hello-job', '--purge', '--yes'])).exitCode).toBe(0);
    await sandbox.run(['rm', '-r', '/root/hello-job']);
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a daemon: enabled at boot, active and healthy after install, scores at most 2.0 installed, gone after uninstall --purge', async () => {
    expect((await sandbox.svcctl(['init', 'hello-daemon', '--daemon', '--directory', '/root/hello-daemon'])).exitCode).toBe(0);
    expect((await sandbox.svcctl(['verify', '/root/hello-daemon', '--max-exposure', '2.0'])).exitCode).toBe(0);
    const install = await sandbox.svcctl(['install', '/root/hello-daemon', '--yes']);
    expect(install.exitCode).toBe(0);
    expect((await sandbox.run(['systemctl', 'is-active', 'hello-daemon.service'])).stdout.trim()).toBe('active');
    expect((await sandbox.run(['systemctl', 'is-enabled', 'hello-daemon.service'])).stdout.trim()).toBe('enabled');
    // Still running once its script has started under the hardening: it printed its greeting and sleeps.
    await waitFor("the daemon's greeting in the journal", async () => (await sandbox.run(['journalctl', '-u', 'hello-daemon.service', '--no-pager', '-o', 'cat'])).stdout, (log) => log.includes('hello from hello-daemon'));
    const check = await sandbox.svcctl(['check', 'hello-daemon']);
    expect([check.exitCode, check.stdout]).toEqual([0, expect.stringMatching(/^SVCCTL OK - hello-daemon: hello-daemon\.service active/)]);
    const score = await scores(sandbox, '/root/hello-daemon', 'hello-daemon.service');
    expect(score.installed).toBeLessThanOrEqual(2.0);
    expect(score.verified).toBe(score.installed);
    expect((await sandbox.svcctl(['uninstall', 'hello-daemon', '--purge', '--yes'])).exitCode).toBe(0);
    await sandbox.run(['rm', '-r', '/root/hello-daemon']);
    expect(await sandbox.changes()).toEqual([]);
  });

  test('refused, exit 2, nothing written: a directory with files, a bad name, a daemon with a schedule', async () => {
    await sandbox.sh('mkdir -p /root/taken && touch /root/taken/keep');
    const taken = await sandbox.svcctl(['init', 'taken', '--directory', '/root/taken']);
    expect(taken.exitCode).toBe(2);
    expect(taken.stderr).toContain('/root/taken is not empty (keep)');
    const badName = await sandbox.svcctl(['init', 'Bad_Name', '--directory', '/root/bad']);
    expect(badName.exitCode).toBe(2);
    expect(badName.stderr).toContain('"Bad_Name" is not a bundle name');
    const both = await sandbox.svcctl(['init', 'both', '--daemon', '--schedule', '5min', '--directory', '/root/both']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('a daemon has no schedule');
    await sandbox.run(['rm', '-r', '/root/taken']);
    expect(await sandbox.changes()).toEqual([]);
  });
});
