// The change planners are pure: a receipt and an observed host in, Actions and the next receipt out.
import { createHash, createHmac } from 'node:crypto';
import { planScheduleChange, planSecretsWrite, type ScheduleChange, type ScheduleObserved } from '../../src/core/changes.js';
import { describeAction } from '../../src/core/steps/index.js';
import type { Action } from '../../src/core/steps/types.js';
import { parseEnvFile } from '../../src/core/escape/index.js';
import { parseReceipt, serializeReceipt, type Receipt } from '../../src/core/receipt.js';
import { layout, systemTarget } from '../../src/core/target.js';
import type { SecretSpec } from '../../src/core/bundle/types.js';

const target = systemTarget();
const paths = layout(target);
const hostKey = Buffer.alloc(32, 3);
const sha = (content: Buffer) => `sha256:${createHash('sha256').update(content).digest('hex')}`;
const hmac = (content: Buffer) => `hmac-sha256:${createHmac('sha256', hostKey).update(content).digest('hex')}`;
const ctx = { now: '2026-12-01T10:00:00.000Z', hostKey, target };
const now = '2026-12-01T10:00:00.000Z';
const dropIn = paths.scheduleDropIn('tick.timer');
const dropInDir = paths.dropInDir('tick.timer');
const secretsFile = paths.secretsFile('tick');

function receipt(overrides: Partial<Receipt> = {}): Receipt {
  return {
    format: 2,
    bundle: 'tick',
    scope: 'system',
    description: 'tick',
    source: '/bundles/tick',
    digest: 'd1',
    svcctlVersion: '0.1.0',
    installedAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    state: 'installed',
    units: ['tick.service', 'tick.timer'],
    enabled: ['tick.timer'],
    service: 'tick.service',
    timer: 'tick.timer',
    schedule: '1s',
    scheduleOverridden: false,
    settings: {},
    secrets: [{ key: 'TICK_TOKEN', changedAt: '2026-11-01T00:00:00.000Z' }],
    artifacts: [
      { path: '/etc/systemd/system/tick.timer', role: 'unit', checksum: `sha256:${'1'.repeat(64)}`, mode: 0o644, owner: 'root', group: 'root' },
      { path: secretsFile, role: 'secrets', checksum: `hmac-sha256:${'2'.repeat(64)}`, mode: 0o600, owner: 'root', group: 'root' },
    ],
    directories: [{ path: paths.secretsDir('tick'), created: true, own: true }],
    ...overrides,
  };
}

/** The receipt after `svcctl schedule tick daily`: the drop-in and its directory recorded. */
const overridden = receipt({
  schedule: 'daily',
  scheduleOverridden: true,
  artifacts: [...receipt().artifacts, { path: dropIn, role: 'schedule', checksum: `sha256:${'3'.repeat(64)}`, mode: 0o644, owner: 'root', group: 'root' }],
  directories: [{ path: paths.secretsDir('tick'), created: true, own: true }, { path: dropInDir, created: true, own: true }],
});

const observedHost = (overrides: Partial<ScheduleObserved> = {}): ScheduleObserved => ({ dropInDirExists: false, dropInDirOnlyHoldsOurs: true, timerActive: true, ...overrides });
const content = Buffer.from('[Timer]\nOnCalendar=\nOnCalendar=daily\n');
const daily: ScheduleChange = { content, schedule: 'daily', overridden: true, expected: { kind: 'calendar', normalized: '*-*-* 00:00:00' }, now };
const reset: ScheduleChange = { schedule: '1s', overridden: false, now };
const steps = (actions: Action[]) => actions.map(describeAction);

