// docs/commands.md is generated from the oclif manifest; this fails when a command changed and the docs were not regenerated.
import { readFileSync } from 'node:fs';

test('docs/commands.md matches the commands as built (run `npm run docs` after changing a command)', async () => {
  const { renderReference } = (await import(`${process.cwd()}/scripts/gen-command-reference.js`)) as { renderReference: (manifest: unknown) => string };
  const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8')) as { commands: Record<string, unknown> };
  expect(Object.keys(manifest.commands)).toEqual(expect.arrayContaining(['install', 'uninstall', 'sandbox:start', 'sandbox:exec', 'sandbox:changes', 'sandbox:stop']));
  expect(readFileSync('docs/commands.md', 'utf8')).toBe(renderReference(manifest));
});
