// The CLI inside the packaged executable (scripts/bundle.js --sea bundles it into dist/sea/svcctl.cjs): the
// clone's CLI with its on-demand dependencies built in, since the executable has no node_modules beside it.
// src/modules.ts's importModule() asks the host for them; here the host is this table. esbuild turns each
// import() below into the lazy start of a module already in the bundle, so a command that never prompts
// still never runs the prompt library's code.
export { run, COMMANDS } from '../../dist/main.js';

const onDemand = {
  execa: () => import('execa'),
  chalk: () => import('chalk'),
  '@inquirer/prompts': () => import('@inquirer/prompts'),
  ajv: () => import('ajv'),
};

globalThis[Symbol.for('svcctl.import')] = (specifier) => {
  if (Object.hasOwn(onDemand, specifier)) return onDemand[specifier]();
  // Node's own modules (node:https, node:tls for health probes) come from the runtime in the executable.
  if (specifier.startsWith('node:')) return Promise.resolve(require(specifier));
  return Promise.reject(new Error(`svcctl: ${specifier} is not part of the packaged executable (packaging/sea/cli.js)`));
};
