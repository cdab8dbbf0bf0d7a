// The Debian package (npm run package) on a host without Node: built here, checked by lintian, installed with dpkg
// in a sandbox whose /usr/bin/node is hidden, then the whole cleanup-blocking flow with /usr/bin/svcctl against a
// real Redis; removing the package leaves the bundle running with its receipt, and a package installed again
// purges it. Also the man page, bash completion through bash-completion's own loader, and NODE_OPTIONS refused.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/system/paths.js';
import { describeInSandbox, type RunResult, type Sandbox } from '../helpers/sandbox.js';

const { version } = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const deb = path.join(packageRoot, 'dist', `svcctl_${version}_${arch}.deb`);
// Never the clone's svcctl (/run/svcctl-sandbox/bin comes first on the sandbox's PATH).
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const redisPassword = `pkg-redis-${process.pid}-${Date.now()}`;
const timer = 'cleanup-blocking-coordination.timer';
const service = 'cleanup-blocking-coordination.service';

async function ok(sandbox: Sandbox, script: string, input?: string): Promise<RunResult> {
  const result = await sandbox.run(['/bin/sh', '-c', `set -e\n${script}`], { env: { PATH }, input, timeoutMs: 300_000 });
  if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}: ${script}\n${result.stdout}\n${result.stderr}`);
  return result;
}

const svcctl = (sandbox: Sandbox, args: string[], env: Record<string, string> = {}) => sandbox.run(['/usr/bin/svcctl', ...args], { env: { PATH, ...env }, timeoutMs: 120_000 });

describeInSandbox('the Debian package, on a host without Node', (sandbox) => {
  beforeAll(async () => {
    const build = spawnSync(process.execPath, [path.join(packageRoot, 'scripts', 'package.js')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run package failed:\n${build.stderr}`);
    // Hide every Node there is: nothing below may fall back to one.
    await ok(sandbox, 'for node in $(which -a node nodejs | sort -u); do mount --bind /dev/null "$(readlink -f "$node")"; done; ! node -e 0 2>/dev/null');
  }, 900_000);

  test('lintian finds nothing that is not overridden, with its reason, in packaging/debian/lintian-overrides', () => {
    const lintian = spawnSync('lintian', ['--pedantic', '--fail-on', 'error,warning,info,pedantic', deb], { encoding: 'utf8' });
    // (as root it says that running as root is not recommended: that line is not a finding)
    const stderr = lintian.stderr.replace(/^running with root privileges is not recommended!\n/m, '');
    expect({ status: lintian.status, stdout: lintian.stdout, stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  }, 300_000);

  test('the package holds the layout, and neither the test build nor its hooks', () => {
    const files = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' });
    for (const file of ['./usr/bin/svcctl', './usr/lib/svcctl/svcctl', './usr/share/svcctl/units/cleanup-blocking/bundle.yaml', './usr/share/man/man1/svcctl.1.gz', './usr/share/bash-completion/completions/svcctl', './usr/share/zsh/vendor-completions/_svcctl', './usr/share/fish/vendor_completions.d/svcctl.fish', './usr/share/doc/svcctl/copyright']) {
      expect(files).toContain(` ${file}\n`);
    }
    expect(files).not.toMatch(/svcctl-test|dist\/test|node_modules/);
    const executable = readFileSync(path.join(packageRoot, 'dist', 'deb', 'root', 'usr', 'lib', 'svcctl', 'svcctl'));
    for (const marker of ['SVCCTL_FAULT_INJECTION', 'SVCCTL_TEST_TOOL_PATH', 'injected failure']) expect({ marker, found: executable.includes(marker) }).toEqual({ marker, found: false });
    // The manifest validator loads alone: it needs nothing from a node_modules (or svcctl would compile the schema with ajv at every run).
    expect(readFileSync(path.join(packageRoot, 'dist', 'deb', 'root', 'usr', 'share', 'svcctl', 'manifest-validator.cjs'), 'utf8')).not.toMatch(/(^|[^'"\w])require\(["'](?!node:)/m);
    // the CLI is really inside (the asset), not only the runtime
    expect(executable.includes('cleanup-blocking') || executable.includes('svcctl.code-cache')).toBe(true);
  });

  test('dpkg installs it: svcctl runs with its code cache, man svcctl works', async () => {
    await ok(sandbox, `dpkg -i ${deb}`);
    const versionLine = await svcctl(sandbox, ['--version']);
    expect(versionLine.stdout.trim()).toBe(`svcctl/${version} linux-x64 node-${process.version}`);
    const cache = await svcctl(sandbox, ['bundles'], { DEBUG: 'svcctl' });
    expect({ exitCode: cache.exitCode, cache: cache.stderr.match(/code cache \w+/)?.[0] }).toEqual({ exitCode: 0, cache: 'code cache accepted' });
    expect(cache.stdout).toMatch(/^cleanup-blocking\s.*\/usr\/share\/svcctl\/units\/cleanup-blocking$/m);
    const man = await ok(sandbox, 'man -w svcctl; MANPAGER=cat MANWIDTH=100 man svcctl');
    expect(man.stdout).toContain('/usr/share/man/man1/svcctl.1.gz');
    expect(man.stdout).toMatch(/svcctl uninstall\n\s+svcctl uninstall BUNDLE/);
  });

  test('NODE_OPTIONS does not reach the runtime through /usr/bin/svcctl, and the executable alone refuses it', async () => {
    await ok(sandbox, `printf '%s\\n' 'require("fs").writeFileSync("/run/preloaded", "ran")' > /run/preload.js`);
    const launched = await svcctl(sandbox, ['--version'], { NODE_OPTIONS: '--require /run/preload.js' });
    expect(launched.exitCode).toBe(0);
    expect((await sandbox.run(['test', '-e', '/run/preloaded'])).exitCode).toBe(1);
    const direct = await sandbox.run(['/usr/lib/svcctl/svcctl', 'bundles'], { env: { PATH, NODE_OPTIONS: '--require /run/preload.js' } });
    expect({ exitCode: direct.exitCode, stdout: direct.stdout }).toEqual({ exitCode: 2, stdout: '' });
    expect(direct.stderr).toContain('NODE_OPTIONS is set: run /usr/bin/svcctl');
  });

  test('the cleanup-blocking flow with /usr/bin/svcctl: install non-interactively, status, run against Redis', async () => {
    await ok(
      sandbox,
      [
        'install -d -m 0700 /run/pkg-test',
        `printf '%s' '${redisPassword}' > /run/pkg-test/redis.pass`,
        `printf '%s\\n' 'port 6379' 'bind 127.0.0.1' 'requirepass ${redisPassword}' 'save ""' 'appendonly no' 'dir /run/pkg-test' > /run/pkg-test/redis.conf`,
        'systemd-run --quiet --unit=pkg-test-redis /usr/bin/redis-server /run/pkg-test/redis.conf',
        'for i in $(seq 100); do redis-cli PING 2>/dev/null | grep -q NOAUTH && break; sleep 0.1; done',
        `now=$(date +%s); printf 'SET blocking:heartbeat:coord-stale %s\\nSET blocking:heartbeat:coord-live %s\\n' $((now - 3600)) $now | REDISCLI_AUTH='${redisPassword}' redis-cli >/dev/null`,
      ].join('\n'),
    );
    const install = await svcctl(sandbox, ['install', 'cleanup-blocking', '--yes', '--secret', 'REDIS_PASSWORD=@/run/pkg-test/redis.pass']);
    expect({ exitCode: install.exitCode, stderr: install.stderr }).toEqual({ exitCode: 0, stderr: expect.stringContaining('cleanup-blocking installed') });
    const status = await svcctl(sandbox, ['status', 'cleanup-blocking', '--json']);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain('/usr/share/svcctl/units/cleanup-blocking'); // installed from the package's bundles
    const run = await svcctl(sandbox, ['run', 'cleanup-blocking']);
    expect({ exitCode: run.exitCode, out: run.stdout }).toEqual({ exitCode: 0, out: expect.stringContaining('deleted stale coordinator coord-stale') });
    const keys = await ok(sandbox, `REDISCLI_AUTH='${redisPassword}' redis-cli --scan | sort`);
    expect(keys.stdout.trim().split('\n')).toEqual(['blocking:heartbeat:coord-live']);
  });

  test('bash completion, loaded by bash-completion: installed bundles, built-in bundles, secret keys for root', async () => {
    const complete = async (words: string[]) => {
      const quoted = words.map((w) => `'${w}'`).join(' ');
      const result = await ok(
        sandbox,
        `bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader svcctl; complete -p svcctl
COMP_WORDS=(${quoted.replaceAll("'", `'\\''`)}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMP_LINE="\${COMP_WORDS[*]}"; COMP_POINT=\${#COMP_LINE}
_svcctl svcctl "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"; printf "%s\\n" "\${COMPREPLY[@]}"'`,
      );
      const [spec, ...candidates] = result.stdout.trim().split('\n');
      expect(spec).toBe('complete -o default -F _svcctl svcctl');
      return candidates.sort();
    };
    expect(await complete(['svcctl', 'status', ''])).toEqual(['cleanup-blocking']);
    expect(await complete(['svcctl', 'install', ''])).toEqual(['cleanup-blocking', 'vx11-autosync']);
    expect(await complete(['svcctl', 'secret', 'set', 'cleanup-blocking', ''])).toEqual(['BLOCKING_COORDINATION_SECRET', 'REDIS_PASSWORD']);
    // everyone may know the installed bundles (the public index); the secret keys are root's only
    const asNobody = await sandbox.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'bash', '-c', `. /usr/share/bash-completion/completions/svcctl; COMP_WORDS=(svcctl logs ''); COMP_CWORD=2; _svcctl; echo "\${COMPREPLY[*]}"; COMP_WORDS=(svcctl secret set cleanup-blocking ''); COMP_CWORD=4; _svcctl; echo "[\${COMPREPLY[*]}]"`], { env: { PATH } });
    expect(asNobody.stdout).toBe('cleanup-blocking\n[]');
  });

  test('removing the package leaves the bundle running with its receipt; purging it says how to purge the bundle first', async () => {
    const remove = await ok(sandbox, 'dpkg -r svcctl 2>&1');
    expect(remove.stdout).toContain('svcctl: these bundles stay installed and keep running: cleanup-blocking');
    await ok(sandbox, `! test -e /usr/bin/svcctl; ! test -e /usr/lib/svcctl; test -f /var/lib/svcctl/cleanup-blocking.json; test -f /etc/svcctl/cleanup-blocking/secrets.env; systemctl is-active ${timer}`);
    await ok(sandbox, `systemctl reset-failed ${service} || true; systemctl start ${service}; test "$(systemctl show -p Result --value ${service})" = success`);
    const purge = await ok(sandbox, 'dpkg --purge svcctl 2>&1');
    expect(purge.stdout).toContain('svcctl: bundles installed by svcctl are still on this host: cleanup-blocking');
    expect(purge.stdout).toContain('svcctl uninstall --purge cleanup-blocking');
    await ok(sandbox, 'test -f /var/lib/svcctl/cleanup-blocking.json; test -f /var/lib/svcctl/.installed.json');
  });

  test('installed again, the package purges the bundle; then purging the package leaves nothing of svcctl', async () => {
    await ok(sandbox, `dpkg -i ${deb}`);
    const uninstall = await svcctl(sandbox, ['uninstall', 'cleanup-blocking', '--purge', '--yes']);
    expect({ exitCode: uninstall.exitCode, stderr: uninstall.stderr }).toEqual({ exitCode: 0, stderr: expect.stringContaining('cleanup-blocking uninstalled') });
    await ok(sandbox, `! test -e /var/lib/svcctl; ! test -e /etc/svcctl; ! test -e /usr/local/bin/cleanup-blocking-coordination.sh; ! id claude-flow 2>/dev/null; ! systemctl cat ${timer} 2>/dev/null`);
    const purge = await ok(sandbox, 'dpkg --purge svcctl 2>&1');
    expect(purge.stdout).not.toContain('still on this host');
    await ok(sandbox, '! test -e /usr/share/svcctl; ! test -e /usr/share/man/man1/svcctl.1.gz; ! dpkg -s svcctl 2>/dev/null');
  });
});
