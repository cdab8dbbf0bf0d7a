// The text of `svcctl run`: the run's own output lines on stdout, and one line on stderr about how it went.
import { formatSpan } from '../core/time.js';
import type { RunResult } from '../flows/run.js';
import { onReaderGone, style } from './output.js';

/** One line for the human on stderr about how the run went. */
export function describeRun(result: RunResult): { ok: boolean; text: string } {
  const { run } = result;
  if (result.type !== 'oneshot') {
    const pid = result.mainPid ? `, main PID ${result.mainPid}` : '';
    return result.exitCode === 0
      ? { ok: true, text: `${result.service} ${result.action}: ${result.activeState} (${result.subState})${pid}` }
      : { ok: false, text: `${result.service} ${result.action} but is ${result.activeState} (${result.subState}): ${run.text}` };
  }
  const took = run.durationMs !== null ? ` in ${formatSpan(run.durationMs * 1000)}` : '';
  const joined = result.action === 'joined' ? ' (joined a run already under way)' : '';
  return run.state === 'success'
    ? { ok: true, text: `${result.service} succeeded${took}${joined}` }
    : { ok: false, text: `${result.service} failed: ${run.text}${took}${joined} → exit ${result.exitCode}` };
}

/** The stderr line: a mark and the description. */
export function renderRunOutcome(result: RunResult): string {
  const { ok, text } = describeRun(result);
  return `${ok ? style.green('✔') : style.red('✖')} ${text}`;
}

/**
 * Where the run's output lines go: into `collect` (--json), else to stdout until its reader leaves (`| head -1`).
 * Either way svcctl then carries on to the run's exit status instead of ending at once (src/cli.ts's default).
 */
export function runOutputWriter(collect?: string[]): (line: string) => void {
  let readerGone = false;
  onReaderGone(() => {
    readerGone = true;
  });
  if (collect) return (line) => void collect.push(line);
  return (line) => {
    if (!readerGone) process.stdout.write(`${line}\n`);
  };
}
