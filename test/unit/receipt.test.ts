// Receipts are validated on every read: shape, version, and paths only in svcctl's own places; format 1 is upgraded.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseReceipt, ReceiptProblem, serializeReceipt, type Receipt } from '../../src/core/receipt.js';
import { layout, systemTarget, userTarget } from '../../src/core/target.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const system = layout(systemTarget());
const v1 = JSON.parse(readFileSync(path.join(here, '../fixtures/receipts/cleanup-blocking.v1.json'), 'utf8')) as Record<string, unknown>;

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
    settings: { A: 'b' },
    secrets: [{ key: 'TICK_TOKEN', changedAt: '2026-11-01T00:00:00.000Z' }],
    health: { maxAge: '10s', url: 'http://127.0.0.1/', startTimeout: '30s' },
    authorization: { text: 'ok', by: 'alice', at: '2026-11-01T00:00:00.000Z' },
    alerts: [{ kind: 'slack' }, { kind: 'email', to: 'ops@example.com' }],
    artifacts: [
      { path: '/etc/systemd/system/tick.service.d/svcctl-alerts.conf', role: 'alert-drop-in', checksum: `sha256:${'5'.repeat(64)}`, mode: 0o600, owner: 'root', group: 'root' },
      { path: '/etc/svcctl/alerts/tick.service.json', role: 'alert-config', checksum: `hmac-sha256:${'6'.repeat(64)}`, mode: 0o600, owner: 'root', group: 'root', secret: true },
      { path: '/etc/systemd/system/tick.timer', role: 'unit', checksum: `sha256:${'1'.repeat(64)}`, mode: 0o644, owner: 'root', group: 'root' },
      { path: '/etc/svcctl/tick/secrets.env', role: 'secrets', checksum: `hmac-sha256:${'2'.repeat(64)}`, mode: 0o600, owner: 'root', group: 'root', secret: true },
      { path: '/etc/mira/federation.env', role: 'config', checksum: `hmac-sha256:${'3'.repeat(64)}`, mode: 0o640, owner: 'root', group: 'mira', secret: true },
      { path: '/usr/local/bin/tick.sh', role: 'payload', checksum: `sha256:${'4'.repeat(64)}`, mode: 0o755, owner: 'root', group: 'root', backup: '/var/lib/svcctl/backups/tick/usr/local/bin/tick.sh' },
    ],
    directories: [
      { path: '/etc/svcctl', created: true, own: false, shared: true },
      { path: '/var/lib/tick', created: true, own: false, data: true, previous: { mode: 0o777, uid: 0, gid: 0 } },
    ],
    user: { name: 'tick', created: true, groupCreated: true },
    ...overrides,
  };
}

const roundTrip = (r: Receipt) => parseReceipt(JSON.parse(serializeReceipt(r)), r.bundle, system);
const problemOf = (data: unknown, bundle = 'tick') => {
  try {
    parseReceipt(data, bundle, system);
  } catch (error) {
    if (error instanceof ReceiptProblem) return `${error.field}: ${error.problem}`;
    throw error;
  }
  return undefined;
};

test('every field survives writing and reading back, in a fixed order (the same receipt is the same bytes)', () => {
  const r = receipt();
  expect(roundTrip(r)).toEqual(r);
  const shuffled = Object.fromEntries(Object.entries(r).reverse()) as unknown as Receipt;
  expect(serializeReceipt(shuffled)).toBe(serializeReceipt(r));
});

