// The vx11-autosync bundle end to end: installed by svcctl in the sandbox, syncing a real git repository with a local bare remote through systemd.
import path from 'node:path';
import { packageRoot } from '../../src/system/paths.js';
import { showProperties } from '../helpers/unit-properties.js';
import { until } from '../helpers/wait-for.js';
import { describeInSandbox, type RunResult, type Sandbox } from '../helpers/sandbox.js';

const bundleDir = path.join(packageRoot, 'units', 'vx11-autosync');
const service = 'vx11-autosync.service';
const timer = 'vx11-autosync.timer';
const script = '/usr/local/bin/vx11-autosync.sh';
const remoteName = 'vx_11_remote';

// Everything the test makes itself lives under one directory, removed at the end.
const testRoot = '/srv/vx11-autosync-test';
const repo = `${testRoot}/repo`;
const remote = `${testRoot}/remote.git`;
/** Another clone of the remote: the commits "someone else" pushes. */
const peer = `${testRoot}/peer`;
const lockFile = `${repo}/.autosync.lock`;
/** The pre-receive hook below holds the Nth push until release-N exists. */
const release = `${testRoot}/release`;
/** svcctl's drop-in makes REPO_DIR writable; the test's remote is a local path outside it, which needs one of its own. */
const pathsDropIn = `/etc/systemd/system/${service}.d/test-paths.conf`;

function sq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function ok(sandbox: Sandbox, shell: string, input?: string): Promise<RunResult> {
  const result = await sandbox.sh(`set -e\n${shell}`, input === undefined ? undefined : { input });
  if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}: ${shell}\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function git(sandbox: Sandbox, dir: string, args: string): Promise<string> {
  return (await ok(sandbox, `git -C ${sq(dir)} ${args}`)).stdout.trim();
}



/**
 * The messages of one run of the service: its lines after the cursor taken just before the start. journald
 * may still be reading the stream, so wait for the run's last line. (Not by invocation ID: a oneshot that ended well
 * and that nothing references is unloaded at once, its invocation ID and main PID gone with it.)
 */
async function journalOfRun(sandbox: Sandbox, cursor: string, last: RegExp): Promise<string> {
  let everything = '';
  try {
    return await until(`the journal of ${service} to show ${last}`, async () => {
      // Every entry since the cursor, chosen here: journalctl 252 with --after-cursor and a disjunction of matches
      // (`_SYSTEMD_UNIT=… + SYSLOG_IDENTIFIER=…`) was seen to return nothing although an entry matched both.
      // SYSLOG_IDENTIFIER too (the unit's SyslogIdentifier=): journald may not learn the unit of a process that has
      // already exited when it reads the process's last lines.
      everything = (await sandbox.run(['journalctl', `--after-cursor=${cursor}`, '-o', 'json', '--no-pager'])).stdout;
      const text = everything
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => entry._SYSTEMD_UNIT === service || entry.SYSLOG_IDENTIFIER === 'vx11-autosync')
        .map((entry) => (typeof entry.MESSAGE === 'string' ? entry.MESSAGE : ''))
        .join('\n');
      return last.test(text) ? text : undefined;
    });
  } catch (error) {
    // What the journal held since the start, every field of it: which line was missed, and why.
    throw new Error(`${(error as Error).message}\nthe journal since the start:\n${everything}`);
  }
}

/** The first line of the service run `invocation` (its ExecStopPost= included) that contains `text`, once journald has it. */
async function untilInRun(sandbox: Sandbox, invocation: string, text: string): Promise<string> {
  return until(`"${text}" in the journal of run ${invocation}`, async () => {
    const journal = (await sandbox.run(['journalctl', `_SYSTEMD_INVOCATION_ID=${invocation}`, '-o', 'cat', '--no-pager'])).stdout;
    return journal.split('\n').find((line) => line.includes(text));
  });
}

interface ServiceRun {
  exitCode: number;
  result: string;
  status: string;
  journal: string;
}

