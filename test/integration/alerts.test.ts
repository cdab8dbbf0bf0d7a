// Failure alerts against real receivers in the sandbox: a recording HTTP server (Slack-shaped, generic JSON and
// PagerDuty-Events-v2-shaped endpoints) and exim delivering to a local mailbox. A failed run alerts once, more
// failures do not, a good run resolves; a daemon killed until its start limit alerts; the URLs and the routing key
// appear nowhere but in the requests themselves.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { packageRoot } from '../../src/system/paths.js';
import { describeInSandbox, type RunResult } from '../helpers/sandbox.js';
import { until } from '../helpers/wait-for.js';

const receiverScript = path.join(packageRoot, 'test', 'fixtures', 'alerts', 'receiver.mjs');
const flakyBundle = path.join(packageRoot, 'test', 'fixtures', 'alerts', 'flaky-daemon');
const port = 8025;
const service = 'cleanup-blocking-coordination.service';
const failureInstance = `svcctl-alert@${service}.service`;
const resolvedInstance = `svcctl-alert-resolved@${service}.service`;
// Every program svcctl may start for `alert test` (and the installs around it).
const spied = ['systemctl', 'systemd-analyze', 'systemd-sysusers', 'systemd-tmpfiles', 'journalctl', 'sendmail', 'flock'];

interface Recorded {
  method: string;
  path: string;
  body: string;
}