test('format 1 (svcctl 0.1) is upgraded: scope, checksums, shared and data directories; a plain hash of the secrets file is dropped', () => {
  const upgraded = parseReceipt(v1, 'cleanup-blocking', system);
  expect(upgraded.format).toBe(2);
  expect(upgraded.scope).toBe('system');
  const secrets = upgraded.artifacts.find((a) => a.role === 'secrets')!;
  expect(secrets.checksum).toBe('');
  expect(secrets.secret).toBe(true);
  expect(upgraded.artifacts.find((a) => a.role === 'unit')!.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(upgraded.directories.find((d) => d.path === '/etc/sysusers.d')).toMatchObject({ shared: true });
  expect(upgraded.directories.find((d) => d.path === '/home/claude-flow/.claude-flow/logs')).toMatchObject({ data: true });
  expect(JSON.stringify(upgraded)).not.toContain((v1.artifacts as { role: string; sha256: string }[]).find((a) => a.role === 'secrets')!.sha256);
});

test.each<[string, unknown, string, RegExp]>([
  ['null', null, 'tick', /^\(receipt\): must be an object, not null/],
  ['a bundle name that leaves the state directory', { ...receipt(), bundle: '../../../var/tmp/pwn' }, 'tick', /^bundle: is "\.\.\/\.\.\/\.\.\/var\/tmp\/pwn"/],
  ['another bundle’s receipt', receipt({ bundle: 'other' }), 'tick', /^bundle: is "other", but the receipt is the one of bundle tick/],
  ['a newer format', { ...receipt(), format: 3 }, 'tick', /^format: is 3; this svcctl reads formats 1 and 2/],
  ['/etc/passwd as a payload', receipt({ artifacts: [{ path: '/etc/passwd', role: 'payload', checksum: '', mode: 0o644, owner: 'root', group: 'root' }] }), 'tick', /^artifacts\[0\]\.path: \/etc\/passwd is not a place where svcctl puts a payload file/],
  ['/etc/ssh as a payload', receipt({ artifacts: [{ path: '/etc/ssh/sshd_config', role: 'payload', checksum: '', mode: 0o644, owner: 'root', group: 'root' }] }), 'tick', /^artifacts\[0\]\.path: /],
  ['a unit outside the unit directory', receipt({ artifacts: [{ path: '/usr/lib/systemd/system/x.service', role: 'unit', checksum: '', mode: 0o644, owner: 'root', group: 'root' }] }), 'tick', /^artifacts\[0\]\.path:/],
  ['a secrets file of another bundle', receipt({ artifacts: [{ path: '/etc/svcctl/other/secrets.env', role: 'secrets', checksum: '', mode: 0o600, owner: 'root', group: 'root' }] }), 'tick', /^artifacts\[0\]\.path:/],
  ['a path with ..', receipt({ artifacts: [{ path: '/usr/local/../../etc/shadow', role: 'payload', checksum: '', mode: 0o600, owner: 'root', group: 'root' }] }), 'tick', /not an absolute, normalised path/],
  ['/etc as a directory svcctl made', receipt({ directories: [{ path: '/etc', created: true, own: false }] }), 'tick', /^directories\[0\]\.path: \/etc is one of the system's own directories/],
  ['a backup outside the bundle’s backups', receipt({ artifacts: [{ path: '/usr/local/bin/x', role: 'payload', checksum: '', mode: 0o755, owner: 'root', group: 'root', backup: '/etc/shadow' }] }), 'tick', /^artifacts\[0\]\.backup: \/etc\/shadow is outside \/var\/lib\/svcctl\/backups\/tick/],
  ['root as the user svcctl created', receipt({ user: { name: 'root', created: true, groupCreated: true } }), 'tick', /^user\.name: "root" is not a user svcctl would have created/],
  ['a mode that is not one', receipt({ artifacts: [{ path: '/usr/local/bin/x', role: 'payload', checksum: '', mode: 99999, owner: 'root', group: 'root' }] }), 'tick', /^artifacts\[0\]\.mode: 99999 is not a file mode/],
  ['an unknown state', { ...receipt(), state: 'broken' }, 'tick', /^state: must be one of installing, installed, uninstalling, retained/],
  ['an alert channel svcctl does not know', { ...receipt(), alerts: [{ kind: 'sms' }] }, 'tick', /^alerts\[0\]\.kind: must be one of webhook, slack, pagerduty, email/],
  ['an email alert without its address', { ...receipt(), alerts: [{ kind: 'email' }] }, 'tick', /^alerts\[0\]\.to: an email channel needs its address/],
  ['a Slack alert with a value (a URL has no place in a receipt)', { ...receipt(), alerts: [{ kind: 'slack', to: 'https://hooks.slack.com/x' }] }, 'tick', /^alerts\[0\]\.to: only an email channel has an address/],
  ['an email address that is not one', { ...receipt(), alerts: [{ kind: 'email', to: 'ops@example.com\nBcc: x@y' }] }, 'tick', /^alerts\[0\]\.to: /],
  ['an alert channel file outside /etc/svcctl/alerts', receipt({ artifacts: [{ path: '/etc/svcctl/tick/tick.service.json', role: 'alert-config', checksum: '', mode: 0o600, owner: 'root', group: 'root' }] }), 'tick', /^artifacts\[0\]\.path: .* is not a place where svcctl puts a alert-config file/],
  ['an alert drop-in of another name', receipt({ artifacts: [{ path: '/etc/systemd/system/tick.service.d/override.conf', role: 'alert-drop-in', checksum: '', mode: 0o600, owner: 'root', group: 'root' }] }), 'tick', /^artifacts\[0\]\.path: /],
])('refused with the field named: %s', (_what, data, bundle, expected) => {
  expect(problemOf(data, bundle)).toMatch(expected);
});

test('a user-scope receipt lives in the user’s places; a system receipt read there is refused', () => {
  const alice = layout(userTarget({ name: 'alice', group: 'alice', uid: 1000, gid: 1000, home: '/home/alice' }));
  const mine = receipt({
    scope: 'user',
    user: undefined,
    directories: [],
    artifacts: [{ path: '/home/alice/.config/systemd/user/tick.timer', role: 'unit', checksum: '', mode: 0o644, owner: 'alice', group: 'alice' }],
  });
  delete mine.user;
  expect(parseReceipt(JSON.parse(serializeReceipt(mine)), 'tick', alice).scope).toBe('user');
  expect(() => parseReceipt(JSON.parse(serializeReceipt(receipt())), 'tick', alice)).toThrow(/scope: is system, but it was read from the user scope/);
});