/** `systemctl start` of the service as an operator would (it returns when the oneshot has ended). */
async function startService(sandbox: Sandbox): Promise<ServiceRun> {
  // The tests start the service more often than systemd's start rate limit (5 in 10 s) allows.
  await sandbox.run(['systemctl', 'reset-failed', service]);
  const cursor = (await sandbox.run(['journalctl', '-n', '0', '--show-cursor', '--no-pager'])).stdout.match(/^-- cursor: (\S+)/m)![1]!;
  const start = await sandbox.run(['systemctl', 'start', service]);
  const props = await showProperties(sandbox, service, ['Result', 'ExecMainStatus']);
  const journal = await journalOfRun(sandbox, cursor, /^(synced |error: )/m);
  return { exitCode: start.exitCode, result: props.Result!, status: props.ExecMainStatus!, journal };
}

interface RepoState {
  head: string;
  status: string;
  /** sha256 of every file of the working tree (tracked, untracked and ignored), .git aside */
  files: string;
}

async function repoState(sandbox: Sandbox): Promise<RepoState> {
  return {
    head: await git(sandbox, repo, 'rev-parse HEAD'),
    status: await git(sandbox, repo, 'status --porcelain --untracked-files=all'),
    files: (await ok(sandbox, `cd ${repo} && find . -path ./.git -prune -o -type f -print0 | sort -z | xargs -0 sha256sum`)).stdout,
  };
}

async function expectNoLockFile(sandbox: Sandbox): Promise<void> {
  expect((await sandbox.run(['test', '-e', lockFile])).exitCode).toBe(1);
}

async function expectNoRebaseInProgress(sandbox: Sandbox): Promise<void> {
  expect((await sandbox.sh(`test -e ${repo}/.git/rebase-merge || test -e ${repo}/.git/rebase-apply`)).exitCode).toBe(1);
}

/**
 * The remote's pre-receive hook: the Nth push (counted by the in-push-N files it leaves) says so and
 * waits for release-N, holding the pushing run, and so its lock, as long as the test wants.
 */
const holdingHook = `#!/bin/sh
n=1
while [ -e ${testRoot}/in-push-$n ]; do n=$((n + 1)); done
touch ${testRoot}/in-push-$n
while [ ! -e ${release}-$n ]; do sleep 0.1; done
`;

async function untilPushing(sandbox: Sandbox, push: number): Promise<void> {
  await until(`push ${push} to reach the remote's hook`, async () => ((await sandbox.run(['test', '-e', `${testRoot}/in-push-${push}`])).exitCode === 0 ? true : undefined));
}

/** A run of the installed script beside the service, as a transient unit vx11-autosync-NAME; resolves when it ends. */
function startTransient(sandbox: Sandbox, name: string): Promise<RunResult> {
  return sandbox.run(['systemd-run', '--wait', '--collect', '--quiet', `--unit=vx11-autosync-${name}`, '-E', `REPO_DIR=${repo}`, '-E', `REMOTE=${remoteName}`, script]);
}

/** The first line of transient run NAME's journal that contains `text`, once it is there. */
async function untilJournal(sandbox: Sandbox, name: string, text: string): Promise<string> {
  return until(`"${text}" in the journal of vx11-autosync-${name}`, async () => {
    const journal = (await sandbox.run(['journalctl', '-u', `vx11-autosync-${name}.service`, '-o', 'cat', '--no-pager'])).stdout;
    return journal.split('\n').find((line) => line.includes(text));
  });
}

/** A commit pushed to the remote by someone else. */
async function peerCommit(sandbox: Sandbox, file: string, content: string): Promise<string> {
  await ok(sandbox, `cd ${peer} && git pull -q --ff-only && printf %s ${sq(content)} > ${sq(file)} && git add -A && git commit -qm ${sq(`peer: ${file}`)} && git push -q origin main`);
  return git(sandbox, peer, 'rev-parse HEAD');
}

