// Every command, by id: oclif's explicit command discovery reads this from the single-file build, so the
// CLI starts from one module instead of resolving and loading a hundred.
import AlertAdd from './commands/alert/add.js';
import AlertList from './commands/alert/list.js';
import AlertRemove from './commands/alert/remove.js';
import AlertTest from './commands/alert/test.js';
import Autocomplete from './commands/autocomplete.js';
import Bundles from './commands/bundles.js';
import Check from './commands/check.js';
import Disable from './commands/disable.js';
import Doctor from './commands/doctor.js';
import Enable from './commands/enable.js';
import Export from './commands/export.js';
import Init from './commands/init.js';
import Install from './commands/install.js';
import ListTimers from './commands/list-timers.js';
import Logs from './commands/logs.js';
import Reload from './commands/reload.js';
import Restart from './commands/restart.js';
import Run from './commands/run.js';
import SandboxChanges from './commands/sandbox/changes.js';
import SandboxExec from './commands/sandbox/exec.js';
import SandboxFleetDown from './commands/sandbox/fleet-down.js';
import SandboxFleetExec from './commands/sandbox/fleet-exec.js';
import SandboxFleetInventory from './commands/sandbox/fleet-inventory.js';
import SandboxFleetUp from './commands/sandbox/fleet-up.js';
import SandboxShell from './commands/sandbox/shell.js';
import SandboxStart from './commands/sandbox/start.js';
import SandboxStatus from './commands/sandbox/status.js';
import SandboxStop from './commands/sandbox/stop.js';
import Schedule from './commands/schedule.js';
import SecretList from './commands/secret/list.js';
import SecretRotate from './commands/secret/rotate.js';
import SecretSet from './commands/secret/set.js';
import Status from './commands/status.js';
import Uninstall from './commands/uninstall.js';
import Verify from './commands/verify.js';

export const COMMANDS = {
  'alert:add': AlertAdd,
  'alert:list': AlertList,
  'alert:remove': AlertRemove,
  'alert:test': AlertTest,
  autocomplete: Autocomplete,
  bundles: Bundles,
  check: Check,
  disable: Disable,
  doctor: Doctor,
  enable: Enable,
  export: Export,
  init: Init,
  install: Install,
  'list-timers': ListTimers,
  logs: Logs,
  reload: Reload,
  restart: Restart,
  run: Run,
  'sandbox:changes': SandboxChanges,
  'sandbox:exec': SandboxExec,
  'sandbox:fleet:down': SandboxFleetDown,
  'sandbox:fleet:exec': SandboxFleetExec,
  'sandbox:fleet:inventory': SandboxFleetInventory,
  'sandbox:fleet:up': SandboxFleetUp,
  'sandbox:shell': SandboxShell,
  'sandbox:start': SandboxStart,
  'sandbox:status': SandboxStatus,
  'sandbox:stop': SandboxStop,
  schedule: Schedule,
  'secret:list': SecretList,
  'secret:rotate': SecretRotate,
  'secret:set': SecretSet,
  status: Status,
  uninstall: Uninstall,
  verify: Verify,
};
