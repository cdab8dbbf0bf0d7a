#!/usr/bin/env node
// Build step: bundles the compiled CLI, oclif and yaml into one CommonJS file, dist/cli/svcctl.cjs, then
// records V8's compiled code for it in dist/cli/svcctl.code-cache. Start-up is most of what a svcctl
// command costs on these machines: loading one file is much cheaper than resolving and loading the hundred
// or so modules the CLI is made of, and the code cache spares compiling that file again on every run.
// (Node 22 has module.enableCompileCache(); Node 20 has only vm.Script's cachedData, which needs a script,
// not an ES module: hence CommonJS.) Dependencies that only some commands load on demand (execa, the
// prompts, chalk, ajv) stay outside and are imported from node_modules when used.
//
//   node scripts/bundle.js        the shipped build and the test build (npm run build)
//   node scripts/bundle.js --sea  only the packaged executable's builds (npm run package): dist/sea/svcctl.cjs,
//                                 the shipped build that finds its files in the share directory, and
//                                 dist/sea/on-demand.cjs, the dependencies it imports on demand
//                                 (packaging/sea/on-demand.js); no code cache here (scripts/package.js
//                                 records it with the package's own files)
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'cli');
const codeCache = path.join(outdir, 'svcctl.code-cache');

// One change to a dependency, made here rather than by hand in node_modules: oclif sorts the command table
// with localeCompare, whose first use loads ICU's collation data, 10-15 ms of every command's start-up.
// The command ids are ASCII ([a-z:-]), for which a byte-wise comparison gives the same order. The build
// fails if the line is not there exactly once (a new oclif), rather than going on without the change.
const oclifCommandSort = {
  name: 'oclif-command-sort',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/ }, async (args) => {
      const source = readFileSync(args.path, 'utf8');
      const sort = '.sort((a, b) => a.id.localeCompare(b.id));';
      if (source.split(sort).length !== 2) throw new Error(`bundle: ${args.path} no longer sorts commands with "${sort}"; review the oclif-command-sort plugin`);
      return { contents: source.replace(sort, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));'), loader: 'js' };
    });
  },
};

// Two builds of one source: the shipped one (dist/cli/svcctl.cjs), where SVCCTL_TEST_BUILD is false and esbuild
// drops every branch it guards (fault injection, tool-path overrides, the in-process exec/fs hooks), and the
// test build (dist/test/svcctl.cjs, run by bin/svcctl-test.js) that keeps them. src/system/test-build.ts.
// The packaged executable's build is the shipped one with SVCCTL_PACKAGED set (src/system/paths.ts: the share
// directory instead of a clone's root); its on-demand dependencies are a second script beside it.
const testOutdir = path.join(root, 'dist', 'test');
const seaOutdir = path.join(root, 'dist', 'sea');
const sea = process.argv.includes('--sea');
const main = path.join(root, 'dist', 'main.js');
const variants = sea
  ? [
      { dir: seaOutdir, name: 'svcctl', entry: main, testBuild: false, packaged: true },
      { dir: seaOutdir, name: 'on-demand', entry: path.join(root, 'packaging', 'sea', 'on-demand.js'), testBuild: false, packaged: true, inside: true },
    ]
  : [
      { dir: outdir, name: 'svcctl', entry: main, testBuild: false, packaged: false },
      { dir: testOutdir, name: 'svcctl', entry: main, testBuild: true, packaged: false },
    ];
for (const { dir, name, entry, testBuild, packaged, inside } of variants) await build({
  entryPoints: { [name]: entry },
  outdir: dir,
  define: { 'import.meta.url': 'svcctlBundleUrl', SVCCTL_TEST_BUILD: String(testBuild), SVCCTL_PACKAGED: String(packaged) },
  minifySyntax: true,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: [...(inside ? [] : ['execa', '@inquirer/prompts', 'chalk', 'ajv']), 'typescript', 'ts-node', 'tsx'],
  // The sources are ES modules: their import.meta.url becomes the bundle's own URL (define above).
  banner: { js: "const svcctlBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [oclifCommandSort],
  logLevel: 'warning',
  legalComments: 'none',
});

// The alert sender (src/system/alerts/main.ts): one file of Node's own modules, which the built-in bundle
// svcctl-alerts installs as its payload and its template units run. Built like the shipped CLI: no test-only code.
// Not again for --sea (npm run package, after npm run build): the package takes the file the build made, and
// rewriting it while a test installs svcctl-alerts from units/ could hand that test a half-written file.
const alertSender = path.join(root, 'units', 'svcctl-alerts', 'svcctl-alert.cjs');
if (!sea) await build({
  entryPoints: [path.join(root, 'dist', 'system', 'alerts', 'main.js')],
  outfile: alertSender,
  define: { 'import.meta.url': 'svcctlBundleUrl', SVCCTL_TEST_BUILD: 'false' },
  minifySyntax: true,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  banner: { js: "#!/usr/bin/env node\nconst svcctlBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
  legalComments: 'none',
});

// import() cannot work in code run from V8's code cache on Node 20 (bin/run.js): svcctl's own modules import
// on demand only through src/modules.ts. Any other import() in them would fail at run time, so the build does.
const bundled = path.join(sea ? seaOutdir : outdir, 'svcctl.cjs');
// What only the test build may hold: a shipped build with any of these is refused.
const testOnly = ['SVCCTL_FAULT_INJECTION', 'SVCCTL_TEST_TOOL_PATH', 'SVCCTL_TEST_LOCK_', 'injected failure', 'tool-fail', 'svcctl-test steps'];
const leaked = testOnly.filter((marker) => [bundled, alertSender].some((file) => readFileSync(file, 'utf8').includes(marker)));
if (leaked.length > 0) {
  process.stderr.write(`bundle: the shipped build still contains test-only code (${leaked.join(', ')}); guard it with testBuild (src/system/test-build.ts)\n`);
  process.exit(1);
}
let module = '';
const strays = [];
for (const [index, line] of readFileSync(bundled, 'utf8').split('\n').entries()) {
  module = line.match(/^\/\/ (\S+\.c?js)$/)?.[1] ?? module;
  if (/(^|[^\w$.])import\s*\(/.test(line) && !module.startsWith('node_modules/') && module !== 'dist/modules.js') strays.push(`${module} (svcctl.cjs:${index + 1}): ${line.trim()}`);
}
if (strays.length > 0) {
  process.stderr.write(`bundle: import() outside src/modules.ts fails in the cached build; use importModule():\n  ${strays.join('\n  ')}\n`);
  process.exit(1);
}

if (sea) process.exit(0);

// The code cache holds what V8 compiled by the end of a representative run: a dry-run install rendered
// under a scratch directory (no root, no systemd, nothing changed). A cache V8 rejects (another Node
// version, other V8 flags) only costs the compile it would have saved: bin/run.js then compiles as usual.
rmSync(codeCache, { force: true });
const scratch = mkdtempSync(path.join(outdir, 'training-'));
try {
  const run = spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), 'install', 'cleanup-blocking', '--dry-run', '--json', '--root', path.join(scratch, 'root')], {
    env: { ...process.env, SVCCTL_WRITE_CODE_CACHE: '1', SVCCTL_TMPDIR: scratch, SVCCTL_BUNDLE_PATH: '', NO_COLOR: '1' },
    encoding: 'utf8',
  });
  // Without systemd-analyze (a machine without systemd) the run fails after loading: the cache is still written.
  if (run.status !== 0) process.stderr.write(`bundle: the code-cache training run exited ${run.status}; the cache covers less:\n${run.stderr}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
