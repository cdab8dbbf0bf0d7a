// The executor of each step kind: one line per kind, the same kinds as core/steps/index.ts (a test checks it).
import type { ActionKind, ActionOf } from '../core/steps/types.js';
import type { Executor } from './context.js';
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

export const executors: { [K in ActionKind]: Executor<ActionOf<K>, any> } = {
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
