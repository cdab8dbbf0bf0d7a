// The entry of the single-file build (dist/svcctl.js): the CLI runner and the command table oclif reads.
export { run } from './cli.js';
export { COMMANDS } from './command-index.js';
