// The run flow: start a bundle's service now, stream the output of this run only (by its invocation id), report its exit status.
import { EndedEarly, OperationError, UserError } from '../core/errors.js';
import { exitCodeOf, startVerdictOf, unitStateOf, unitStateProperties, type LastRun, type UnitProperties } from '../core/unit-state.js';
import type { ExecResult } from '../system/exec.js';
import { watchInterrupt } from '../system/interrupt.js';
import { requireRoot } from '../system/privileges.js';
import { clockNow, SystemdClient } from '../system/systemd.js';
import { sleep } from '../system/processes.js';
import { findInstalled } from './installed.js';
import { targetFor, type ScopeOptions } from './target.js';

export interface RunOptions extends ScopeOptions {
  /** Stream the run's output (--no-follow: only wait and report). */
  follow: boolean;
  /** Where each output line goes (stdout for humans; collected for --json). */
  emit: (line: string) => void;
  /** For a daemon: how long to show its first lines after it started. */
  daemonWindowMs?: number;
}

export interface RunResult {
  bundle: string;
  service: string;
  /** oneshot (runs to completion) or a daemon (simple, exec, notify, forking, ...). */
  type: string;
  /** started, restarted (a running daemon), or joined (a oneshot run already under way, e.g. fired by its timer). */
  action: 'started' | 'restarted' | 'joined';
  invocationId: string;
  /** The run as systemd reports it once it ended (a oneshot) or once the daemon is up. */
  run: LastRun;
  /** The daemon's state after its first lines: active/running, or failed. */
  activeState: string;
  subState: string;
  mainPid: number | null;
  /** svcctl's exit code: the service's exit status (128+N for a signal, 1 for other failures), 0 for a daemon that is up. */
  exitCode: number;
  /** Lines of this run's output that were shown. */
  lines: number;
}

const pollMs = 100;
const firstLines = 10;

