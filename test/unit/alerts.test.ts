// Failure alerts, the pure parts: --alert parsing (a secret on argv is refused and never echoed), the drop-in, the
// payload renderers, the noise rules, and what desire()/plan() make of alert channels.
import fc from 'fast-check';
import { desire, type Inputs } from '../../src/core/desired.js';
import { emptyHost, type Observed, type PathState } from '../../src/core/observed.js';
import { planInstall, planUninstall } from '../../src/core/plan.js';
import { addChannels, parseAlertConfig, parseAlertFlag, parseChannelName, removeChannels, renderAlertConfig, renderAlertDropIn, restartsAfterFailure, secretChannel, validateEmailAddress, type AlertChannel } from '../../src/core/alerts/channels.js';
import { channelId, decideFailure, decideResolved, parseState, stateAfterFailure, stateAfterResolved, type AlertState } from '../../src/core/alerts/noise.js';
import { cleanLine, emailMessage, pagerDutyEvent, pagerDutyNoticeResolve, slackPayload, summaryOf, webhookPayload, type AlertEvent } from '../../src/core/alerts/payloads.js';
import type { Bundle } from '../../src/core/bundle/types.js';
import { UserError } from '../../src/core/errors.js';
import { systemTarget, userTarget } from '../../src/core/target.js';

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof UserError) return `${error.message} ${error.hint ?? ''}`;
    throw error;
  }
  throw new Error('did not throw');
};

describe('--alert', () => {
  test('a URL or routing key written on the command line is refused, and the message never repeats it', () => {
    fc.assert(
      fc.property(fc.constantFrom('webhook', 'slack', 'pagerduty'), fc.string({ minLength: 1 }), (kind, rest) => {
        const value = `S3CRET${rest}`;
        const message = messageOf(() => parseAlertFlag(`${kind}=${value}`));
        expect(message).toContain(`refusing --alert ${kind}=<`);
        expect(message).not.toContain(value);
      }),
    );
  });

  test('@FILE and - name where the secret is; email takes one plain address', () => {
    expect(parseAlertFlag('slack=@/root/slack.url')).toEqual({ kind: 'slack', source: '@/root/slack.url' });
    expect(parseAlertFlag('pagerduty=-')).toEqual({ kind: 'pagerduty', source: '-' });
    expect(parseAlertFlag('email=ops@example.com')).toEqual({ kind: 'email', to: 'ops@example.com' });
    expect(messageOf(() => parseAlertFlag('sms=@x'))).toContain('is not an alert channel');
    for (const bad of ['ops@example.com\nBcc: x@evil.test', 'Ops <ops@example.com>', '-oQ/tmp@x', 'ops@', 'ops@-x.com', 'a@b..c']) expect(() => validateEmailAddress(bad)).toThrow(UserError);
  });

  test('a URL must be http or https, a routing key printable; the messages never show the value', () => {
    expect(secretChannel('webhook', 'https://example.com/hook?token=abc')).toEqual({ kind: 'webhook', url: 'https://example.com/hook?token=abc' });
    expect(messageOf(() => secretChannel('slack', 'file:///etc/S3CRET'))).not.toContain('S3CRET');
    expect(messageOf(() => secretChannel('webhook', 'https://x/ S3CRET'))).not.toContain('S3CRET');
    expect(messageOf(() => secretChannel('pagerduty', 'S3CRET key'))).not.toContain('S3CRET');
  });

  test('add keeps what is there and drops duplicates; remove names a kind, or an email address', () => {
    const slack: AlertChannel = { kind: 'slack', url: 'https://hooks.slack.com/services/a' };
    const a: AlertChannel = { kind: 'email', to: 'a@example.com' };
    const b: AlertChannel = { kind: 'email', to: 'b@example.com' };
    expect(addChannels([slack, a], [a, b])).toEqual([slack, a, b]);
    expect(removeChannels([slack, a, b], [parseChannelName('email=a@example.com')])).toEqual({ kept: [slack, b], unmatched: [] });
    expect(removeChannels([slack, a, b], [parseChannelName('email')]).kept).toEqual([slack]);
    expect(removeChannels([slack], [parseChannelName('pagerduty')]).unmatched).toEqual(['pagerduty']);
    expect(() => parseChannelName('slack=https://x')).toThrow(UserError);
  });

  test('the channel file reads back as written, and anything else is refused', () => {
    const channels: AlertChannel[] = [{ kind: 'webhook', url: 'http://127.0.0.1:8/h' }, { kind: 'pagerduty', routingKey: 'R0123456789abcdef' }, { kind: 'email', to: 'ops@example.com' }];
    const text = renderAlertConfig({ format: 1, bundle: 'demo', unit: 'demo.service', channels });
    expect(parseAlertConfig(text, 'demo.service').channels).toEqual(channels);
    expect(() => parseAlertConfig(text, 'other.service')).toThrow(UserError);
    expect(() => parseAlertConfig(text.replace('ops@example.com', 'ops@example.com\\nBcc: x@y'), 'demo.service')).toThrow(UserError);
  });

  test('the drop-in wires OnFailure= and OnSuccess= to the templates with %n meant as a specifier', () => {
    const text = renderAlertDropIn('Managed by svcctl (bundle demo).');
    expect(text).toContain('\n[Unit]\nOnFailure=svcctl-alert@%n.service\nOnSuccess=svcctl-alert-resolved@%n.service\n');
    expect(text).not.toContain('[Service]');
  });

  test('alerting on restarts: an ExecStopPost= that starts the restart instance after a failed run, as root, never failing the unit', () => {
    const text = renderAlertDropIn('Managed by svcctl (bundle demo).', true);
    // $$ is a literal $ for systemd: the shell reads $SERVICE_RESULT, and the unit's name (%n) arrives as $1.
    expect(text).toContain(`\n[Service]\n# --alert-on-restart: a failed run that systemd restarts the unit after is alerted (docs/alerts.md).\nExecStopPost=-+/bin/sh -c 'test "$$SERVICE_RESULT" = success || exec /bin/systemctl --no-block start "svcctl-alert-restart@$$1.service"' svcctl-alert-restart %n\n`);
  });

  test('a daemon is a unit that systemd restarts after a failed run', () => {
    const unit = (service: string) => `[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n${service}`;
    expect(restartsAfterFailure(unit('Restart=on-failure\n'))).toBe(true);
    expect(restartsAfterFailure(unit('Restart = always\n'))).toBe(true);
    expect(restartsAfterFailure(unit('Restart=on-failure\nRestart=no\n'))).toBe(false);
    expect(restartsAfterFailure(unit('Restart=on-success\n'))).toBe(false);
    expect(restartsAfterFailure(unit(''))).toBe(false);
    expect(restartsAfterFailure('[Unit]\nRestart=always\n[Service]\nExecStart=/bin/true\n')).toBe(false);
  });
});

