// The exposure score of src/core/exposure.ts against real systemd-analyze output (test/fixtures/exposure/README.md):
// the same score as `systemd-analyze security UNIT` of the installed unit, the suggestions, and output it cannot read.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  describeExposure,
  exposureAboveLimit,
  exposureLevel,
  parseSecurityOutput,
  readAssessment,
  scoreTenths,
  suggestionsFor,
  type AssessedCheck,
  type ServiceExposure,
} from '../../src/core/exposure.js';

const stdout = readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'exposure', 'four-services.json'), 'utf8');
const services = ['cleanup-blocking-coordination.service', 'plain-probe.service', 'ptmp-probe.service', 'caps-probe.service'];
const lines = stdout.trim().split('\n');
const checksOf = (index: number) => readAssessment(JSON.parse(lines[index]!)) as AssessedCheck[];
const scored = (e: ServiceExposure) => {
  if (e.score === null) throw new Error(`${e.service} not scored: ${e.reason}`);
  return e;
};

test('each service scores what systemd-analyze security prints for the installed unit', () => {
  const result = parseSecurityOutput({ stdout, stderr: '', exitCode: 0 }, services);
  expect(result.map((e) => [e.service, e.score, e.score === null ? undefined : e.level])).toEqual([
    ['cleanup-blocking-coordination.service', 1.6, 'OK'],
    ['plain-probe.service', 9.6, 'UNSAFE'],
    ['ptmp-probe.service', 9.2, 'UNSAFE'],
    ['caps-probe.service', 7.9, 'EXPOSED'],
  ]);
});

test('the checks as read score what --offline=yes prints: the difference is PrivateMounts=, implied once installed', () => {
  expect([0, 1, 2, 3].map((i) => scoreTenths(checksOf(i)))).toEqual([18, 96, 94, 81]);
  const cleanup = scored(parseSecurityOutput({ stdout, stderr: '', exitCode: 0 }, services)[0]!);
  expect(cleanup.items.find((i) => i.field === 'PrivateMounts')?.exposure).toBe(0);
  // No setting of plain-probe implies a mount namespace: PrivateMounts= still costs what systemd prints.
  const plain = scored(parseSecurityOutput({ stdout, stderr: '', exitCode: 0 }, services)[1]!);
  expect(plain.items.find((i) => i.field === 'PrivateMounts')?.exposure).toBe(0.2);
});

test('items carry their share as systemd prints it, null where a check does not apply', () => {
  const plain = scored(parseSecurityOutput({ stdout, stderr: '', exitCode: 0 }, services)[1]!);
  expect(plain.items).toHaveLength(81);
  expect(plain.items.find((i) => i.field === 'PrivateNetwork')).toEqual({ name: 'PrivateNetwork=', field: 'PrivateNetwork', description: "Service has access to the host's network", exposure: 0.5 });
  // Runs as root: RemoveIPC= does not apply.
  expect(plain.items.find((i) => i.field === 'RemoveIPC')?.exposure).toBeNull();
  expect(plain.items.find((i) => i.field === 'AmbientCapabilities')?.exposure).toBe(0);
});

test('suggestions: the lines that lower the score most, each as an operator writes it, with its exact effect', () => {
  const [cleanup, plain] = parseSecurityOutput({ stdout, stderr: '', exitCode: 0 }, services).map(scored);
  expect(cleanup!.suggestions.map((s) => [s.directive, s.lowersBy])).toEqual([
    ['PrivateNetwork=yes', 0.5],
    ['RestrictAddressFamilies=none', 0.3],
    ['IPAddressDeny=any', 0.2],
  ]);
  // A long deny list reads as the one line that closes the directive.
  expect(plain!.suggestions.map((s) => [s.directive, s.lowersBy])).toEqual([
    ['CapabilityBoundingSet=', 2.5],
    ['SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @privileged @raw-io @reboot @resources @swap', 1.6],
    ['RestrictNamespaces=yes', 0.8],
  ]);
  expect(plain!.suggestions[0]!.checks.length).toBeGreaterThan(20);
  // Each suggestion's effect is the score with its checks passing, recomputed (not the sum of rounded item shares).
  const more = suggestionsFor(checksOf(0), 10);
  expect(more.find((s) => s.directive.startsWith('SystemCallFilter='))).toEqual({ directive: 'SystemCallFilter=~@resources @privileged', lowersBy: 0.2, checks: ['SystemCallFilter=~@resources', 'SystemCallFilter=~@privileged'] });
});

test('a setting that implies a mount namespace is worth PrivateMounts= too: PrivateTmp=yes lowers plain-probe by 0.4, not 0.2', () => {
  const tmp = suggestionsFor(checksOf(1), 100).find((s) => s.directive === 'PrivateTmp=yes');
  expect(tmp?.lowersBy).toBe(0.4);
  // Once a mount namespace is implied, PrivateMounts=yes is no suggestion.
  expect(suggestionsFor(checksOf(2), 100).map((s) => s.directive)).not.toContain('PrivateMounts=yes');
  expect(suggestionsFor(checksOf(1), 100).map((s) => s.directive)).toContain('PrivateMounts=yes');
});

