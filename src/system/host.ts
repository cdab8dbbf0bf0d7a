// The host as svcctl sees it: "/" or a --root DIR that receives the same tree.
import path from 'node:path';

export interface Host {
  /** "/" for the live system, or the --root directory. */
  root: string;
  /** --root: no running systemd, render only. */
  offline: boolean;
}

export const liveHost: Host = { root: '/', offline: false };

export function offlineHost(root: string): Host {
  return { root: path.resolve(root), offline: true };
}

/** Maps a path of the target system to where it is on this machine. */
export function onHost(host: Host, target: string): string {
  return host.root === '/' ? target : path.join(host.root, target);
}
