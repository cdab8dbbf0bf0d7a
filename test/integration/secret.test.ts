// secret list/set/rotate against a real systemd: values never shown, atomic 0600 writes, rotation with a health check and restore.
import { createHash, createHmac } from 'node:crypto';
import { writeFiles } from '../helpers/sandbox-files.js';
import { describeInSandbox } from '../helpers/sandbox.js';

const lifecycle = `${process.cwd()}/test/fixtures/lifecycle`;
const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const fingerprint = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 12);


/** A timer job that succeeds only when ROT_TOKEN equals /run/rotjob-accept: rotation to anything else fails its run. */
const rotjob = {
  '/tmp/bundles/rotjob/bundle.yaml': `name: rotjob
description: Test - a timer job that succeeds only with the accepted token.
units: [rotjob.service, rotjob.timer]
enable: [rotjob.timer]
secrets:
  - { key: ROT_TOKEN, prompt: token, generate: hex32, required: true }
schedule: { timer: rotjob.timer, default: 1h }
`,
  '/tmp/bundles/rotjob/rotjob.service': `[Service]
Type=oneshot
ExecStart=/bin/sh -c 'test "$\${ROT_TOKEN}" = "$$(cat /run/rotjob-accept)"'
`,
  '/tmp/bundles/rotjob/rotjob.timer': `[Timer]
OnActiveSec=1h
OnUnitActiveSec=1h
[Install]
WantedBy=timers.target
`,
};

/** A daemon that serves HTTP on 127.0.0.1:18091 only when ROTD_TOKEN equals /run/rotd-accept, and exits 1 otherwise. */
const rotd = {
  '/tmp/bundles/rotd/bundle.yaml': `name: rotd
description: Test - a daemon that starts only with the accepted token.
units: [rotd.service]
enable: [rotd.service]
secrets:
  - { key: ROTD_TOKEN, prompt: token, generate: hex32, required: true }
health: { url: "http://127.0.0.1:18091/" }
`,
  '/tmp/bundles/rotd/rotd.service': `[Service]
Type=simple
ExecStart=/bin/sh -c 'test "$\${ROTD_TOKEN}" = "$$(cat /run/rotd-accept)" || exit 1; exec python3 -m http.server 18091 --bind 127.0.0.1 --directory /run/rotd-www'
[Install]
WantedBy=multi-user.target
`,
  '/run/rotd-www/index.html': 'rotd ok\n',
};

