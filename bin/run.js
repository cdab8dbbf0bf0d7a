#!/usr/bin/env -S -u NODE_OPTIONS -u NODE_EXTRA_CA_CERTS SVCCTL_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
// The svcctl executable. The first line moves NODE_EXTRA_CA_CERTS aside (GNU env -S): Node 20 parses that
// file at every start, 70+ ms for a full system CA bundle (nodejs/node#40524), which would be most of a
// command's start-up. svcctl reads it only for an https health probe (src/system/http.ts), and the
// processes it starts get it back (childEnvironment in src/system/exec.ts). It also clears NODE_OPTIONS: a root
// tool must not let `--require FILE` from the caller's environment run code.
// `--version` is answered without loading oclif (start-up cost); everything else goes to the single-file
// build of src/cli.ts, which maps every error to an exit code in one place.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`svcctl/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { run } = loadCli();
  await run(argv, import.meta.url);
}

/**
 * Loads dist/cli/svcctl.cjs (scripts/bundle.js) with V8's code cache for it, which spares compiling about
 * a megabyte of JavaScript on every run. Only the build writes the cache (SVCCTL_WRITE_CODE_CACHE=1);
 * V8 checks it against the source and its own version and flags, and compiles as usual when it does not fit.
 * The module is registered in require's cache so that oclif, which loads the command table from the same
 * file, gets this instance instead of a second, uncached one. import() cannot work in code run from a
 * cache on Node 20, so the CLI imports its on-demand dependencies through this module's (src/modules.ts).
 */
function loadCli() {
  globalThis[Symbol.for('svcctl.import')] = (specifier) => import(specifier);
  // bin/svcctl-test.js (never shipped) runs the test build, which keeps the fault-injection hooks.
  const testBuild = globalThis[Symbol.for('svcctl.testBuild')] === true;
  const shipped = fileURLToPath(new URL('../dist/cli/svcctl.cjs', import.meta.url));
  const file = testBuild ? fileURLToPath(new URL('../dist/test/svcctl.cjs', import.meta.url)) : shipped;
  const cacheFile = path.join(path.dirname(file), 'svcctl.code-cache');
  const writeCache = process.env.SVCCTL_WRITE_CODE_CACHE === '1';
  let cachedData;
  if (!writeCache && !testBuild) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // no cache (a build without it): compile
    }
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  if (/(^|,)\s*(svcctl|\*)/.test(process.env.DEBUG ?? '')) {
    process.stderr.write(`svcctl +${Math.round(performance.now())}ms code cache ${cachedData ? (script.cachedDataRejected ? 'rejected' : 'accepted') : 'absent'}\n`);
  }
  const cli = new Module(file);
  cli.filename = file;
  script.runInThisContext().call(cli.exports, cli.exports, createRequire(file), cli, file, path.dirname(file));
  cli.loaded = true;
  // oclif loads the command table from package.json's oclif.commands.target (the shipped path): it gets this module.
  createRequire(file).cache[shipped] = cli;
  if (writeCache) process.once('exit', () => writeCodeCache(script, cacheFile));
  return cli.exports;
}

function writeCodeCache(script, out) {
  // Only the build asks for this (scripts/bundle.js), and only this one path is ever written: whole or not
  // at all, a temporary file and then a rename.
  const temporary = `${out}.${process.pid}.tmp`;
  writeFileSync(temporary, script.createCachedData(), { mode: 0o644 });
  renameSync(temporary, out);
}
