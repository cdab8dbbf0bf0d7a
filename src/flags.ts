// Flags several commands share: --name of every `svcctl sandbox` command, and --user.
import { Flags } from './oclif.js';
import { defaultSandboxName } from './system/sandbox.js';

export const nameFlag = Flags.string({ char: 'n', description: 'which sandbox (several can run side by side)', default: defaultSandboxName });

/** --user, which every command that acts on installed bundles shares: the invoking user's own systemd manager. */
export const userFlag = Flags.boolean({ description: "act on your own systemd user manager (systemctl --user: ~/.config/systemd/user, no root needed) instead of the system's", default: false });
