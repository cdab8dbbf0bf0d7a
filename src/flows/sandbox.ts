// The sandbox commands' flow: a throwaway real systemd (src/system/sandbox.ts does the work; this is the layer the
// commands call, so they never reach the system directly).
import { execInSandbox, requireSandboxRoot, sandboxChanges, sandboxStatus, showHostBundles, startSandbox, stopSandbox, type SandboxChange, type SandboxRecord, type SandboxStatus } from '../system/sandbox.js';

export { execInSandbox, sandboxChanges, showHostBundles, startSandbox, stopSandbox, type SandboxChange, type SandboxRecord, type SandboxStatus };

/** Whether a sandbox runs, its PID and its systemd state (root only: it looks into the sandbox's namespaces). */
export async function sandboxStatusOf(name: string): Promise<SandboxStatus> {
  requireSandboxRoot();
  return sandboxStatus(name);
}

export { controllerArgv, fleetDown, fleetInventory, fleetExec, fleetUp, maxFleetHosts, requireFleet, type FleetHost, type FleetRecord } from '../system/sandbox.js';
