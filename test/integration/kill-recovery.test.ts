// A transaction SIGKILLed at any step boundary leaves an unfinished receipt ("installing", "uninstalling") that the
// same command, run again, finishes — for install, uninstall --purge, schedule, secret set and secret rotate — after
// which the receipt is complete and the day-2 commands work; the same once uninstall --purge stands but has not yet
// deleted what it moved aside; in the end uninstall --purge leaves nothing (issue 9).
import { killsAtEveryBoundary, stepsOf } from '../helpers/faults.js';
import { describeInSandbox } from '../helpers/sandbox.js';

const job = `${process.cwd()}/test/fixtures/rollback/job`;

describeInSandbox('a command killed at any step boundary converges when run again', (sandbox) => {
  /** The state the receipt says, or "gone". */
  const receiptState = async () => {
    const text = (await sandbox.run(['cat', '/var/lib/svcctl/job.json'])).stdout;
    return text ? (JSON.parse(text) as { state: string; schedule?: string }) : { state: 'gone' };
  };
  /** status says the bundle is complete and healthy; with `secrets`, secret list reads it too. */
  const dayTwo = async (secrets = true) => {
    const status = await sandbox.svcctl(['status', 'job', '--json']);
    const { health, state } = JSON.parse(status.stdout) as { health: string; state: string };
    return { health, state, secretList: secrets ? (await sandbox.svcctl(['secret', 'list', 'job'])).exitCode : 0 };
  };
  const healthy = { health: 'ok', state: 'installed', secretList: 0 };

  /** Kills `args` with `kill`, checks the kill left the intent receipt, runs `args` again and returns how it ended. */
  async function killThenRunAgain(args: string[], kill: string, intent: string) {
    const killed = await sandbox.svcctlTest(args, { env: { SVCCTL_FAULT_INJECTION: kill } });
    const left = (await receiptState()).state;
    const again = await sandbox.svcctl(args);
    return { kill, killed: killed.exitCode !== 0, left: left === intent ? intent : `${left}: ${killed.stderr}`, again: again.exitCode === 0 ? 0 : again.stderr };
  }

  test('install and uninstall --purge, each killed at every boundary; the re-run completes, the day-2 commands work', async () => {
    const install = ['install', job, '--yes'];
    const purge = ['uninstall', 'job', '--purge', '--yes'];
    const installKills = killsAtEveryBoundary((await stepsOf(sandbox, install)).length);
    expect((await sandbox.svcctl(install)).exitCode).toBe(0);
    const purgeKills = killsAtEveryBoundary((await stepsOf(sandbox, purge)).length);
    expect((await sandbox.svcctl(purge)).exitCode).toBe(0);
    for (let i = 0; i < Math.max(installKills.length, purgeKills.length); i++) {
      // Each round: install killed (or, past its boundaries, just installed), finished; uninstall killed, finished.
      const installKill = installKills[i];
      if (installKill) expect(await killThenRunAgain(install, installKill, 'installing')).toEqual({ kill: installKill, killed: true, left: 'installing', again: 0 });
      else expect((await sandbox.svcctl(install)).exitCode).toBe(0);
      expect({ installKill, ...(await dayTwo(i === 0)) }).toEqual({ installKill, ...healthy });
      const purgeKill = purgeKills[i];
      if (purgeKill) expect(await killThenRunAgain(purge, purgeKill, 'uninstalling')).toEqual({ kill: purgeKill, killed: true, left: 'uninstalling', again: 0 });
      else expect((await sandbox.svcctl(purge)).exitCode).toBe(0);
      expect({ purgeKill, receipt: (await receiptState()).state, changes: await sandbox.changes() }).toEqual({ purgeKill, receipt: 'gone', changes: [] });
    }
  }, 400_000);

  test('schedule killed at every boundary (also before its restart, whose receipt stayed "installing"): the re-run completes', async () => {
    expect((await sandbox.svcctl(['install', job, '--yes'])).exitCode).toBe(0);
    // A new schedule each round, so that each run has something to change; the first also makes the drop-in directory.
    for (let round = 0, boundary = 0; ; round++, boundary++) {
      const schedule = ['schedule', 'job', round % 2 === 0 ? '30min' : '45min'];
      const kills = killsAtEveryBoundary((await stepsOf(sandbox, schedule)).length);
      const kill = kills[boundary];
      if (!kill) break;
      expect(await killThenRunAgain(schedule, kill, 'installing')).toEqual({ kill, killed: true, left: 'installing', again: 0 });
      expect({ kill, schedule: (await receiptState()).schedule, ...(await dayTwo()) }).toEqual({ kill, schedule: schedule[2], ...healthy });
    }
    expect((await sandbox.svcctl(['schedule', 'job', '--reset'])).exitCode).toBe(0);
  }, 200_000);

  test('secret set and secret rotate killed at every boundary: the re-run completes with the new value', async () => {
    expect((await sandbox.svcctl(['install', job, '--yes'])).exitCode).toBe(0);
    const token = async () => (await sandbox.run(['sha256sum', '/etc/svcctl/job/secrets.env'])).stdout;
    const set = ['secret', 'set', 'job', 'JOB_TOKEN', '--from-file', '/run/token'];
    await sandbox.sh(`printf 'token-0' > /run/token`);
    for (const [index, kill] of killsAtEveryBoundary((await stepsOf(sandbox, set)).length).entries()) {
      await sandbox.sh(`printf 'token-${index}' > /run/token`);
      expect(await killThenRunAgain(set, kill, 'installing')).toEqual({ kill, killed: true, left: 'installing', again: 0 });
      expect((await sandbox.run(['grep', '-c', `token-${index}`, '/etc/svcctl/job/secrets.env'])).stdout.trim()).toBe('1');
      expect({ kill, ...(await dayTwo()) }).toEqual({ kill, ...healthy });
    }
    const rotate = ['secret', 'rotate', 'job'];
    for (const kill of killsAtEveryBoundary((await stepsOf(sandbox, rotate)).length)) {
      const before = await token();
      expect(await killThenRunAgain(rotate, kill, 'installing')).toEqual({ kill, killed: true, left: 'installing', again: 0 });
      expect({ kill, rotated: (await token()) !== before, ...(await dayTwo()) }).toEqual({ kill, rotated: true, ...healthy });
    }
  }, 200_000);

  test('uninstall --purge killed, or failing, once it stands (the data moved aside, not yet deleted): run again, it finishes', async () => {
    const purge = ['uninstall', 'job', '--purge', '--yes'];
    const aside = async () => (await sandbox.run(['test', '-d', '/srv/.rollback-job.svcctl-purged'])).exitCode === 0;
    for (const fault of ['kill-at-commit', 'fail-at-commit']) {
      expect((await sandbox.svcctl(['install', job, '--yes'])).exitCode).toBe(0);
      await sandbox.sh('printf data > /srv/rollback-job/state/kept');
      const stopped = await sandbox.svcctlTest(purge, { env: { SVCCTL_FAULT_INJECTION: fault } });
      if (fault === 'fail-at-commit') {
        expect(stopped.exitCode).toBe(1);
        expect(stopped.stderr).toContain('the transaction was applied, but not finished: remove directory /srv/rollback-job and everything in it (injected failure at commit');
        expect(stopped.stderr).toContain('run the command again to finish (svcctl uninstall job --purge)');
      } else expect(stopped.exitCode).not.toBe(0);
      expect({ fault, receipt: (await receiptState()).state, aside: await aside() }).toEqual({ fault, receipt: 'uninstalling', aside: true });
      expect((await sandbox.svcctl(purge)).exitCode).toBe(0);
      expect({ fault, receipt: (await receiptState()).state, changes: await sandbox.changes() }).toEqual({ fault, receipt: 'gone', changes: [] });
    }
  });

  test('finally the job runs, and uninstall --purge leaves nothing', async () => {
    expect((await sandbox.svcctl(['install', job, '--yes'])).exitCode).toBe(0);
    expect((await sandbox.svcctl(['run', 'job'])).exitCode).toBe(0);
    expect((await sandbox.svcctl(['uninstall', 'job', '--purge', '--yes'])).exitCode).toBe(0);
    await sandbox.sh('rm -f /run/token');
    expect(await sandbox.changes()).toEqual([]);
  });
});
