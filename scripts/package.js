#!/usr/bin/env node
// `npm run package`: builds dist/svcctl_<version>_<arch>.deb, installable with `apt install ./svcctl_….deb` on a
// Debian or Ubuntu host with systemd and no Node at all. svcctl ships as a Node single-executable application:
// this Node binary (stripped) with the packaged build of the CLI and its on-demand dependencies (scripts/bundle.js
// --sea), V8's code cache for it and a small loader (packaging/sea/main.cjs) injected by postject. Layout:
//   /usr/bin/svcctl                    the launcher (packaging/svcctl.sh): clears NODE_OPTIONS and the like
//   /usr/lib/svcctl/svcctl             the executable (also the alert sender: `svcctl --alert-sender`)
//   /usr/share/svcctl/                 package.json and oclif's manifest (the command table), units/ (built-in
//                                      bundles), schema/, scripts/sandbox-boot.sh, manifest-validator.cjs
//   /usr/share/man/man1/svcctl.1.gz    from the command table (scripts/gen-man-page.js)
//   bash, zsh and fish completion      from the command table (src/views/completion.ts)
//   /usr/share/doc/svcctl/             copyright (with every bundled package's licence), changelog, README, docs
// Needs `npm run build` first (npm run package does it), and Debian's dpkg-dev (scripts/install-debian-packages.sh).
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { renderManPage } from './gen-man-page.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const manifest = JSON.parse(readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8'));
const { renderCompletion } = await import(path.join(dist, 'views', 'completion.js'));

