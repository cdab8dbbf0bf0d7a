// The dependencies the packaged CLI imports on demand (src/modules.ts importModule()), bundled into their own
// script, dist/sea/on-demand.cjs (scripts/bundle.js --sea): the clone imports them from node_modules, and the
// executable has none beside it. Kept apart from the CLI's own script so that its code cache, which V8 reads
// in full at every start, is no larger than the clone's. esbuild turns each import() into the lazy start of a
// module inside this bundle: a command that never prompts never runs the prompt library's code.
module.exports = {
  execa: () => import('execa'),
  chalk: () => import('chalk'),
  '@inquirer/prompts': () => import('@inquirer/prompts'),
  ajv: () => import('ajv'),
};
