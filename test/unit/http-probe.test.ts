// The health probe (src/system/http.ts) against real local servers: plain HTTP, and HTTPS signed by a
// private CA that reaches svcctl as SVCCTL_EXTRA_CA_CERTS (bin/run.js moves NODE_EXTRA_CA_CERTS there).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { probeUrl } from '../../src/system/http.js';
import { childEnvironment } from '../../src/system/exec.js';

// Scratch files under node_modules/.cache, not the host's /tmp.
const dir = mkdtempSync(path.join(process.cwd(), 'node_modules', '.cache', 'svcctl-probe-test-'));
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
let plain: http.Server;
let secure: https.Server;
const saved = { ...process.env };

beforeAll(async () => {
  // A private CA and a certificate for 127.0.0.1 it signs.
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=svcctl test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(file('san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-extfile', file('san.cnf'));
  plain = http.createServer((req, res) => res.writeHead(req.url === '/down' ? 503 : 200).end('ok'));
  secure = https.createServer({ key: readFileSync(file('server.key')), cert: readFileSync(file('server.pem')) }, (_req, res) => res.writeHead(200).end('ok'));
  await Promise.all([plain, secure].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
});

afterEach(() => {
  for (const key of ['SVCCTL_EXTRA_CA_CERTS', 'NODE_EXTRA_CA_CERTS']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

afterAll(async () => {
  await Promise.all([plain, secure].map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

const url = (server: http.Server | https.Server, scheme: string, route = '/health') => `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}${route}`;

test('HTTP: 2xx is up, anything else is down with its status; nothing listening is "connection refused"', async () => {
  expect(await probeUrl(url(plain, 'http'), 2000)).toMatchObject({ ok: true, status: 200 });
  expect(await probeUrl(url(plain, 'http', '/down'), 2000)).toMatchObject({ ok: false, status: 503, error: 'HTTP 503' });
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  expect(await probeUrl(`http://127.0.0.1:${port}/`, 2000)).toMatchObject({ ok: false, error: 'connection refused' });
});

test('a server that never answers is "no answer within N ms"', async () => {
  const silent = http.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const result = await probeUrl(url(silent, 'http'), 300);
  silent.closeAllConnections();
  await new Promise((resolve) => silent.close(resolve));
  expect(result).toMatchObject({ ok: false, error: 'no answer within 300 ms' });
});

test('HTTPS signed by a private CA: refused without it, trusted with the CA file the user gave Node', async () => {
  delete process.env.SVCCTL_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
  const untrusted = await probeUrl(url(secure, 'https'), 2000);
  expect(untrusted.ok).toBe(false);
  expect(untrusted.error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
  process.env.SVCCTL_EXTRA_CA_CERTS = file('ca.pem');
  expect(await probeUrl(url(secure, 'https'), 2000)).toMatchObject({ ok: true, status: 200 });
  // An unreadable CA file is ignored, as Node ignores one: only the bundled roots remain.
  process.env.SVCCTL_EXTRA_CA_CERTS = file('missing.pem');
  expect((await probeUrl(url(secure, 'https'), 2000)).ok).toBe(false);
});

test('child processes get NODE_EXTRA_CA_CERTS back as the user set it, and never the moved-aside name', () => {
  process.env.SVCCTL_EXTRA_CA_CERTS = '/etc/ssl/private-ca.pem';
  delete process.env.NODE_EXTRA_CA_CERTS;
  const env = childEnvironment({ EXTRA: '1' });
  expect(env.NODE_EXTRA_CA_CERTS).toBe('/etc/ssl/private-ca.pem');
  expect(env.SVCCTL_EXTRA_CA_CERTS).toBeUndefined();
  expect(env.EXTRA).toBe('1');
  // The shebang sets it empty when the user had none: the child gets none.
  process.env.SVCCTL_EXTRA_CA_CERTS = '';
  expect('NODE_EXTRA_CA_CERTS' in childEnvironment()).toBe(false);
  expect('SVCCTL_EXTRA_CA_CERTS' in childEnvironment()).toBe(false);
});
