// The entry of the single-file build (dist/cli/svcctl.cjs): the CLI runner and the command table oclif reads.
export { run } from './cli.js';
export { COMMANDS } from './command-index.js';
