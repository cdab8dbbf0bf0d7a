// The contract every built-in bundle keeps, in one sandbox, bundle after bundle: verify, install without a prompt,
// status and check OK, it does its job (a run, or its health URL answering), systemd-analyze security at most 2.0,
// uninstall --purge, and nothing left of it. The bundles are those in units/: a new one without a case here fails.
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/system/paths.js';
import { showProperties } from '../helpers/unit-properties.js';
import { until } from '../helpers/wait-for.js';
import { describeInSandbox, type RunResult, type Sandbox } from '../helpers/sandbox.js';

const unitsDir = path.join(packageRoot, 'units');
const builtins = readdirSync(unitsDir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(path.join(unitsDir, e.name, 'bundle.yaml')))
  .map((e) => e.name)
  .sort();
const standins = path.join(packageRoot, 'test', 'fixtures', 'standins');
/** "OK" in systemd-analyze security's words, and issue 17's bar. */
const maxExposure = 2.0;

function sq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function ok(sandbox: Sandbox, script: string, input?: string): Promise<RunResult> {
  const result = await sandbox.sh(`set -e\n${script}`, input === undefined ? undefined : { input });
  if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}: ${script}\n${result.stdout}\n${result.stderr}`);
  return result;
}



interface ContractCase {
  /** What the bundle needs that is not the bundle: the application's stand-in at the guide's paths, a server. */
  setUp(sandbox: Sandbox): Promise<void>;
  /** `svcctl verify` and `svcctl install` arguments after the bundle's directory (settings), and the environment (secrets). */
  settings: string[];
  secrets?: Record<string, string>;
  /** For a bundle that requires it. */
  authorize?: boolean;
  /** After install: it does its job (a run through systemd, or the daemon answering), checked from what it left. */
  exercise(sandbox: Sandbox): Promise<void>;
  /** Removes what setUp put down (after uninstall --purge). */
  tearDown(sandbox: Sandbox): Promise<void>;
  /** The services whose exposure is scored, when the bundle's are templates (instances of them). */
  scored?: string[];
}

/** `svcctl run BUNDLE` succeeds: the job ran through systemd and exited 0. */
async function runJob(sandbox: Sandbox, bundle: string): Promise<RunResult> {
  const run = await sandbox.svcctl(['run', bundle]);
  expect({ bundle, exitCode: run.exitCode, output: run.exitCode === 0 ? '' : run.stdout + run.stderr }).toEqual({ bundle, exitCode: 0, output: '' });
  return run;
}

const redisPassword = 'contract-redis-password';
const vx11Repo = '/home/elkakas314/vx11';
const vx11Remote = `${vx11Repo}/.git/contract-remote.git`;
const plmsProject = '/opt/lnsp-phase-4';
const clerkHome = '/home/deploy';
const clerkStorage = '/srv/civic-band-sites';
const miraHome = '/opt/mira';

const miraSetUp = async (sandbox: Sandbox) => {
  // The guide's venv python and `-m uvicorn`: with the working directory /opt/mira on sys.path, the stand-in
  // /opt/mira/uvicorn.py is the uvicorn that runs. vault.service: a stand-in the daemon is ordered after.
  await ok(
    sandbox,
    [
      `mkdir -p ${miraHome}/venv/bin ${miraHome}/federation`,
      `ln -s /usr/bin/python3 ${miraHome}/venv/bin/python`,
      `cp ${sq(path.join(standins, 'mira-uvicorn.py'))} ${miraHome}/uvicorn.py`,
      `printf '[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/touch /run/contract-vault-started\\n' > /etc/systemd/system/vault.service`,
      'systemctl daemon-reload',
    ].join('\n'),
  );
};
const miraTearDown = async (sandbox: Sandbox) => {
  await ok(sandbox, `systemctl stop vault.service; rm -f /etc/systemd/system/vault.service /run/contract-vault-started; systemctl daemon-reload; systemctl reset-failed vault.service 2>/dev/null || true; rm -rf ${miraHome}`);
};
const miraSecrets = { VAULT_ROLE_ID: 'contract-role-id', VAULT_SECRET_ID: 'contract-secret-id' };

const cases: Record<string, ContractCase> = {
  'svcctl-alerts': {
    async setUp() {},
    settings: [],
    async exercise(sandbox) {
      // Its job is a watched unit's alert (alerts.test.ts sends them to real receivers); here, the templates' own
      // behaviour with nothing watched: the sender runs under the unit's hardening and says there is no channel file,
      // and the recovery template's ExecCondition= skips a unit with nothing open without starting Node.
      const failure = await sandbox.run(['systemctl', 'start', 'svcctl-alert@contract-none.service.service']);
      expect(failure.exitCode).not.toBe(0);
      const line = await until('the sender\'s line', async () => (await sandbox.run(['journalctl', '-u', 'svcctl-alert@contract-none.service.service', '-o', 'cat', '--no-pager'])).stdout.split('\n').find((l) => l.includes('has no alert channels')));
      expect(line).toBe('contract-none.service has no alert channels (/etc/svcctl/alerts/contract-none.service.json is missing): nothing sent; reinstall its bundle with --alert');
      expect((await sandbox.run(['systemctl', 'start', 'svcctl-alert-resolved@contract-none.service.service'])).exitCode).toBe(0);
      expect(await showProperties(sandbox, 'svcctl-alert-resolved@contract-none.service.service', ['ConditionResult'])).toEqual({ ConditionResult: 'no' });
    },
    async tearDown(sandbox) {
      await sandbox.run(['systemctl', 'reset-failed', 'svcctl-alert@contract-none.service.service', 'svcctl-alert-resolved@contract-none.service.service']);
    },
    // The templates as shipped, for a unit without email (docs/alerts.md, Hardening: an email channel's instance
    // drop-in gives exim what it needs, for that unit's instances only).
    scored: ['svcctl-alert@contract-none.service.service', 'svcctl-alert-resolved@contract-none.service.service', 'svcctl-alert-restart@contract-none.service.service'],
  },

  'cleanup-blocking': {
    async setUp(sandbox) {
      await ok(
        sandbox,
        [
          'umask 077 && mkdir -p /run/contract-redis',
          `printf %s ${sq(redisPassword)} > /run/contract-redis/pass`,
          `printf 'port 6379\\nbind 127.0.0.1\\nsave ""\\nappendonly no\\ndir /run/contract-redis\\nrequirepass ${redisPassword}\\n' > /run/contract-redis/redis.conf`,
          'systemd-run --quiet --unit=contract-redis /usr/bin/redis-server /run/contract-redis/redis.conf',
          'for i in $(seq 100); do redis-cli -h 127.0.0.1 PING 2>/dev/null | grep -q NOAUTH && break; sleep 0.1; done',
          `REDISCLI_AUTH=${redisPassword} redis-cli -h 127.0.0.1 MSET blocking:heartbeat:stale $(($(date +%s) - 7200)) blocking:signal:stale x blocking:heartbeat:live $(date +%s)`,
        ].join('\n'),
      );
    },
    settings: [],
    secrets: { REDIS_PASSWORD: redisPassword },
    async exercise(sandbox) {
      await runJob(sandbox, 'cleanup-blocking');
      const keys = (await ok(sandbox, `REDISCLI_AUTH=${redisPassword} redis-cli -h 127.0.0.1 --scan`)).stdout.trim().split('\n').sort();
      expect(keys).toEqual(['blocking:heartbeat:live']);
    },
    async tearDown(sandbox) {
      await ok(sandbox, 'systemctl stop contract-redis; systemctl reset-failed contract-redis 2>/dev/null || true; rm -rf /run/contract-redis');
    },
  },

  'clerk-reconcile': {
    async setUp(sandbox) {
      // The deployment's owner, its checkout with a stand-in clerk in the venv, and a storage directory.
      const clerk = `#!/bin/sh