describeInSandbox('vx11-autosync installed by svcctl, syncing a real git repository', (sandbox) => {
  beforeAll(async () => {
    await ok(
      sandbox,
      [
        `mkdir -p ${testRoot}`,
        `git init -q --bare -b main ${remote}`,
        `git init -q -b main ${repo}`,
        `cd ${repo}`,
        // The repository's own identity, as a user's repository has; the script only fills in a missing one.
        'git config user.name "VX11 Operator" && git config user.email operator@vx11.example',
        `git remote add ${remoteName} ${remote}`,
        "printf 'first line\\nsecond line\\n' > a.txt && printf 'b\\n' > b.txt && printf '*.log\\n' > .gitignore",
        'git add -A && git commit -qm initial && git push -q vx_11_remote main',
        `git clone -q ${remote} ${peer}`,
        `git -C ${peer} config user.name Peer && git -C ${peer} config user.email peer@vx11.example`,
      ].join('\n'),
    );
  }, 60_000);

  test('svcctl installs the bundle with REPO_DIR and REMOTE; the timer runs it every 5 minutes with up to 30 s of random delay', async () => {
    // The guide: "only upon explicit authorization". Without it: exit 2, nothing changed.
    const before = await sandbox.changes();
    const refused = await sandbox.svcctl(['install', bundleDir, '--yes', '--set', `REPO_DIR=${repo}`, '--set', `REMOTE=${remoteName}`]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('may only be installed upon explicit authorization (it commits everything in the repository as root');
    expect(refused.stderr).toContain('--authorize');
    expect(await sandbox.changes()).toEqual(before);
    const install = await sandbox.svcctl(['install', bundleDir, '--yes', '--set', `REPO_DIR=${repo}`, '--set', `REMOTE=${remoteName}`, '--authorize', 'ticket OPS-42, approved by the repository owner'], { env: { SUDO_USER: 'alice' } });
    expect(install.exitCode).toBe(0);
    expect(install.stderr).toContain('vx11-autosync installed');
    const receipt = JSON.parse((await sandbox.run(['cat', '/var/lib/svcctl/vx11-autosync.json'])).stdout);
    expect(receipt.authorization).toEqual({ text: 'ticket OPS-42, approved by the repository owner', by: 'alice', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    // Installing again keeps the authorization on record and asks for none.
    const again = await sandbox.svcctl(['install', bundleDir, '--yes']);
    expect(again.exitCode).toBe(0);
    expect(JSON.parse((await sandbox.run(['cat', '/var/lib/svcctl/vx11-autosync.json'])).stdout).authorization).toEqual(receipt.authorization);
    const timerState = await showProperties(sandbox, timer, ['ActiveState', 'UnitFileState', 'RandomizedDelayUSec', 'AccuracyUSec']);
    expect(timerState).toEqual({ ActiveState: 'active', UnitFileState: 'enabled', RandomizedDelayUSec: '30s', AccuracyUSec: '1s' });
    const triggers = (await sandbox.run(['systemctl', 'show', timer, '-p', 'TimersMonotonic', '-p', 'TimersCalendar'])).stdout;
    expect(triggers.match(/On\w+USec=\S+/g)?.sort()).toEqual(['OnActiveUSec=5min', 'OnUnitActiveUSec=5min']);
    const environment = await showProperties(sandbox, service, ['Environment', 'User']);
    expect(environment.Environment).toBe(`REPO_DIR=${repo} REMOTE=${remoteName}`);
    expect(environment.User).toBe('root');
    // From here on the test starts every run itself.
    await ok(sandbox, `systemctl stop ${timer}`);
  });

  test('the service may write REPO_DIR (svcctl\'s drop-in: ReadWritePaths=-REPO_DIR) and, by default, nothing else', async () => {
    const paths = await showProperties(sandbox, service, ['ReadWritePaths']);
    expect(paths.ReadWritePaths).toBe(`-${repo}`);
    // A change to push, so that the run reaches the remote.
    await ok(sandbox, `printf 'pending\\n' > ${repo}/pending.txt`);
    const run = await startService(sandbox);
    // The lock file (in REPO_DIR) is made; the push to the local remote outside it is refused by ProtectSystem=.
    expect(run.journal).not.toContain('cannot create the lock file');
    expect(run.exitCode).not.toBe(0);
    await expectNoLockFile(sandbox);
    // The test's remote is a path on this host: the service may write it only with a drop-in of its own.
    await ok(sandbox, `printf '[Service]\\nReadWritePaths=${testRoot}\\n' > ${pathsDropIn} && systemctl daemon-reload`);
  });

  test('a change is committed (host and time in the message) and pushed', async () => {
    const before = await repoState(sandbox);
    await ok(sandbox, `cd ${repo} && printf 'changed\\n' >> a.txt && mkdir -p docs && printf 'new\\n' > docs/new.txt && printf 'ignored\\n' > build.log`);
    const run = await sandbox.svcctl(['run', 'vx11-autosync']);
    expect(run.exitCode).toBe(0);
    const after = await repoState(sandbox);
    expect(await git(sandbox, repo, 'rev-parse HEAD^')).toBe(before.head);
    const hostname = (await ok(sandbox, 'uname -n')).stdout.trim();
    const subject = await git(sandbox, repo, 'log -1 --format=%s');
    expect(subject).toMatch(new RegExp(`^vx11-autosync: ${hostname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$`));
    expect(await git(sandbox, repo, 'log -1 --format=%an')).toBe('VX11 Operator');
    expect((await git(sandbox, repo, 'show --name-only --format= HEAD')).split('\n').sort()).toEqual(['a.txt', 'docs/new.txt']);
    expect(await git(sandbox, remote, 'rev-parse main')).toBe(after.head);
    expect(after.status).toBe('');
    expect(run.stdout + run.stderr).toContain(`synced ${repo} (main): committed 2 file(s)`);
    await expectNoLockFile(sandbox);
  });

  test('nothing changed: no new commit, nothing pushed', async () => {
    const before = await repoState(sandbox);
    const remoteBefore = await git(sandbox, remote, 'rev-parse main');
    const run = await startService(sandbox);
    expect(run).toMatchObject({ exitCode: 0, result: 'success', status: '0' });
    expect(run.journal).toContain(`synced ${repo} (main): nothing to commit; ${remoteName}/main already at ${before.head.slice(0, 12)}`);
    expect(await repoState(sandbox)).toEqual(before);
    expect(await git(sandbox, remote, 'rev-parse main')).toBe(remoteBefore);
    await expectNoLockFile(sandbox);
  });

  test('a commit on the remote is pulled and the local change rebased on top of it: linear history, both pushed', async () => {
    const peerHead = await peerCommit(sandbox, 'b.txt', 'b from the peer\n');
    await ok(sandbox, `printf 'c\\n' > ${repo}/c.txt`);
    const run = await startService(sandbox);
    expect(run).toMatchObject({ exitCode: 0, result: 'success' });
    const head = await git(sandbox, repo, 'rev-parse HEAD');
    expect(await git(sandbox, repo, 'rev-parse HEAD^')).toBe(peerHead);
    expect(await git(sandbox, repo, 'rev-list --merges --count HEAD')).toBe('0');
    expect(await git(sandbox, remote, 'rev-parse main')).toBe(head);
    expect((await ok(sandbox, `cat ${repo}/b.txt`)).stdout).toBe('b from the peer');
    await expectNoLockFile(sandbox);
  });

  test('a conflicting commit on the remote: the run fails naming the files, the rebase is aborted, the repository is as before the pull', async () => {
    const peerHead = await peerCommit(sandbox, 'a.txt', 'the peer rewrote a.txt\n');
    await ok(sandbox, `cd ${repo} && printf 'a local rewrite of a.txt\\n' > a.txt && printf 'untracked notes\\n' > notes.txt && printf 'more ignored\\n' >> build.log`);
    const before = await repoState(sandbox);

    const run = await startService(sandbox);
    expect(run).toMatchObject({ result: 'exit-code', status: '1' });
    expect(run.exitCode).not.toBe(0);
    const errors = run.journal.split('\n').filter((line) => line.startsWith('error: '));
    expect(errors).toEqual([
      expect.stringMatching(new RegExp(`^error: pulling ${remoteName} main conflicted in: a\\.txt; rebase aborted, ${repo} is as before the pull \\(HEAD [0-9a-f]{12}, local commits not pushed\\); resolve by hand: `)),
    ]);
    // The run committed the local change, then the pull put everything back as it was after that commit.
    const after = await repoState(sandbox);
    expect(await git(sandbox, repo, 'rev-parse HEAD^')).toBe(before.head);
    expect(after.status).toBe('');
    expect(after.files).toBe(before.files);
    await expectNoRebaseInProgress(sandbox);
    expect(await git(sandbox, remote, 'rev-parse main')).toBe(peerHead);
    await expectNoLockFile(sandbox);

    // The next run has nothing to commit: it fails the same way and leaves HEAD, index and files exactly as they were.
    const again = await startService(sandbox);
    expect(again).toMatchObject({ result: 'exit-code', status: '1' });
    expect(again.journal).toContain('conflicted in: a.txt;');
    expect(await repoState(sandbox)).toEqual(after);
    await expectNoRebaseInProgress(sandbox);
    await expectNoLockFile(sandbox);

    // Resolved by hand, the way the error says: the peer's version wins; the next run syncs again.
    await ok(sandbox, `cd ${repo} && git fetch -q ${remoteName} && git reset -q --hard ${remoteName}/main && git clean -qfd`);
    expect((await startService(sandbox)).result).toBe('success');
  }, 120_000);

  test('a run stopped in the middle of the rebase aborts it on its way out: the repository is as before the pull', async () => {
    const peerHead = await peerCommit(sandbox, 'peer.txt', 'from the peer\n');
    await ok(sandbox, `printf 'local\\n' > ${repo}/local.txt`);
    const before = await repoState(sandbox);
    // git rebase runs post-checkout when it has checked out the remote's commit: the hook holds the rebase there.
    await ok(sandbox, `cat > ${repo}/.git/hooks/post-checkout && chmod 0755 ${repo}/.git/hooks/post-checkout`, `#!/bin/sh\ntouch ${testRoot}/in-rebase\nwhile [ ! -e ${release}-rebase ]; do sleep 0.1; done\n`);
    await ok(sandbox, `systemctl reset-failed ${service} && systemctl start --no-block ${service}`);
    await until('the run to be in the rebase', async () => ((await sandbox.run(['test', '-e', `${testRoot}/in-rebase`])).exitCode === 0 ? true : undefined));
    expect((await sandbox.run(['test', '-d', `${repo}/.git/rebase-merge`])).exitCode).toBe(0);
    const { InvocationID: invocation } = await showProperties(sandbox, service, ['InvocationID']);

    await ok(sandbox, `systemctl stop ${service}`);
    expect(await untilInRun(sandbox, invocation!, 'interrupted')).toBe('warning: interrupted during the pull: rebase aborted');
    await expectNoRebaseInProgress(sandbox);
    expect(await git(sandbox, repo, 'symbolic-ref --short HEAD')).toBe('main');
    expect(await git(sandbox, repo, 'rev-parse HEAD^')).toBe(before.head);
    const after = await repoState(sandbox);
    expect(after.status).toBe('');
    expect(after.files).toBe(before.files);
    expect(await git(sandbox, remote, 'rev-parse main')).toBe(peerHead);
    await expectNoLockFile(sandbox);

    await ok(sandbox, `rm -f ${repo}/.git/hooks/post-checkout ${testRoot}/in-rebase`);
    expect((await startService(sandbox)).result).toBe('success');
    expect(await git(sandbox, repo, 'rev-parse HEAD^')).toBe(peerHead);
  }, 120_000);

  test('runs at once are serialised by the lock: each waits for the one before, then commits what changed meanwhile', async () => {
    await ok(sandbox, `cat > ${remote}/hooks/pre-receive && chmod 0755 ${remote}/hooks/pre-receive`, holdingHook);
    await ok(sandbox, `printf 'first run\\n' > ${repo}/first.txt && systemctl reset-failed ${service} && systemctl start --no-block ${service}`);
    await untilPushing(sandbox, 1);
    const firstPid = (await showProperties(sandbox, service, ['MainPID'])).MainPID!;
    const firstCommit = await git(sandbox, repo, 'rev-parse HEAD');
    expect(await git(sandbox, repo, 'show --name-only --format= HEAD')).toBe('first.txt');
    expect((await ok(sandbox, `cat ${lockFile}`)).stdout).toBe(firstPid);

    // A change while the first run pushes, and a second run of the script beside the service: it waits.
    await ok(sandbox, `printf 'second run\\n' > ${repo}/second.txt`);
    const second = startTransient(sandbox, 'second');
    const secondWaiting = await untilJournal(sandbox, 'second', 'waiting up to');
    expect(secondWaiting).toBe(`waiting up to 120s for the lock ${lockFile}, held by another run (PID ${firstPid})`);
    expect(await git(sandbox, repo, 'rev-parse HEAD')).toBe(firstCommit);
    expect((await ok(sandbox, `cat ${lockFile}`)).stdout).toBe(firstPid);

    // The first ends and removes the lock file; the second takes the lock, commits second.txt and pushes.
    await ok(sandbox, `touch ${release}-1`);
    await untilPushing(sandbox, 2);
    await until('the first run to end', async () => ((await showProperties(sandbox, service, ['ActiveState'])).ActiveState === 'inactive' ? true : undefined));
    expect((await showProperties(sandbox, service, ['Result'])).Result).toBe('success');
    const secondPid = (await showProperties(sandbox, 'vx11-autosync-second.service', ['MainPID'])).MainPID!;
    const secondCommit = await git(sandbox, repo, 'rev-parse HEAD');
    expect(await git(sandbox, repo, 'rev-parse HEAD^')).toBe(firstCommit);
    expect(await git(sandbox, repo, 'show --name-only --format= HEAD')).toBe('second.txt');

    // A third run now waits for the second, although the file the second waited on is gone: the second
    // locked the lock file the path names now, not the one it had opened.
    expect((await ok(sandbox, `cat ${lockFile}`)).stdout).toBe(secondPid);
    await ok(sandbox, `printf 'third run\\n' > ${repo}/third.txt`);
    const third = startTransient(sandbox, 'third');
    expect(await untilJournal(sandbox, 'third', 'waiting up to')).toBe(`waiting up to 120s for the lock ${lockFile}, held by another run (PID ${secondPid})`);
    expect(await git(sandbox, repo, 'rev-parse HEAD')).toBe(secondCommit);

    await ok(sandbox, `touch ${release}-2 ${release}-3`);
    expect((await second).exitCode).toBe(0);
    expect((await third).exitCode).toBe(0);
    // One history, in the order of the runs, all of it pushed.
    expect(await git(sandbox, repo, 'log --format=%s --name-only -3')).toMatch(/^vx11-autosync: .*\n\nthird\.txt\nvx11-autosync: .*\n\nsecond\.txt\nvx11-autosync: .*\n\nfirst\.txt$/);
    expect(await git(sandbox, repo, 'rev-parse HEAD^')).toBe(secondCommit);
    expect(await git(sandbox, remote, 'rev-parse main')).toBe(await git(sandbox, repo, 'rev-parse HEAD'));
    for (const run of ['second', 'third']) {
      expect(await untilJournal(sandbox, run, 'synced ')).toMatch(/: committed 1 file\(s\) as [0-9a-f]+; pushed /);
    }
    await expectNoLockFile(sandbox);
  }, 180_000);

  test('a run killed mid-push leaves no lock file: ExecStopPost= removes it', async () => {
    await ok(sandbox, `rm -f ${testRoot}/in-push-* ${release}-* && printf 'killed run\\n' > ${repo}/killed.txt && systemctl reset-failed ${service} && systemctl start --no-block ${service}`);
    await untilPushing(sandbox, 1);
    const { MainPID: pid, InvocationID: invocation } = await showProperties(sandbox, service, ['MainPID', 'InvocationID']);
    expect((await ok(sandbox, `cat ${lockFile}`)).stdout).toBe(pid);
    // SIGKILL: the script's own clean-up cannot run.
    await ok(sandbox, `systemctl kill --signal=SIGKILL --kill-who=main ${service}`);
    await until('the service to fail', async () => ((await showProperties(sandbox, service, ['ActiveState'])).ActiveState === 'failed' ? true : undefined));
    expect(await showProperties(sandbox, service, ['Result', 'ExecMainStatus'])).toEqual({ Result: 'signal', ExecMainStatus: '9' });
    await expectNoLockFile(sandbox);
    expect(await untilInRun(sandbox, invocation!, 'removed the lock file')).toBe(`removed the lock file ${lockFile} left by a run that did not finish`);

    // The next run pushes the commit the killed one made.
    await ok(sandbox, `rm -f ${remote}/hooks/pre-receive`);
    const next = await startService(sandbox);
    expect(next.result).toBe('success');
    expect(await git(sandbox, remote, 'show --name-only --format= main')).toBe('killed.txt');
  }, 180_000);

  test('other failures end the run non-zero with one line naming the cause, and never prompt', async () => {
    const direct = (env: Record<string, string>) => sandbox.run([script], { env: { REPO_DIR: repo, REMOTE: remoteName, ...env }, timeoutMs: 60_000 });
    const cases: [string, Record<string, string>, number, string][] = [
      ['not a repository', { REPO_DIR: testRoot }, 78, `error: REPO_DIR ${testRoot} is not a git working tree: fatal: not a git repository`],
      ['no such directory', { REPO_DIR: `${testRoot}/missing` }, 78, `error: REPO_DIR ${testRoot}/missing does not exist or is not a directory`],
      ['no such remote', { REMOTE: 'nope' }, 78, `error: ${repo} has no remote named nope (its remotes: unreachable, ${remoteName})`],
      ['unreachable remote over ssh', { REMOTE: 'unreachable' }, 1, 'error: cannot reach the remote unreachable (ssh://git@127.0.0.1:9/vx11.git): ssh: connect to host 127.0.0.1 port 9: Connection refused'],
      ['an option as remote', { REMOTE: '--upload-pack=touch /pwned' }, 78, 'error: invalid REMOTE="--upload-pack=touch /pwned"'],
    ];
    await ok(sandbox, `git -C ${repo} remote add unreachable ssh://git@127.0.0.1:9/vx11.git`);
    for (const [what, env, status, line] of cases) {
      const result = await direct(env);
      expect({ what, exitCode: result.exitCode, first: result.stderr.split('\n')[0] }).toEqual({ what, exitCode: status, first: expect.stringContaining(line) });
      expect({ what, lines: result.stderr.trim().split('\n').length }).toEqual({ what, lines: 1 });
      await expectNoLockFile(sandbox);
    }
    expect((await sandbox.run(['test', '-e', '/pwned'])).exitCode).toBe(1);
    await ok(sandbox, `git -C ${repo} remote remove unreachable`);

    await ok(sandbox, `git -C ${repo} checkout -q --detach`);
    const detached = await direct({});
    expect(detached.exitCode).toBe(78);
    expect(detached.stderr).toMatch(/^error: HEAD is detached in \S+ \(at [0-9a-f]+\): autosync syncs a branch/);
    await ok(sandbox, `git -C ${repo} checkout -q main`);

    // Root in another user's repository (a user id without a name here): git's own guard stands, and the line says what to do.
    const foreignRepo = `${testRoot}/foreign`;
    await ok(sandbox, `cp -a ${repo} ${foreignRepo} && chown -R 1234:1234 ${foreignRepo}`);
    const foreign = await direct({ REPO_DIR: foreignRepo });
    expect(foreign.exitCode).toBe(78);
    expect(foreign.stderr).toContain(`error: REPO_DIR ${foreignRepo} is owned by 1234 and git refuses to work in another user's repository as root`);
    expect(foreign.stderr).toContain('run the service as the owner (a drop-in with User=1234)');
    // Through the service, whose PrivateUsers= shows every other user as nobody: the line does not name a wrong owner.
    expect((await sandbox.svcctl(['install', bundleDir, '--yes', '--set', `REPO_DIR=${foreignRepo}`, '--set', `REMOTE=${remoteName}`])).exitCode).toBe(0);
    const asService = await startService(sandbox);
    expect(asService.status).toBe('78');
    expect(asService.journal).toContain(`error: REPO_DIR ${foreignRepo} is owned by another user (ls -ld ${foreignRepo} names them; the service's PrivateUsers= hides who)`);
    expect(asService.journal).toContain('(a drop-in with User=OWNER)');
    expect((await sandbox.svcctl(['install', bundleDir, '--yes', '--set', `REPO_DIR=${repo}`, '--set', `REMOTE=${remoteName}`])).exitCode).toBe(0);
    await ok(sandbox, `systemctl stop ${timer}`);

    // After all that, a normal run still works.
    expect((await startService(sandbox)).result).toBe('success');
  }, 120_000);

  test('uninstall --purge leaves nothing of the bundle behind', async () => {
    await ok(sandbox, `rm -f ${pathsDropIn}`);
    const uninstall = await sandbox.svcctl(['uninstall', 'vx11-autosync', '--purge', '--yes']);
    expect(uninstall.exitCode).toBe(0);
    await ok(sandbox, `systemctl reset-failed ${service} 2>/dev/null || true; rm -rf ${testRoot}`);
    expect(await sandbox.changes()).toEqual([]);
  });
});
