// Runs rendered tmpfiles.d and sysusers.d text through systemd's real tools in a scratch root and returns what they report.
//
// The tools exit 0 for many lines they ignore or misread (a `d` line with a stray argument, a conflicting
// user line), so every message they print at notice level or above is a problem. Each run gets a fresh
// scratch directory under SVCCTL_TMPDIR (or the OS temp dir), removed afterwards whatever happens; the
// config file lives beside the scratch root, not in it, so nothing of the host is read as configuration.
// Limits of a scratch root: a line naming a user that exists only on the host fails to resolve (pass
// `sysusers` lines or `passwd`/`group` text), and specifiers that need the host's /etc (%m, %o…) are
// skipped silently — svcctl's renderers never leave a specifier unescaped.
import os from 'node:os';
import path from 'node:path';
import { exec, tool } from './exec.js';
import { fsp } from './fs.js';

export interface LineProblem {
  tool: 'systemd-tmpfiles' | 'systemd-sysusers';
  /** The 1-based line of the checked text the message is about, when the tool says. */
  line?: number;
  message: string;
}

export interface TmpfilesCheckOptions {
  /** sysusers.d text applied to the scratch root first, so that the users and groups it creates resolve. */
  sysusers?: string;
  /** /etc/passwd and /etc/group contents for the scratch root (e.g. the target's own), before `sysusers`. */
  passwd?: string;
  group?: string;
}

/** What systemd-sysusers --dry-run says about `text` (one sysusers.d file) in an empty scratch root. */
export async function checkSysusersText(text: string): Promise<LineProblem[]> {
  return withScratch(async (scratch) => {
    const conf = await writeConf(scratch, 'check-sysusers.conf', text);
    return runTool('systemd-sysusers', ['--dry-run', `--root=${scratch.root}`, conf], conf, scratch.root);
  });
}

/**
 * What systemd-tmpfiles --create says about `text` (one tmpfiles.d file), run for real in a scratch root
 * (with --boot, so that boot-only `!` lines are read too rather than skipped unread).
 */
export async function checkTmpfilesText(text: string, options: TmpfilesCheckOptions = {}): Promise<LineProblem[]> {
  return withScratch(async (scratch) => {
    const problems: LineProblem[] = [];
    const etc = path.join(scratch.root, 'etc');
    await fsp.mkdir(etc, { recursive: true, mode: 0o755 });
    if (options.passwd !== undefined) await fsp.writeFile(path.join(etc, 'passwd'), options.passwd, { mode: 0o644 });
    if (options.group !== undefined) await fsp.writeFile(path.join(etc, 'group'), options.group, { mode: 0o644 });
    if (options.sysusers !== undefined) {
      const users = await writeConf(scratch, 'check-sysusers.conf', options.sysusers);
      problems.push(...(await runTool('systemd-sysusers', [`--root=${scratch.root}`, users], users, scratch.root)));
    }
    // h/H lines set file attributes: an immutable (+i) path would outlive the scratch directory's removal.
    const lines = text.split('\n').map((line, index) => {
      if (!/^\s*[hH]/.test(line)) return line;
      problems.push({ tool: 'systemd-tmpfiles', line: index + 1, message: 'h/H lines (file attributes) are not checked in a scratch root' });
      return '#';
    });
    const conf = await writeConf(scratch, 'check-tmpfiles.conf', lines.join('\n'));
    const found = await runTool('systemd-tmpfiles', ['--create', '--boot', `--root=${scratch.root}`, conf], conf, scratch.root);
    // Without root (install --dry-run, verify) the tool has read every line but may not give a path to another
    // owner: that refusal says nothing about the line, and the owner itself was resolved (it would say so otherwise).
    const unprivileged = process.geteuid?.() !== 0;
    problems.push(...found.filter((p) => !(unprivileged && /^fchownat\(\) of .* failed: Operation not permitted$/.test(p.message))));
    return problems;
  });
}

interface Scratch {
  dir: string;
  root: string;
}

async function withScratch<T>(body: (scratch: Scratch) => Promise<T>): Promise<T> {
  const dir = await fsp.mkdtemp(path.join(process.env.SVCCTL_TMPDIR ?? os.tmpdir(), 'svcctl-line-check-'));
  try {
    const root = path.join(dir, 'root');
    await fsp.mkdir(root, { mode: 0o755 });
    return await body({ dir, root });
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function writeConf(scratch: Scratch, name: string, text: string): Promise<string> {
  const file = path.join(scratch.dir, name);
  await fsp.writeFile(file, text, { mode: 0o600 });
  return file;
}

async function runTool(name: LineProblem['tool'], args: string[], conf: string, root: string): Promise<LineProblem[]> {
  // notice, not info: the info messages ("Creating user …") are the tool doing its job, everything above is not.
  const result = await exec([tool(name), ...args], { check: false, env: { SYSTEMD_LOG_LEVEL: 'notice', SYSTEMD_LOG_COLOR: '0', SYSTEMD_LOG_LOCATION: '0' } });
  const problems: LineProblem[] = [];
  for (const raw of `${result.stderr}\n${result.stdout}`.split('\n')) {
    const text = raw.trim();
    if (text === '') continue;
    const located = text.startsWith(`${conf}:`) ? /^:(\d+): (.*)$/.exec(text.slice(conf.length)) : null;
    // Paths inside the scratch root are shown as the target paths they stand for.
    const message = (located ? located[2]! : text).split(root).join('');
    problems.push(located ? { tool: name, line: Number(located[1]), message } : { tool: name, message });
  }
  if (problems.length === 0 && result.exitCode !== 0) problems.push({ tool: name, message: `${name} exited with ${result.exitCode}` });
  return problems;
}
