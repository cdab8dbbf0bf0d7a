// The standalone validator the build generates (scripts/compile-schema.js) must judge manifests exactly as ajv does at run time.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';

const generatedPath = path.resolve('dist/manifest-validator.cjs');

function manifests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return manifests(full);
    return name === 'bundle.yaml' ? [full] : [];
  });
}

test('the generated validator agrees with a run-time ajv compile on every manifest we have, valid or not', async () => {
  expect(existsSync(generatedPath)).toBe(true);
  // Loaded as the CLI loads it (src/bundle/manifest.ts): require(), CommonJS.
  const generated = createRequire(import.meta.url)(generatedPath) as ((data: unknown) => boolean) & { errors?: { instancePath: string; keyword: string }[] };
  // ajv is CommonJS: under Node's ESM loader its default export is module.exports, whose .default is the class.
  const AjvClass = (Ajv as unknown as { default?: typeof Ajv.default }).default ?? (Ajv as unknown as typeof Ajv.default);
  const ajv = new AjvClass({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  const runtime = ajv.compile(JSON.parse(readFileSync('schema/bundle.schema.json', 'utf8')));
  const files = [...manifests('units'), ...manifests('test/fixtures')];
  const documents = files.map((f) => parse(readFileSync(f, 'utf8')) as unknown);
  // Mutations that break the schema in different ways, so the comparison covers failures too.
  const broken = [{ name: 'Bad Name' }, { name: 'x', description: 'd', units: ['x.service'], enable: [], payload: [{ source: 's', destination: 'rel', mode: 755 }] }, { name: 'x', extra: true }, 42, null];
  let compared = 0;
  for (const doc of [...documents, ...broken]) {
    const a = generated(doc);
    const b = runtime(doc);
    expect(a).toBe(b);
    const summary = (errors: { instancePath: string; keyword: string }[] | null | undefined) => (errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`).sort();
    expect(summary(generated.errors)).toEqual(summary(runtime.errors));
    compared++;
  }
  expect(compared).toBeGreaterThan(8);
});