const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const version = pkg.version;
const stage = path.join(dist, 'deb', 'root');
const seaDir = path.join(dist, 'sea');
const share = path.join(stage, 'usr', 'share', 'svcctl');
const docDir = path.join(stage, 'usr', 'share', 'doc', 'svcctl');
const output = path.join(dist, `svcctl_${version}_${arch}.deb`);
// The date in the man page and the changelog: the last commit's, so that building again gives the same files.
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? (spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' }).stdout.trim() || Math.floor(Date.now() / 1000)));
const when = new Date(epoch * 1000);

const started = performance.now();
const step = (what) => process.stderr.write(`package: +${((performance.now() - started) / 1000).toFixed(1)} s ${what}\n`);
function run(file, args, options = {}) {
  const result = spawnSync(file, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.status ?? result.signal}:\n${result.stderr ?? ''}${result.stdout ?? ''}`);
  return result.stdout;
}
function write(file, content, mode = 0o644) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  chmodSync(file, mode);
}
const gzip = (text) => gzipSync(text, { level: 9 }); // no name, no time in the header: the same bytes every build

rmSync(path.join(dist, 'deb'), { recursive: true, force: true });
rmSync(output, { force: true });

step('the packaged build (scripts/bundle.js --sea)');
run(process.execPath, [path.join(root, 'scripts', 'bundle.js'), '--sea'], { stdio: ['ignore', 'inherit', 'inherit'] });

step('the share directory');
// oclif reads the command table's name and place from package.json: the CLI itself, as packaging/sea/main.cjs runs it.
const sharePackage = {
  name: pkg.name,
  version,
  description: pkg.description,
  license: pkg.license,
  oclif: { ...pkg.oclif, commands: { ...pkg.oclif.commands, target: './svcctl.cjs' } },
};
write(path.join(share, 'package.json'), `${JSON.stringify(sharePackage, null, 2)}\n`);
copyFileSync(path.join(root, 'oclif.manifest.json'), path.join(share, 'oclif.manifest.json'));
cpSync(path.join(root, 'units'), path.join(share, 'units'), { recursive: true, filter: (from) => path.dirname(from) !== path.join(root, 'units', 'svcctl-alerts') });
writePackagedAlertsBundle(path.join(root, 'units', 'svcctl-alerts'), path.join(share, 'units', 'svcctl-alerts'));
cpSync(path.join(root, 'schema'), path.join(share, 'schema'), { recursive: true });
write(path.join(share, 'scripts', 'sandbox-boot.sh'), readFileSync(path.join(root, 'scripts', 'sandbox-boot.sh')));
// The generated validator requires two of ajv's runtime helpers: bundled in, as no node_modules is beside it.
await build({ entryPoints: [path.join(dist, 'manifest-validator.cjs')], outfile: path.join(share, 'manifest-validator.cjs'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', legalComments: 'none' });
normalizeModes(share);

step('the code cache (a dry-run install rendered under a scratch directory)');
write(path.join(seaDir, 'version'), `${version}\n`);
// The alert sender, as npm run build made it (scripts/bundle.js): the executable runs it in its sender mode.
copyFileSync(path.join(root, 'units', 'svcctl-alerts', 'svcctl-alert.cjs'), path.join(seaDir, 'svcctl-alert.cjs'));
rmSync(path.join(seaDir, 'svcctl.code-cache'), { force: true });
const scratch = mkdtempSync(path.join(seaDir, 'training-'));
try {
  const training = spawnSync(process.execPath, [path.join(root, 'packaging', 'sea', 'main.cjs'), 'install', 'cleanup-blocking', '--dry-run', '--json', '--root', path.join(scratch, 'root')], {
    env: { ...process.env, SVCCTL_SEA_TRAINING: seaDir, SVCCTL_SEA_SHARE: share, SVCCTL_TMPDIR: scratch, SVCCTL_BUNDLE_PATH: '', NO_COLOR: '1', NODE_OPTIONS: '' },
    encoding: 'utf8',
  });
  // Without systemd-analyze the run fails after loading: the cache is still written, and covers less.
  if (training.status !== 0) process.stderr.write(`package: the code-cache training run exited ${training.status}; the cache covers less:\n${training.stderr}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (!existsSync(path.join(seaDir, 'svcctl.code-cache'))) throw new Error('package: the training run wrote no code cache');

step('the executable (Node single-executable application)');
const seaConfig = {
  main: path.join(root, 'packaging', 'sea', 'main.cjs'),
  output: path.join(seaDir, 'sea-prep.blob'),
  disableExperimentalSEAWarning: true,
  assets: Object.fromEntries(['svcctl.cjs', 'svcctl.code-cache', 'on-demand.cjs', 'svcctl-alert.cjs', 'version'].map((name) => [name, path.join(seaDir, name)])),
};
write(path.join(seaDir, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));
run(process.execPath, ['--experimental-sea-config', path.join(seaDir, 'sea-config.json')]);
const executable = path.join(stage, 'usr', 'lib', 'svcctl', 'svcctl');
mkdirSync(path.dirname(executable), { recursive: true });
copyFileSync(process.execPath, executable);
chmodSync(executable, 0o755);
// Debug information and symbols are most of an unstripped Node; postject's note survives only after the strip.
run('strip', ['--strip-all', '--remove-section=.comment', executable]);
run(process.execPath, [path.join(root, 'node_modules', 'postject', 'dist', 'cli.js'), executable, 'NODE_SEA_BLOB', seaConfig.output, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2']);
write(path.join(stage, 'usr', 'bin', 'svcctl'), readFileSync(path.join(root, 'packaging', 'svcctl.sh')), 0o755);

step('man page and completion');
write(path.join(stage, 'usr', 'share', 'man', 'man1', 'svcctl.1.gz'), gzip(renderManPage(manifest, { version, date: when.toISOString().slice(0, 10) })));
const commands = Object.entries(manifest.commands).map(([id, command]) => ({ ...command, id }));
const { userInstalledIndex } = await import(path.join(dist, 'flows', 'autocomplete.js'));
const places = { builtinBundlesDir: '/usr/share/svcctl/units', installedIndex: '/var/lib/svcctl/.installed.json', userInstalledIndex };
write(path.join(stage, 'usr', 'share', 'bash-completion', 'completions', 'svcctl'), renderCompletion('bash', commands, places));
write(path.join(stage, 'usr', 'share', 'zsh', 'vendor-completions', '_svcctl'), renderCompletion('zsh', commands, places));
write(path.join(stage, 'usr', 'share', 'fish', 'vendor_completions.d', 'svcctl.fish'), renderCompletion('fish', commands, places));

step('documentation');
write(path.join(docDir, 'copyright'), copyrightFile());
write(path.join(docDir, 'changelog.gz'), gzip(changelog()));
for (const [from, to] of [['README.md', 'README.md.gz'], ['docs/commands.md', 'commands.md.gz'], ['docs/bundles.md', 'bundles.md.gz'], ['docs/cleanup-blocking.md', 'cleanup-blocking.md.gz']]) {
  write(path.join(docDir, to), gzip(readFileSync(path.join(root, from))));
}
write(path.join(stage, 'usr', 'share', 'lintian', 'overrides', 'svcctl'), readFileSync(path.join(root, 'packaging', 'debian', 'lintian-overrides')));

step('control files');
const control = path.join(stage, 'DEBIAN');
for (const script of ['prerm', 'postrm']) write(path.join(control, script), readFileSync(path.join(root, 'packaging', 'debian', script)), 0o755);
write(path.join(control, 'md5sums'), md5sums(stage));
write(path.join(control, 'control'), controlFile());

step(`dpkg-deb → ${path.relative(root, output)}`);
// xz at level 1: the tests build the package on a loaded 2-core machine, where the default level costs a minute
// more for 4 MiB less (26 MiB instead of 22).
run('dpkg-deb', ['--root-owner-group', '-Zxz', '-z1', '--build', stage, output]);
process.stderr.write(`package: ${path.relative(root, output)} ${(statSync(output).size / 1048576).toFixed(1)} MiB\n`);

/**
 * The svcctl-alerts bundle the package ships: the clone's, except that its templates run the sender inside the
 * executable (packaging/sea/main.cjs, sender mode) rather than a payload only a host with Node can run, so the
 * payload is left out. The templates keep every hardening directive; MemoryDenyWriteExecute=yes needs V8 without
 * its compilers, and a single executable takes Node's flags only from NODE_OPTIONS (Node 20: no command-line
 * flags, no execArgv in the SEA configuration), whence Environment=NODE_OPTIONS=--jitless (no secret: the
 * sender reads its channels from the root-only file). --jitless alone leaves WebAssembly off as well.
 * Each change is made on exact text, and the build fails when that text is not there once.
 */
function writePackagedAlertsBundle(from, to) {
  const replaceOnce = (file, text, before, after) => {
    if (text.split(before).length !== 2) throw new Error(`package: ${path.relative(root, file)} no longer holds ${JSON.stringify(before)} once; review writePackagedAlertsBundle`);
    return text.replace(before, after);
  };
  const manifestFile = path.join(from, 'bundle.yaml');
  const payload = `payload:
  # Built from src/system/alerts/ by \`npm run build\` (scripts/bundle.js): one file, Node's own modules only.
  - source: svcctl-alert.cjs
    destination: /usr/local/lib/svcctl-alerts/svcctl-alert
    mode: "0755"
`;
  write(path.join(to, 'bundle.yaml'), replaceOnce(manifestFile, readFileSync(manifestFile, 'utf8'), payload, `# No payload in the Debian package: its templates run the sender built into /usr/lib/svcctl/svcctl
# (\`svcctl --alert-sender failure|resolved|restart UNIT\`), which needs no Node on the host.
`));
  for (const [template, kind] of [['svcctl-alert@.service', 'failure'], ['svcctl-alert-resolved@.service', 'resolved'], ['svcctl-alert-restart@.service', 'restart']]) {
    const file = path.join(from, template);
    const execStart = `# --jitless: V8 interprets instead of compiling, so Node needs no memory that is writable and executable
# (MemoryDenyWriteExecute= below); --no-expose-wasm: WebAssembly, which needs it, is off without a warning.
ExecStart=/usr/bin/env node --jitless --no-expose-wasm /usr/local/lib/svcctl-alerts/svcctl-alert ${kind} %i
`;
    write(path.join(to, template), replaceOnce(file, readFileSync(file, 'utf8'), execStart, `# The sender inside svcctl's executable (a Node single-executable application, which takes Node's flags only
# from NODE_OPTIONS). --jitless: V8 interprets instead of compiling, so it needs no memory that is writable and
# executable (MemoryDenyWriteExecute= below), and WebAssembly, which would, is off. The executable accepts
# exactly this NODE_OPTIONS in its sender mode and passes it to no program it starts.
Environment=NODE_OPTIONS=--jitless
ExecStart=/usr/lib/svcctl/svcctl --alert-sender ${kind} %i
`));
  }
  const shipped = readdirSync(to).sort();
  const expected = readdirSync(from).filter((name) => name !== 'svcctl-alert.cjs').sort();
  if (shipped.join() !== expected.join()) throw new Error(`package: units/svcctl-alerts holds ${readdirSync(from).join(', ')}; writePackagedAlertsBundle writes ${shipped.join(', ')}`);
}

/**
 * Modes as Debian expects them whatever the checkout's umask: directories 0755, scripts (a #! line) 0755, other
 * files 0644. A bundle's payload gets the mode its manifest says when installed; this mode is only the package's.
 */
function normalizeModes(dir) {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) normalizeModes(full);
    else chmodSync(full, readFileSync(full).subarray(0, 2).toString('latin1') === '#!' ? 0o755 : 0o644);
  }
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

function md5sums(tree) {
  return filesUnder(tree)
    .filter((file) => !file.startsWith(path.join(tree, 'DEBIAN') + path.sep))
    .sort()
    .map((file) => `${createHash('md5').update(readFileSync(file)).digest('hex')}  ${path.relative(tree, file)}\n`)
    .join('');
}

/** The shared libraries the executable links against, as Debian's dependency field (dpkg-shlibdeps). */
function sharedLibraryDepends() {
  const scratchDir = mkdtempSync(path.join(dist, 'deb', 'shlibdeps-'));
  try {
    write(path.join(scratchDir, 'debian', 'control'), 'Source: svcctl\n\nPackage: svcctl\nArchitecture: any\n');
    const out = run('dpkg-shlibdeps', ['-O', '-e', executable], { cwd: scratchDir });
    const depends = out.match(/^shlibs:Depends=(.*)$/m)?.[1];
    if (!depends) throw new Error(`package: dpkg-shlibdeps named no dependency: ${out}`);
    return depends;
  } finally {
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

function controlFile() {
  const installedKiB = Math.ceil(filesUnder(stage).filter((file) => !file.includes(`${path.sep}DEBIAN${path.sep}`)).reduce((sum, file) => sum + statSync(file).size, 0) / 1024);
  return `Package: svcctl
Version: ${version}
Architecture: ${arch}
Maintainer: svcctl developers <svcctl@users.noreply.github.com>
Installed-Size: ${installedKiB}
Depends: ${sharedLibraryDepends()}, systemd
Suggests: redis-tools
Section: admin
Priority: optional
Description: install and run systemd services and timers from bundles
 svcctl installs a declarative bundle (a manifest with its unit files and
 payload) as one transaction: the plan is shown first, secrets go into a 0600
 EnvironmentFile= (never Environment=, argv or the journal), a failing step
 rolls back the ones before it, and a receipt records every file so that
 uninstalling leaves nothing behind. Then status, timers, logs, manual runs,
 schedule changes, secret rotation and Nagios checks.
 .
 The package carries its own runtime (a Node.js single-executable
 application): no Node.js is needed on the host.
`;
}

function changelog() {
  const date = when.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1, $2 $3 $4 $5 +0000');
  return `svcctl (${version}) unstable; urgency=medium

  * Built from the svcctl sources by npm run package (scripts/package.js).

 -- svcctl developers <svcctl@users.noreply.github.com>  ${date}
`;
}

/** Debian's machine-readable copyright: svcctl, the Node.js runtime in the executable, and every npm package bundled. */
function copyrightFile() {
  const bundled = new Map();
  for (const match of ['svcctl.cjs', 'on-demand.cjs'].map((name) => readFileSync(path.join(seaDir, name), 'utf8')).join('\n').matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) {
    const name = match[1];
    if (bundled.has(name)) continue;
    const meta = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8'));
    bundled.set(name, `${name} ${meta.version}: ${typeof meta.license === 'string' ? meta.license : JSON.stringify(meta.license)}`);
  }
  const packages = [...bundled.values()].sort();
  // Node's LICENSE holds its own licence and those of every library it bundles, with their texts.
  const nodeLicense = path.resolve(path.dirname(process.execPath), '..', 'share', 'doc', 'nodejs', 'LICENSE');
  if (!existsSync(nodeLicense)) throw new Error(`package: Node's licence (${nodeLicense}) is not where its package puts it: the copyright file must carry it`);
  const nodeText = readFileSync(nodeLicense, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => (line.trim() === '' ? ' .' : ` ${line.trimEnd()}`))
    .join('\n');
  const year = when.getUTCFullYear();
  return `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: svcctl
Comment: /usr/lib/svcctl/svcctl is a Node.js ${process.version} binary with svcctl's code injected
 (a single-executable application). Node.js is under the MIT licence, and
 bundles libraries under their own licences (OpenSSL, ICU, zlib, libuv,
 V8 and others), all listed with their texts under "License: Node.js"
 below. svcctl's code in it includes these npm packages, each under the
 licence named:
 .
${packages.map((line) => ` ${line}`).join('\n')}

Files: *
Copyright: ${year} svcctl developers
License: MIT

Files: usr/lib/svcctl/svcctl
Copyright: Node.js contributors, and the authors of the libraries and npm packages it holds
License: Node.js

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
 THE SOFTWARE.

License: Node.js
${nodeText}
`;
}
