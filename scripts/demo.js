#!/usr/bin/env node
// `npm run demo`: the main job on the embedded default. Boots a throwaway systemd (svcctl sandbox), starts
// a password-protected Redis inside with some stale and some live coordinators, installs the built-in
// cleanup-blocking bundle, shows status, list-timers, a manual run and its logs, uninstalls with --purge,
// proves nothing was left behind, and stops the sandbox. Works where systemd is not PID 1; needs root.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const svcctl = [process.execPath, path.join(root, 'bin', 'run.js')];
const name = process.env.SVCCTL_DEMO_SANDBOX ?? 'demo';
const bold = (text) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\u001b[1m${text}\u001b[22m` : text);

if (process.getuid?.() !== 0) {
  console.error('npm run demo boots a sandboxed systemd and needs root: run it with sudo');
  process.exit(77);
}

/** Runs svcctl on the host (sandbox management), with its output shown. */
function host(args, { show = true } = {}) {
  if (show) console.log(bold(`\n$ svcctl ${args.join(' ')}`));
  const result = spawnSync(svcctl[0], [...svcctl.slice(1), ...args], { stdio: show ? 'inherit' : 'pipe', encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`svcctl ${args.join(' ')} exited ${result.status}`);
  return result;
}

/** Runs a command inside the sandbox; `shown` is how the demo prints it (the operator's view). */
function inside(argv, { shown, quiet = false, allowFail = false, input } = {}) {
  if (!quiet) console.log(bold(`\n[sandbox]# ${shown ?? argv.join(' ')}`));
  const result = spawnSync(svcctl[0], [...svcctl.slice(1), 'sandbox', 'exec', '--name', name, '--', ...argv], {
    stdio: [input === undefined ? 'ignore' : 'pipe', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
    input,
    encoding: 'utf8',
  });
  if (result.status !== 0 && !allowFail) throw new Error(`${argv.join(' ')} exited ${result.status}${quiet ? `: ${result.stderr}` : ''}`);
  return result;
}

const redisPassword = randomBytes(18).toString('base64url');
let started = false;
try {
  host(['sandbox', 'start', '--name', name]);
  started = true;

  console.log(bold('\n# A Redis for the coordinators, with a password, on the sandbox\'s own loopback'));
  inside(['sh', '-c', 'umask 077 && mkdir -p /run/demo && cat > /run/demo/redis.pass'], { quiet: true, input: redisPassword });
  inside(
    ['sh', '-c', 'umask 077 && printf "port 6379\\nbind 127.0.0.1\\nrequirepass %s\\nsave \\"\\"\\nappendonly no\\ndir /run/demo\\n" "$(cat /run/demo/redis.pass)" > /run/demo/redis.conf'],
    { quiet: true },
  );
  inside(['systemd-run', '--quiet', '--unit=demo-redis', '--service-type=simple', '/usr/bin/redis-server', '/run/demo/redis.conf'], { shown: 'systemd-run --unit=demo-redis redis-server /run/demo/redis.conf' });
  const now = Math.floor(Date.now() / 1000);
  const seed = [
    `SET blocking:heartbeat:coord-stale ${now - 3600}`,
    'SET blocking:signal:coord-stale pending',
    `SET blocking:heartbeat:coord-live ${now}`,
    'SET blocking:signal:coord-live pending',
  ].join('\n');
  inside(['sh', '-c', 'for i in $(seq 50); do redis-cli -h 127.0.0.1 PING >/dev/null 2>&1 && break; sleep 0.1; done; REDISCLI_AUTH="$(cat /run/demo/redis.pass)" redis-cli -h 127.0.0.1 >/dev/null'], {
    shown: 'redis-cli: one coordinator silent for an hour (coord-stale), one alive (coord-live)',
    input: seed,
  });

  inside(['svcctl', 'install', 'cleanup-blocking', '--yes', '--secret', 'REDIS_PASSWORD=@/run/demo/redis.pass']);
  inside(['svcctl', 'status', 'cleanup-blocking']);
  inside(['svcctl', 'list-timers']);
  inside(['svcctl', 'run', 'cleanup-blocking']);
  inside(['svcctl', 'logs', 'cleanup-blocking', '-n', '20']);
  inside(['sh', '-c', 'REDISCLI_AUTH="$(cat /run/demo/redis.pass)" redis-cli -h 127.0.0.1 --scan --pattern "blocking:*" | sort'], { shown: 'redis-cli --scan --pattern "blocking:*"   # coord-stale is gone, coord-live kept' });
  inside(['svcctl', 'check', 'cleanup-blocking'], { allowFail: true });
  inside(['svcctl', 'uninstall', 'cleanup-blocking', '--purge', '--yes']);
  inside(['systemctl', 'stop', 'demo-redis'], { quiet: true });
  inside(['rm', '-rf', '/run/demo'], { quiet: true });
  host(['sandbox', 'changes', '--name', name]);
} catch (error) {
  console.error(`\ndemo failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  if (started) host(['sandbox', 'stop', '--name', name]);
}