export async function runBundle(reference: string, options: RunOptions): Promise<RunResult> {
  if (!options.user) requireRoot('svcctl run');
  const target = await targetFor(options);
  const installed = await findInstalled(reference, { command: 'svcctl run', needs: 'receipt', accept: 'complete', target });
  const service = installed.service;
  if (!service) throw new UserError(`bundle ${installed.bundle} has no service to run`, 'see `svcctl status ' + installed.bundle + '` for its units');
  const systemd = new SystemdClient(target);
  await systemd.requireRunning();

  const show = async (): Promise<UnitProperties> => ((await systemd.show([service], unitStateProperties, { utc: true })) as Record<string, UnitProperties>)[service] ?? {};
  const before = await show();
  if (before.LoadState !== 'loaded') throw new OperationError(`${service} is not loaded (${before.LoadState || 'unknown'})`, `see \`svcctl status ${installed.bundle}\`; reinstalling the bundle restores its units`);
  const type = before.Type || 'simple';
  const oneshot = type === 'oneshot';
  // A oneshot already running (its timer fired) is followed rather than queued behind; a running daemon is restarted.
  const action: RunResult['action'] = oneshot
    ? before.ActiveState === 'activating'
      ? 'joined'
      : before.ActiveState === 'active' // RemainAfterExit=yes: `start` would do nothing
        ? 'restarted'
        : 'started'
    : before.ActiveState === 'inactive' || before.ActiveState === 'failed'
      ? 'started'
      : 'restarted';
  // `systemctl start` of a oneshot returns when the run has ended; of a daemon, once it is up. Meanwhile we poll
  // for the new InvocationID and read its journal by cursor: no follower process to stop when the run ends.
  let startResult: ExecResult | undefined;
  const starting = action === 'joined' ? Promise.resolve() : systemd.unitVerb(action === 'restarted' ? 'restart' : 'start', [service], { check: false }).then((r) => void (startResult = r));
  const startDone = () => action === 'joined' || startResult !== undefined;

  let invocationId = action === 'joined' ? (before.InvocationID ?? '') : '';
  let cursor: string | undefined;
  let lines = 0;
  const began = Date.now();
  const window = options.daemonWindowMs ?? 2000;
  let props: UnitProperties = before;
  // The last state seen of our own invocation: with a fast timer, a later run may begin before we look again.
  let ours: UnitProperties | undefined;
  // ExecMainPID is the previous run's until this one forks its main process: trust it once the main
  // process's start time has changed (or, for a joined run, once it was already running).
  const mainPidOfThisRun = (): number | undefined => {
    const pid = Number(ours?.ExecMainPID ?? '0');
    const forked = ours?.ExecMainStartTimestampMonotonic !== before.ExecMainStartTimestampMonotonic || (action === 'joined' && Number(before.MainPID ?? '0') > 0);
    return ours && forked && pid > 0 ? pid : undefined;
  };
  const drain = async () => {
    if (!options.follow || !invocationId) return;
    const mainPid = mainPidOfThisRun();
    const read = await readJournal(systemd, { invocationId, unit: service, ...(mainPid ? { mainPid } : {}) }, cursor);
    cursor = read.cursor ?? cursor;
    for (const line of read.lines) options.emit(line);
    lines += read.lines.length;
  };

  // Ctrl-C stops following and leaves the service running; src/cli.ts ends svcctl with 130 at once.
  const interrupt = watchInterrupt();
  const stopIfInterrupted = () => {
    if (interrupt.happened) throw new EndedEarly(130, `\nstopped following; ${service} goes on (see \`svcctl logs ${installed.bundle} -f\`)`);
  };
  try {
    for (;;) {
      stopIfInterrupted();
      const ended = startDone(); // read before the query, so the last query sees the finished run
      props = await show();
      if (!invocationId && props.InvocationID && props.InvocationID !== before.InvocationID) invocationId = props.InvocationID;
      if (invocationId && props.InvocationID === invocationId) ours = props;
      await drain();
      if (oneshot) {
        if (action === 'joined' ? props.InvocationID !== invocationId || !['activating', 'deactivating'].includes(props.ActiveState ?? '') : ended) break;
      } else if (ended) {
        const now = unitStateOf(service, props, clockNow());
        const failing = now.failed || now.active === 'inactive';
        if (failing || Date.now() - began >= window || lines >= firstLines || !invocationId) break;
      }
      await Promise.race([sleep(pollMs), interrupt.arrived]);
    }
    await Promise.race([starting, interrupt.arrived]);
    stopIfInterrupted();
  } finally {
    interrupt.dispose();
  }

  if (!invocationId) {
    // No new run began. The usual cause is systemd's start rate limit (StartLimitBurst=, 5 starts in 10 s by
    // default), which systemctl reports with the previous failure's words.
    const said = (startResult?.stderr.trim() || `${service} did not start`).split('\n')[0];
    throw new OperationError(
      `could not start ${service}: systemd began no new run (${props.ActiveState}/${props.SubState}); systemctl said: ${said}`,
      `if it was started many times in a row, its start rate limit refused it: wait a few seconds or run \`systemctl reset-failed ${service}\`; see \`svcctl status ${installed.bundle}\` and \`svcctl logs ${installed.bundle}\``,
    );
  }
  // journald may still hold the last lines the process wrote just before it exited: flush, then read once more.
  if (options.follow) {
    await systemd.journalSync();
    await drain();
  }
  props = ours ?? props;
  const state = unitStateOf(service, props, clockNow());
  let run: LastRun = state.lastRun!;
  if (oneshot && run.state === 'running' && startResult) {
    // A fast timer started the next run before we could read how ours ended: `systemctl start` still says
    // whether it succeeded, though not with which status.
    run = startResult.exitCode === 0
      ? { ...run, state: 'success', result: 'success', exitStatus: 0, text: 'success' }
      : { ...run, state: 'failed', result: 'unknown', exitStatus: null, signal: null, text: 'failed (exit status not known: the next run had begun)' };
  }
  const up = !oneshot && startVerdictOf(state) === 'active';
  const exitCode = oneshot ? exitCodeOf(run) : up ? 0 : exitCodeOf(run.state === 'success' || run.state === 'running' ? { ...run, state: 'failed' } : run);
  return {
    bundle: installed.bundle,
    service,
    type,
    action,
    invocationId,
    run,
    activeState: props.ActiveState ?? '',
    subState: props.SubState ?? '',
    mainPid: state.mainPid ?? null,
    exitCode,
    lines,
  };
}

/**
 * The entries of one run after `cursor`, as `journalctl -o cat` prints them, and the new cursor. A run is
 * its invocation id; but journald leaves _SYSTEMD_INVOCATION_ID out when the process has exited before it
 * reads the line (about one line in ten for a 20 ms oneshot here), so lines of the unit from the run's main
 * PID count too: stdout and stderr reach journald through a stream the main process opened.
 */
async function readJournal(systemd: SystemdClient, run: { invocationId: string; unit: string; mainPid?: number }, cursor: string | undefined): Promise<{ lines: string[]; cursor?: string }> {
  const match = [`_SYSTEMD_INVOCATION_ID=${run.invocationId}`, ...(run.mainPid ? ['+', `${systemd.unitField}=${run.unit}`, `_PID=${run.mainPid}`] : [])];
  const argv = [...match, '--output', 'cat', '--no-pager', '--quiet', '--show-cursor'];
  if (cursor) argv.push(`--after-cursor=${cursor}`);
  // journalctl exits 1 when nothing matched yet: not an error here.
  const result = await systemd.journal(argv);
  const lines = result.stdout.replace(/\n$/, '').split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (!last.startsWith('-- cursor: ')) return { lines: [] };
  return { lines: lines.slice(0, -1), cursor: last.slice('-- cursor: '.length) };
}