describeInSandbox('svcctl secret', (sandbox) => {
  const tokenFile = '/etc/svcctl/tick/secrets.env';
  /** The fingerprint the tick fixture prints for the token in the secrets file (computed inside; the value never leaves). */
  const fileFingerprint = async () => (await sandbox.sh(`. ${tokenFile}; printf %s "$TICK_TOKEN" | sha256sum | cut -c1-12`)).stdout.trim();
  // tick.service's own output (_SYSTEMD_UNIT), not systemd's lines about it (UNIT=, which -u also matches).
  const lastTick = async () => (await sandbox.run(['journalctl', '_SYSTEMD_UNIT=tick.service', '-o', 'cat', '-n', '1', '--no-pager'])).stdout.trim();
  const receipt = async (bundle: string) => JSON.parse((await sandbox.run(['cat', `/var/lib/svcctl/${bundle}.json`])).stdout);
  const sha = async (file: string) => (await sandbox.run(['sha256sum', file])).stdout.split(' ')[0];
  // The receipt keys the checksum of a secrets file with the host's root-only key: a weak secret cannot be recovered from it.
  const keyedChecksum = async (file: string) => {
    const key = Buffer.from((await sandbox.run(['base64', '-w0', '/var/lib/svcctl/.host-key'])).stdout, 'base64');
    const content = Buffer.from((await sandbox.run(['base64', '-w0', file])).stdout, 'base64');
    return `hmac-sha256:${createHmac('sha256', key).update(content).digest('hex')}`;
  };

  test('setup: tick installed with a generated token', async () => {
    const result = await sandbox.svcctl(['install', `${lifecycle}/tick`, '--yes']);
    expect(result.exitCode).toBe(0);
  });

  test('list: names, set or unset, last changed; never a value', async () => {
    const secret = (await sandbox.sh(`. ${tokenFile}; printf %s "$TICK_TOKEN"`)).stdout;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const result = await sandbox.svcctl(['secret', 'list', 'tick']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^KEY\s+VALUE\s+KIND\s+GENERATOR\s+CHANGED$/m);
    expect(result.stdout).toMatch(/^TICK_TOKEN\s+set\s+optional\s+hex32\s+\d{4}-\d\d-\d\dT/m);
    const json = await sandbox.svcctl(['secret', 'list', 'tick', '--json']);
    const data = JSON.parse(json.stdout);
    expect(data.secrets).toEqual([{ key: 'TICK_TOKEN', set: true, declared: true, required: false, generator: 'hex32', changedAt: (await receipt('tick')).secrets[0].changedAt }]);
    for (const output of [result.stdout, result.stderr, json.stdout, json.stderr]) expect(output).not.toContain(secret);
  });

  test('set from stdin: atomically replaced 0600 root, the time recorded, the value nowhere but the file', async () => {
    const before = (await receipt('tick')).secrets[0].changedAt;
    const value = 'stdin-value-7f3a';
    const result = await sandbox.svcctl(['secret', 'set', 'tick', 'TICK_TOKEN'], { input: `${value}\n` });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('TICK_TOKEN of tick replaced');
    expect(result.stdout + result.stderr).not.toContain(value);
    expect((await sandbox.run(['stat', '-c', '%a %U:%G', tokenFile, '/etc/svcctl/tick'])).stdout.trim().split('\n')).toEqual(['600 root:root', '700 root:root']);
    expect(await fileFingerprint()).toBe(fingerprint(value));
    const after = await receipt('tick');
    expect(after.secrets[0].changedAt > before).toBe(true);
    expect(JSON.stringify(after)).not.toContain(value);
    // The receipt's checksum follows the file, so uninstall does not take it for a hand edit.
    expect(after.artifacts.find((a: { role: string }) => a.role === 'secrets').checksum).toBe(await keyedChecksum(tokenFile));
    expect(JSON.stringify(after)).not.toContain(await sha(tokenFile));
    // The service's next run reads it.
    await sandbox.run(['systemctl', 'start', 'tick.service']);
    expect(await lastTick()).toContain(`sha256 ${fingerprint(value)}`);
    // No leftover temporary file next to it.
    expect((await sandbox.run(['ls', '-A', '/etc/svcctl/tick'])).stdout.trim()).toBe('secrets.env');
  });

  test('set --from-file and --generate', async () => {
    await writeFiles(sandbox, { '/tmp/new-token': 'from-file-value\n' });
    const fromFile = await sandbox.svcctl(['secret', 'set', 'tick', 'TICK_TOKEN', '--from-file', '/tmp/new-token']);
    expect(fromFile.exitCode).toBe(0);
    expect(await fileFingerprint()).toBe(fingerprint('from-file-value'));
    const generated = await sandbox.svcctl(['secret', 'set', 'tick', 'TICK_TOKEN', '--generate']);
    expect(generated.exitCode).toBe(0);
    const value = (await sandbox.sh(`. ${tokenFile}; printf %s "$TICK_TOKEN"`)).stdout;
    expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(generated.stdout + generated.stderr).not.toContain(value);
  });

  test('a value on the command line is refused with exit 2, without echoing it, and nothing changes', async () => {
    const before = await sha(tokenFile);
    for (const args of [
      ['secret', 'set', 'tick', 'TICK_TOKEN', 'hunter2'],
      ['secret', 'set', 'tick', 'TICK_TOKEN=hunter2'],
      ['secret', 'rotate', 'tick', 'TICK_TOKEN', 'hunter2'],
    ]) {
      const result = await sandbox.svcctl(args);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/readable by every local user/);
      expect(result.stdout + result.stderr).not.toContain('hunter2');
    }
    expect(await sha(tokenFile)).toBe(before);
  });

  test('usage errors: unknown key, empty stdin, both sources, not installed — exit 2, nothing changes', async () => {
    const before = await sha(tokenFile);
    const unknown = await sandbox.svcctl(['secret', 'set', 'tick', 'NOPE', '--generate']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('secrets it declares: TICK_TOKEN');
    const empty = await sandbox.svcctl(['secret', 'set', 'tick', 'TICK_TOKEN'], { input: '' });
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toContain('is empty');
    const both = await sandbox.svcctl(['secret', 'set', 'tick', 'TICK_TOKEN', '--generate', '--from-file', '/tmp/new-token']);
    expect(both.exitCode).toBe(2);
    const missing = await sandbox.svcctl(['secret', 'list', 'nothere']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('not installed');
    expect(await sha(tokenFile)).toBe(before);
  });

  test('a symlink at the secrets file is never written through: exit 1, nothing changes', async () => {
    await sandbox.sh(`mv ${tokenFile} /tmp/secrets.saved && ln -s /tmp/planted ${tokenFile}`);
    const result = await sandbox.svcctl(['secret', 'set', 'tick', 'TICK_TOKEN', '--generate']);
    const planted = await sandbox.run(['test', '-e', '/tmp/planted']);
    await sandbox.sh(`rm ${tokenFile} && mv /tmp/secrets.saved ${tokenFile}`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${tokenFile} is a symlink, not a regular file`);
    expect(planted.exitCode).not.toBe(0);
    expect((await receipt('tick')).state).toBe('installed');
  });

  test('a secrets file removed by hand is created again, 0600 in a 0700 directory, and recorded', async () => {
    await sandbox.run(['rm', '-r', '/etc/svcctl/tick']);
    const result = await sandbox.svcctl(['secret', 'set', 'tick', 'TICK_TOKEN', '--generate']);
    expect(result.exitCode).toBe(0);
    expect((await sandbox.run(['stat', '-c', '%a %U:%G', tokenFile, '/etc/svcctl/tick'])).stdout.trim().split('\n')).toEqual(['600 root:root', '700 root:root']);
    const data = await receipt('tick');
    expect(data.state).toBe('installed');
    expect(data.artifacts.find((a: { role: string }) => a.role === 'secrets').checksum).toBe(await keyedChecksum(tokenFile));
    expect(data.directories.map((d: { path: string }) => d.path)).toContain('/etc/svcctl/tick');
  });

  test('without root: exit 77 before anything is read or changed', async () => {
    const before = await sha(tokenFile);
    for (const args of [['secret', 'list', 'tick'], ['secret', 'set', 'tick', 'TICK_TOKEN', '--generate'], ['secret', 'rotate', 'tick']]) {
      const result = await sandbox.run([...nobody, 'svcctl', ...args]);
      expect(result.exitCode).toBe(77);
      expect(result.stderr).toMatch(/needs root/);
    }
    expect(await sha(tokenFile)).toBe(before);
  });

  test('rotate a timer job: a new generated value, a run with it, the health check, exit 0', async () => {
    const before = await fileFingerprint();
    const result = await sandbox.svcctl(['secret', 'rotate', 'tick', '--json']);
    expect(result.exitCode).toBe(0);
    const data = JSON.parse(result.stdout);
    expect(data).toMatchObject({ bundle: 'tick', keys: ['TICK_TOKEN'], triggered: 'tick.service', check: { status: 'OK' } });
    expect(result.stderr).toContain('✔ run tick.service now');
    const after = await fileFingerprint();
    expect(after).not.toBe(before);
    // The run the rotation triggered (or one after it) used the new value.
    expect(await lastTick()).toContain(`sha256 ${after}`);
  });

  test('rotate a timer job whose run fails with the new value: old value restored, job run again, exit 1', async () => {
    await writeFiles(sandbox, { ...rotjob, '/run/rotjob-accept': 'accepted-token' });
    const install = await sandbox.svcctl(['install', '/tmp/bundles/rotjob', '--yes', '--secret', 'ROT_TOKEN=@/run/rotjob-accept']);
    expect(install.exitCode).toBe(0);
    const file = '/etc/svcctl/rotjob/secrets.env';
    const before = { file: await sha(file), receipt: await sha('/var/lib/svcctl/rotjob.json') };
    const result = await sandbox.svcctl(['secret', 'rotate', 'rotjob']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('✖ run rotjob.service now (systemctl start): rotjob.service failed (exit status 1)');
    expect(result.stderr).toContain('✔ restore the previous ROT_TOKEN');
    expect(result.stderr).toMatch(/✔ run rotjob.service again with the previous value: OK/);
    expect(result.stderr).toMatch(/rotating ROT_TOKEN of rotjob failed: .*the previous value was restored/);
    expect(await sha(file)).toBe(before.file);
    expect(await sha('/var/lib/svcctl/rotjob.json')).toBe(before.receipt);
    expect((await sandbox.run(['stat', '-c', '%a %U', file])).stdout.trim()).toBe('600 root');
    const check = await sandbox.svcctl(['check', 'rotjob']);
    expect(check.stdout).toMatch(/^SVCCTL OK - rotjob: last run succeeded/);
  });

  test('rotate a timer job with a value the job accepts, from a file: exit 0', async () => {
    await writeFiles(sandbox, { '/run/rotjob-accept': 'second-token', '/tmp/rotjob-new': 'second-token\n' });
    const result = await sandbox.svcctl(['secret', 'rotate', 'rotjob', 'ROT_TOKEN', '--from-file', '/tmp/rotjob-new']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('✔ ROT_TOKEN of rotjob rotated');
    expect((await sandbox.sh('. /etc/svcctl/rotjob/secrets.env; printf %s "$ROT_TOKEN"')).stdout).toBe('second-token');
  });

  test('rotate a daemon that fails with the new value: old value restored, daemon restarted and answering, exit 1', async () => {
    await writeFiles(sandbox, { ...rotd, '/run/rotd-accept': 'daemon-token' });
    const install = await sandbox.svcctl(['install', '/tmp/bundles/rotd', '--yes', '--secret', 'ROTD_TOKEN=@/run/rotd-accept']);
    expect(install.exitCode).toBe(0);
    const before = await sha('/etc/svcctl/rotd/secrets.env');
    const pidBefore = (await sandbox.run(['systemctl', 'show', '-P', 'MainPID', 'rotd.service'])).stdout.trim();
    const result = await sandbox.svcctl(['secret', 'rotate', 'rotd']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('✔ systemctl restart rotd.service');
    expect(result.stderr).toMatch(/✖ health check: CRITICAL - rotd: rotd.service failed \(exit status 1\)/);
    expect(result.stderr).toMatch(/✔ restart rotd.service with the previous value: OK - rotd: rotd.service active .*answered 200/);
    expect(result.stderr).toMatch(/the previous value was restored/);
    expect(await sha('/etc/svcctl/rotd/secrets.env')).toBe(before);
    expect((await sandbox.run(['systemctl', 'is-active', 'rotd.service'])).stdout.trim()).toBe('active');
    expect((await sandbox.run(['systemctl', 'show', '-P', 'MainPID', 'rotd.service'])).stdout.trim()).not.toBe(pidBefore);
    expect((await sandbox.run(['curl', '-fsS', 'http://127.0.0.1:18091/'])).stdout).toContain('rotd ok');
  });

  test('rotate a daemon to a value it accepts: restarted, healthy, exit 0', async () => {
    await writeFiles(sandbox, { '/run/rotd-accept': 'daemon-token-2', '/tmp/rotd-new': 'daemon-token-2' });
    const result = await sandbox.svcctl(['secret', 'rotate', 'rotd', 'ROTD_TOKEN', '--from-file', '/tmp/rotd-new', '--json']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ restarted: 'rotd.service', check: { status: 'OK' } });
  });

  test('uninstall --purge afterwards leaves nothing behind', async () => {
    const result = await sandbox.svcctl(['uninstall', 'tick', 'rotjob', 'rotd', '--purge', '--yes']);
    expect(result.exitCode).toBe(0);
    expect(await sandbox.changes()).toEqual([]);
  });
});
