#!/usr/bin/env node
// `npm run bench`: in one sandbox, the median wall time of `svcctl install cleanup-blocking --yes` followed by
// `svcctl uninstall cleanup-blocking --purge --yes`, against the same steps done by a shell script
// (scripts/bench-manual-install.sh), in alternating runs, and the ratio. Also svcctl --version start-up.
// Ratios, not absolute times: these machines are noisy, so both sides are measured in the same run.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { insideArgv, sandboxChanges, startSandbox, stopSandbox } from '../dist/system/sandbox.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 9);
const name = `bench-${process.pid}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(pid, argv) {
  const [file, ...args] = insideArgv(pid, argv);
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

const record = await startSandbox(name);
try {
  const bundleDir = path.join(root, 'units', 'cleanup-blocking');
  const manual = path.join(root, 'scripts', 'bench-manual-install.sh');
  const svcctl = [];
  const shell = [];
  // One warm-up of each (page cache, first systemd-sysusers run), not counted.
  for (let i = -1; i < runs; i++) {
    const a = timed(record.pid, ['svcctl', 'install', 'cleanup-blocking', '--yes']) + timed(record.pid, ['svcctl', 'uninstall', 'cleanup-blocking', '--purge', '--yes']);
    const b = timed(record.pid, ['sh', manual, 'install', bundleDir]) + timed(record.pid, ['sh', manual, 'uninstall', bundleDir]);
    if (i >= 0) {
      svcctl.push(a);
      shell.push(b);
    }
  }
  const left = await sandboxChanges(name);

  // Issue 4: status and list-timers with 200 installed timers (one generated bundle), against 2.
  const scale = {};
  const measureLifecycle = (label) => {
    for (const command of [['list-timers'], ['status']]) {
      const key = `${command.join(' ')} (${label})`;
      scale[key] = [];
      for (let i = 0; i < runs; i++) scale[key].push(timed(record.pid, ['svcctl', ...command]));
    }
  };
  timed(record.pid, ['svcctl', 'install', path.join(root, 'test', 'fixtures', 'lifecycle', 'tick'), '--yes']);
  measureLifecycle('1 bundle, 1 timer');
  timed(record.pid, ['sh', path.join(root, 'scripts', 'make-many-timers.sh'), '/root/many', '200']);
  timed(record.pid, ['svcctl', 'install', '/root/many', '--yes']);
  measureLifecycle('201 timers');
  const version = [];
  const node = [];
  for (let i = 0; i < runs; i++) {
    let start = process.hrtime.bigint();
    spawnSync(path.join(root, 'bin', 'run.js'), ['--version']); // as an executable: its shebang applies
    version.push(Number(process.hrtime.bigint() - start) / 1e6);
    start = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    node.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const ratio = median(svcctl) / median(shell);
  const fmt = (ms) => `${ms.toFixed(0)} ms`;
  console.log(`install + uninstall --purge, ${runs} alternating runs in one sandbox:`);
  console.log(`  svcctl        median ${fmt(median(svcctl))}  (runs: ${svcctl.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`  shell script  median ${fmt(median(shell))}  (runs: ${shell.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`  ratio         ${ratio.toFixed(2)}x  (target <= 1.5x, goal 1.25x)`);
  // With NODE_EXTRA_CA_CERTS set, node parses that CA file at every start; svcctl's shebang moves it aside.
  const extraCa = process.env.NODE_EXTRA_CA_CERTS ? ', NODE_EXTRA_CA_CERTS set' : '';
  console.log(`start-up: svcctl --version median ${fmt(median(version))}; node -e 0 median ${fmt(median(node))}${extraCa} (target < 150 ms)`);
  console.log(`left behind after all runs: ${left.length === 0 ? 'nothing' : left.map((c) => `${c.change} ${c.path}`).join(', ')}`);
  console.log('status and list-timers, whole CLI, median:');
  for (const [key, times] of Object.entries(scale)) console.log(`  ${key.padEnd(32)} ${fmt(median(times))}`);
} finally {
  await stopSandbox(name);
}

// ---- Issue 12: the exported Ansible role against a minimal hand-written playbook, over SSH to a 3-host fleet ----
// Both deploy cleanup-blocking's files, user, directories and timer to 3 fresh hosts (a new fleet each time), in
// alternating runs; the role also reads the host first, checks its variables and writes svcctl's receipt.
{
  const { fleetUp, fleetDown, controllerArgv } = await import('../dist/system/sandbox.js');
  const { mkdtempSync, writeFileSync, rmSync, cpSync } = await import('node:fs');
  const os = await import('node:os');
  const fleetRuns = Number(process.env.BENCH_FLEET_RUNS ?? 2);
  const fleetName = `bench-fleet-${process.pid}`.slice(0, 28);
  const work = mkdtempSync(path.join(root, '.bench-fleet-'));
  try {
    const exported = path.join(work, 'export');
    const made = spawnSync(path.join(root, 'bin', 'run.js'), ['export', 'cleanup-blocking', '--format', 'ansible', '--output', exported], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`export failed: ${made.stderr}`);
    const files = path.join(exported, 'roles', 'svcctl_cleanup_blocking', 'files');
    // What a person would write for the same result: one task per step, the same files (payload, units, sysusers.d
    // and tmpfiles.d entries), a template each for the secrets and the drop-in, one enable --now with a reload.
    const minimal = path.join(work, 'minimal');
    cpSync(files, path.join(minimal, 'files'), { recursive: true });
    writeFileSync(path.join(minimal, 'secrets.env.j2'), '# Managed by svcctl (bundle cleanup-blocking). Changes here are overwritten by `svcctl install`.\nBLOCKING_COORDINATION_SECRET="{{ blocking_secret }}"\n');
    writeFileSync(path.join(minimal, 'override.conf.j2'), '# Managed by svcctl (bundle cleanup-blocking). Changes here are overwritten by `svcctl install`.\n\n[Service]\nEnvironmentFile=/etc/svcctl/cleanup-blocking/secrets.env\nEnvironment="STALE_THRESHOLD_SECONDS=600"\nEnvironment="REDIS_HOST=127.0.0.1"\nEnvironment="REDIS_PORT=6379"\nEnvironment="REDIS_DB=0"\nEnvironment="LOG_DIR=/home/claude-flow/.claude-flow/logs"\n');
    const copy = (src, dest, mode) => `    - ansible.builtin.copy: { src: files/${src}, dest: ${dest}, mode: "${mode}", owner: root, group: root }`;
    writeFileSync(path.join(minimal, 'site.yml'), [
      '- hosts: all',
      '  gather_facts: false',
      `  vars: { blocking_secret: ${'ab'.repeat(32)} }`,
      '  tasks:',
      '    - ansible.builtin.group: { name: claude-flow, system: true }',
      '    - ansible.builtin.user: { name: claude-flow, group: claude-flow, home: /opt/claude-flow-novice, shell: /usr/sbin/nologin, system: true, create_home: false, comment: "svcctl bundle cleanup-blocking" }',
      '    - ansible.builtin.file: { path: "{{ item.path }}", state: directory, mode: "{{ item.mode }}", owner: "{{ item.owner }}", group: "{{ item.owner }}" }',
      '      loop:',
      '        - { path: /etc/sysusers.d, mode: "0755", owner: root }',
      '        - { path: /etc/svcctl/cleanup-blocking, mode: "0700", owner: root }',
      '        - { path: /etc/systemd/system/cleanup-blocking-coordination.service.d, mode: "0755", owner: root }',
      '        - { path: /home/claude-flow, mode: "0755", owner: root }',
      '        - { path: /home/claude-flow/.claude-flow, mode: "0750", owner: claude-flow }',
      '        - { path: /home/claude-flow/.claude-flow/logs, mode: "0750", owner: claude-flow }',
      copy('0-cleanup-blocking-coordination.sh', '/usr/local/bin/cleanup-blocking-coordination.sh', '0755'),
      copy('1-svcctl-cleanup-blocking.conf', '/etc/sysusers.d/svcctl-cleanup-blocking.conf', '0644'),
      copy('2-svcctl-cleanup-blocking.conf', '/etc/tmpfiles.d/svcctl-cleanup-blocking.conf', '0644'),
      '    - ansible.builtin.template: { src: secrets.env.j2, dest: /etc/svcctl/cleanup-blocking/secrets.env, mode: "0600", owner: root, group: root }',
      '      no_log: true',
      copy('4-cleanup-blocking-coordination.service', '/etc/systemd/system/cleanup-blocking-coordination.service', '0644'),
      copy('5-cleanup-blocking-coordination.timer', '/etc/systemd/system/cleanup-blocking-coordination.timer', '0644'),
      '    - ansible.builtin.template: { src: override.conf.j2, dest: /etc/systemd/system/cleanup-blocking-coordination.service.d/override.conf, mode: "0600", owner: root, group: root }',
      '    - ansible.builtin.systemd_service: { name: cleanup-blocking-coordination.timer, enabled: true, state: started, daemon_reload: true }',
      '',
    ].join('\n'));
    writeFileSync(path.join(minimal, 'ansible.cfg'), '[defaults]\ninterpreter_python = auto_silent\n\n[ssh_connection]\npipelining = true\n');
    const deploy = (dir) => {
      const record = fleetUpSync();
      const [file, ...args] = controllerArgv(record, ['/usr/bin/ansible-playbook', 'site.yml']);
      const start = process.hrtime.bigint();
      const first = spawnSync(file, args, { cwd: dir, encoding: 'utf8' });
      const firstMs = Number(process.hrtime.bigint() - start) / 1e6;
      if (first.status !== 0) throw new Error(`ansible-playbook in ${dir} exited ${first.status}: ${first.stdout.slice(-2000)}`);
      const again = process.hrtime.bigint();
      const second = spawnSync(file, args, { cwd: dir, encoding: 'utf8' });
      const secondMs = Number(process.hrtime.bigint() - again) / 1e6;
      if (second.status !== 0 || !/changed=0/.test(second.stdout)) throw new Error(`the re-run in ${dir} did not converge: ${second.stdout.slice(-2000)}`);
      return { firstMs, secondMs };
    };
    // fleetUp is async: each deploy gets a fresh fleet, taken down before the next.
    let current;
    const fleetUpSync = () => current;
    const role = { first: [], second: [] };
    const hand = { first: [], second: [] };
    for (let i = 0; i < fleetRuns; i++) {
      for (const [dir, into] of [[exported, role], [minimal, hand]]) {
        current = await fleetUp(fleetName, 3);
        try {
          const { firstMs, secondMs } = deploy(dir);
          into.first.push(firstMs);
          into.second.push(secondMs);
        } finally {
          await fleetDown(fleetName);
        }
      }
    }
    const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`Ansible over SSH, cleanup-blocking to 3 fresh hosts, ${fleetRuns} alternating runs (${os.cpus().length} cores):`);
    console.log(`  exported role     first deploy median ${s(median(role.first))}, re-run (changed=0) ${s(median(role.second))}  (runs: ${role.first.map(s).join(' ')})`);
    console.log(`  minimal playbook  first deploy median ${s(median(hand.first))}, re-run (changed=0) ${s(median(hand.second))}  (runs: ${hand.first.map(s).join(' ')})`);
    console.log(`  ratio             first deploy ${(median(role.first) / median(hand.first)).toFixed(2)}x, re-run ${(median(role.second) / median(hand.second)).toFixed(2)}x  (target <= 1.3x)`);
  } finally {
    await fleetDown(fleetName).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
