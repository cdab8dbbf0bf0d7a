// The main script of the packaged executable /usr/lib/svcctl/svcctl (a Node single-executable application,
// scripts/package.js): runs the CLI embedded in it as an asset (svcctl.cjs) with V8's code cache for it
// (svcctl.code-cache), as bin/run.js does for a clone, and answers --version without loading it. The CLI's
// on-demand imports (src/modules.ts) come from a second asset (on-demand.cjs, packaging/sea/on-demand.js),
// run the first time one is asked for, as the clone imports them from node_modules.
// The CLI runs as if it were the file svcctl.cjs in the share directory (/usr/share/svcctl: bundles, the oclif
// manifest, package.json), found from the executable's own path. /usr/bin/svcctl (packaging/svcctl.sh) starts
// this with NODE_OPTIONS and the like removed: Node acts on them before this file's first line.
//
// Started as `svcctl --alert-sender failure|resolved|restart UNIT` (by the templates of the packaged svcctl-alerts bundle,
// which scripts/package.js writes) it runs the alert sender instead, a third asset (svcctl-alert.cjs, built from
// src/system/alerts/): a host without Node still sends its alerts. Those templates have MemoryDenyWriteExecute=yes,
// under which V8 must not compile to machine code: a single executable takes no Node flags on its command line,
// so they set NODE_OPTIONS=--jitless, the one value the sender accepts (the CLI accepts none).
//
// Outside the executable (`node main.cjs`, the package build only) it is the code-cache training run: the CLI,
// the cache and the share directory are files named by SVCCTL_SEA_TRAINING and SVCCTL_SEA_SHARE, and the
// cache is written at exit. V8 accepts that cache in the executable: same source, same Node, same flags.
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');
const sea = require('node:sea');

const inExecutable = sea.isSea();
const training = inExecutable ? undefined : process.env.SVCCTL_SEA_TRAINING;
if (!inExecutable && !training) throw new Error('packaging/sea/main.cjs runs inside the packaged executable (or as its build\'s training run)');

const asset = (name) => {
  if (!inExecutable) return readFileSync(path.join(training, name));
  try {
    return Buffer.from(sea.getRawAsset(name));
  } catch {
    return undefined;
  }
};

const senderMode = '--alert-sender';
// Exactly what the templates set, or nothing (root running the sender by hand): no other flag, no --require.
const senderNodeOptions = '--jitless';
if (inExecutable && process.argv[2] === senderMode) {
  if (process.env.NODE_OPTIONS !== undefined && process.env.NODE_OPTIONS !== senderNodeOptions) {
    process.stderr.write(`svcctl-alert: NODE_OPTIONS may only be ${senderNodeOptions} (as the svcctl-alerts templates set it)\n`);
    process.exit(2);
  }
  // The programs the sender starts (systemctl, journalctl, sendmail) are not Node: nothing of it is passed on.
  delete process.env.NODE_OPTIONS;
  runAlertSender(process.argv.slice(3));
} else {
  runCli();
}

