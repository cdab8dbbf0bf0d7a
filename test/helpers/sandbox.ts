// Integration-test harness: boots one real systemd sandbox per test file and runs the built CLI inside it.
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { insideArgv, sandboxChanges as listChanges, startSandbox, stopSandbox, type SandboxChange, type SandboxRecord } from '../../src/system/sandbox.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** Why the sandbox tests cannot run here, or undefined when they can. In CI they always must. */
export const sandboxUnavailable: string | undefined = isRoot || inCi ? undefined : 'not root: the sandbox needs root (run `sudo npm test`); in CI these tests always run';

let warned = false;

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface Sandbox {
  record(): SandboxRecord;
  /** Runs argv inside the sandbox as root. */
  run(argv: string[], options?: { input?: string; env?: Record<string, string>; timeoutMs?: number; cwd?: string }): Promise<RunResult>;
  /** Runs a shell script inside the sandbox. */
  sh(script: string, options?: { input?: string; env?: Record<string, string> }): Promise<RunResult>;
  /** Runs the built svcctl CLI inside the sandbox. */
  svcctl(args: string[], options?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult>;
  /** Runs the test build (bin/svcctl-test.js: SVCCTL_FAULT_INJECTION, SVCCTL_TEST_TOOL_PATH) inside the sandbox. */
  svcctlTest(args: string[], options?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult>;
  changes(): Promise<SandboxChange[]>;
}

/**
 * describe() whose tests run against a fresh sandbox booted in beforeAll and stopped in afterAll.
 * Outside CI and without root the block is skipped with one loud line; in CI it always runs and a
 * sandbox that cannot start fails the suite.
 */
export function describeInSandbox(title: string, body: (sandbox: Sandbox) => void): void {
  if (sandboxUnavailable) {
    if (!warned) {
      process.stderr.write(`\n*** SANDBOX TESTS SKIPPED: ${sandboxUnavailable} ***\n\n`);
      warned = true;
    }
    describe.skip(title, () => body(undefined as unknown as Sandbox));
    return;
  }
  const name = `t-${createHash('sha256').update(`${title}:${process.pid}:${Date.now()}`).digest('hex').slice(0, 10)}`;
  let record: SandboxRecord | undefined;
  const sandbox: Sandbox = {
    record: () => {
      if (!record) throw new Error('sandbox not started');
      return record;
    },
    async run(argv, options = {}) {
      const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
      const full = insideArgv(sandbox.record().pid, env.length > 0 ? ['env', ...env, ...argv] : argv, { cwd: options.cwd });
      const [file, ...args] = full;
      const result = await execa(file!, args, { input: options.input ?? '', reject: false, timeout: options.timeoutMs ?? 120_000, env: { NO_COLOR: '1' } });
      return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 128 };
    },
    sh: (script, options) => sandbox.run(['/bin/sh', '-c', script], options),
    svcctl: (args, options) => sandbox.run(['svcctl', ...args], options),
    svcctlTest: (args, options) => sandbox.run(['svcctl-test', ...args], options),
    changes: () => listChanges(name),
  };
  describe(title, () => {
    beforeAll(async () => {
      record = await startSandbox(name);
    }, 60_000);
    afterAll(async () => {
      if (record) await stopSandbox(name);
    }, 60_000);
    body(sandbox);
  });
}
