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

// ---- Issue 14: start-up of the packaged executable (dist/svcctl_<version>_<arch>.deb, npm run package) ----
// Installed with dpkg in a sandbox of its own; inside, one Node process times, in alternating runs, `node -e 0`,
// the package's /usr/bin/svcctl (launcher + single executable) and the clone's bin/run.js, for --version and for
// a command that loads the whole CLI (bundles). Timed inside, so that nsenter's cost is on no side.
{
  const { readFileSync, existsSync } = await import('node:fs');
  const { execFileSync } = await import('node:child_process');
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const deb = path.join(root, 'dist', `svcctl_${version}_${execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim()}.deb`);
  if (!existsSync(deb) || process.env.BENCH_PACKAGE_REBUILD === '1') {
    const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'package.js')], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (built.status !== 0) throw new Error('npm run package failed');
  }
  const packageSandbox = `bench-pkg-${process.pid}`;
  const sandbox = await startSandbox(packageSandbox);
  try {
    const inside = (argv, input) => {
      const [file, ...args] = insideArgv(sandbox.pid, argv);
      const result = spawnSync(file, args, { encoding: 'utf8', input });
      if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
      return result.stdout;
    };
    inside(['dpkg', '-i', deb]);
    const timer = `
      const { spawnSync } = require('node:child_process');
      const [runs, ...commands] = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
      const times = commands.map(() => []);
      for (let i = -1; i < runs; i++) commands.forEach(([file, ...args], k) => {
        const start = process.hrtime.bigint();
        const result = spawnSync(file, args, { stdio: 'ignore' });
        if (result.status !== 0) throw new Error(file + ' ' + args.join(' ') + ' exited ' + result.status);
        if (i >= 0) times[k].push(Number(process.hrtime.bigint() - start) / 1e6);
      });
      process.stdout.write(JSON.stringify(times));`;
    const runJs = path.join(root, 'bin', 'run.js');
    // The same executable from the package's staging tree: its bundles on the checkout's file system, as bin/run.js's
    // are, instead of the sandbox's overlayfs (where every lookup under /usr costs more than on a host).
    const staged = path.join(root, 'dist', 'deb', 'root', 'usr', 'lib', 'svcctl', 'svcctl');
    const commands = [['node', '-e', '0'], ['/usr/bin/svcctl', '--version'], [runJs, '--version'], ['/usr/bin/svcctl', 'bundles'], [runJs, 'bundles'], ['/bin/sh', '-c', 'unset NODE_EXTRA_CA_CERTS; exec "$0" "$@"', staged, 'bundles']];
    const extraCa = process.env.NODE_EXTRA_CA_CERTS ? [`NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}`] : [];
    const times = JSON.parse(inside(['env', ...extraCa, process.execPath, '-e', timer], JSON.stringify([runs * 2, ...commands])));
    const fmt = (ms) => `${ms.toFixed(0)} ms`;
    console.log(`start-up of the Debian package's svcctl, ${runs * 2} alternating runs in one sandbox, median${extraCa.length ? ' (NODE_EXTRA_CA_CERTS set)' : ''}:`);
    const label = (command) => (command.includes(staged) ? 'staged executable bundles' : command.map((word) => (word === runJs ? 'bin/run.js' : word)).join(' '));
    commands.forEach((command, k) => console.log(`  ${label(command).padEnd(28)} ${fmt(median(times[k]))}`));
    const ratio = (a, b) => (median(times[a]) / median(times[b])).toFixed(2);
    console.log(`  package / bin/run.js: --version ${ratio(1, 2)}x, bundles ${ratio(3, 4)}x (staged: ${ratio(5, 4)}x) (target <= 1.00x)`);
  } finally {
    await stopSandbox(packageSandbox);
  }
}