/** The CLI, with the code cache for it (or, outside the executable, the training run that writes that cache). */
function runCli() {
  if (inExecutable && process.env.NODE_OPTIONS) {
    // Node has already acted on it; at least nothing more runs under it. /usr/bin/svcctl never passes it.
    process.stderr.write('svcctl: NODE_OPTIONS is set: run /usr/bin/svcctl, which starts this executable without it\n');
    process.exit(2);
  }

  const argv = process.argv.slice(2);
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
    process.stdout.write(`svcctl/${asset('version').toString('utf8').trim()} ${process.platform}-${process.arch} node-${process.version}\n`);
  } else {
    const shareDir = inExecutable ? path.resolve(path.dirname(process.execPath), '..', '..', 'share', 'svcctl') : path.resolve(process.env.SVCCTL_SEA_SHARE);
    // The share directory's package.json names this as oclif's command table (oclif.commands.target).
    const file = path.join(shareDir, 'svcctl.cjs');
    const cachedData = inExecutable ? asset('svcctl.code-cache') : undefined;
    const script = new vm.Script(Module.wrap(asset('svcctl.cjs').toString('utf8')), { filename: file, cachedData });
    if (/(^|,)\s*(svcctl|\*)/.test(process.env.DEBUG ?? '')) {
      process.stderr.write(`svcctl +${Math.round(performance.now())}ms code cache ${cachedData ? (script.cachedDataRejected ? 'rejected' : 'accepted') : 'absent'}\n`);
    }
    const cli = new Module(file);
    cli.filename = file;
    let onDemand;
    globalThis[Symbol.for('svcctl.import')] = async (specifier) => {
      // Node's own modules (node:https, node:tls for health probes) come from the runtime in the executable.
      if (Module.isBuiltin(specifier)) return require(specifier);
      onDemand ??= runScript(path.join(shareDir, 'on-demand.cjs'), asset('on-demand.cjs'));
      if (!Object.hasOwn(onDemand, specifier)) throw new Error(`svcctl: ${specifier} is not part of the packaged executable (packaging/sea/on-demand.js)`);
      return onDemand[specifier]();
    };
    script.runInThisContext().call(cli.exports, cli.exports, cliRequire(file, cli), cli, file, shareDir);
    cli.loaded = true;
    if (training) process.once('exit', () => writeCodeCache(script, path.join(training, 'svcctl.code-cache')));
    cli.exports.run(argv, pathToFileURL(file).href);
  }
}

/**
 * The alert sender, as if it were the file svcctl-alert.cjs beside the executable: it reads its arguments from
 * process.argv after its name, as the clone's /usr/local/lib/svcctl-alerts/svcctl-alert does, and requires and
 * imports only Node's own modules. Its #! line (for the clone's payload) is no JavaScript inside a function wrapper: dropped.
 */
function runAlertSender(args) {
  const source = asset('svcctl-alert.cjs');
  if (!source) {
    process.stderr.write('svcctl-alert: this executable carries no alert sender (scripts/package.js)\n');
    process.exit(1);
  }
  const file = path.join(path.dirname(process.execPath), 'svcctl-alert.cjs');
  process.argv = [process.argv[0], file, ...args];
  // Its on-demand imports (node:http, node:https: src/modules.ts) go through this hook, as the CLI's do: import()
  // in a vm.Script has no callback to load with. Node's own modules only: the sender needs nothing else.
  globalThis[Symbol.for('svcctl.import')] = async (specifier) => {
    if (Module.isBuiltin(specifier)) return require(specifier);
    throw new Error(`svcctl-alert: ${specifier} is not part of the packaged sender`);
  };
  runScript(file, Buffer.from(source.toString('utf8').replace(/^#![^\n]*/, '')));
}

/**
 * The require the CLI sees: Node's own modules, and the CLI itself for oclif, which loads its command table
 * from oclif.commands.target. Nothing else: the CLI's dependencies are in the executable (the generated
 * manifest validator, manifest-validator.cjs in the share directory, is the one file it loads, by its own path).
 */
function cliRequire(file, cli) {
  const notFound = (id) => Object.assign(new Error(`Cannot find module '${id}' (not part of the packaged svcctl)`), { code: 'MODULE_NOT_FOUND' });
  const load = (id) => {
    if (id === file) return cli.exports;
    if (Module.isBuiltin(id)) return require(id);
    throw notFound(id);
  };
  load.resolve = (id) => {
    if (id === file || Module.isBuiltin(id)) return id;
    throw notFound(id);
  };
  load.cache = Object.create(null);
  return load;
}

/** Runs one more embedded CommonJS script (compiled as usual, no cache) and returns its exports. */
function runScript(file, source) {
  const module = new Module(file);
  module.filename = file;
  new vm.Script(Module.wrap(source.toString('utf8')), { filename: file }).runInThisContext().call(module.exports, module.exports, cliRequire(file, module), module, file, path.dirname(file));
  return module.exports;
}

function writeCodeCache(script, out) {
  const temporary = `${out}.${process.pid}.tmp`;
  writeFileSync(temporary, script.createCachedData(), { mode: 0o644 });
  renameSync(temporary, out);
}
