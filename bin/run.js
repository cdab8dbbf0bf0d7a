#!/usr/bin/env node
// The svcctl executable. `--version` is answered without loading oclif (start-up cost); everything
// else goes to src/cli.ts, which maps every error to an exit code in one place.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`svcctl/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { run } = await import('../dist/cli/svcctl.js');
  await run(argv, import.meta.url);
}
