#!/usr/bin/env node
// Build step: bundles the compiled CLI, oclif and yaml into dist/cli/svcctl.js. Start-up is most of
// what a svcctl command costs on these machines, and loading one module is much cheaper than resolving
// and loading the hundred or so the CLI is made of. Dependencies only some commands load on demand
// (execa, the prompts, chalk, ajv) stay outside and are imported from node_modules when used.
import { build } from 'esbuild';

await build({
  entryPoints: { svcctl: new URL('../dist/main.js', import.meta.url).pathname },
  outdir: new URL('../dist/cli', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['execa', '@inquirer/prompts', 'chalk', 'ajv', 'typescript', 'ts-node', 'tsx'],
  // oclif is CommonJS: its require() calls of node's own modules need a require in an ES module.
  banner: { js: "import { createRequire as svcctlCreateRequire } from 'node:module'; const require = svcctlCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
