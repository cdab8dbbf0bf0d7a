// The Debian package (npm run package) on a host without Node: built here, checked by lintian, installed with dpkg
// in a sandbox whose /usr/bin/node is hidden, then the whole cleanup-blocking flow with /usr/bin/svcctl against a
// real Redis; removing the package leaves the bundle running with its receipt, and a package installed again
// purges it. Also the man page, bash completion through bash-completion's own loader, NODE_OPTIONS refused, and
// failure alerts sent by the executable itself (its sender mode) under the templates' MemoryDenyWriteExecute=yes.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/system/paths.js';
import { describeInSandbox, type RunResult, type Sandbox } from '../helpers/sandbox.js';
import { until } from '../helpers/wait-for.js';

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

// The alert tests' receiver is a Node script (test/fixtures/alerts/receiver.mjs): here there is no Node, so Python's.
const alertPort = 8026;
const receiverPy = `import http.server, json, sys
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('content-length', '0'))).decode()
        with open(sys.argv[2], 'a') as log:
            log.write(json.dumps({'path': self.path, 'body': body}) + '\\n')
        self.send_response(200)
        self.send_header('content-length', '2')
        self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Receiver).serve_forever()
`;
const alerted = 'pkg-alerted.service';
const alertedUnit = `[Unit]
Description=fails until /run/pkg-alert/ok exists (package.test.ts)

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'if test -e /run/pkg-alert/ok; then echo all good; else echo "pkg-alerted: cannot do its job"; exit 3; fi'
`;
const alertedManifest = `name: pkg-alerted
description: A job that fails until told otherwise, watched by an alert (package.test.ts).
units: [${alerted}]
`;

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>) => until(what, probe, 60_000);

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
    for (const file of ['./usr/bin/svcctl', './usr/lib/svcctl/svcctl', './usr/share/svcctl/units/cleanup-blocking/bundle.yaml', './usr/share/svcctl/units/svcctl-alerts/svcctl-alert@.service', './usr/share/man/man1/svcctl.1.gz', './usr/share/bash-completion/completions/svcctl', './usr/share/zsh/vendor-completions/_svcctl', './usr/share/fish/vendor_completions.d/svcctl.fish', './usr/share/doc/svcctl/copyright']) {
      expect(files).toContain(` ${file}\n`);
    }
    expect(files).not.toMatch(/svcctl-test|dist\/test|node_modules/);
    // The sender only a host with Node can run is not shipped: the executable carries it.
    expect(files).not.toContain('svcctl-alert.cjs');
    const alertsBundle = path.join(packageRoot, 'dist', 'deb', 'root', 'usr', 'share', 'svcctl', 'units', 'svcctl-alerts');
    expect(readFileSync(path.join(alertsBundle, 'bundle.yaml'), 'utf8')).not.toMatch(/^payload:/m);
    for (const [template, kind] of [['svcctl-alert@.service', 'failure'], ['svcctl-alert-resolved@.service', 'resolved'], ['svcctl-alert-restart@.service', 'restart']] as const) {
      const text = readFileSync(path.join(alertsBundle, template), 'utf8');
      expect(text.match(/^(ExecStart|Environment)=.*$/gm)).toEqual(['Environment=NODE_OPTIONS=--jitless', `ExecStart=/usr/lib/svcctl/svcctl --alert-sender ${kind} %i`]);
      expect(text).toContain('\nMemoryDenyWriteExecute=yes\n');
    }
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

  test('a failed run alerts through a webhook: the executable sends it under the templates\' hardening, no Node on the host', async () => {
    const token = randomBytes(8).toString('hex');
    const failureInstance = `svcctl-alert@${alerted}.service`;
    const resolvedInstance = `svcctl-alert-resolved@${alerted}.service`;
    const write = (file: string, text: string) => ok(sandbox, `umask 022; mkdir -p "$(dirname ${file})"; cat > ${file}`, text);
    await write('/run/pkg-alert/receiver.py', receiverPy);
    await write('/run/pkg-alert/bundle/bundle.yaml', alertedManifest);
    await write(`/run/pkg-alert/bundle/${alerted}`, alertedUnit);
    // The URL reaches its file through stdin, as a secret should (no argv).
    await ok(sandbox, `umask 077; mkdir -p /run/pkg-alert/secret; cat > /run/pkg-alert/secret/webhook.url`, `http://127.0.0.1:${alertPort}/hooks/pkg-${token}\n`);
    await ok(sandbox, `systemd-run --quiet --unit=pkg-alert-receiver /usr/bin/python3 /run/pkg-alert/receiver.py ${alertPort} /run/pkg-alert/requests.jsonl
for i in $(seq 100); do ss -Hltn 'sport = :${alertPort}' | grep -q . && break; sleep 0.1; done; ss -Hltn 'sport = :${alertPort}' | grep -q .`);
    const requests = async () =>
      (await sandbox.run(['cat', '/run/pkg-alert/requests.jsonl'])).stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { path: string; body: string });

    try {
      await alertsThroughTheExecutable(token, failureInstance, resolvedInstance, requests);
    } finally {
      // The last bundle with alerts takes svcctl-alerts with it; the tests after this one expect cleanup-blocking alone.
      const uninstall = await svcctl(sandbox, ['uninstall', 'pkg-alerted', '--purge', '--yes']);
      await sandbox.run(['systemctl', 'stop', 'pkg-alert-receiver']);
      await sandbox.run(['systemctl', 'reset-failed']);
      expect({ exitCode: uninstall.exitCode, stderr: uninstall.stderr }).toEqual({ exitCode: 0, stderr: expect.stringContaining('svcctl-alerts uninstalled') });
    }
    await ok(sandbox, '! test -e /var/lib/svcctl-alerts; ! test -e /etc/svcctl/alerts; ! test -e /var/lib/svcctl/svcctl-alerts.json; ! systemctl cat svcctl-alert@.service 2>/dev/null');
  }, 300_000);

  async function alertsThroughTheExecutable(token: string, failureInstance: string, resolvedInstance: string, requests: () => Promise<{ path: string; body: string }[]>): Promise<void> {
    const install = await svcctl(sandbox, ['install', '/run/pkg-alert/bundle', '--yes', '--alert', 'webhook=@/run/pkg-alert/secret/webhook.url']);
    expect({ exitCode: install.exitCode, stderr: install.stderr }).toEqual({ exitCode: 0, stderr: expect.stringContaining('svcctl-alerts installed') });
    // The package's templates, and no payload beside them.
    await ok(sandbox, 'systemctl cat svcctl-alert@.service | grep -qx "ExecStart=/usr/lib/svcctl/svcctl --alert-sender failure %i"; ! test -e /usr/local/lib/svcctl-alerts');

    const run = await svcctl(sandbox, ['run', 'pkg-alerted']);
    expect(run.exitCode).toBe(3);
    const [failure] = await waitFor('the failure alert', async () => {
      const all = await requests();
      return all.length >= 1 && all;
    });
    expect(failure!.path).toBe(`/hooks/pkg-${token}`);
    const body = JSON.parse(failure!.body) as Record<string, any>;
    expect(body).toMatchObject({ schema: 'svcctl.alert/v1', event: 'failure', bundle: 'pkg-alerted', unit: alerted, result: 'exit-code', exitCode: 'exited', exitStatus: '3' });
    expect(body.journal.join('\n')).toContain('pkg-alerted: cannot do its job');
    // It was the unit's sender that sent it, with MemoryDenyWriteExecute= and the rest of its hardening on, and it
    // exited 0 (every channel reached).
    await waitFor('the sender to finish', async () => (await sandbox.run(['systemctl', 'is-active', failureInstance])).stdout.trim() !== 'activating');
    const shown = (await ok(sandbox, `systemctl show -p MemoryDenyWriteExecute -p ExecMainStatus -p Result -p ExecMainCode ${failureInstance}`)).stdout;
    expect(shown.trim().split('\n').sort()).toEqual(['ExecMainCode=1', 'ExecMainStatus=0', 'MemoryDenyWriteExecute=yes', 'Result=success']);
    await waitFor('the delivery in the sender\'s journal', async () => (await ok(sandbox, `journalctl --no-pager -o cat -u ${failureInstance}`)).stdout.includes(`webhook: failure of ${alerted} delivered (HTTP 200`));
    const exposure = (await ok(sandbox, `systemd-analyze security --no-pager ${failureInstance} | tail -n 1`)).stdout;
    const level = Number(/Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(exposure)?.[1]);
    process.stderr.write(`exposure of the packaged ${failureInstance}: ${level}\n`);
    expect({ level, ok: level <= 2.6 }).toEqual({ level, ok: true }); // as the clone's templates (contract.test.ts)

    // A good run resolves it, through the other template.
    await ok(sandbox, 'touch /run/pkg-alert/ok');
    expect((await svcctl(sandbox, ['run', 'pkg-alerted'])).exitCode).toBe(0);
    const resolved = await waitFor('the recovery notice', async () => {
      const all = await requests();
      return all.length >= 2 && all[1];
    });
    expect(JSON.parse(resolved.body)).toMatchObject({ event: 'resolved', unit: alerted });
    await waitFor('the sender to finish', async () => (await sandbox.run(['systemctl', 'is-active', resolvedInstance])).stdout.trim() !== 'activating');
    expect((await ok(sandbox, `systemctl show -p Result --value ${resolvedInstance}`)).stdout.trim()).toBe('success');
    expect(await requests()).toHaveLength(2);
  }

  test('the sender mode accepts NODE_OPTIONS=--jitless only, which the hardening needs: without it V8 cannot run', async () => {
    const sender = ['/usr/lib/svcctl/svcctl', '--alert-sender', 'failure', 'pkg-none.service'];
    const refused = await sandbox.run(sender, { env: { PATH, NODE_OPTIONS: '--jitless --max-old-space-size=64' } });
    expect({ exitCode: refused.exitCode, stderr: refused.stderr.trim().split('\n').pop() }).toEqual({ exitCode: 2, stderr: 'svcctl-alert: NODE_OPTIONS may only be --jitless (as the svcctl-alerts templates set it)' });
    // The CLI itself still refuses even that value.
    const cli = await sandbox.run(['/usr/lib/svcctl/svcctl', 'bundles'], { env: { PATH, NODE_OPTIONS: '--jitless' } });
    expect({ exitCode: cli.exitCode, stdout: cli.stdout }).toEqual({ exitCode: 2, stdout: '' });
    // Under MemoryDenyWriteExecute= alone, with and without --jitless.
    const underMdwe = async (env: string[]) => {
      const result = await sandbox.run(['systemd-run', '--quiet', '--wait', '--pipe', '-p', 'MemoryDenyWriteExecute=yes', ...env.flatMap((e) => ['-E', e]), ...sender], { env: { PATH } });
      return { exitCode: result.exitCode, said: result.stdout + result.stderr };
    };
    expect(await underMdwe(['NODE_OPTIONS=--jitless'])).toEqual({ exitCode: 1, said: expect.stringContaining('pkg-none.service has no alert channels') });
    // V8 cannot set up its code space: a fatal error before the first line of JavaScript.
    const jitting = await underMdwe([]);
    expect({ failed: jitting.exitCode > 1, fatal: jitting.said.includes('# Fatal error'), ran: jitting.said.includes('has no alert channels') }).toEqual({ failed: true, fatal: true, ran: false });
    await sandbox.run(['systemctl', 'reset-failed']);
  }, 120_000);

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
    // every built-in bundle the package ships (units/), none other
    const builtIn = readdirSync(path.join(packageRoot, 'units')).sort();
    expect(builtIn).toContain('vx11-autosync');
    expect(await complete(['svcctl', 'install', ''])).toEqual(builtIn);
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