describe('planScheduleChange', () => {
  const cases: { title: string; before: Receipt; observed: ScheduleObserved; change: ScheduleChange; steps: string[] }[] = [
    {
      title: 'a first override: the directory, the drop-in, one reload, the running timer restarted, the check',
      before: receipt(),
      observed: observedHost(),
      change: daily,
      steps: [
        `create directory ${dropInDir} (0755 root:root)`,
        `create ${dropIn} (0644 root:root)`,
        'systemctl daemon-reload',
        'systemctl restart tick.timer',
        'check that systemd reads the new schedule of tick.timer',
      ],
    },
    {
      title: 'a new override over an old one: the drop-in updated in place',
      before: overridden,
      observed: observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true }),
      change: daily,
      steps: [`update ${dropIn} (0644 root:root)`, 'systemctl daemon-reload', 'systemctl restart tick.timer', 'check that systemd reads the new schedule of tick.timer'],
    },
    {
      title: 'a stopped timer is not restarted',
      before: receipt(),
      observed: observedHost({ dropInDirExists: true, timerActive: false }),
      change: daily,
      steps: [`create ${dropIn} (0644 root:root)`, 'systemctl daemon-reload', 'check that systemd reads the new schedule of tick.timer'],
    },
    {
      title: 'a reset: the drop-in and the directory svcctl made are removed',
      before: overridden,
      observed: observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true }),
      change: reset,
      steps: [`remove ${dropIn}`, `remove directory ${dropInDir} if empty`, 'systemctl daemon-reload', 'systemctl restart tick.timer', 'check that systemd reads the new schedule of tick.timer'],
    },
    {
      title: 'a reset keeps a directory that holds other drop-ins',
      before: overridden,
      observed: observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true, dropInDirOnlyHoldsOurs: false }),
      change: reset,
      steps: [`remove ${dropIn}`, 'systemctl daemon-reload', 'systemctl restart tick.timer', 'check that systemd reads the new schedule of tick.timer'],
    },
    {
      title: 'a reset keeps a directory svcctl did not make',
      before: { ...overridden, directories: [{ path: dropInDir, created: false, own: true }] },
      observed: observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true }),
      change: reset,
      steps: [`remove ${dropIn}`, 'systemctl daemon-reload', 'systemctl restart tick.timer', 'check that systemd reads the new schedule of tick.timer'],
    },
    {
      title: 'a reset after the drop-in was removed by hand: only the reload, restart and check',
      before: overridden,
      observed: observedHost({ dropInDirExists: false }),
      change: reset,
      steps: ['systemctl daemon-reload', 'systemctl restart tick.timer', 'check that systemd reads the new schedule of tick.timer'],
    },
  ];
  test.each(cases)('$title', ({ before, observed, change, steps: expected }) => {
    expect(steps(planScheduleChange(before, observed, change, target).actions)).toEqual(expected);
  });

  test('the drop-in is written 0644 root with role "schedule"; the restart revives the timer; the check knows the trigger', () => {
    const { actions } = planScheduleChange(receipt(), observedHost(), daily, target);
    expect(actions.find((a) => a.kind === 'write-file')).toMatchObject({ path: dropIn, content, checksum: sha(content), mode: 0o644, owner: 'root', group: 'root', role: 'schedule', secret: false });
    expect(actions.find((a) => a.kind === 'restart')).toEqual({ kind: 'restart', units: ['tick.timer'], revive: true });
    expect(actions.at(-1)).toEqual({ kind: 'check-timer', timer: 'tick.timer', expected: { kind: 'calendar', normalized: '*-*-* 00:00:00' } });
    expect(planScheduleChange(overridden, observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true }), reset, target).actions.at(-1)).toEqual({ kind: 'check-timer', timer: 'tick.timer' });
  });

  test('the receipt of an override lists the drop-in with its checksum and the directory svcctl made', () => {
    const after = planScheduleChange(receipt(), observedHost(), daily, target).receipt!;
    expect(after).toMatchObject({ schedule: 'daily', scheduleOverridden: true, updatedAt: now, installedAt: receipt().installedAt, state: 'installed' });
    expect(after.artifacts).toContainEqual({ path: dropIn, role: 'schedule', checksum: sha(content), mode: 0o644, owner: 'root', group: 'root' });
    expect(after.directories).toEqual([
      { path: paths.secretsDir('tick'), created: true, own: true },
      { path: dropInDir, created: true, own: true },
    ]);
  });

  test('the receipt of an update replaces the drop-in\'s entry; the directory record is kept', () => {
    const after = planScheduleChange(overridden, observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true }), daily, target).receipt!;
    expect(after.artifacts.filter((a) => a.path === dropIn)).toEqual([{ path: dropIn, role: 'schedule', checksum: sha(content), mode: 0o644, owner: 'root', group: 'root' }]);
    expect(after.directories).toBe(overridden.directories);
  });

  test('the receipt of a reset drops the drop-in and, when removed, its directory', () => {
    const after = planScheduleChange(overridden, observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true }), reset, target).receipt!;
    expect(after).toMatchObject({ schedule: '1s', scheduleOverridden: false });
    expect(after.artifacts.map((a) => a.path)).not.toContain(dropIn);
    expect(after.directories.map((d) => d.path)).toEqual([paths.secretsDir('tick')]);
    const kept = planScheduleChange(overridden, observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true, dropInDirOnlyHoldsOurs: false }), reset, target).receipt!;
    expect(kept.directories.map((d) => d.path)).toContain(dropInDir);
  });

  test('a randomized delay goes on record with the schedule, and off it with a reset (or when none is asked)', () => {
    const delayed = planScheduleChange(receipt(), observedHost(), { ...daily, randomizedDelay: '45s' }, target).receipt!;
    expect(delayed).toMatchObject({ schedule: 'daily', scheduleOverridden: true, scheduleRandomizedDelay: '45s' });
    const afterReset = planScheduleChange({ ...overridden, scheduleRandomizedDelay: '45s' }, observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true }), reset, target).receipt!;
    expect(afterReset).not.toHaveProperty('scheduleRandomizedDelay');
    expect(planScheduleChange(receipt(), observedHost(), daily, target).receipt!).not.toHaveProperty('scheduleRandomizedDelay');
    // and the receipt reads back with it
    expect(parseReceipt(JSON.parse(serializeReceipt(delayed)), 'tick', paths).scheduleRandomizedDelay).toBe('45s');
  });

  test('a reset whose default is unknown (the bundle is gone) leaves no schedule on record', () => {
    const after = planScheduleChange(overridden, observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true }), { overridden: false, now }, target).receipt!;
    expect(after.schedule).toBeUndefined();
    expect(JSON.parse(JSON.stringify(after))).not.toHaveProperty('schedule');
  });

  test('the receipt passed in is not changed', () => {
    const before = structuredClone(overridden);
    planScheduleChange(overridden, observedHost({ dropIn: { kind: 'file' }, dropInDirExists: true }), reset, target);
    expect(overridden).toEqual(before);
  });

  test('a bundle without a timer is a programming error', () => {
    expect(() => planScheduleChange(receipt({ timer: undefined }), observedHost(), daily, target)).toThrow(/has no timer/);
  });
});

