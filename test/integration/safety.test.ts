// Regression tests for the root-safety defects of issue 9, each attacked as it was found: as a local unprivileged
// user (nobody), as the service's own user, as a careless root, and as a new user at a terminal. Each test names its
// item; all run the built CLI inside a sandbox.
import { readFileSync } from 'node:fs';
import { describeInSandbox, type RunResult, type Sandbox } from '../helpers/sandbox.js';

const fixtures = `${process.cwd()}/test/fixtures/safety`;
const envdump = `${process.cwd()}/test/fixtures/install/envdump`;
/** The checkout under test: its CLI (`cli`) and its built fs.ts (the direct removeTree race). */
const checkout = process.cwd();
const cli = ['svcctl'];
const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

function runner(sandbox: Sandbox) {
  return (args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> => sandbox.run([...cli, ...args], options);
}

const exists = async (sandbox: Sandbox, p: string) => (await sandbox.run(['test', '-e', p])).exitCode === 0;

describeInSandbox('issue 9: removals, shared directories and users', (sandbox) => {
  const svcctl = runner(sandbox);

  test('item 2: two bundles with users, in one transaction on a fresh host or one by one; the last one out removes the shared directories, in either order', async () => {
    const together = await svcctl(['install', `${fixtures}/data-a`, `${fixtures}/data-b`, '--yes']);
    expect(together.exitCode).toBe(0);
    expect(together.stderr.match(/^✔ create directory \/etc\/sysusers\.d /gm)).toHaveLength(1);
    for (const [installs, order] of [
      ['together', ['data-a', 'data-b']],
      ['one by one', ['data-a', 'data-b']],
      ['one by one', ['data-b', 'data-a']],
    ] as const) {
      if (installs === 'one by one') {
        for (const name of ['data-a', 'data-b']) expect((await svcctl(['install', `${fixtures}/${name}`, '--yes'])).exitCode).toBe(0);
      }
      const first = await svcctl(['uninstall', order[0], '--purge', '--yes']);
      expect(first.exitCode).toBe(0);
      // The other bundle's sysusers.d entry is still there, and so is its user.
      expect(await exists(sandbox, `/etc/sysusers.d/svcctl-${order[1]}.conf`)).toBe(true);
      expect((await sandbox.run(['id', `svc-${order[1]}`])).exitCode).toBe(0);
      const last = await svcctl(['uninstall', order[1], '--purge', '--yes']);
      expect(last.exitCode).toBe(0);
      expect({ installs, order, changes: await sandbox.changes() }).toEqual({ installs, order, changes: [] });
    }
  }, 120_000);

  test("item 1: uninstall --purge while the data directory's owner swaps a sub-directory for a symlink to a root-owned directory: nothing outside it is removed (6 rounds; removeTree's own race is the next test)", async () => {
    const rounds: { round: number; victimFiles: string; dataLeft: boolean; userLeft: boolean }[] = [];
    for (let round = 1; round <= 6; round++) {
      expect((await svcctl(['install', `${fixtures}/data-a`, '--yes'])).exitCode).toBe(0);
      const uid = (await sandbox.run(['id', '-u', 'svc-data-a'])).stdout.trim();
      // round.sh starts the swapper as svc-data-a, waits until it is ready, runs the purge, prints the victim's count.
      const race = await sandbox.run(['sh', `${fixtures}/race/round.sh`, uid, '/var/lib/data-a', ...cli, 'uninstall', 'data-a', '--purge', '--yes']);
      rounds.push({ round, victimFiles: race.stdout.trim(), dataLeft: await exists(sandbox, '/var/lib/data-a'), userLeft: (await sandbox.run(['id', 'svc-data-a'])).exitCode === 0 });
    }
    // First what matters most: no round removed anything of the victim's; then every purge finished.
    expect(rounds.filter((r) => r.victimFiles !== '200')).toEqual([]);
    expect(rounds.filter((r) => r.dataLeft || r.userLeft)).toEqual([]);
    await sandbox.sh('rm -rf /srv/race');
    expect(await sandbox.changes()).toEqual([]);
  }, 240_000);

  test('item 1: removeTree itself, against a swapper of another uid that owns the tree, never follows the symlink (20 rounds)', async () => {
    const rounds: { round: number; victimFiles?: string; tree?: string; swap?: string }[] = [];
    for (let round = 1; round <= 20; round++) {
      const race = await sandbox.sh(
        [
          'rm -rf /srv/race/tree && mkdir -p /srv/race/tree && chown 4242:4242 /srv/race/tree',
          `sh ${fixtures}/race/round.sh 4242 /srv/race/tree /run/svcctl-sandbox/bin/node ${fixtures}/race/remove-tree.mjs ${checkout} /srv/race/tree`,
          'if [ -e /srv/race/tree ]; then echo kept; else echo gone; fi',
          // The swapper's spare symlink is a directory once it has exchanged the two mid-removal.
          'if [ -L /srv/race/spare/link ]; then echo unswapped; else echo swapped; fi',
        ].join(' && '),
      );
      const [victimFiles, tree, swap] = race.stdout.trim().split('\n');
      rounds.push({ round, victimFiles, tree, swap });
    }
    expect(rounds.filter((r) => r.victimFiles !== '200')).toEqual([]);
    expect(rounds.filter((r) => r.tree !== 'gone')).toEqual([]);
    // The race was run, not dodged: most rounds exchanged the directory while it was being emptied.
    expect(rounds.filter((r) => r.swap === 'swapped').length).toBeGreaterThanOrEqual(10);
    await sandbox.sh('rm -rf /srv/race');
    expect(await sandbox.changes()).toEqual([]);
  }, 240_000);

  test('item 9: a temp file a killed write left (holding a secret) is removed by the next install and by --purge; --purge reports a directory it cannot empty as kept', async () => {
    const leftover = '/etc/svcctl/data-a/.secrets.env.svcctl-0123456789ab';
    const leave = () => sandbox.sh(`umask 077; echo 'TOKEN="half-written"' > ${leftover}`);
    expect((await svcctl(['install', `${fixtures}/data-a`, '--yes'])).exitCode).toBe(0);
    await leave();
    const again = await svcctl(['install', `${fixtures}/data-a`, '--yes']);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain(`✔ remove ${leftover} (left by an interrupted write)`);
    expect(await exists(sandbox, leftover)).toBe(false);
    await leave();
    await sandbox.sh('echo mine > /etc/svcctl/data-a/notes.txt');
    const purge = await svcctl(['uninstall', 'data-a', '--purge', '--yes']);
    expect(purge.exitCode).toBe(0);
    expect(purge.stderr).toContain(`✔ remove ${leftover} (left by an interrupted write)`);
    expect(await exists(sandbox, leftover)).toBe(false);
    expect(purge.stderr).toMatch(/remove directory \/etc\/svcctl\/data-a if empty\n {2}kept: it still holds notes\.txt\n/);
    expect(await exists(sandbox, '/etc/svcctl/data-a/notes.txt')).toBe(true);
    await sandbox.sh('rm -rf /etc/svcctl');
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);

  test('item 11: --purge keeps a user another installed bundle runs as; that bundle still runs, and its own purge removes the user', async () => {
    expect((await svcctl(['install', `${fixtures}/data-a`, `${fixtures}/same-user`, '--yes'])).exitCode).toBe(0);
    const purge = await svcctl(['uninstall', 'data-a', '--purge', '--yes']);
    expect(purge.exitCode).toBe(0);
    expect(purge.stderr).toContain('user svc-data-a is kept: same-user uses it too');
    expect(await exists(sandbox, '/var/lib/svcctl/data-a.json')).toBe(false);
    const run = await sandbox.run(['systemctl', 'start', 'same-user.service']);
    expect(run.exitCode).toBe(0);
    const last = await svcctl(['uninstall', 'same-user', '--purge', '--yes']);
    expect(last.exitCode).toBe(0);
    expect((await sandbox.run(['id', 'svc-data-a'])).exitCode).not.toBe(0);
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);

  test("item 6: the system's own directories are refused by verify and install (exit 2, nothing changed); an existing other directory changes only with --force, said in the plan, and is put back", async () => {
    const verify = await svcctl(['verify', `${fixtures}/sysdirs`]);
    expect(verify.exitCode).toBe(2);
    expect(verify.stderr).toContain('directories[0].path: "/etc" is one of the system\'s own directories');
    expect(verify.stderr).toContain('directories[1].path: "/usr" is one of the system\'s own directories');
    const install = await svcctl(['install', `${fixtures}/sysdirs`, '--yes']);
    expect(install.exitCode).toBe(2);
    expect(install.stderr).toContain('directories[0].path: "/etc" is one of the system\'s own directories');
    expect(await sandbox.changes()).toEqual([]);

    await sandbox.sh('mkdir -m 0755 /srv/shared-data && echo theirs > /srv/shared-data/file');
    const refused = await svcctl(['install', `${fixtures}/nonsystem-dir`, '--yes']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('/srv/shared-data exists with mode 0755, uid 0, gid 0; the bundle declares 0700 root:root (pass --force to change it');
    const forced = await svcctl(['install', `${fixtures}/nonsystem-dir`, '--yes', '--force']);
    expect(forced.exitCode).toBe(0);
    expect(forced.stderr).toContain('/srv/shared-data exists (0755 uid 0 gid 0) and is changed to 0700 root:root (--force); uninstall --purge puts it back');
    expect((await sandbox.run(['stat', '-c', '%a', '/srv/shared-data'])).stdout.trim()).toBe('700');
    const plain = await svcctl(['uninstall', 'nonsystem-dir', '--yes']);
    expect(plain.exitCode).toBe(0);
    expect(plain.stderr).toContain('/srv/shared-data as changed (mode and owner restored by --purge)');
    const purge = await svcctl(['uninstall', 'nonsystem-dir', '--purge', '--yes']);
    expect(purge.exitCode).toBe(0);
    expect((await sandbox.run(['stat', '-c', '%a %U:%G', '/srv/shared-data'])).stdout.trim()).toBe('755 root:root');
    expect((await sandbox.run(['cat', '/srv/shared-data/file'])).stdout).toBe('theirs');
    await sandbox.sh('rm -rf /srv/shared-data');
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);
});

describeInSandbox('issue 9: paths, receipts and targets', (sandbox) => {
  const svcctl = runner(sandbox);
  /** A directory of nobody's that a symlink can point root at. */
  const evil = '/srv/evil';
  const makeEvil = () => sandbox.sh(`mkdir -p ${evil} && chown nobody ${evil}`);

  test('item 5: a loose or symlinked secrets directory is refused before anything is written', async () => {
    await sandbox.sh('mkdir -p -m 0755 /etc/svcctl && mkdir -m 0777 /etc/svcctl/envdump');
    const loose = await svcctl(['install', envdump, '--yes']);
    expect(loose.exitCode).toBe(2);
    expect(loose.stderr).toContain('/etc/svcctl/envdump has mode 0777: writable by every local user');
    expect(await exists(sandbox, '/etc/svcctl/envdump/secrets.env')).toBe(false);
    await makeEvil();
    await sandbox.sh(`rmdir /etc/svcctl/envdump && ln -s ${evil} /etc/svcctl/envdump`);
    const linked = await svcctl(['install', envdump, '--yes']);
    expect(linked.exitCode).toBe(2);
    expect(linked.stderr).toContain(`/etc/svcctl/envdump is a symlink to ${evil}, not a directory`);
    expect((await sandbox.run(['ls', '-A', evil])).stdout).toBe('');
    await sandbox.sh(`rm -rf /etc/svcctl ${evil}`);
    expect(await sandbox.changes()).toEqual([]);
  });

  test("item 5: a drop-in directory nobody owns, or a symlink there, is refused: nobody's override.conf is never written or believed", async () => {
    await sandbox.sh('mkdir /etc/systemd/system/workdir.service.d && chown nobody /etc/systemd/system/workdir.service.d');
    const owned = await svcctl(['install', `${fixtures}/workdir`, '--yes']);
    expect(owned.exitCode).toBe(2);
    expect(owned.stderr).toContain('/etc/systemd/system/workdir.service.d is owned by uid 65534');
    await makeEvil();
    await sandbox.sh(`rmdir /etc/systemd/system/workdir.service.d && ln -s ${evil} /etc/systemd/system/workdir.service.d`);
    const linked = await svcctl(['install', `${fixtures}/workdir`, '--yes']);
    expect(linked.exitCode).toBe(2);
    expect(linked.stderr).toContain(`/etc/systemd/system/workdir.service.d is a symlink to ${evil}`);
    expect((await sandbox.run(['ls', '-A', evil])).stdout).toBe('');
    await sandbox.sh(`rm -f /etc/systemd/system/workdir.service.d && rm -rf ${evil}`);
    expect(await sandbox.changes()).toEqual([]);
  });

  test("item 5: a state directory nobody owns is refused; a receipt nobody replaced through it is not acted on, and root's purge removes nothing it lists", async () => {
    await sandbox.sh('mkdir /var/lib/svcctl && chown nobody /var/lib/svcctl');
    const refused = await svcctl(['install', `${fixtures}/workdir`, '--yes']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('/var/lib/svcctl is owned by uid 65534');
    await sandbox.sh('rmdir /var/lib/svcctl');
    expect(await sandbox.changes()).toEqual([]);

    expect((await svcctl(['install', `${fixtures}/workdir`, '--yes'])).exitCode).toBe(0);
    await sandbox.sh('mkdir /srv/victim-tree && echo precious > /srv/victim-tree/file && cp /var/lib/svcctl/workdir.json /root/workdir.json');
    // The directory becomes nobody's (a careless chown); nobody swaps in a receipt that lists a root-owned tree.
    await sandbox.sh(
      [
        'chown nobody /var/lib/svcctl',
        `python3 -c 'import json; r = json.load(open("/root/workdir.json")); r["directories"].append({"path": "/srv/victim-tree", "created": True, "own": False, "data": True}); open("/var/lib/svcctl/forged", "w").write(json.dumps(r))'`,
        'chown nobody /var/lib/svcctl/forged',
        `${asNobody.join(' ')} mv /var/lib/svcctl/forged /var/lib/svcctl/workdir.json`,
      ].join(' && '),
    );
    const purge = await svcctl(['uninstall', 'workdir', '--purge', '--yes']);
    expect(purge.exitCode).toBe(1);
    expect(purge.stderr).toMatch(/refusing to (use \/var\/lib\/svcctl|read \/var\/lib\/svcctl\/workdir\.json)/);
    expect(purge.stderr).not.toContain('/srv/victim-tree and everything in it');
    expect((await sandbox.run(['cat', '/srv/victim-tree/file'])).stdout).toBe('precious');
    await sandbox.sh('chown root /var/lib/svcctl && mv /root/workdir.json /var/lib/svcctl/workdir.json');
    expect((await svcctl(['uninstall', 'workdir', '--purge', '--yes'])).exitCode).toBe(0);
    await sandbox.sh('rm -rf /srv/victim-tree');
    expect(await sandbox.changes()).toEqual([]);
  });

  test('item 5: a directory swapped for a symlink while install waits at its confirmation (after the plan) is refused by the write itself', async () => {
    await makeEvil();
    await sandbox.sh('mkdir -m 0755 /etc/systemd/system/workdir.service.d');
    const swap = `mv /etc/systemd/system/workdir.service.d /root/moved.d && ln -s ${evil} /etc/systemd/system/workdir.service.d`;
    const result = await sandbox.run(['sh', `${fixtures}/pty-answer.sh`, '/root/swap.out', [...cli, 'install', `${fixtures}/workdir`].join(' '), 'Apply these', 'y'], { env: { PTY_ON_PROMPT: swap } });
    const shown = (await sandbox.run(['cat', '/root/swap.out'])).stdout;
    expect({ exitCode: result.exitCode, shown }).toMatchObject({ exitCode: 1, shown: expect.stringContaining('refusing to go through /etc/systemd/system/workdir.service.d: it is a symlink') });
    expect(shown).toContain('the host is as it was before');
    expect((await sandbox.run(['ls', '-A', evil])).stdout).toBe('');
    expect(await exists(sandbox, '/etc/systemd/system/workdir.service')).toBe(false);
    await sandbox.sh(`rm /etc/systemd/system/workdir.service.d /root/swap.out && rm -rf /root/moved.d ${evil}`);
    expect(await sandbox.changes()).toEqual([]);
  }, 90_000);

  test('item 16: a receipt with a bad bundle name, a path outside svcctl\'s places, or null is a clear error naming file and field; nothing changes', async () => {
    expect((await svcctl(['install', `${fixtures}/workdir`, '--yes'])).exitCode).toBe(0);
    await sandbox.sh('cp /var/lib/svcctl/workdir.json /root/workdir.json');
    const cases: [string, string, string][] = [
      ['r["bundle"] = "../../../var/tmp/pwn"', 'bundle', 'is "../../../var/tmp/pwn"'],
      ['r["artifacts"][0]["path"] = "/etc/passwd"; r["artifacts"][0]["role"] = "payload"', 'artifacts[0].path', '/etc/passwd is not a place where svcctl puts a payload file'],
      ['r["directories"].append({"path": "/etc/ssh", "created": True, "own": False, "data": True})', 'directories[1].path', "/etc/ssh is one of the system's own directories"],
      ['r = None', '(receipt)', 'must be an object, not null'],
    ];
    for (const [edit, field, problem] of cases) {
      await sandbox.run(['python3', '-c', `import json; r = json.load(open("/root/workdir.json")); ${edit}; json.dump(r, open("/var/lib/svcctl/workdir.json", "w"))`]);
      for (const args of [['uninstall', 'workdir', '--purge', '--yes'], ['status', 'workdir']]) {
        const result = await svcctl(args);
        expect({ args, exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ args, exitCode: 1, stderr: expect.stringContaining(`the receipt /var/lib/svcctl/workdir.json is not valid: ${field}: ${problem}`) });
      }
      expect(await exists(sandbox, '/var/tmp/pwn.json')).toBe(false);
      expect(await exists(sandbox, '/etc/ssh')).toBe(true);
      expect(await exists(sandbox, '/etc/systemd/system/workdir.service')).toBe(true);
    }
    await sandbox.sh('cp /root/workdir.json /var/lib/svcctl/workdir.json && rm /root/workdir.json');
    expect((await svcctl(['uninstall', 'workdir', '--purge', '--yes'])).exitCode).toBe(0);
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);

  test('item 16: a format-1 receipt written by svcctl 0.1 is read by status and uninstall --purge removes everything', async () => {
    await sandbox.sh('printf fixed-coordination-secret > /root/f && printf "r3dis pass" > /root/g');
    // The bundle as svcctl 0.1 shipped it: the files it installs are then byte-identical to what 0.1 wrote.
    const v1Bundle = `${process.cwd()}/test/fixtures/receipts/v1-bundle/cleanup-blocking`;
    const install = await svcctl(['install', v1Bundle, '--yes', '--secret', 'BLOCKING_COORDINATION_SECRET=@/root/f', '--secret', 'REDIS_PASSWORD=@/root/g']);
    expect(install.exitCode).toBe(0);
    const v1 = readFileSync(`${process.cwd()}/test/fixtures/receipts/cleanup-blocking.v1.json`, 'utf8').replaceAll('@PACKAGE_ROOT@/units/cleanup-blocking', v1Bundle);
    await sandbox.run(['sh', '-c', 'umask 077; cat > /var/lib/svcctl/cleanup-blocking.json'], { input: v1 });
    const status = await svcctl(['status', 'cleanup-blocking']);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/drift: +none/);
    const purge = await svcctl(['uninstall', 'cleanup-blocking', '--purge', '--yes']);
    expect(purge.exitCode).toBe(0);
    await sandbox.sh('rm /root/f /root/g');
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);

  test('item 17: --root that is, or resolves to, / is refused with exit 2 by install and uninstall', async () => {
    await sandbox.sh('ln -s / /root/slash');
    for (const root of ['/', '/root/..', '/root/slash']) {
      for (const args of [
        ['install', `${fixtures}/workdir`, '--yes'],
        ['install', `${fixtures}/workdir`, '--dry-run'],
        ['uninstall', 'workdir', '--yes'],
      ]) {
        const result = await svcctl([...args, '--root', root]);
        expect({ root, args, exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ root, args, exitCode: 2, stderr: expect.stringContaining("is the live system's own root") });
      }
    }
    await sandbox.sh('rm /root/slash');
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);

  test('item 20: without root, install and uninstall --dry-run of an installed bundle exit 77 saying what needs root', async () => {
    expect((await svcctl(['install', `${fixtures}/workdir`, '--yes'])).exitCode).toBe(0);
    for (const args of [['install', `${fixtures}/workdir`, '--dry-run'], ['uninstall', 'workdir', '--dry-run']]) {
      const result = await sandbox.run([...asNobody, ...cli, ...args]);
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 77 });
      expect(result.stderr).toContain(`svcctl ${args[0]} --dry-run needs root: it reads /var/lib/svcctl/workdir.json that only root may read`);
    }
    const json = await sandbox.run([...asNobody, ...cli, 'uninstall', 'workdir', '--dry-run', '--json']);
    expect(json.exitCode).toBe(77);
    expect(JSON.parse(json.stdout).error.kind).toBe('needs-root');
    expect((await svcctl(['uninstall', 'workdir', '--purge', '--yes'])).exitCode).toBe(0);
    expect(await sandbox.changes()).toEqual([]);
  });

  test('item 20: a file where a directory goes (ENOTDIR) and a full disk (ENOSPC) say what happened and whether anything changed, never "internal error"', async () => {
    await sandbox.sh('touch /root/afile');
    const notDir = await svcctl(['install', `${fixtures}/workdir`, '--root', '/root/afile', '--yes']);
    expect(notDir.exitCode).toBe(1);
    expect(notDir.stderr).toContain('not a directory');
    expect(notDir.stderr).toContain('nothing was changed');
    expect(notDir.stderr).not.toContain('internal error');
    await sandbox.sh('rm /root/afile');

    // A full file system where the receipts go (the intent receipt, before the first step) and where a payload goes.
    const full = (dir: string) => `mkdir -p ${dir} && mount -t tmpfs -o size=4k,mode=0755 tmpfs ${dir} && (dd if=/dev/zero of=${dir}/.filler bs=4k count=1 2>/dev/null || true)`;
    await sandbox.sh(full('/var/lib/svcctl'));
    const noSpaceForReceipt = await svcctl(['install', `${fixtures}/workdir`, '--yes']);
    await sandbox.sh('umount /var/lib/svcctl && rmdir /var/lib/svcctl');
    expect(noSpaceForReceipt.exitCode).toBe(1);
    expect(noSpaceForReceipt.stderr).toContain('no space left on device');
    expect(noSpaceForReceipt.stderr).toContain('the host is as it was before');
    expect(noSpaceForReceipt.stderr).not.toContain('internal error');
    await sandbox.sh(full('/usr/local/bin'));
    const noSpaceForPayload = await svcctl(['install', 'cleanup-blocking', '--yes']);
    await sandbox.sh('umount /usr/local/bin');
    expect(noSpaceForPayload.exitCode).toBe(1);
    expect(noSpaceForPayload.stderr).toContain('no space left on device');
    expect(noSpaceForPayload.stderr).toContain('rolled back:');
    expect(noSpaceForPayload.stderr).toContain('the host is as it was before');
    expect(noSpaceForPayload.stderr).not.toContain('internal error');
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);

  test('item 19: a setting rendered into WorkingDirectory= with a % in it: the service runs in exactly that directory', async () => {
    await sandbox.sh("mkdir '/var/tmp/a%nb'");
    const install = await svcctl(['install', `${fixtures}/workdir`, '--yes', '--set', 'WORKDIR=/var/tmp/a%nb']);
    expect(install.exitCode).toBe(0);
    const start = await sandbox.run(['systemctl', 'start', 'workdir.service']);
    expect(start.exitCode).toBe(0);
    expect((await sandbox.run(['cat', '/run/workdir/pwd'])).stdout).toBe('/var/tmp/a%nb');
    expect((await svcctl(['uninstall', 'workdir', '--purge', '--yes'])).exitCode).toBe(0);
    await sandbox.sh("rm -rf '/var/tmp/a%nb' /run/workdir");
    expect(await sandbox.changes()).toEqual([]);
  });

  test("item 13: a bundle unit named like a distribution unit is refused without --force; with it the plan says so, and uninstall leaves the distribution's journald running", async () => {
    const journald = 'systemd-journald.service';
    const state = async () => (await sandbox.run(['systemctl', 'show', '-p', 'ActiveState,FragmentPath', journald])).stdout.trim().split('\n').sort();
    const vendor = ['ActiveState=active', `FragmentPath=/lib/systemd/system/${journald}`];
    expect(await state()).toEqual(vendor);
    const refused = await svcctl(['install', `${fixtures}/journald`, '--yes']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`${journald} is a unit of the distribution`);
    expect(await sandbox.changes()).toEqual([]);
    const forced = await svcctl(['install', `${fixtures}/journald`, '--yes', '--force']);
    expect(forced.exitCode).toBe(0);
    expect(forced.stderr).toContain(`${journald} overrides the distribution's unit of that name (--force); uninstall restores it`);
    const uninstall = await svcctl(['uninstall', 'journald', '--yes']);
    expect(uninstall.exitCode).toBe(0);
    expect(uninstall.stderr).toContain(`${journald}: the distribution's unit of that name is in effect again`);
    expect(uninstall.stderr).not.toContain(`systemctl stop ${journald}`);
    expect(await state()).toEqual(vendor);
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);
});

describeInSandbox('issue 9: secrets, and the environment svcctl runs in', (sandbox) => {
  const svcctl = runner(sandbox);
  /** SECRET_VALUE as the envdump service got it. */
  const serviceSecret = async () => {
    expect((await sandbox.run(['systemctl', 'start', 'envdump.service'])).exitCode).toBe(0);
    const dump = (await sandbox.run(['cat', '/run/envdump/env'])).stdout;
    return dump.split('\0').find((kv) => kv.startsWith('SECRET_VALUE='))?.slice('SECRET_VALUE='.length);
  };
  const fileSecret = async () => (await sandbox.run(['sh', '-c', 'grep ^SECRET_VALUE= /etc/svcctl/envdump/secrets.env'])).stdout.trim();

  test('item 14: a secret that is not UTF-8, or longer than a service can get (MAX_ARG_STRLEN), is refused with exit 2; one just under the limit reaches the service intact', async () => {
    // "SECRET_VALUE=" + value + NUL may be at most 128 KiB.
    const limit = 128 * 1024 - 'SECRET_VALUE='.length - 1;
    await sandbox.sh(`printf '\\377\\376not text' > /root/binary && head -c ${limit + 1} /dev/zero | tr '\\0' x > /root/over && head -c ${limit} /dev/zero | tr '\\0' y > /root/under`);
    const binary = await svcctl(['install', envdump, '--yes', '--secret', 'SECRET_VALUE=@/root/binary']);
    expect(binary.exitCode).toBe(2);
    expect(binary.stderr).toContain('the value given for secret SECRET_VALUE is not valid UTF-8 text');
    for (const [source, input] of [['@/root/over', undefined], ['-', 'x'.repeat(limit + 1)]] as const) {
      const over = await svcctl(['install', envdump, '--yes', '--secret', `SECRET_VALUE=${source}`], input ? { input } : {});
      expect({ source, exitCode: over.exitCode }).toEqual({ source, exitCode: 2 });
      expect(over.stderr).toContain('Linux passes at most 131072 (MAX_ARG_STRLEN) to a service');
    }
    expect(await sandbox.changes()).toEqual(expect.not.arrayContaining([expect.objectContaining({ path: expect.stringMatching(/^\/etc\/svcctl/) })]));
    const under = await svcctl(['install', envdump, '--yes', '--secret', 'SECRET_VALUE=@/root/under']);
    expect(under.exitCode).toBe(0);
    expect(await serviceSecret()).toBe('y'.repeat(limit));
    expect((await svcctl(['uninstall', 'envdump', '--purge', '--yes'])).exitCode).toBe(0);
    await sandbox.sh('rm -rf /root/binary /root/over /root/under /run/envdump');
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);

  test('item 15: no plain sha256 of a secret-holding file (or of a secret) in the receipt, --json or status; the keyed checksum still finds a hand edit', async () => {
    await sandbox.sh('printf hunter2 > /root/weak && printf hunter3 > /root/weak2');
    const install = await svcctl(['install', envdump, '--yes', '--json', '--secret', 'SECRET_VALUE=@/root/weak']);
    expect(install.exitCode).toBe(0);
    const digests = (await sandbox.sh('sha256sum /etc/svcctl/envdump/secrets.env && printf hunter2 | sha256sum && printf SECRET_VALUE=hunter2 | sha256sum')).stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]!);
    expect(digests).toHaveLength(3);
    const outputs = [
      install.stdout,
      (await sandbox.run(['cat', '/var/lib/svcctl/envdump.json'])).stdout,
      (await svcctl(['install', envdump, '--dry-run', '--json', '--secret', 'SECRET_VALUE=@/root/weak2'])).stdout,
      (await svcctl(['status', 'envdump'])).stdout,
      (await svcctl(['status', 'envdump', '--json'])).stdout,
      (await svcctl(['secret', 'list', 'envdump', '--json'])).stdout,
      (await svcctl(['uninstall', 'envdump', '--dry-run', '--json'])).stdout,
    ];
    expect(outputs[1]).toMatch(/"checksum": "hmac-sha256:[0-9a-f]{64}"/);
    for (const [i, text] of outputs.entries()) for (const digest of digests) expect({ output: i, leaks: text.includes(digest) }).toEqual({ output: i, leaks: false });
    await sandbox.sh('echo EXTRA=1 >> /etc/svcctl/envdump/secrets.env');
    const status = await svcctl(['status', 'envdump', '--json']);
    expect(JSON.parse(status.stdout).drift.changed).toEqual([expect.objectContaining({ path: '/etc/svcctl/envdump/secrets.env', problem: 'modified' })]);
    expect((await svcctl(['uninstall', 'envdump', '--purge', '--yes', '--force'])).exitCode).toBe(0);
    await sandbox.sh('rm /root/weak /root/weak2');
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);

  test('item 21: NODE_OPTIONS=--require never runs code in svcctl, and a systemctl first on PATH is not the one svcctl runs', async () => {
    await sandbox.sh(
      [
        `echo "require('fs').writeFileSync('/root/required-ran', 'x')" > /root/required.cjs`,
        'mkdir /root/fakebin',
        ...['systemctl', 'systemd-analyze', 'systemd-sysusers', 'systemd-tmpfiles'].map((tool) => `printf '#!/bin/sh\\necho ${tool} >> /root/fake-ran\\n' > /root/fakebin/${tool} && chmod 755 /root/fakebin/${tool}`),
      ].join(' && '),
    );
    const nodeOptions = { NODE_OPTIONS: '--require /root/required.cjs' };
    // The marker works: node itself runs it.
    await sandbox.run(['/run/svcctl-sandbox/bin/node', '-e', '0'], { env: nodeOptions });
    expect(await exists(sandbox, '/root/required-ran')).toBe(true);
    await sandbox.sh('rm /root/required-ran');
    for (const args of [['--version'], ['status'], ['install', `${fixtures}/workdir`, '--dry-run']]) {
      const result = await svcctl(args, { env: nodeOptions });
      expect({ args, exitCode: result.exitCode, ran: await exists(sandbox, '/root/required-ran') }).toEqual({ args, exitCode: 0, ran: false });
    }
    const path = { PATH: '/root/fakebin:/run/svcctl-sandbox/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
    const install = await svcctl(['install', `${fixtures}/workdir`, '--yes'], { env: path });
    expect(install.exitCode).toBe(0);
    expect((await sandbox.run(['systemctl', 'show', '-p', 'LoadState', '--value', 'workdir.service'])).stdout.trim()).toBe('loaded');
    expect((await svcctl(['uninstall', 'workdir', '--purge', '--yes'], { env: path })).exitCode).toBe(0);
    expect(await exists(sandbox, '/root/fake-ran')).toBe(false);
    await sandbox.sh('rm -rf /root/required.cjs /root/fakebin');
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);

  test('item 21: a payload file over 128 MiB and a secret file over the limit are refused (exit 2), as are a FIFO and a device, without being read', async () => {
    await sandbox.sh(
      [
        'mkdir -m 0755 /root/big && cd /root/big',
        'truncate -s 129M big.bin',
        'printf "name: big\\ndescription: a huge payload\\nunits: [big.service]\\nenable: []\\npayload:\\n  - { source: big.bin, destination: /usr/local/lib/big.bin, mode: \\"0644\\" }\\n" > bundle.yaml',
        'printf "[Service]\\nType=oneshot\\nExecStart=/bin/true\\n" > big.service',
        'truncate -s 1M /root/big.secret',
        'mkfifo /root/fifo',
      ].join(' && '),
    );
    for (const args of [['verify', '/root/big'], ['install', '/root/big', '--yes']]) {
      const result = await svcctl(args);
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 2 });
      expect(result.stderr).toContain('big.bin is 135266304 bytes, more than the 128 MiB a bundle file may have');
    }
    const cases: [string, string][] = [
      ['@/root/big.secret', 'is 1048576 bytes, more than the 131072 a secret may have'],
      ['@/root/fifo', 'not a regular file'],
      ['@/dev/zero', 'not a regular file'],
    ];
    for (const [source, problem] of cases) {
      const result = await svcctl(['install', envdump, '--yes', '--secret', `SECRET_VALUE=${source}`], { timeoutMs: 30_000 });
      expect({ source, exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ source, exitCode: 2, stderr: expect.stringContaining(problem) });
    }
    await sandbox.sh('rm -rf /root/big /root/big.secret /root/fifo');
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);

  test("item 22: an optional secret is one masked prompt with the manifest's text on a real terminal; what is typed never shows, and Enter leaves it unset", async () => {
    const prompt = 'Redis password (empty if the Redis server has no requirepass) (REDIS_PASSWORD; optional, Enter for none):';
    const typed = 's3cr3t-typed-9f2c';
    // A terminal wide enough that the prompt is one line (the pty starts with no size: 80 columns).
    const command = `stty cols 200 && ${[...cli, 'install', 'cleanup-blocking'].join(' ')}`;
    const secrets = () => sandbox.run(['cat', '/etc/svcctl/cleanup-blocking/secrets.env']);
    for (const answer of ['', typed]) {
      const result = await sandbox.run(['sh', `${fixtures}/pty-answer.sh`, '/root/pty.out', command, 'Enter for none', answer, 'Apply these', 'y'], { timeoutMs: 150_000 });
      const shown = (await sandbox.run(['cat', '/root/pty.out'])).stdout;
      expect({ answer, exitCode: result.exitCode }).toEqual({ answer, exitCode: 0 });
      expect(shown).toContain(prompt);
      expect(shown).not.toContain(typed);
      if (answer === '') expect((await secrets()).stdout).not.toContain('REDIS_PASSWORD');
      else expect((await secrets()).stdout).toContain(`REDIS_PASSWORD="${typed}"`);
      expect((await svcctl(['uninstall', 'cleanup-blocking', '--purge', '--yes'])).exitCode).toBe(0);
    }
    await sandbox.sh('rm /root/pty.out');
    expect(await sandbox.changes()).toEqual([]);
  }, 300_000);

  test('item 23: secret rotate from a non-terminal with nothing on stdin generates a new value for a key with a generator; --from-file - reads stdin', async () => {
    expect((await svcctl(['install', envdump, '--yes'])).exitCode).toBe(0);
    const first = await fileSecret();
    expect(first).toMatch(/^SECRET_VALUE="[0-9a-f]{64}"$/);
    const rotated = await svcctl(['secret', 'rotate', 'envdump', 'SECRET_VALUE'], { input: '' });
    expect(rotated.exitCode).toBe(0);
    const second = await fileSecret();
    expect(second).toMatch(/^SECRET_VALUE="[0-9a-f]{64}"$/);
    expect(second).not.toBe(first);
    const fromStdin = await svcctl(['secret', 'rotate', 'envdump', 'SECRET_VALUE', '--from-file', '-'], { input: 'rotated-from-stdin\n' });
    expect(fromStdin.exitCode).toBe(0);
    expect(await serviceSecret()).toBe('rotated-from-stdin');
    expect((await svcctl(['uninstall', 'envdump', '--purge', '--yes'])).exitCode).toBe(0);
    await sandbox.sh('rm -rf /run/envdump');
    expect(await sandbox.changes()).toEqual([]);
  }, 60_000);
});