[ "$1 $2" = "reconcile-pipeline --threshold-hours" ] || { echo "stand-in clerk: unexpected arguments: $*" >&2; exit 64; }
date -u > "$STORAGE_DIR/reconciled"
if touch "$PWD/written-by-clerk" 2>/dev/null; then where=writable; else where=read-only; fi
echo "stand-in clerk: threshold $3 h, storage $STORAGE_DIR, working directory $PWD ($where), user $(id -un)"
`;
      await ok(
        sandbox,
        [
          `useradd --create-home --home-dir ${clerkHome} --shell /bin/sh deploy`,
          `mkdir -p ${clerkHome}/civic-band/.venv/bin ${clerkStorage}`,
          `cat > ${clerkHome}/civic-band/.venv/bin/clerk && chmod 0755 ${clerkHome}/civic-band/.venv/bin/clerk`,
          `chown -R deploy:deploy ${clerkHome}/civic-band ${clerkStorage}`,
        ].join('\n'),
        clerk,
      );
    },
    settings: ['--set', `STORAGE_DIR=${clerkStorage}`],
    async exercise(sandbox) {
      const run = await runJob(sandbox, 'clerk-reconcile');
      expect(run.stdout + run.stderr).toContain(`stand-in clerk: threshold 2 h, storage ${clerkStorage}, working directory ${clerkHome}/civic-band (read-only), user deploy`);
      expect((await sandbox.run(['test', '-s', `${clerkStorage}/reconciled`])).exitCode).toBe(0);
    },
    async tearDown(sandbox) {
      await ok(sandbox, `userdel deploy; rm -rf ${clerkHome} ${clerkStorage} /var/mail/deploy`);
    },
  },

  'mira-federation-discovery': {
    setUp: miraSetUp,
    settings: [],
    secrets: miraSecrets,
    async exercise(sandbox) {
      const peers = await sandbox.run(['python3', '-c', 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:1113/api/v1/peers", timeout=10).read().decode())']);
      expect(peers).toMatchObject({ exitCode: 0, stdout: '[]' });
      const facts = JSON.parse((await ok(sandbox, `cat ${miraHome}/data/standin-facts.json`)).stdout) as Record<string, unknown>;
      expect(facts).toEqual({ host: '127.0.0.1', port: 1113, cwd: miraHome, vault_addr: 'http://localhost:8200', vault_credentials: true, writes_data: true, writes_code: false });
      // Ordered after PostgreSQL and Vault, it started neither (the host's PostgreSQL is installed here).
      expect(await showProperties(sandbox, 'vault.service', ['ActiveState'])).toEqual({ ActiveState: 'inactive' });
      expect(await showProperties(sandbox, 'postgresql.service', ['ActiveState'])).toEqual({ ActiveState: 'inactive' });
      // WANTS= opts in: the install restarts the daemon, which now starts vault.service with it.
      const wanting = await sandbox.svcctl(['install', 'mira-federation-discovery', '--yes', '--set', 'WANTS=vault.service'], { env: secretEnv(miraSecrets) });
      expect(wanting.exitCode).toBe(0);
      expect(await showProperties(sandbox, 'vault.service', ['ActiveState'])).toEqual({ ActiveState: 'active' });
      expect((await sandbox.svcctl(['install', 'mira-federation-discovery', '--yes', '--set', 'WANTS='])).exitCode).toBe(0);
    },
    tearDown: miraTearDown,
  },

  'plms-invariants': {
    async setUp(sandbox) {
      // The project, copied to the guide's path (its step 1), with a stand-in scripts/run_invariants.sh.
      const script = `#!/bin/sh