describeInSandbox('failure alerts', (sandbox) => {
  const token = randomBytes(8).toString('hex');
  const webhookUrl = `http://127.0.0.1:${port}/hooks/webhook-${token}`;
  const slackUrl = `http://127.0.0.1:${port}/services/T0/B0/slack-${token}`;
  const routingKey = `R${token}${randomBytes(8).toString('hex')}`;
  const secrets = [`webhook-${token}`, `slack-${token}`, routingKey];
  const outputs: string[] = [];
  let host = '';

  const svcctl = async (args: string[], options: { env?: Record<string, string> } = {}): Promise<RunResult> => {
    const result = await sandbox.svcctl(args, options);
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const requests = async (): Promise<Recorded[]> => {
    const text = (await sandbox.run(['cat', '/run/rcv/requests.jsonl'])).stdout;
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Recorded);
  };
  const mails = async (): Promise<string[]> => (await sandbox.run(['cat', '/var/mail/alertbox'])).stdout.split(/^From /m).filter((m) => m.trim() !== '');
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>) => until(what, probe, 60_000);
  const journalOf = async (unit: string) => (await sandbox.run(['journalctl', '--no-pager', '-o', 'cat', '-u', unit])).stdout;
  const bodies = (all: Recorded[], prefix: string) => all.filter((r) => r.path.startsWith(prefix)).map((r) => JSON.parse(r.body) as Record<string, any>);
  const invocationOf = async (unit: string) => (await sandbox.run(['systemctl', 'show', '-p', 'InvocationID', '--value', unit])).stdout.trim();

  beforeAll(async () => {
    host = (await sandbox.run(['hostname'])).stdout.trim();
    // The secrets reach their files through stdin: no process of the test has them on its argv either.
    const write = (file: string, text: string) => sandbox.run(['sh', '-c', `umask 077; mkdir -p /run/scan; cat > ${file}`], { input: text });
    await write('/root/webhook.url', `${webhookUrl}\n`);
    await write('/root/slack.url', `${slackUrl}\n`);
    await write('/root/pd.key', `${routingKey}\n`);
    await write('/run/scan/secrets', secrets.join('\n'));
    // The sender's path, from a file: the scanner's own argv must not match it.
    await write('/run/scan/sender', '/usr/local/lib/svcctl-alerts/svcctl-alert');
    const setup = await sandbox.sh(
      [
        'set -e',
        'mkdir -p /run/rcv /run/argv-spy/bin',
        `systemd-run --quiet --unit=alert-receiver /usr/bin/node ${receiverScript} ${port} /run/rcv`,
        `for i in $(seq 100); do node -e "require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" && break; sleep 0.1; done`,
        'useradd --create-home --home-dir /var/lib/alertbox --shell /usr/sbin/nologin alertbox',
        // Every process's argv, read again and again while alerts are sent: a secret on one would be seen.
        `systemd-run --quiet --unit=cmdline-scan /bin/sh -c 'while :; do cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\\\000" "\\\\n" > /run/scan/snap; grep -F -f /run/scan/secrets /run/scan/snap >> /run/scan/hits; grep -c -F -f /run/scan/sender /run/scan/snap >> /run/scan/seen; sleep 0.05; done'`,
        // A shim in front of every program svcctl runs records its argv, then runs the real program.
        ...spied.map((name) => `real=$(for d in /usr/sbin /usr/bin /sbin /bin; do [ -x $d/${name} ] && echo $d/${name} && break; done); printf '#!/bin/sh\\nprintf "%%s " "$0" "$@" >> /run/argv-spy/log\\necho >> /run/argv-spy/log\\nexec %s "$@"\\n' "$real" > /run/argv-spy/bin/${name}; chmod 755 /run/argv-spy/bin/${name}`),
        'touch /run/scan/hits',
      ].join('\n'),
    );
    expect(setup.exitCode).toBe(0);
  }, 60_000);

  test('a bundle installed with an alert installs svcctl-alerts once; its settings point PagerDuty at the receiver', async () => {
    const daemon = await svcctl(['install', flakyBundle, '--yes', '--alert', 'webhook=@/root/webhook.url']);
    expect(daemon.exitCode).toBe(0);
    expect(daemon.stderr).toContain('svcctl-alerts installed');
    expect((await sandbox.run(['test', '-x', '/usr/local/lib/svcctl-alerts/svcctl-alert'])).exitCode).toBe(0);
    const settings = await svcctl(['install', 'svcctl-alerts', '--yes', '--set', `PAGERDUTY_EVENTS_URL=http://127.0.0.1:${port}/pd/v2/enqueue`]);
    expect(settings.exitCode).toBe(0);
    const refused = await svcctl(['install', 'cleanup-blocking', '--yes', '--alert', 'slack=https://hooks.slack.com/services/T/B/on-argv']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('refusing --alert slack=<URL>');
    const install = await svcctl(['install', 'cleanup-blocking', '--yes', '--alert', 'webhook=@/root/webhook.url', '--alert', 'slack=@/root/slack.url', '--alert', 'pagerduty=@/root/pd.key', '--alert', 'email=alertbox@localhost']);
    expect(install.exitCode).toBe(0);
    expect(install.stderr).toContain('svcctl-alerts is up to date');
    const dropIn = await sandbox.run(['systemctl', 'show', '-p', 'OnFailure', '-p', 'OnSuccess', service]);
    expect(dropIn.stdout).toContain(`OnFailure=${failureInstance}`);
    expect(dropIn.stdout).toContain(`OnSuccess=${resolvedInstance}`);
    // Email: exim's needs reach the alert instances of this unit only; the daemon's (webhook alone) keep the templates' sandbox.
    const emailDropIn = (instance: string) => `/etc/systemd/system/${instance}.d/svcctl-alerts.conf`;
    for (const instance of [failureInstance, resolvedInstance]) expect((await sandbox.run(['systemctl', 'show', '-p', 'DropInPaths', '--value', instance])).stdout).toContain(emailDropIn(instance));
    expect((await sandbox.run(['systemctl', 'show', '-p', 'DropInPaths', '--value', 'svcctl-alert@flaky-daemon.service.service'])).stdout).not.toContain('flaky-daemon.service.service.d');
    const status = await svcctl(['status', 'cleanup-blocking']);
    expect(status.stdout + status.stderr).toMatch(/alerts:\s+webhook, slack, pagerduty, email/);
    const again = await svcctl(['install', 'cleanup-blocking', '--yes']);
    expect(again.stderr).toContain('cleanup-blocking is up to date');
    const list = JSON.parse((await svcctl(['alert', 'list', 'cleanup-blocking', '--json'])).stdout) as { bundles: { channels: { kind: string; to?: string }[] }[] };
    expect(list.bundles[0]!.channels).toEqual([{ kind: 'webhook' }, { kind: 'slack' }, { kind: 'pagerduty' }, { kind: 'email', to: 'alertbox@localhost' }]);
  }, 120_000);

  test('a failed run (Redis down) alerts every channel once, retrying a receiver that is down', async () => {
    // The receiver answers 503 once and holds every answer 2 s: the retry shows in the journal, and the argv scan
    // sees the sender while it sends.
    await sandbox.sh('echo 1 > /run/rcv/fail-next; touch /run/rcv/hold');
    const run = await svcctl(['run', 'cleanup-blocking']);
    expect(run.exitCode).not.toBe(0);
    const all = await waitFor('the failure alerts', async () => {
      const r = await requests();
      return r.length >= 4 && (await mails()).length >= 1 && r;
    });
    await sandbox.run(['rm', '-f', '/run/rcv/hold']);
    await waitFor('the failure sender to finish', async () => (await sandbox.run(['systemctl', 'is-active', failureInstance])).stdout.trim() !== 'activating');
    expect(all).toHaveLength(4); // three channels and one retry
    // journald may write the sender's last lines a moment after it exited.
    await waitFor('the retry in the journal', async () => /(webhook|slack|pagerduty): attempt 1 of 4 failed \(HTTP 503 down\); trying again in 1 s/.test(await journalOf(failureInstance)));

    const [webhook] = bodies(all, '/hooks/').filter((b) => b.schema);
    expect(webhook).toMatchObject({ schema: 'svcctl.alert/v1', event: 'failure', host, bundle: 'cleanup-blocking', unit: service, result: 'exit-code', exitCode: 'exited' });
    expect(webhook!.journal.length).toBeGreaterThan(0);
    expect(webhook!.journal.length).toBeLessThanOrEqual(20);
    expect(webhook!.journal.join('\n')).toContain('cannot reach Redis');
    expect(webhook!.commands).toContain('svcctl logs cleanup-blocking -n 100');
    expect(webhook!.invocationId).toMatch(/^[0-9a-f]{32}$/);
    const [slack] = bodies(all, '/services/');
    expect(slack!.text).toContain(`${service} failed on ${host}`);
    expect(slack!.text).toContain('cannot reach Redis');
    const [trigger] = bodies(all, '/pd/');
    expect(trigger).toMatchObject({ routing_key: routingKey, event_action: 'trigger', dedup_key: `svcctl/${host}/${service}`, payload: { source: host, severity: 'error', component: service, group: 'cleanup-blocking' } });
    expect(trigger!.payload.summary).toContain(`${service} failed on ${host}`);
    const [mail] = await mails();
    expect(mail).toContain(`Subject: [svcctl] ${service} failed on ${host}`);
    expect(mail).toContain('cannot reach Redis');
    expect(mail).toContain('svcctl logs cleanup-blocking -n 100');
  }, 120_000);

  test('more failures do not alert again', async () => {
    const before = await invocationOf(failureInstance);
    expect((await svcctl(['run', 'cleanup-blocking'])).exitCode).not.toBe(0);
    await waitFor('the second failure to be looked at', async () => (await invocationOf(failureInstance)) !== before && (await sandbox.run(['systemctl', 'is-active', failureInstance])).stdout.trim() !== 'activating');
    await waitFor('the sender to say it sent nothing', async () => (await journalOf(failureInstance)).includes('failed again (2 failures since'));
    expect(await requests()).toHaveLength(4);
    expect(await mails()).toHaveLength(1);
  }, 120_000);

  test('a good run resolves once: PagerDuty resolve with the same dedup_key, a notice on the other channels', async () => {
    const redis = await sandbox.sh(
      ['systemd-run --quiet --unit=test-redis /usr/bin/redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no', 'for i in $(seq 100); do redis-cli -h 127.0.0.1 PING >/dev/null 2>&1 && break; sleep 0.1; done'].join('\n'),
    );
    expect(redis.exitCode).toBe(0);
    expect((await svcctl(['run', 'cleanup-blocking'])).exitCode).toBe(0);
    const all = await waitFor('the recovery notices', async () => {
      const r = await requests();
      return r.length >= 7 && (await mails()).length >= 2 && r;
    });
    const resolved = all.slice(4);
    expect(bodies(resolved, '/pd/')).toEqual([{ routing_key: routingKey, event_action: 'resolve', dedup_key: `svcctl/${host}/${service}` }]);
    expect(bodies(resolved, '/hooks/')[0]).toMatchObject({ event: 'resolved', unit: service });
    expect(bodies(resolved, '/services/')[0]!.text).toContain(`${service} recovered on ${host}`);
    expect((await mails())[1]).toContain(`Subject: [svcctl] ${service} recovered on ${host}`);
    await waitFor('the state file to go', async () => (await sandbox.run(['test', '-e', `/var/lib/svcctl-alerts/${service}.json`])).exitCode !== 0);

    // Another good run: the recovery template's condition skips it, and nothing is sent.
    const before = await invocationOf(resolvedInstance);
    expect((await svcctl(['run', 'cleanup-blocking'])).exitCode).toBe(0);
    await waitFor('the recovery template to be skipped', async () => (await invocationOf(resolvedInstance)) !== before);
    expect(await requests()).toHaveLength(7);
    expect(await mails()).toHaveLength(2);
  }, 120_000);

  test('alert test sends through each channel and reports each answer', async () => {
    const result = await sandbox.run(['env', 'SVCCTL_TEST_TOOL_PATH=/run/argv-spy/bin', 'svcctl-test', 'alert', 'test', 'cleanup-blocking', '--json']);
    outputs.push(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as { deliveries: { channel: { kind: string }; ok: boolean; answer: string }[] };
    expect(report.deliveries.map((d) => [d.channel.kind, d.ok])).toEqual([['webhook', true], ['slack', true], ['pagerduty', true], ['email', true]]);
    expect(report.deliveries[0]!.answer).toMatch(/^HTTP 200/);
    expect(report.deliveries[2]!.answer).toMatch(/^trigger HTTP 202 .*; resolve HTTP 202/);
    expect(report.deliveries[3]!.answer).toBe('sendmail exit 0');
    expect(await requests()).toHaveLength(11);
    await waitFor('the test mail', async () => (await mails()).length === 3);
    expect((await sandbox.run(['cat', '/run/argv-spy/log'])).stdout).toContain('sendmail -t -oi -odi');
  }, 120_000);

  test('a daemon killed once: no alert; with --alert-on-restart, one restart alert (and none for the next restart)', async () => {
    const unit = 'flaky-daemon.service';
    const restartInstance = `svcctl-alert-restart@${unit}.service`;
    const restarts = async () => Number((await sandbox.run(['systemctl', 'show', '-p', 'NRestarts', '--value', unit])).stdout.trim());
    const killOnce = async () => {
      const before = await restarts();
      await waitFor('the daemon to run', async () => (await sandbox.run(['systemctl', 'is-active', unit])).stdout.trim() === 'active');
      await sandbox.run(['systemctl', 'kill', '-s', 'KILL', unit]);
      await waitFor('systemd to restart the daemon', async () => (await restarts()) > before && (await sandbox.run(['systemctl', 'is-active', unit])).stdout.trim() === 'active');
    };
    const restartAlerts = async () => bodies(await requests(), '/hooks/').filter((b) => b.unit === unit && b.event === 'restart');

    // Without the option the daemon's failed run starts nothing: its ExecStopPost= would have queued the restart
    // instance before systemd restarted the daemon.
    await killOnce();
    expect((await sandbox.run(['systemctl', 'show', '-p', 'InvocationID', '--value', restartInstance])).stdout.trim()).toBe('');
    expect(bodies(await requests(), '/hooks/').filter((b) => b.unit === unit)).toEqual([]);

    const add = await svcctl(['alert', 'add', 'flaky-daemon', '--alert-on-restart', '--yes']);
    expect(add.exitCode).toBe(0);
    const list = JSON.parse((await svcctl(['alert', 'list', 'flaky-daemon', '--json'])).stdout) as { bundles: { onRestart: boolean }[] };
    expect(list.bundles[0]!.onRestart).toBe(true);
    expect((await svcctl(['status', 'flaky-daemon'])).stdout).toMatch(/alerts:\s+webhook \(and on restart\)/);
    // Kept by a re-install without the flag.
    expect((await svcctl(['install', flakyBundle, '--yes'])).stderr).toContain('flaky-daemon is up to date');

    const daemonInvocation = await invocationOf(unit);
    await killOnce();
    const [alert] = await waitFor('the restart alert', async () => {
      const found = await restartAlerts();
      return found.length > 0 && found;
    });
    expect(alert).toMatchObject({ event: 'restart', bundle: 'flaky-daemon', unit, result: 'signal', exitCode: 'killed', exitStatus: 'KILL', invocationId: daemonInvocation });
    expect(alert!.summary).toContain(`${unit} failed and is being restarted on ${host}`);
    expect(alert!.journal.join('\n')).toContain('flaky daemon up');
    await waitFor('the restart sender to finish', async () => (await sandbox.run(['systemctl', 'is-active', restartInstance])).stdout.trim() !== 'activating');
    expect(await restartAlerts()).toHaveLength(1);

    // The next restart, the start limit's counter reset so that systemd restarts it once more: not alerted again.
    await sandbox.run(['systemctl', 'reset-failed', unit]);
    await killOnce();
    await waitFor('the sender to say it sent nothing', async () => (await journalOf(restartInstance)).includes('restarted again (2 restarts since'));
    expect(await restartAlerts()).toHaveLength(1);
  }, 120_000);

  test('a daemon killed until its start limit alerts when systemd gives up', async () => {
    const unit = 'flaky-daemon.service';
    await waitFor('systemd to give up on the daemon', async () => {
      const state = (await sandbox.run(['systemctl', 'show', '-p', 'ActiveState', '--value', unit])).stdout.trim();
      if (state === 'active') await sandbox.run(['systemctl', 'kill', '-s', 'KILL', unit]);
      return state === 'failed';
    });
    const alert = await waitFor('the daemon alert', async () => bodies(await requests(), '/hooks/').find((b) => b.unit === unit && b.event === 'failure'));
    expect(alert).toMatchObject({ event: 'failure', bundle: 'flaky-daemon', unit });
    expect(['signal', 'start-limit-hit']).toContain(alert.result);
    // Its last failed run was also followed by a restart attempt: that one is not alerted as a restart again.
    const restartInstance = `svcctl-alert-restart@${unit}.service`;
    await waitFor('the last restart to be looked at', async () => /restarted again|not being restarted/.test(await journalOf(restartInstance)));
    expect(bodies(await requests(), '/hooks/').filter((b) => b.unit === unit && b.event === 'restart')).toHaveLength(1);
    // The sender read the journal under the templates' full sandbox (no email: PrivateUsers=, no capabilities).
    expect(alert.journal.join('\n')).toContain('flaky daemon up');
  }, 120_000);

  test('the URLs and the routing key appear nowhere: systemctl show, journal, argv, output, receipts', async () => {
    await sandbox.run(['systemctl', 'stop', 'cmdline-scan']);
    const seen = (await sandbox.run(['cat', '/run/scan/seen'])).stdout.split('\n').filter((n) => Number(n) > 0);
    expect(seen.length).toBeGreaterThan(0); // the scan did see the sender at work
    expect((await sandbox.run(['cat', '/run/scan/hits'])).stdout).toBe('');
    const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const shown = await sandbox.run([...asNobody, 'systemctl', 'show', service, failureInstance, resolvedInstance, 'flaky-daemon.service', 'svcctl-alert-restart@flaky-daemon.service.service']);
    expect(shown.exitCode).toBe(0);
    const journal = await sandbox.run(['journalctl', '--no-pager', '-o', 'verbose']);
    expect(journal.stdout).toContain('delivered (HTTP 200');
    const receipts = await sandbox.sh('cat /var/lib/svcctl/*.json /var/lib/svcctl/.installed.json');
    expect(receipts.stdout).toContain('"kind": "pagerduty"');
    const argv = (await sandbox.run(['cat', '/run/argv-spy/log'])).stdout;
    for (const text of [shown.stdout, journal.stdout, receipts.stdout, argv, outputs.join('\n')]) for (const secret of secrets) expect(text).not.toContain(secret);
    // Only the channel files hold them: 0600 root in a 0700 directory.
    const modes = await sandbox.run(['stat', '-c', '%a %U', '/etc/svcctl/alerts', `/etc/svcctl/alerts/${service}.json`]);
    expect(modes.stdout.trim().split('\n')).toEqual(['700 root', '600 root']);
  }, 120_000);

  test('alert remove drops a channel; svcctl-alerts stays while used and leaves with the last bundle using it', async () => {
    expect((await svcctl(['alert', 'remove', 'cleanup-blocking', 'slack', '--yes'])).exitCode).toBe(0);
    const list = JSON.parse((await svcctl(['alert', 'list', 'cleanup-blocking', '--json'])).stdout) as { bundles: { channels: { kind: string }[] }[] };
    expect(list.bundles[0]!.channels.map((c) => c.kind)).toEqual(['webhook', 'pagerduty', 'email']);
    // Without email its alert instances lose exim's drop-ins; alert add brings them back.
    const emailDropIns = [failureInstance, resolvedInstance].map((instance) => `/etc/systemd/system/${instance}.d/svcctl-alerts.conf`);
    expect((await svcctl(['alert', 'remove', 'cleanup-blocking', 'email', '--yes'])).exitCode).toBe(0);
    for (const file of emailDropIns) expect((await sandbox.run(['test', '-e', file])).exitCode).not.toBe(0);
    expect((await svcctl(['alert', 'add', 'cleanup-blocking', 'email=alertbox@localhost', '--yes'])).exitCode).toBe(0);
    for (const file of emailDropIns) expect((await sandbox.run(['test', '-e', file])).exitCode).toBe(0);
    const refused = await svcctl(['uninstall', 'svcctl-alerts', '--yes']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('stays while they use it');
    expect((await svcctl(['uninstall', 'flaky-daemon', '--yes'])).exitCode).toBe(0);
    expect((await sandbox.run(['test', '-e', '/etc/systemd/system/svcctl-alert@.service'])).exitCode).toBe(0);
    const last = await svcctl(['uninstall', 'cleanup-blocking', '--yes']);
    expect(last.stderr).not.toContain('✖');
    expect(last.exitCode).toBe(0);
    expect(last.stderr).toContain('svcctl-alerts uninstalled');
    expect((await sandbox.run(['test', '-e', '/etc/systemd/system/svcctl-alert@.service'])).exitCode).not.toBe(0);
    expect((await sandbox.run(['test', '-e', `/etc/systemd/system/${failureInstance}.d`])).exitCode).not.toBe(0);
    // Like any bundle's data, what the sender recorded stays until a purge.
    expect((await sandbox.run(['cat', '/var/lib/svcctl/svcctl-alerts.json'])).stdout).toContain('"state": "retained"');
  }, 120_000);
});
