// The security rules of DESIGN.md, checked against a real systemd: where a secret must never appear.
import { describeInSandbox } from '../helpers/sandbox.js';

const bundle = 'cleanup-blocking';
const units = ['cleanup-blocking-coordination.service', 'cleanup-blocking-coordination.timer'];
// Every program svcctl may start during install, uninstall and secret commands.
const spied = ['systemctl', 'systemd-analyze', 'systemd-sysusers', 'systemd-tmpfiles', 'userdel', 'groupdel', 'journalctl', 'useradd', 'flock'];

describeInSandbox('secrets never leak', (sandbox) => {
  const coordination = `coord-${'c0ffee'.repeat(8)}`;
  const redis = 'r3dis "pass" $word %h';
  let output = '';

  beforeAll(async () => {
    // A shim in front of every program svcctl runs records its argv, then runs the real program.
    const shims = spied.map((name) => `printf '#!/bin/sh\\nprintf "%%s " "$0" "$@" >> /run/argv-spy/log\\necho >> /run/argv-spy/log\\nexec /usr/bin/${name} "$@"\\n' > /run/argv-spy/bin/${name}; chmod 755 /run/argv-spy/bin/${name}`);
    await sandbox.sh(['mkdir -p /run/argv-spy/bin', ...shims].join(' && '));
    await sandbox.run(['sh', '-c', 'umask 077; cat > /run/coordination.secret'], { input: coordination });
    // svcctl runs its helpers by absolute path; the test build looks for them in SVCCTL_TEST_TOOL_PATH instead.
    const spyPath = '/run/argv-spy/bin';
    const install = await sandbox.run(['env', `SVCCTL_TEST_TOOL_PATH=${spyPath}`, 'svcctl-test', 'install', bundle, '--yes', '--secret', 'BLOCKING_COORDINATION_SECRET=@/run/coordination.secret', '--secret', 'REDIS_PASSWORD=-'], { input: redis });
    expect(install.exitCode).toBe(0);
    const json = await sandbox.run(['env', `SVCCTL_TEST_TOOL_PATH=${spyPath}`, 'svcctl-test', 'install', bundle, '--yes', '--json', '--set', 'STALE_THRESHOLD_SECONDS=900']);
    expect(json.exitCode).toBe(0);
    const run = await sandbox.run(['/run/argv-spy/bin/systemctl', 'start', units[0]!]);
    // The job fails (no Redis here), which is fine: what matters is what it and svcctl printed and logged.
    expect([0, 1]).toContain(run.exitCode);
    output = [install.stdout, install.stderr, json.stdout, json.stderr].join('\n');
  }, 60_000);

  test('the secrets file holds the given values, 0600 root in a 0700 directory', async () => {
    const file = await sandbox.run(['cat', '/etc/svcctl/cleanup-blocking/secrets.env']);
    expect(file.stdout).toContain(coordination);
    expect(file.stdout).toContain('r3dis');
    const modes = await sandbox.run(['stat', '-c', '%a %U', '/etc/svcctl/cleanup-blocking', '/etc/svcctl/cleanup-blocking/secrets.env']);
    expect(modes.stdout.trim().split('\n')).toEqual(['700 root', '600 root']);
    const asNobody = await sandbox.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'cat', '/etc/svcctl/cleanup-blocking/secrets.env']);
    expect(asNobody.exitCode).not.toBe(0);
  });

  test('systemctl show, as an unprivileged user, reveals no secret', async () => {
    const shown = await sandbox.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'systemctl', 'show', ...units]);
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toContain('EnvironmentFiles=/etc/svcctl/cleanup-blocking/secrets.env');
    expect(shown.stdout).not.toContain(coordination);
    expect(shown.stdout).not.toContain('r3dis');
    const cat = await sandbox.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'systemctl', 'cat', units[0]!]);
    expect(cat.stdout).not.toContain(coordination);
  });

  test('no secret in the argv of any process svcctl started', async () => {
    const log = await sandbox.run(['cat', '/run/argv-spy/log']);
    expect(log.stdout).toContain('systemctl');
    expect(log.stdout).toContain('systemd-sysusers');
    expect(log.stdout).not.toContain(coordination);
    expect(log.stdout).not.toContain('r3dis');
  });

  test('no secret in svcctl\'s stdout, stderr or --json output, nor in the receipt', async () => {
    expect(output).toContain('secret values hidden');
    expect(output).not.toContain(coordination);
    expect(output).not.toContain('r3dis');
    const receipt = await sandbox.run(['cat', '/var/lib/svcctl/cleanup-blocking.json']);
    expect(receipt.stdout).toContain('BLOCKING_COORDINATION_SECRET');
    expect(receipt.stdout).not.toContain(coordination);
    expect(receipt.stdout).not.toContain('r3dis');
  });

  test('no secret in the journal', async () => {
    const journal = await sandbox.run(['journalctl', '--no-pager', '-o', 'verbose']);
    expect(journal.stdout).toContain('cleanup-blocking');
    expect(journal.stdout).not.toContain(coordination);
    expect(journal.stdout).not.toContain('r3dis');
  });

  test('no fragment of a multi-line secret in what status, doctor, secret list and check print', async () => {
    await sandbox.run(['sh', '-c', 'umask 077; cat > /run/multiline.secret'], { input: 'first line\nFRAGMENT_KEY=fragment value "quoted"\nlast' });
    const set = await sandbox.svcctl(['secret', 'set', bundle, 'REDIS_PASSWORD', '--from-file', '/run/multiline.secret']);
    expect(set.exitCode).toBe(0);
    const outputs = await Promise.all([
      sandbox.svcctl(['status', bundle]),
      sandbox.svcctl(['status', bundle, '--json']),
      sandbox.svcctl(['doctor', bundle]),
      sandbox.svcctl(['doctor', bundle, '--json']),
      sandbox.svcctl(['secret', 'list', bundle, '--json']),
      sandbox.svcctl(['check', bundle, '--json']),
    ]);
    for (const result of outputs) {
      const text = result.stdout + result.stderr;
      expect(text).not.toContain('FRAGMENT');
      expect(text).not.toContain('first line');
      expect(text).not.toContain(coordination);
    }
  });
});