for key in DB_PATH ENV_NAME SLACK_WEBHOOK_URL PD_ROUTING_KEY; do eval "[ -n \\"\\$$key\\" ]" || { echo "stand-in: $key is not set" >&2; exit 1; }; done
date -u > logs/invariants.log
date -u > artifacts/report.txt
if touch scripts/written-by-job 2>/dev/null; then where=writable; else where=read-only; fi
echo "stand-in run_invariants: $ENV_NAME, database $DB_PATH, in $PWD as $(id -un), scripts $where"
`;
      await ok(sandbox, `mkdir -p ${plmsProject}/scripts && cat > ${plmsProject}/scripts/run_invariants.sh && chmod 0755 ${plmsProject}/scripts/run_invariants.sh`, script);
    },
    settings: ['--set', `DB_PATH=${plmsProject}/data/plms.db`, '--set', 'ENV_NAME=contract'],
    secrets: { SLACK_WEBHOOK_URL: 'https://hooks.slack.example/services/T0/B0/contract', PD_ROUTING_KEY: 'contract-routing-key' },
    async exercise(sandbox) {
      const run = await runJob(sandbox, 'plms-invariants');
      expect(run.stdout + run.stderr).toContain(`stand-in run_invariants: contract, database ${plmsProject}/data/plms.db, in ${plmsProject} as plms, scripts read-only`);
      expect((await ok(sandbox, `stat -c '%U %a' ${plmsProject}/logs/invariants.log ${plmsProject}/artifacts/report.txt /etc/default/plms-invariants`)).stdout.split('\n').slice(0, 3)).toEqual([
        'plms 640',
        'plms 640',
        'root 640',
      ]);
      // Daily at 02:00 New York time, in the timer's own zone.
      expect((await showProperties(sandbox, 'plms-invariants.timer', ['TimersCalendar'])).TimersCalendar).toContain('OnCalendar=*-*-* 02:00:00 America/New_York');
      // Its secrets live in /etc/default/plms-invariants: secret set and rotate write them there, settings kept.
      await ok(sandbox, "umask 077 && printf 'https://hooks.slack.example/services/T0/B0/set' > /root/slack.new && printf 'rotated-routing-key' > /root/pd.new");
      const set = await sandbox.svcctl(['secret', 'set', 'plms-invariants', 'SLACK_WEBHOOK_URL', '--from-file', '/root/slack.new']);
      expect({ exitCode: set.exitCode, stderr: set.stderr }).toMatchObject({ exitCode: 0 });
      const rotate = await sandbox.svcctl(['secret', 'rotate', 'plms-invariants', 'PD_ROUTING_KEY', '--from-file', '/root/pd.new']);
      expect({ exitCode: rotate.exitCode, stderr: rotate.stderr }).toMatchObject({ exitCode: 0, stderr: expect.stringContaining('write the new PD_ROUTING_KEY to /etc/default/plms-invariants') });
      const config = (await ok(sandbox, 'cat /etc/default/plms-invariants')).stdout;
      expect(config).toContain('B0/set');
      expect(config).toContain('rotated-routing-key');
      expect(config).toContain(`DB_PATH="${plmsProject}/data/plms.db"`);
      expect(config).not.toContain('contract-routing-key');
      expect((await ok(sandbox, "stat -c '%U:%G %a' /etc/default/plms-invariants")).stdout.trim()).toBe('root:plms 640');
      expect((await sandbox.run(['test', '-e', '/etc/svcctl/plms-invariants/secrets.env'])).exitCode).toBe(1);
      const listed = JSON.parse((await sandbox.svcctl(['secret', 'list', 'plms-invariants', '--json'])).stdout) as { secrets: { key: string; set: boolean }[] };
      expect(listed.secrets.map((s) => [s.key, s.set])).toEqual([['SLACK_WEBHOOK_URL', true], ['PD_ROUTING_KEY', true]]);
      expect((await sandbox.svcctl(['status', 'plms-invariants'])).stdout).toMatch(/drift: +none/);
      // The rotated job ran with the new value.
      expect((await runJob(sandbox, 'plms-invariants')).stdout).toContain('stand-in run_invariants: contract');
    },
    async tearDown(sandbox) {
      await ok(sandbox, `rm -rf ${plmsProject} /root/slack.new /root/pd.new`);
    },
  },

  'vx11-autosync': {
    async setUp(sandbox) {
      // The guide's repository, root's, with a remote inside it (the service may write only the repository).
      await ok(
        sandbox,
        [
          `git init -q -b main ${vx11Repo}`,
          `git -C ${vx11Repo} config user.name Contract && git -C ${vx11Repo} config user.email contract@vx11.example`,
          `git init -q --bare -b main ${vx11Remote}`,
          `git -C ${vx11Repo} remote add vx_11_remote ${vx11Remote}`,
          `echo first > ${vx11Repo}/a.txt && git -C ${vx11Repo} add -A && git -C ${vx11Repo} commit -qm initial && git -C ${vx11Repo} push -q vx_11_remote main`,
        ].join('\n'),
      );
    },
    settings: [],
    authorize: true,
    async exercise(sandbox) {
      await ok(sandbox, `echo changed >> ${vx11Repo}/a.txt`);
      await runJob(sandbox, 'vx11-autosync');
      const head = (await ok(sandbox, `git -C ${vx11Repo} rev-parse HEAD`)).stdout.trim();
      expect((await ok(sandbox, `git -C ${vx11Remote} rev-parse main`)).stdout.trim()).toBe(head);
      expect((await ok(sandbox, `git -C ${vx11Repo} status --porcelain`)).stdout).toBe('');
    },
    async tearDown(sandbox) {
      await ok(sandbox, 'rm -rf /home/elkakas314');
    },
  },
};

function secretEnv(secrets: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(secrets).map(([k, v]) => [`SVCCTL_SECRET_${k}`, v]));
}

/** systemd-analyze security's overall exposure of an installed unit. */
async function exposure(sandbox: Sandbox, unit: string): Promise<number> {
  const result = await sandbox.run(['systemd-analyze', 'security', '--no-pager', unit]);
  const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(result.stdout + result.stderr);
  if (!match) throw new Error(`no exposure level for ${unit}: ${result.stdout}${result.stderr}`);
  return Number(match[1]);
}

describeInSandbox('the contract of every built-in bundle', (sandbox) => {
  test('every bundle in units/ has a case here', () => {
    expect(builtins.length).toBeGreaterThanOrEqual(5);
    expect(Object.keys(cases).sort()).toEqual(builtins);
  });

  test('svcctl bundles lists every built-in bundle', async () => {
    const listed = await sandbox.svcctl(['bundles', '--json']);
    expect(listed.exitCode).toBe(0);
    const names = (JSON.parse(listed.stdout) as { bundles: { name: string; source: string }[] }).bundles.filter((b) => b.source.startsWith(unitsDir)).map((b) => b.name);
    expect(names.sort()).toEqual(builtins);
  });

  test.each(builtins)('%s: verify, install, status and check OK, its job done, exposure at most 2.0, uninstall --purge leaves nothing', async (name) => {
    const contract = cases[name];
    if (!contract) throw new Error(`units/${name} has no contract case in test/integration/contract.test.ts`);
    const dir = path.join(unitsDir, name);
    const env = secretEnv(contract.secrets);
    await contract.setUp(sandbox);
    let passed = false;
    try {
      await keepsContract(name, dir, env, contract);
      passed = true;
    } finally {
      // A bundle that broke its contract leaves the sandbox clean for the next one all the same.
      if (!passed) {
        await sandbox.svcctl(['uninstall', name, '--purge', '--yes', '--force']);
        await contract.tearDown(sandbox).catch(() => undefined);
      }
    }
  }, 180_000);

  async function keepsContract(name: string, dir: string, env: Record<string, string>, contract: ContractCase): Promise<void> {

    const verify = await sandbox.svcctl(['verify', dir, ...contract.settings]);
    expect({ name, verify: verify.exitCode, output: verify.exitCode === 0 ? '' : verify.stdout + verify.stderr }).toEqual({ name, verify: 0, output: '' });
    const install = await sandbox.svcctl(['install', name, '--yes', ...contract.settings, ...(contract.authorize ? ['--authorize', 'svcctl contract test'] : [])], { env, input: '' });
    expect({ name, install: install.exitCode, output: install.exitCode === 0 ? '' : install.stderr }).toEqual({ name, install: 0, output: '' });
    const status = JSON.parse((await sandbox.svcctl(['status', name, '--json'])).stdout) as { health: string; units: { unit: string }[] };
    expect({ name, health: status.health }).toEqual({ name, health: 'ok' });

    await contract.exercise(sandbox);
    const check = await sandbox.svcctl(['check', name]);
    expect({ name, check: check.exitCode, line: check.stdout.split(' |')[0] }).toEqual({ name, check: 0, line: expect.stringMatching(new RegExp(`^SVCCTL OK - ${name}: `)) });

    const units = status.units.map((u) => u.unit);
    const services = contract.scored ?? units.filter((u) => u.endsWith('.service'));
    expect(services.length).toBeGreaterThan(0);
    for (const service of services) {
      const level = await exposure(sandbox, service);
      process.stderr.write(`exposure of ${service}: ${level}\n`);
      expect({ service, level, ok: level <= maxExposure }).toEqual({ service, level, ok: true });
    }

    const uninstall = await sandbox.svcctl(['uninstall', name, '--purge', '--yes']);
    expect({ name, uninstall: uninstall.exitCode, output: uninstall.exitCode === 0 ? '' : uninstall.stderr }).toEqual({ name, uninstall: 0, output: '' });
    // systemd's own state (which `sandbox changes` does not judge): no Persistent= stamp of its timers is left.
    for (const timer of units.filter((u) => u.endsWith('.timer'))) expect({ timer, stamp: existsIn(await sandbox.run(['test', '-e', `/var/lib/systemd/timers/stamp-${timer}`])) }).toEqual({ timer, stamp: false });
    await contract.tearDown(sandbox);
    await sandbox.run(['systemctl', 'reset-failed']);
    expect({ name, left: await sandbox.changes() }).toEqual({ name, left: [] });
  }

  test('mira-federation-discovery: with port 1113 taken the install fails, the journal names the holder, and nothing is left', async () => {
    await miraSetUp(sandbox);
    await ok(sandbox, 'systemd-run --quiet --unit=contract-port-holder /usr/bin/python3 -m http.server 1113 --bind 127.0.0.1');
    await until('the holder to listen on 1113', async () => ((await sandbox.run(['ss', '-Hltn', 'sport = :1113'])).stdout.trim() ? true : undefined));
    const holderPid = (await showProperties(sandbox, 'contract-port-holder.service', ['MainPID'])).MainPID;

    const install = await sandbox.svcctl(['install', 'mira-federation-discovery', '--yes'], { env: secretEnv(miraSecrets) });
    expect(install.exitCode).toBe(1);
    expect(install.stderr).toContain('mira-federation-discovery.service');
    expect(install.stderr).toContain('the host is as it was before');
    const journal = await until('the port check\'s line in the journal', async () => {
      const text = (await sandbox.run(['journalctl', '-u', 'mira-federation-discovery.service', '-o', 'cat', '--no-pager'])).stdout;
      return text.includes('port 1113 is already in use') ? text : undefined;
    });
    expect(journal).toContain(`error: port 1113 is already in use: 127.0.0.1:1113 by python3 (PID ${holderPid}, user root, unit contract-port-holder.service); mira-federation-discovery is not started`);
    expect((await sandbox.run(['test', '-e', '/etc/systemd/system/mira-federation-discovery.service'])).exitCode).toBe(1);

    await ok(sandbox, 'systemctl stop contract-port-holder');
    await miraTearDown(sandbox);
    await sandbox.run(['systemctl', 'reset-failed']);
    expect(await sandbox.changes()).toEqual([]);
  }, 120_000);
});

function existsIn(result: RunResult): boolean {
  return result.exitCode === 0;
}