test('the words for a score are systemd-analyze\'s', () => {
  expect([0, 1, 9, 10, 20, 49, 50, 74, 75, 89, 90, 99, 100].map(exposureLevel)).toEqual(['PERFECT', 'SAFE', 'SAFE', 'OK', 'OK', 'OK', 'MEDIUM', 'MEDIUM', 'EXPOSED', 'EXPOSED', 'UNSAFE', 'UNSAFE', 'DANGEROUS']);
});

test('a service systemd-analyze refused is unscored with its words; the others keep their own arrays', () => {
  const stderr = 'bad.service: Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.\nUnit bad.service has a bad unit file setting.\n';
  const result = parseSecurityOutput({ stdout: `${lines[0]}\n${lines[1]}\n`, stderr, exitCode: 1 }, ['cleanup-blocking-coordination.service', 'bad.service', 'plain-probe.service']);
  expect(result.map((e) => e.score)).toEqual([1.6, null, 9.6]);
  expect(result[1]).toEqual({ service: 'bad.service', score: null, reason: 'Unit bad.service has a bad unit file setting.' });
  expect(describeExposure(result[1]!)).toBe('bad.service: exposure not scored (Unit bad.service has a bad unit file setting.)');
});

test('output that does not match the services scores none of them, rather than the wrong one', () => {
  const short = parseSecurityOutput({ stdout: `${lines[0]}\n`, stderr: 'Failed to initialize manager: Permission denied\n', exitCode: 1 }, services.slice(0, 2));
  expect(short.map((e) => e.score)).toEqual([null, null]);
  expect(short[0]).toMatchObject({ reason: 'systemd-analyze security assessed 1 of 2 services (Failed to initialize manager: Permission denied)' });
  const none = parseSecurityOutput({ stdout: '', stderr: '', exitCode: 1 }, services.slice(0, 1));
  expect(none[0]).toMatchObject({ score: null, reason: 'systemd-analyze security assessed 0 of 1 services (systemd-analyze security exited 1)' });
});

test('garbage and partial JSON: not scored, with why, never a crash', () => {
  const cut = lines[0]!.slice(0, 500);
  const cases: [string, RegExp][] = [
    [cut, /printed what is not JSON/],
    ['{"not": "a list"}', /not a list of checks/],
    ['[]', /not a list of checks/],
    ['[1, 2]', /a check is not an object/],
    ['[{"json_field": "X"}]', /a check has no name/],
    // Without SYSTEMD_ANALYZE_DEBUG=1 systemd prints no weights: the score cannot be computed.
    [JSON.stringify(JSON.parse(lines[0]!).map(({ weight: _w, badness: _b, range: _r, ...rest }: Record<string, unknown>) => rest)), /has no weight, badness and range/],
    ['[{"name":"A=","json_field":"A","description":"","weight":100,"badness":11,"range":10}]', /badness outside 0–10/],
    ['[{"name":"A=","json_field":"A","description":"","weight":100,"badness":1,"range":0}]', /weight or range that is not a count/],
    ['[{"name":"A=","json_field":"A","description":"","weight":100,"badness":18446744073709551615,"range":1}]', /no check applies/],
  ];
  for (const [text, reason] of cases) {
    const [e] = parseSecurityOutput({ stdout: `${text}\n`, stderr: '', exitCode: 0 }, ['x.service']);
    expect(e).toMatchObject({ service: 'x.service', score: null, reason: expect.stringMatching(reason) });
  }
});

test('any text at all: every service comes back, scored or with a reason', () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.integer({ min: 1, max: 3 }), (out, err, count) => {
      const names = Array.from({ length: count }, (_, i) => `s${i}.service`);
      const result = parseSecurityOutput({ stdout: out, stderr: err, exitCode: 1 }, names);
      expect(result.map((e) => e.service)).toEqual(names);
      for (const e of result) expect(e.score === null ? typeof e.reason : typeof e.score).toBe(e.score === null ? 'string' : 'number');
    }),
  );
  // Truncated anywhere, real output never crashes the parser either.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: stdout.length }), (at) => {
      expect(parseSecurityOutput({ stdout: stdout.slice(0, at), stderr: '', exitCode: 0 }, services)).toHaveLength(4);
    }),
  );
});

test('--max-exposure: above the limit is a problem naming service, score and limit; at the limit is not; no score fails closed', () => {
  const [cleanup] = parseSecurityOutput({ stdout, stderr: '', exitCode: 0 }, services);
  expect(exposureAboveLimit(cleanup!, 1.5)).toBe('cleanup-blocking-coordination.service scores 1.6 OK on systemd-analyze security, above --max-exposure 1.5');
  expect(exposureAboveLimit(cleanup!, 1.6)).toBeUndefined();
  expect(exposureAboveLimit({ service: 'x.service', score: null, reason: 'why' }, 2)).toBe('x.service could not be scored (why), so --max-exposure 2 cannot be checked');
});