describe('planSecretsWrite', () => {
  const specs: SecretSpec[] = [
    { key: 'B_TOKEN', prompt: 'b', required: true },
    { key: 'A_TOKEN', prompt: 'a', generate: 'hex32', required: false },
  ];
  const before = receipt({ secrets: [{ key: 'B_TOKEN', changedAt: '2026-11-01T00:00:00.000Z' }, { key: 'A_TOKEN', changedAt: '2026-11-02T00:00:00.000Z' }] });
  const current = new Map([
    ['A_TOKEN', 'old-a'],
    ['B_TOKEN', 'old-b'],
  ]);
  const write = (actions: Action[]) => actions.find((a): a is Extract<Action, { kind: 'write-file' }> => a.kind === 'write-file')!;

  const cases: { title: string; current: Map<string, string> | undefined; missing: string[]; steps: string[] }[] = [
    { title: 'an existing file is updated in place', current, missing: [], steps: [`update ${secretsFile} (0600 root:root) (secret values hidden; readable by root only)`] },
    {
      title: 'a file removed by hand is created again in its 0700 directory',
      current: undefined,
      missing: [paths.secretsDir('tick')],
      steps: [`create directory ${paths.secretsDir('tick')} (0700 root:root)`, `create ${secretsFile} (0600 root:root) (secret values hidden; readable by root only)`],
    },
    {
      title: 'both directories missing: /etc/svcctl 0755 first, whatever order they are given in',
      current: undefined,
      missing: [paths.secretsDir('tick'), paths.configDir],
      steps: [`create directory ${paths.configDir} (0755 root:root)`, `create directory ${paths.secretsDir('tick')} (0700 root:root)`, `create ${secretsFile} (0600 root:root) (secret values hidden; readable by root only)`],
    },
  ];
  test.each(cases)('$title', ({ current: values, missing, steps: expected }) => {
    expect(steps(planSecretsWrite(before, specs, values, new Map([['A_TOKEN', 'new-a']]), missing, ctx).actions)).toEqual(expected);
  });

  test('the file: 0600 root, secret, the header, the bundle\'s key order then undeclared keys, the change applied', () => {
    const withExtra = new Map([...current, ['ZZ_EXTRA', 'kept']]);
    const file = write(planSecretsWrite(before, specs, withExtra, new Map([['A_TOKEN', 'new-a']]), [], ctx).actions);
    expect(file).toMatchObject({ path: secretsFile, mode: 0o600, owner: 'root', group: 'root', role: 'secrets', secret: true, checksum: hmac(file.content) });
    const text = file.content.toString('utf8');
    expect(text.split('\n')[0]).toContain('Managed by svcctl (bundle tick).');
    expect([...parseEnvFile(text)]).toEqual([
      ['B_TOKEN', 'old-b'],
      ['A_TOKEN', 'new-a'],
      ['ZZ_EXTRA', 'kept'],
    ]);
  });

  test('the receipt: the changed key gets the new time, the others keep theirs, the checksum follows the file; no value in it', () => {
    const { actions, receipt: afterOrNone } = planSecretsWrite(before, specs, current, new Map([['A_TOKEN', 'new-a']]), [], ctx);
    const after = afterOrNone!;
    expect(after.secrets).toEqual([
      { key: 'B_TOKEN', changedAt: '2026-11-01T00:00:00.000Z' },
      { key: 'A_TOKEN', changedAt: now },
    ]);
    expect(after.updatedAt).toBe(now);
    expect(after.artifacts.find((a) => a.role === 'secrets')).toEqual({ path: secretsFile, role: 'secrets', checksum: write(actions).checksum, mode: 0o600, owner: 'root', group: 'root' });
    expect(JSON.stringify(after)).not.toMatch(/new-a|old-a|old-b/);
  });

  test('a first secret: the artifact is added, the directories made are recorded as svcctl\'s own', () => {
    const bare = receipt({ secrets: [], artifacts: [], directories: [] });
    const after = planSecretsWrite(bare, specs, undefined, new Map([['B_TOKEN', 'b']]), [paths.configDir, paths.secretsDir('tick')], ctx).receipt!;
    expect(after.secrets).toEqual([{ key: 'B_TOKEN', changedAt: now }]);
    expect(after.artifacts.map((a) => a.path)).toEqual([secretsFile]);
    expect(after.directories).toEqual([
      { path: paths.configDir, created: true, own: false, shared: true },
      { path: paths.secretsDir('tick'), created: true, own: true },
    ]);
  });

  test('a backed-up original of the secrets file stays on record', () => {
    const backedUp = receipt({ artifacts: [{ path: secretsFile, role: 'secrets', checksum: '', mode: 0o600, owner: 'root', group: 'root', backup: '/var/lib/svcctl/backups/tick/x' }] });
    const after = planSecretsWrite(backedUp, specs, current, new Map([['A_TOKEN', 'new-a']]), [], ctx).receipt!;
    expect(after.artifacts[0]?.backup).toBe('/var/lib/svcctl/backups/tick/x');
  });

  test("a key a config file holds is written there (the re-rendered file given), not into the secrets file; its artifact's keyed checksum follows", () => {
    const config = '/etc/default/tick';
    const held = receipt({ secrets: before.secrets, artifacts: [{ path: config, role: 'config', checksum: 'hmac-sha256:old', mode: 0o640, owner: 'root', group: 'tick', secret: true }] });
    const content = Buffer.from('# managed\nA_TOKEN=new-a\nSETTING=x\n');
    const rendered = { path: config, role: 'config' as const, content, mode: 0o640, owner: 'root', group: 'tick', secret: true, secretKeys: ['A_TOKEN'] };
    const { actions, receipt: after } = planSecretsWrite(held, specs, current, new Map([['A_TOKEN', 'new-a']]), [paths.secretsDir('tick')], ctx, [rendered]);
    expect(actions).toEqual([{ kind: 'write-file', path: config, role: 'config', content, checksum: hmac(content), mode: 0o640, owner: 'root', group: 'tick', secret: true, change: 'update' }]);
    expect(after!.artifacts).toEqual([{ path: config, role: 'config', checksum: hmac(content), mode: 0o640, owner: 'root', group: 'tick', secret: true }]);
    expect(after!.secrets).toEqual([{ key: 'B_TOKEN', changedAt: '2026-11-01T00:00:00.000Z' }, { key: 'A_TOKEN', changedAt: now }]);
    // A change to a key of the secrets file besides: both files are written.
    const both = planSecretsWrite(held, specs, current, new Map([['A_TOKEN', 'new-a'], ['B_TOKEN', 'new-b']]), [], ctx, [rendered]);
    expect(both.actions.map((a) => (a.kind === 'write-file' ? a.path : a.kind))).toEqual([secretsFile, config]);
    expect([...parseEnvFile(write(both.actions).content.toString('utf8'))]).toEqual([['B_TOKEN', 'new-b'], ['A_TOKEN', 'old-a']]);
  });

  test('a directory already on record is not recorded twice', () => {
    const after = planSecretsWrite(before, specs, undefined, new Map([['A_TOKEN', 'a']]), [paths.secretsDir('tick')], ctx).receipt!;
    expect(after.directories.filter((d) => d.path === paths.secretsDir('tick'))).toHaveLength(1);
  });
});

describe('describeAction for the change steps', () => {
  test.each<[Action, string]>([
    [{ kind: 'check-timer', timer: 'tick.timer' }, 'check that systemd reads the new schedule of tick.timer'],
    [{ kind: 'run-job', service: 'tick.service' }, 'run tick.service now (systemctl start)'],
    [{ kind: 'check-health', subject: { bundle: 'rotd', from: 'receipt', units: ['rotd.service'], enabled: ['rotd.service'] }, timeoutMs: 10_000, once: false }, 'check the health of rotd'],
    [{ kind: 'restart', units: ['rotd.service'], revive: true }, 'systemctl restart rotd.service'],
  ])('%j', (action, text) => {
    expect(describeAction(action)).toBe(text);
  });
});
