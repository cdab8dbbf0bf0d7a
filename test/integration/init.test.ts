// svcctl init against a real systemd: a scaffolded job and a scaffolded daemon pass verify, install,
// run (the job's output is the setting's value), and leave nothing behind after uninstall --purge.
import { describeInSandbox } from '../helpers/sandbox.js';

describeInSandbox('svcctl init', (sandbox) => {
  test('a job: init, verify, install, run, uninstall --purge leaves nothing', async () => {
    const init = await sandbox.svcctl(['init', 'hello-job', '--directory', '/root/hello-job', '--schedule', '15min']);
    expect(init.exitCode).toBe(0);
    expect(init.stderr).toContain('✔ created /root/hello-job: bundle.yaml, hello-job.service, hello-job.timer, hello-job.sh');
    expect((await sandbox.svcctl(['verify', '/root/hello-job'])).exitCode).toBe(0);
    const install = await sandbox.svcctl(['install', '/root/hello-job', '--yes', '--set', 'GREETING=it works']);
    expect(install.exitCode).toBe(0);
    expect(install.stderr).toMatch(/hello-job\.timer: next run .+\(in 1[45]min/);
    const run = await sandbox.svcctl(['run', 'hello-job']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('it works');
    expect((await sandbox.run(['systemctl', 'show', '-p', 'User', 'hello-job.service'])).stdout.trim()).toBe('User=hello-job');
    expect((await sandbox.svcctl(['uninstall', 'hello-job', '--purge', '--yes'])).exitCode).toBe(0);
    await sandbox.run(['rm', '-r', '/root/hello-job']);
    expect(await sandbox.changes()).toEqual([]);
  });

  test('a daemon: enabled at boot, active after install, gone after uninstall --purge', async () => {
    expect((await sandbox.svcctl(['init', 'hello-daemon', '--daemon', '--directory', '/root/hello-daemon'])).exitCode).toBe(0);
    const install = await sandbox.svcctl(['install', '/root/hello-daemon', '--yes']);
    expect(install.exitCode).toBe(0);
    expect((await sandbox.run(['systemctl', 'is-active', 'hello-daemon.service'])).stdout.trim()).toBe('active');
    expect((await sandbox.run(['systemctl', 'is-enabled', 'hello-daemon.service'])).stdout.trim()).toBe('enabled');
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
