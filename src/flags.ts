// The --name flag every `svcctl sandbox` command shares.
import { Flags } from './oclif.js';
import { defaultSandboxName } from './system/sandbox.js';

export const nameFlag = Flags.string({ char: 'n', description: 'which sandbox (several can run side by side)', default: defaultSandboxName });
