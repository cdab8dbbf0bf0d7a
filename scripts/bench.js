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

// ---- Issue 10: many bundles in one transaction ---------------------------------------------------------------
// 20 small bundles (scripts/make-many-bundles.sh) installed by one `svcctl install` (one daemon-reload, one
// enable --now), against the same 20 installed one after another the way their guides have it
// (scripts/bench-many-manual.sh: 20 daemon-reloads), and against one of them alone. Its own sandbox, so that what the
// sections above leave installed does not weigh on either side; alternating runs, medians, ratios.
{
  const manyRuns = Number(process.env.BENCH_MANY_RUNS ?? 5);
  const count = 20;
  const manyName = `bench-many-${process.pid}`;
  const sandbox = await startSandbox(manyName);
  try {
    const dir = '/root/bench-bundles';
    timed(sandbox.pid, ['sh', path.join(root, 'scripts', 'make-many-bundles.sh'), dir, String(count)]);
    const dirs = Array.from({ length: count }, (_, i) => `${dir}/bench-${String(i + 1).padStart(2, '0')}`);
    const names = dirs.map((d) => path.basename(d));
    const manual = path.join(root, 'scripts', 'bench-many-manual.sh');
    const together = [];
    const oneByOne = [];
    const single = [];
    for (let i = -1; i < manyRuns; i++) {
      const a = timed(sandbox.pid, ['svcctl', 'install', ...dirs, '--yes']);
      timed(sandbox.pid, ['svcctl', 'uninstall', ...names, '--purge', '--yes']);
      const b = timed(sandbox.pid, ['sh', manual, 'install', ...dirs]);
      timed(sandbox.pid, ['sh', manual, 'uninstall', ...dirs]);
      const c = timed(sandbox.pid, ['svcctl', 'install', dirs[0], '--yes']);
      timed(sandbox.pid, ['svcctl', 'uninstall', names[0], '--purge', '--yes']);
      if (i >= 0) {
        together.push(a);
        oneByOne.push(b);
        single.push(c);
      }
    }
    timed(sandbox.pid, ['rm', '-rf', dir]);
    const left = await sandboxChanges(manyName);
    const runsOf = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
    console.log(`${count} bundles, install only, ${manyRuns} alternating runs in one sandbox:`);
    console.log(`  svcctl install of all ${count} (one transaction)   median ${median(together).toFixed(0)} ms  (runs: ${runsOf(together)})`);
    console.log(`  the guides' steps, one bundle after another   median ${median(oneByOne).toFixed(0)} ms  (runs: ${runsOf(oneByOne)})`);
    console.log(`  svcctl install of one of them                 median ${median(single).toFixed(0)} ms  (runs: ${runsOf(single)})`);
    console.log(`  ratio to the guides' steps  ${(median(together) / median(oneByOne)).toFixed(2)}x  (target <= 0.5x)`);
    console.log(`  ratio to one bundle         ${(median(together) / median(single)).toFixed(2)}x  (target <= 2x)`);
    console.log(`  left behind: ${left.length === 0 ? 'nothing' : left.map((c) => `${c.change} ${c.path}`).join(', ')}`);
  } finally {
    await stopSandbox(manyName);
  }
}