describe('payloads', () => {
  const event: AlertEvent = {
    event: 'failure',
    host: 'web1',
    bundle: 'demo',
    unit: 'demo.service',
    result: 'exit-code',
    exitCode: 'exited',
    exitStatus: '2',
    at: '2026-12-01T10:00:00.000Z',
    invocationId: 'a'.repeat(32),
    journal: ['first <b>&', 'bell\u0007 and ``` fence', 'x'.repeat(900)],
    commands: ['svcctl logs demo -n 100'],
  };

  test('the generic webhook carries every field, the journal lines cleaned and cut', () => {
    const body = webhookPayload(event);
    expect(body).toMatchObject({ schema: 'svcctl.alert/v1', event: 'failure', host: 'web1', bundle: 'demo', unit: 'demo.service', result: 'exit-code', exitCode: 'exited', exitStatus: '2', summary: 'demo.service failed on web1 (bundle demo): exit-code, exited 2' });
    const journal = body.journal as string[];
    expect(journal[1]).toBe('bell and ``` fence');
    expect(journal[2]).toHaveLength(501);
  });

  test('Slack text escapes &, < and > and cannot close its code block early', () => {
    const { text } = slackPayload(event);
    expect(text).toContain('first &lt;b&gt;&amp;');
    expect(text.match(/```/g)).toHaveLength(2);
  });

  test('PagerDuty: a trigger with summary, source and severity; the recovery resolves the same dedup_key', () => {
    const trigger = pagerDutyEvent(event, 'R0123456789');
    expect(trigger).toMatchObject({ routing_key: 'R0123456789', event_action: 'trigger', dedup_key: 'svcctl/web1/demo.service', payload: { summary: summaryOf(event), source: 'web1', severity: 'error', component: 'demo.service', group: 'demo' } });
    expect(pagerDutyEvent({ ...event, event: 'resolved' }, 'R0123456789')).toEqual({ routing_key: 'R0123456789', event_action: 'resolve', dedup_key: 'svcctl/web1/demo.service' });
  });

  test('a restart says so, and is a PagerDuty warning of its own (resolved at once: the daemon runs again)', () => {
    const restart: AlertEvent = { ...event, event: 'restart', result: 'signal', exitCode: 'killed', exitStatus: 'KILL' };
    expect(summaryOf(restart)).toBe('demo.service failed and is being restarted on web1 (bundle demo): signal, killed KILL');
    expect(pagerDutyEvent(restart, 'R0123456789')).toMatchObject({ event_action: 'trigger', dedup_key: 'svcctl-restart/web1/demo.service', payload: { severity: 'warning' } });
    expect(pagerDutyNoticeResolve(restart, 'R0123456789')).toEqual({ routing_key: 'R0123456789', event_action: 'resolve', dedup_key: 'svcctl-restart/web1/demo.service' });
    expect(slackPayload(restart).text).toMatch(/^:large_orange_circle: \*demo.service failed and is being restarted/);
    expect(emailMessage(restart, 'ops@example.com')).toContain('X-Svcctl-Event: restart\n');
  });

  test('an email has its seven headers whatever the host, unit and journal hold (no header injection)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.array(fc.string({ unit: 'binary' }), { maxLength: 20 }), (host, result, journal) => {
        const message = emailMessage({ ...event, host, result, journal }, 'ops@example.com');
        const [head] = message.split('\n\n');
        expect(head!.split('\n').map((l) => l.split(':')[0])).toEqual(['To', 'Subject', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'Auto-Submitted', 'X-Svcctl-Event']);
        for (const line of message.split('\n')) expect(line.length).toBeLessThan(998);
      }),
      { examples: [['web1\nBcc: x@evil.test', 'exit-code\r\nX: y', ['line\n\nbody']]] },
    );
  });

  test('a journal line loses its control characters', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (line) => expect(cleanLine(line)).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f]/)));
  });
});

describe('noise', () => {
  const slack: AlertChannel = { kind: 'slack', url: 'https://hooks.slack.com/services/a' };
  const pd: AlertChannel = { kind: 'pagerduty', routingKey: 'R0123456789' };
  const t0 = new Date('2026-12-01T10:00:00.000Z');
  const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

  test('a failure alerts every channel once; more failures alert none until REPEAT_AFTER has passed', () => {
    const first = decideFailure(undefined, [slack, pd], t0, 3600);
    expect(first.send).toEqual([slack, pd]);
    const state = stateAfterFailure(undefined, 'demo.service', first.send, t0)!;
    expect(state).toMatchObject({ since: t0.toISOString(), failures: 1, alerted: [channelId(pd), channelId(slack)].sort() });
    expect(decideFailure(state, [slack, pd], later(60), 3600)).toMatchObject({ send: [], suppressed: [slack, pd], reminder: false });
    expect(decideFailure(state, [slack, pd], later(3600), 3600)).toMatchObject({ send: [slack, pd], reminder: true, failingSince: t0.toISOString() });
  });

  test('a channel the failure did not reach (receiver down, or added since) is alerted by the next failure', () => {
    const state = stateAfterFailure(undefined, 'demo.service', [slack], t0)!;
    expect(decideFailure(state, [slack, pd], later(60), 3600).send).toEqual([pd]);
    expect(stateAfterFailure(undefined, 'demo.service', [], t0)).toBeUndefined();
  });

  test('a recovery goes to the channels that got the failure; one not reached keeps it open', () => {
    const state = stateAfterFailure(undefined, 'demo.service', [slack, pd], t0)!;
    const newcomer: AlertChannel = { kind: 'email', to: 'ops@example.com' };
    expect(decideResolved(state, [slack, pd, newcomer])).toEqual([slack, pd]);
    expect(decideResolved(undefined, [slack])).toEqual([]);
    expect(stateAfterResolved(state, [slack, pd], [slack, pd])).toBeUndefined();
    expect(stateAfterResolved(state, [slack, pd], [slack])!.alerted).toEqual([channelId(pd)]);
  });

  test('a state file that is not one counts as none; an id never holds the secret', () => {
    const state: AlertState = { format: 1, unit: 'demo.service', since: 'x', lastAlertAt: 'x', failures: 1, alerted: [] };
    expect(parseState(JSON.stringify(state), 'demo.service')).toEqual(state);
    expect(parseState(JSON.stringify(state), 'other.service')).toBeUndefined();
    expect(parseState('{', 'demo.service')).toBeUndefined();
    expect(channelId(pd)).not.toContain('R0123456789');
  });
});

describe('desire() and plan() with alerts', () => {
  const daemon = (overrides: Partial<Bundle> = {}): Bundle => ({
    name: 'demo',
    description: 'demo',
    directory: '/bundles/demo',
    manifestPath: '/bundles/demo/bundle.yaml',
    digest: 'd1',
    units: [{ name: 'demo.service', content: '[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n' }],
    enable: ['demo.service'],
    payload: [],
    directories: [],
    settings: [],
    secrets: [],
    configFiles: [],
    directives: [],
    ...overrides,
  });
  const channels: AlertChannel[] = [{ kind: 'slack', url: 'https://hooks.slack.com/services/S3CRET' }, { kind: 'email', to: 'ops@example.com' }];
  const inputs = (overrides: Partial<Inputs> = {}): Inputs => ({ settings: {}, secrets: {}, force: false, start: true, enable: true, now: '2026-12-01T00:00:00.000Z', svcctlVersion: '0.1.0', ...overrides });
  const dir: PathState = { kind: 'directory', mode: 0o755, uid: 0, gid: 0 };
  const host = (extra: Record<string, PathState | null> = {}): Observed => ({ ...emptyHost(), paths: { ...Object.fromEntries(['/etc', '/etc/systemd', '/etc/systemd/system', '/etc/svcctl', '/var', '/var/lib'].map((d) => [d, dir])), ...extra } });
  const ctx = { target: systemTarget(), hostKey: Buffer.alloc(32, 1), force: false, now: '2026-12-01T00:00:00.000Z', svcctlVersion: '0.1.0' };

  test('each watched service gets its drop-in and a 0600 channel file in a 0700 directory; the receipt names kinds only', () => {
    const desired = desire(daemon(), inputs({ alerts: channels }), systemTarget());
    const dropIn = desired.files.find((f) => f.role === 'alert-drop-in')!;
    const config = desired.files.find((f) => f.role === 'alert-config')!;
    expect(dropIn).toMatchObject({ path: '/etc/systemd/system/demo.service.d/svcctl-alerts.conf', secret: false });
    expect(config).toMatchObject({ path: '/etc/svcctl/alerts/demo.service.json', mode: 0o600, secret: true });
    expect(config.content.toString()).toContain('S3CRET');
    const plan = planInstall(desired, host(), ctx);
    expect(plan.actions).toContainEqual(expect.objectContaining({ kind: 'make-directory', path: '/etc/svcctl/alerts', mode: 0o700 }));
    expect(plan.receipt!.alerts).toEqual([{ kind: 'slack' }, { kind: 'email', to: 'ops@example.com' }]);
    expect(JSON.stringify(plan.receipt)).not.toContain('S3CRET');
    expect(desire(daemon(), inputs(), systemTarget()).files.filter((f) => f.role.startsWith('alert-'))).toEqual([]);
  });

  test('an email channel relaxes the sandbox of that unit\'s two alert instances only, through drop-ins of the bundle', () => {
    const instanceDropIns = (alerts: AlertChannel[]) => desire(daemon(), inputs({ alerts }), systemTarget()).files.filter((f) => f.role === 'alert-drop-in' && !f.path.startsWith('/etc/systemd/system/demo.service.d/'));
    // The instances OnFailure=svcctl-alert@%n.service and OnSuccess=svcctl-alert-resolved@%n.service start.
    expect(instanceDropIns(channels).map((f) => f.path)).toEqual([
      '/etc/systemd/system/svcctl-alert@demo.service.service.d/svcctl-alerts.conf',
      '/etc/systemd/system/svcctl-alert-resolved@demo.service.service.d/svcctl-alerts.conf',
    ]);
    const content = instanceDropIns(channels)[0]!.content.toString();
    for (const line of ['NoNewPrivileges=no', 'PrivateUsers=no', 'SystemCallFilter=\n', 'CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_DAC_OVERRIDE CAP_CHOWN CAP_FOWNER', 'ProtectHome=read-only']) expect(content).toContain(line);
    expect(instanceDropIns([channels[0]!])).toEqual([]);

    // alert remove of the email channel removes them (and reloads); alert add puts them back.
    const withEmail = planInstall(desire(daemon(), inputs({ alerts: channels }), systemTarget()), host(), ctx);
    const observed: Observed = { ...host(Object.fromEntries(withEmail.receipt!.artifacts.map((a) => [a.path, { kind: 'file', mode: a.mode, uid: 0, gid: 0, checksum: a.checksum } as PathState]))), receipt: withEmail.receipt! };
    const removed = planInstall(desire(daemon(), inputs({ alerts: [channels[0]!] }), systemTarget()), observed, ctx);
    expect(removed.actions.filter((a) => a.kind === 'remove-file').map((a) => (a as { path: string }).path).sort()).toEqual(instanceDropIns(channels).map((f) => f.path).sort());
    expect(removed.actions.map((a) => a.kind)).toContain('daemon-reload');
    expect(removed.receipt!.artifacts.map((a) => a.path)).not.toContain(instanceDropIns(channels)[0]!.path);
    expect(withEmail.receipt!.artifacts.filter((a) => a.role === 'alert-drop-in')).toHaveLength(3);
  });

  test('--alert-on-restart: the daemons get the ExecStopPost= (their restart instance exim\'s drop-in too), kept in the receipt', () => {
    const bundle = daemon({
      units: [
        { name: 'demo.service', content: '[Service]\nExecStart=/bin/sleep infinity\nRestart=on-failure\n[Install]\nWantedBy=multi-user.target\n' },
        { name: 'demo-once.service', content: '[Service]\nType=oneshot\nExecStart=/bin/true\n' },
      ],
    });
    const desired = desire(bundle, inputs({ alerts: channels, alertOnRestart: true }), systemTarget());
    const dropIn = (unit: string) => desired.files.find((f) => f.path === `/etc/systemd/system/${unit}.d/svcctl-alerts.conf`)!.content.toString();
    expect(dropIn('demo.service')).toContain('ExecStopPost=-+/bin/sh');
    expect(dropIn('demo-once.service')).not.toContain('ExecStopPost=');
    expect(desired.files.map((f) => f.path)).toContain('/etc/systemd/system/svcctl-alert-restart@demo.service.service.d/svcctl-alerts.conf');
    expect(desired.files.map((f) => f.path)).not.toContain('/etc/systemd/system/svcctl-alert-restart@demo-once.service.service.d/svcctl-alerts.conf');
    expect(planInstall(desired, host(), ctx).receipt!.alertOnRestart).toBe(true);
    expect(planInstall(desire(bundle, inputs({ alerts: channels }), systemTarget()), host(), ctx).receipt!.alertOnRestart).toBeUndefined();
    expect(() => desire(daemon(), inputs({ alerts: channels, alertOnRestart: true }), systemTarget())).toThrow('has no daemon that systemd restarts');
  });

  test('adding an alert to a running daemon reloads systemd and restarts nothing', () => {
    const before = planInstall(desire(daemon(), inputs(), systemTarget()), host(), ctx);
    const unitFile = desire(daemon(), inputs(), systemTarget()).files.find((f) => f.role === 'unit')!;
    const observed: Observed = {
      ...host({ '/etc/systemd/system/demo.service': { kind: 'file', mode: 0o644, uid: 0, gid: 0, checksum: before.receipt!.artifacts.find((a) => a.role === 'unit')!.checksum } }),
      receipt: before.receipt!,
      units: { 'demo.service': { enabled: 'enabled', active: 'active' } },
    };
    expect(unitFile).toBeDefined();
    const kinds = planInstall(desire(daemon(), inputs({ alerts: channels }), systemTarget()), observed, ctx).actions.map((a) => a.kind);
    expect(kinds).toContain('daemon-reload');
    expect(kinds).not.toContain('restart');
  });

  test('alerts are for system scope; a bundle without a service has nothing to watch', () => {
    const alice = userTarget({ name: 'alice', group: 'alice', uid: 1000, gid: 1000, home: '/home/alice' });
    // A bundle that may be installed in user scope at all (one that does not is refused before its alerts are looked at).
    expect(() => desire(daemon({ scopes: ['system', 'user'] }), inputs({ alerts: channels }), alice)).toThrow('failure alerts are for system-scope installs');
    expect(() => desire(daemon({ units: [{ name: 'demo.timer', content: '[Timer]\nOnActiveSec=1h\n' }], enable: [] }), inputs({ alerts: channels }), systemTarget())).toThrow('has no service');
  });

  test('uninstalling a bundle of template units stops and resets their instances (x@*.service), not the templates', () => {
    const templates = daemon({ name: 'svcctl-alerts', units: [{ name: 'svcctl-alert@.service', content: '[Service]\nType=oneshot\nExecStart=/bin/true %i\n' }], enable: [] });
    const receipt = planInstall(desire(templates, inputs(), systemTarget()), host(), ctx).receipt!;
    const plan = planUninstall(receipt, host(), { purge: false, force: false }, systemTarget());
    expect(plan.actions.find((a) => a.kind === 'stop-disable')).toMatchObject({ units: ['svcctl-alert@*.service'] });
    expect(plan.actions.find((a) => a.kind === 'reset-failed')).toMatchObject({ units: ['svcctl-alert@*.service'] });
  });
});
