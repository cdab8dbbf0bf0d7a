// The registry of step kinds: one line per kind. A plan's Actions are described, shown as data and merged through
// it; src/apply/index.ts holds the executor of each (a test checks both list the same kinds).
import type { Action, ActionKind, ActionOf, StepKind } from './types.js';
import { applySysusers } from './apply-sysusers.js';
import { applyTmpfiles } from './apply-tmpfiles.js';
import { checkActive } from './check-active.js';
import { checkHealth } from './check-health.js';
import { checkInstalled } from './check-installed.js';
import { checkTimer } from './check-timer.js';
import { daemonReload } from './daemon-reload.js';
import { enable } from './enable.js';
import { makeDirectory } from './make-directory.js';
import { purgeDirectory } from './purge-directory.js';
import { removeDirectory } from './remove-directory.js';
import { removeFile } from './remove-file.js';
import { removeUser } from './remove-user.js';
import { resetFailed } from './reset-failed.js';
import { restart } from './restart.js';
import { restoreDirectory } from './restore-directory.js';
import { runJob } from './run-job.js';
import { stopDisable } from './stop-disable.js';
import { stopUserProcesses } from './stop-user-processes.js';
import { writeFile } from './write-file.js';

export const stepKinds: { [K in ActionKind]: StepKind<ActionOf<K>> } = {
  'make-directory': makeDirectory,
  'write-file': writeFile,
  'remove-file': removeFile,
  'remove-directory': removeDirectory,
  'purge-directory': purgeDirectory,
  'restore-directory': restoreDirectory,
  'apply-sysusers': applySysusers,
  'apply-tmpfiles': applyTmpfiles,
  'remove-user': removeUser,
  'stop-user-processes': stopUserProcesses,
  'daemon-reload': daemonReload,
  enable,
  'stop-disable': stopDisable,
  restart,
  'reset-failed': resetFailed,
  'check-active': checkActive,
  'check-timer': checkTimer,
  'run-job': runJob,
  'check-health': checkHealth,
  'check-installed': checkInstalled,
};

function kindOf<A extends Action>(action: A): StepKind<A> {
  return stepKinds[action.kind] as unknown as StepKind<A>;
}

export function describeAction(action: Action): string {
  return kindOf(action).describe(action);
}

/** The Action as --json shows it: with its description, what is there before and what will be after, never a file's content. */
export function actionAsData(action: Action): Record<string, unknown> {
  return { ...kindOf(action).data(action), description: describeAction(action) };
}

/** The lines shown under a step in the plan. */
export function detailOf(action: Action): string[] {
  return kindOf(action).detail?.(action) ?? [];
}

export function touchesOf(action: Action): { paths: string[]; units: string[] } {
  return kindOf(action).touches(action);
}

/**
 * Joins the plans of several bundles into one transaction: the collective kinds placed "first" (stop and
 * disable, shared directories), every bundle's own steps in order, then the collective kinds placed "last"
 * in the registry's order — one daemon-reload, one `enable` for every unit, one restart, one check.
 */
export function mergeActions(plans: Action[][]): Action[] {
  const all = plans.flat();
  const kinds = Object.keys(stepKinds) as ActionKind[];
  const collective = (placement: 'first' | 'last') =>
    kinds.flatMap((kind) => {
      const spec = stepKinds[kind].collective as StepKind<Action>['collective'];
      return spec?.placement === placement ? spec.merge(all.filter((a) => a.kind === kind)) : [];
    });
  const isCollective = (a: Action) => stepKinds[a.kind].collective !== undefined;
  return [...collective('first'), ...all.filter((a) => !isCollective(a)), ...collective('last')];
}
