// The exported Ansible role on a fleet of real systemd hosts over real SSH: --check --diff on fresh hosts, a deploy,
// a re-run where one host drifted (only it changes), svcctl status/logs/check on every host, the receipt and tree
// against what svcctl install makes, uninstall --purge, and a fleet that leaves nothing behind. One fleet for all.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { controllerArgv, fleetDown, fleetUp, insideArgv, sandboxStateRoot, type FleetRecord } from '../../src/system/sandbox.js';
import { sandboxUnavailable } from '../helpers/sandbox.js';

const bin = `${process.cwd()}/bin/run.js`;
const name = `tf${process.pid}`;
const secret = 'fleet-test-redis-password-Zq9';
const hostCount = 3;

interface Run {
  stdout: string;
  stderr: string;
  exitCode: number;
}

async function run(argv: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  const [file, ...args] = argv;
  const result = await execa(file!, args, { reject: false, cwd: options.cwd, timeout: options.timeoutMs ?? 600_000, stdin: 'ignore', env: { NO_COLOR: '1' } });
  return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 128 };
}

/** `changed=N` of each host in a PLAY RECAP. */
function recap(output: string): Record<string, { changed: number; failed: number }> {
  const hosts: Record<string, { changed: number; failed: number }> = {};
  for (const match of output.matchAll(/^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) hosts[match[1]!] = { changed: Number(match[2]), failed: Number(match[4]) + Number(match[3]) };
  return hosts;
}

const describeFleet = sandboxUnavailable ? describe.skip : describe;

describeFleet('fleet: the exported role over real SSH on 3 systemd hosts', () => {
  let fleet: FleetRecord;
  let work: string;
  let exported: string;
  const outputs: string[] = [];
  const linksBefore = run(['/usr/sbin/ip', '-o', 'link', 'show']);
  const onHost = (index: number, argv: string[]) => run(insideArgv(fleet.hosts[index - 1]!.pid, argv));
  const playbook = async (extra: string[] = []) => {
    const result = await run(controllerArgv(fleet, ['/usr/bin/ansible-playbook', 'site.yml', '-e', '@secrets.yml', ...extra]), { cwd: exported });
    outputs.push(result.stdout, result.stderr);
    return result;
  };

  beforeAll(async () => {
    work = mkdtempSync(path.join(process.cwd(), 'test', '.scratch-fleet-'));
    exported = path.join(work, 'export');
    const made = await run([process.execPath, bin, 'export', 'cleanup-blocking', '--format', 'ansible', '--output', exported]);
    expect(made.exitCode).toBe(0);
    // The one secret given as a variable (as from ansible-vault); the other is generated on each host.
    writeFileSync(path.join(exported, 'secrets.yml'), `svcctl_secret_REDIS_PASSWORD: ${secret}\n`, { mode: 0o600 });
    fleet = await fleetUp(name, hostCount);
  }, 180_000);

  afterAll(async () => {
    await fleetDown(name).catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
  }, 120_000);

  test('the fleet is up: every host answers over SSH from the controller, on addresses the host does not have', async () => {
    expect(fleet.hosts.map((h) => h.sandbox)).toEqual([1, 2, 3].map((i) => `${name}-${i}`));
    const ping = await run(controllerArgv(fleet, ['/usr/bin/ansible', 'all', '-m', 'ansible.builtin.ping', '-o']), { cwd: exported });
    expect(ping.exitCode).toBe(0);
    expect(ping.stdout.match(/SUCCESS/g)?.length).toBe(hostCount);
    const hostAddresses = await run(['/usr/sbin/ip', '-o', 'addr', 'show']);
    for (const h of fleet.hosts) expect(hostAddresses.stdout).not.toContain(h.address);
    // sshd listens inside the hosts only.
    const listening = await run(['/usr/bin/ss', '-Htln']);
    expect(listening.stdout).not.toMatch(/10\.77\.0\./);
  }, 120_000);

  test('--check --diff on fresh hosts reports the changes and changes nothing', async () => {
    const check = await playbook(['--check', '--diff']);
    expect(check.exitCode).toBe(0);
    for (const h of fleet.hosts) expect(recap(check.stdout)[h.sandbox]?.changed).toBeGreaterThan(0);
    expect(check.stdout).toContain('/etc/systemd/system/cleanup-blocking-coordination.timer');
    const absent = await onHost(1, ['/bin/sh', '-c', 'test ! -e /etc/systemd/system/cleanup-blocking-coordination.timer && test ! -e /var/lib/svcctl/cleanup-blocking.json && ! getent passwd claude-flow']);
    expect(absent.exitCode).toBe(0);
  }, 600_000);

  test('the deploy installs the bundle on every host; svcctl status is healthy on each', async () => {
    const deploy = await playbook();
    expect(deploy.exitCode).toBe(0);
    for (const h of fleet.hosts) expect(recap(deploy.stdout)[h.sandbox]).toEqual({ changed: expect.any(Number), failed: 0 });
    for (let i = 1; i <= hostCount; i++) {
      const status = await onHost(i, ['svcctl', 'status', 'cleanup-blocking', '--json']);
      expect(status.exitCode).toBe(0);
      const parsed = JSON.parse(status.stdout) as { health: string; drift: { changed: unknown[] }; secrets: { key: string }[] };
      expect(parsed.health).toBe('ok');
      expect(parsed.drift.changed).toEqual([]);
      expect(parsed.secrets.map((s) => s.key)).toEqual(['BLOCKING_COORDINATION_SECRET', 'REDIS_PASSWORD']);
    }
    const logs = await onHost(1, ['svcctl', 'logs', 'cleanup-blocking', '-n', '5']);
    expect(logs.exitCode).toBe(0);
    const check = await onHost(1, ['svcctl', 'check', 'cleanup-blocking']);
    expect(check.stdout).toMatch(/^SVCCTL (OK|WARNING) - cleanup-blocking/);
  }, 600_000);

  test('a re-run where one host drifted changes that host only, and repairs it', async () => {
    await onHost(2, ['/bin/sh', '-c', "echo '# drift' >> /etc/systemd/system/cleanup-blocking-coordination.timer"]);
    const drifted = await onHost(2, ['svcctl', 'status', 'cleanup-blocking', '--json']);
    expect((JSON.parse(drifted.stdout) as { health: string }).health).toBe('drifted');
    const rerun = await playbook();
    expect(rerun.exitCode).toBe(0);
    const hosts = recap(rerun.stdout);
    expect(hosts[`${name}-1`]).toEqual({ changed: 0, failed: 0 });
    expect(hosts[`${name}-3`]).toEqual({ changed: 0, failed: 0 });
    expect(hosts[`${name}-2`]!.changed).toBeGreaterThan(0);
    const repaired = await onHost(2, ['svcctl', 'status', 'cleanup-blocking', '--json']);
    expect((JSON.parse(repaired.stdout) as { health: string }).health).toBe('ok');
  }, 600_000);

  test('no secret value reaches Ansible\'s output', async () => {
    const generated = await onHost(1, ['/bin/sh', '-c', 'sed -n "s/^BLOCKING_COORDINATION_SECRET=\\"\\(.*\\)\\"$/\\1/p" /etc/svcctl/cleanup-blocking/secrets.env']);
    expect(generated.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    const all = outputs.join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toContain(generated.stdout.trim());
  });

  test('the role puts what svcctl install puts: the same receipt, files, modes, owners and user; uninstall --purge removes it all', async () => {
    const listPaths = `python3 -c 'import json; r = json.load(open("/var/lib/svcctl/cleanup-blocking.json")); print("\\n".join(sorted([a["path"] for a in r["artifacts"]] + [d["path"] for d in r["directories"]])))'`;
    const describeTree = `for p in $(${listPaths}); do stat -c '%n %a %U %G %F' "$p"; done; getent passwd claude-flow | cut -d: -f1,5-7; systemctl is-enabled cleanup-blocking-coordination.timer; systemctl is-active cleanup-blocking-coordination.timer`;
    const fromRole = await onHost(3, ['/bin/sh', '-c', 'cat /var/lib/svcctl/cleanup-blocking.json']);
    const treeFromRole = await onHost(3, ['/bin/sh', '-c', describeTree]);
    expect(treeFromRole.exitCode).toBe(0);
    const purge = await onHost(3, ['svcctl', 'uninstall', 'cleanup-blocking', '--purge', '--yes']);
    expect(purge.exitCode).toBe(0);
    const gone = await onHost(3, ['/bin/sh', '-c', 'test ! -e /etc/systemd/system/cleanup-blocking-coordination.timer && test ! -e /etc/svcctl/cleanup-blocking && test ! -e /home/claude-flow && test ! -e /var/lib/svcctl/cleanup-blocking.json && ! getent passwd claude-flow']);
    expect(gone.exitCode).toBe(0);
    const install = await run(insideArgv(fleet.hosts[2]!.pid, ['env', `SVCCTL_SECRET_REDIS_PASSWORD=${secret}`, 'svcctl', 'install', 'cleanup-blocking', '--yes']));
    expect(install.exitCode).toBe(0);
    const fromSvcctl = await onHost(3, ['/bin/sh', '-c', 'cat /var/lib/svcctl/cleanup-blocking.json']);
    const treeFromSvcctl = await onHost(3, ['/bin/sh', '-c', describeTree]);
    expect(treeFromRole.stdout).toBe(treeFromSvcctl.stdout);
    // The same receipt but for times, the svcctl version and the secret file's keyed checksum (the role cannot key it).
    type R = { artifacts: { path: string; checksum: string; secret?: boolean }[]; [k: string]: unknown };
    const comparable = (text: string) => {
      const r = JSON.parse(text) as R;
      const { installedAt: _i, updatedAt: _u, secrets, ...rest } = r as R & { secrets: { key: string }[] };
      return { ...rest, secrets: secrets.map((s) => s.key), artifacts: r.artifacts.map((a) => ({ ...a, checksum: a.secret ? 'secret' : a.checksum })) };
    };
    expect(comparable(fromRole.stdout)).toEqual(comparable(fromSvcctl.stdout));
  }, 300_000);

  test('down leaves nothing on the host: no state, no process, no link, no cgroup', async () => {
    const hosts = fleet.hosts.map((h) => h.sandbox);
    expect(await fleetDown(name)).toBe(true);
    expect(readdirSync(sandboxStateRoot()).filter((d) => d.includes(name))).toEqual([]);
    for (const pid of [fleet.netPid, ...fleet.hosts.map((h) => h.pid)]) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect((await run(['/usr/sbin/ip', '-o', 'link', 'show'])).stdout).toBe((await linksBefore).stdout);
    for (const hierarchy of ['systemd', 'unified']) for (const h of hosts) expect(existsSync(`/sys/fs/cgroup/${hierarchy}/svcctl-sandbox-${h}`)).toBe(false);
  }, 120_000);
});
