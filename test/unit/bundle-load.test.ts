// The bundle loader: a valid manifest becomes the exact Bundle; every invalid one is refused with file:line: field.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../src/core/errors.js';
import { loadBundle } from '../../src/system/bundles/load.js';
import { bundleSearchPath, findBundle, isPathReference, listBundles, systemBundlesDir } from '../../src/system/bundles/lookup.js';
import { BundleManifestError, closest, formatFieldPath, settingPatternRegExp } from '../../src/core/bundle/manifest.js';
import { bundleSchemaPath } from '../../src/system/bundles/parse.js';
import { builtinBundlesDir } from '../../src/system/paths.js';
import type { Bundle } from '../../src/core/bundle/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../fixtures/bundles');
const validDir = path.join(fixtures, 'valid');
// Scratch space inside the checkout (not the host's /tmp), removed afterwards.
const scratch = path.resolve(here, `../.tmp-bundle-load-${process.pid}`);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Writes a bundle directory holding `manifest` (lines joined) plus the valid fixture's unit and script files. */
async function bundleDir(caseName: string, manifest: string[]): Promise<string> {
  const dir = path.join(scratch, caseName.replace(/[^a-z0-9]+/gi, '-'));
  await mkdir(dir, { recursive: true });
  for (const file of ['cleanup-demo.service', 'cleanup-demo.timer', 'cleanup-demo.sh']) await copyFile(path.join(validDir, file), path.join(dir, file));
  await writeFile(path.join(dir, 'bundle.yaml'), manifest.join('\n') + '\n');
  return dir;
}

async function loadError(dir: string): Promise<BundleManifestError> {
  const error = await loadBundle(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof BundleManifestError)) throw new Error(`expected a BundleManifestError, got ${String(error)}`);
  return error;
}

describe('loadBundle: a valid bundle', () => {
  test('loads the full fixture into the exact Bundle', async () => {
    const bundle = await loadBundle(validDir);
    const read = (file: string) => readFile(path.join(validDir, file));
    const expected: Bundle = {
      name: 'cleanup-demo',
      description: 'Deletes stale demo keys every 5 minutes.',
      directory: validDir,
      manifestPath: path.join(validDir, 'bundle.yaml'),
      digest: bundle.digest,
      units: [
        { name: 'cleanup-demo.service', content: (await read('cleanup-demo.service')).toString('utf8') },
        { name: 'cleanup-demo.timer', content: (await read('cleanup-demo.timer')).toString('utf8') },
      ],
      enable: ['cleanup-demo.timer'],
      configFiles: [],
      directives: [],
      payload: [{ source: 'cleanup-demo.sh', destination: '/usr/local/bin/cleanup-demo.sh', mode: 0o755, content: await read('cleanup-demo.sh') }],
      user: { name: 'demo', home: '/opt/demo', shell: '/usr/sbin/nologin', groups: ['adm'] },
      directories: [
        { path: '/var/log/demo', owner: 'demo', group: 'demo', mode: 0o750 },
        { path: '/srv/demo', owner: 'root', group: 'root', mode: 0o755 },
      ],
      settings: [
        {
          key: 'STALE_THRESHOLD_SECONDS',
          description: 'Age in seconds after which an entry is stale.',
          default: '600',
          pattern: '[1-9][0-9]*',
          target: { kind: 'environment', name: 'STALE_THRESHOLD_SECONDS' },
        },
        {
          key: 'WORKDIR',
          description: 'Directory the cleanup runs in.',
          default: '/srv/demo',
          target: { kind: 'directive', section: 'Service', directive: 'WorkingDirectory' },
          units: ['cleanup-demo.service'],
        },
        {
          key: 'JITTER',
          description: 'Random delay added to each run.',
          default: '30s',
          target: { kind: 'directive', section: 'Timer', directive: 'RandomizedDelaySec' },
          units: ['cleanup-demo.timer'],
        },
        { key: 'REDIS_HOST', description: 'Redis host name.', target: { kind: 'environment', name: 'REDIS_HOST' } },
      ],
      secrets: [
        { key: 'DEMO_SECRET', prompt: 'Shared secret all coordinators use to sign ACKs', generate: 'hex32', required: true },
        { key: 'REDIS_PASSWORD', prompt: 'Redis password (empty when Redis has no authentication)', required: false },
      ],
      schedule: { timer: 'cleanup-demo.timer', default: '5min' },
      health: { maxAge: '15min', url: 'http://127.0.0.1:1113/api/v1/peers' },
    };
    expect(bundle).toStrictEqual(expected);
  });

  test('applies the defaults to a minimal manifest', async () => {
    const bundle = await loadBundle(path.join(fixtures, 'minimal'));
    expect(bundle).toMatchObject({ name: 'minimal', enable: [], payload: [], directories: [], settings: [], secrets: [] });
    expect(bundle.user).toBeUndefined();
    expect(bundle.schedule).toBeUndefined();
    expect(bundle.health).toBeUndefined();
  });

  test('the digest is a stable sha256 that changes with any referenced file', async () => {
    const first = await loadBundle(validDir);
    expect(first.digest).toMatch(/^[0-9a-f]{64}$/);
    expect((await loadBundle(validDir)).digest).toBe(first.digest);

    const copy = await bundleDir('digest', (await readFile(path.join(validDir, 'bundle.yaml'), 'utf8')).trimEnd().split('\n'));
    expect((await loadBundle(copy)).digest).toBe(first.digest);
    await writeFile(path.join(copy, 'cleanup-demo.sh'), '#!/bin/sh\necho changed\n');
    expect((await loadBundle(copy)).digest).not.toBe(first.digest);
  });

  test('a number or boolean default is taken exactly as written', async () => {
    const dir = await bundleDir('literal-default', [
      'name: literal',
      'description: d',
      'units: [cleanup-demo.service]',
      'settings:',
      '  - { key: RATIO, description: r, default: 1.50 }',
      '  - { key: FLAG, description: f, default: true }',
    ]);
    const bundle = await loadBundle(dir);
    expect(bundle.settings.map((s) => s.default)).toEqual(['1.50', 'true']);
  });
});

describe('loadBundle: invalid manifests name file:line:column and the field', () => {
  const base = ['name: demo', 'description: A demo.', 'units:', '  - cleanup-demo.service', '  - cleanup-demo.timer'];
  // field '' marks YAML syntax errors: a broken document has no reliable field path, so the lines are shown instead.
  const cases: { title: string; manifest: string[]; where: string; field: string; text: string; hint?: string; excerpt?: string }[] = [
    {
      title: 'bad name',
      manifest: ['name: Cleanup_Demo', ...base.slice(1)],
      where: 'bundle.yaml:1:7',
      field: 'name',
      text: 'lowercase letters, digits and dashes',
    },
    {
      title: 'mode given as a YAML number',
      manifest: [...base, 'payload:', '  - source: cleanup-demo.sh', '    destination: /usr/local/bin/demo.sh', '    mode: 0755'],
      where: 'bundle.yaml:9:11',
      field: 'payload[0].mode',
      text: 'must be a string, but 0755 is a YAML number',
      hint: 'mode: "0755"',
    },
    {
      title: 'unknown field',
      manifest: [...base, 'dirctories:', '  - path: /srv/demo'],
      where: 'bundle.yaml:6:1',
      field: 'dirctories',
      text: 'unknown field "dirctories"',
      hint: 'did you mean "directories"?',
    },
    {
      title: 'unknown field inside a list item',
      manifest: [...base, 'secrets:', '  - key: TOKEN', '    prompt: Token', '    generator: hex32'],
      where: 'bundle.yaml:9:5',
      field: 'secrets[0].generator',
      text: 'unknown field',
      hint: 'did you mean "generate"?',
    },
    {
      title: 'missing required field',
      manifest: ['name: demo', ...base.slice(2)],
      where: 'bundle.yaml:1:1',
      field: 'description',
      text: 'is required',
    },
    {
      title: 'missing unit file',
      manifest: [...base, '  - missing.service'],
      where: 'bundle.yaml:6:5',
      field: 'units[2]',
      text: 'missing.service: no such file',
    },
    {
      title: 'bad unit name',
      manifest: [...base, '  - cleanup demo.service'],
      where: 'bundle.yaml:6:5',
      field: 'units[2]',
      text: 'must be a unit file name',
    },
    {
      title: 'enable not in units',
      manifest: [...base, 'enable: [other.timer]'],
      where: 'bundle.yaml:6:10',
      field: 'enable[0]',
      text: '"other.timer" is not listed in units',
    },
    {
      title: 'duplicate key across settings and secrets',
      manifest: [...base, 'settings:', '  - key: TOKEN', '    description: A token', 'secrets:', '  - key: TOKEN', '    prompt: Token'],
      where: 'bundle.yaml:10:10',
      field: 'secrets[0].key',
      text: '"TOKEN" is already the key of settings[0]',
    },
    {
      title: 'duplicate YAML key',
      manifest: [...base, 'name: again'],
      where: 'bundle.yaml:6:1',
      field: 'name',
      text: 'Map keys must be unique',
    },
    {
      title: 'payload source escaping the bundle',
      manifest: [...base, 'payload:', '  - source: ../outside.sh', '    destination: /usr/local/bin/demo.sh', '    mode: "0755"'],
      where: 'bundle.yaml:7:13',
      field: 'payload[0].source',
      text: 'leaves the bundle directory',
    },
    {
      title: 'payload destination under /etc/systemd',
      manifest: [...base, 'payload:', '  - source: cleanup-demo.sh', '    destination: /etc/systemd/system/x.service', '    mode: "0644"'],
      where: 'bundle.yaml:8:18',
      field: 'payload[0].destination',
      text: 'is under /etc/systemd',
    },
    {
      title: 'payload destination not normalised',
      manifest: [...base, 'payload:', '  - source: cleanup-demo.sh', '    destination: /usr/local//bin/demo.sh', '    mode: "0755"'],
      where: 'bundle.yaml:8:18',
      field: 'payload[0].destination',
      text: 'is not a normalised path',
      hint: 'write it as /usr/local/bin/demo.sh',
    },
    {
      title: 'bad directive',
      manifest: [...base, 'settings:', '  - key: DIR', '    description: Where', '    directive: Service.working-directory'],
      where: 'bundle.yaml:9:16',
      field: 'settings[0].directive',
      text: 'must be "Directive" or "Section.Directive"',
    },
    {
      title: 'directive reserved by svcctl',
      manifest: [...base, 'settings:', '  - key: DIR', '    description: Where', '    directive: Environment'],
      where: 'bundle.yaml:9:16',
      field: 'settings[0].directive',
      text: "Environment= is svcctl's own",
    },
    {
      title: 'Service directive on a timer',
      manifest: [...base, 'settings:', '  - key: DIR', '    description: Where', '    directive: WorkingDirectory', '    units: [cleanup-demo.timer]'],
      where: 'bundle.yaml:10:13',
      field: 'settings[0].units[0]',
      text: 'does not apply to .timer units',
    },
    {
      title: 'invalid setting pattern',
      manifest: [...base, 'settings:', '  - key: N', '    description: n', '    pattern: "[0-9"'],
      where: 'bundle.yaml:9:14',
      field: 'settings[0].pattern',
      text: 'is not a valid regular expression',
    },
    {
      title: 'default not matching the pattern',
      manifest: [...base, 'settings:', '  - key: N', '    description: n', '    pattern: "[1-9][0-9]*"', '    default: "0"'],
      where: 'bundle.yaml:10:14',
      field: 'settings[0].default',
      text: 'does not match the pattern',
    },
    {
      title: 'schedule timer not listed',
      manifest: [...base, 'schedule:', '  timer: other.timer', '  default: 5min'],
      where: 'bundle.yaml:7:10',
      field: 'schedule.timer',
      text: '"other.timer" is not listed in units',
    },
    {
      title: 'schedule timer that is a service',
      manifest: [...base, 'schedule:', '  timer: cleanup-demo.service', '  default: 5min'],
      where: 'bundle.yaml:7:10',
      field: 'schedule.timer',
      text: 'is not a .timer unit',
    },
    {
      title: 'directory owner that is not the bundle user',
      manifest: [...base, 'user: { name: demo, home: /opt/demo }', 'directories:', '  - path: /srv/demo', '    owner: www-data'],
      where: 'bundle.yaml:9:12',
      field: 'directories[0].owner',
      text: 'is neither root nor the bundle\'s user "demo"',
    },
    {
      title: 'health url that is not http',
      manifest: [...base, 'health:', '  url: ftp://example.com/'],
      where: 'bundle.yaml:7:8',
      field: 'health.url',
      text: 'must be an http:// or https:// URL',
    },
    {
      title: 'empty user mapping',
      manifest: [...base, 'user:'],
      where: 'bundle.yaml:6:1',
      field: 'user',
      text: 'must be a mapping',
    },
    {
      title: 'malformed YAML (unterminated flow list)',
      manifest: [...base, 'enable: [cleanup-demo.timer', 'description: more'],
      where: 'bundle.yaml:7:1',
      field: '',
      text: 'YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
      excerpt: '6 | enable: [cleanup-demo.timer',
    },
    {
      title: 'malformed YAML (tab indentation)',
      manifest: [...base.slice(0, 3), '\t- cleanup-demo.service'],
      where: 'bundle.yaml:4:1',
      field: '',
      text: 'YAML: Tabs are not allowed as indentation',
      hint: 'YAML indents with spaces only',
      excerpt: '4 | →- cleanup-demo.service',
    },
    {
      title: 'malformed YAML (unclosed quote)',
      manifest: ['name: demo', 'description: "A demo', 'units: [cleanup-demo.service]'],
      where: 'bundle.yaml:4:1',
      field: '',
      text: 'YAML: Missing closing "quote',
      hint: 'a quote or bracket opened above is not closed',
    },
  ];

  test.each(cases)('$title', async ({ title, manifest, where, field, text, hint, excerpt }) => {
    const error = await loadError(await bundleDir(title, manifest));
    expect(error).toBeInstanceOf(UserError);
    expect(error.exitCode).toBe(2);
    const line = error.message.split('\n').find((l) => l.includes(where));
    expect(line ?? error.message).toContain(`${where}`);
    expect(line).toContain(field ? `${where}: ${field}: ` : `${where}: `);
    expect(line).toContain(text);
    if (hint) expect(error.message + '\n' + (error.hint ?? '')).toContain(hint);
    if (excerpt) expect(error.message).toContain(excerpt);
  });

  test('a symbolic link pointing out of the bundle is refused', async () => {
    const error = await loadError(path.join(fixtures, 'symlink-escape'));
    expect(error.message).toMatch(/bundle\.yaml:5:13: payload\[0\]\.source: escape\.sh is a symbolic link to .*cleanup-demo\.sh, outside the bundle directory/);
  });

  test('several problems are reported at once, in line order', async () => {
    const dir = await bundleDir('several', ['name: demo', 'description: d', 'units: [cleanup-demo.service, gone.timer]', 'enable: [nope.timer]', 'colour: blue']);
    const error = await loadError(dir);
    expect(error.manifestProblems.map((p) => [p.line, p.field])).toEqual([
      [5, 'colour'],
    ]);
    // Schema problems stop the load before the cross-field and file checks; fix them and the rest show up together.
    await writeFile(path.join(dir, 'bundle.yaml'), 'name: demo\ndescription: d\nunits: [cleanup-demo.service, gone.timer]\nenable: [nope.timer]\n');
    const next = await loadError(dir);
    expect(next.manifestProblems.map((p) => [p.line, p.field])).toEqual([
      [3, 'units[1]'],
      [4, 'enable[0]'],
    ]);
    expect(next.message.split('\n')[0]).toMatch(/bundle\.yaml has 2 problems:$/);
  });

  test('an empty manifest and a missing one', async () => {
    const empty = await bundleDir('empty', []);
    await writeFile(path.join(empty, 'bundle.yaml'), '# nothing yet\n');
    expect((await loadError(empty)).message).toMatch(/bundle\.yaml:1:1: the manifest must be a mapping .* the file is empty/);
    await expect(loadBundle(path.join(fixtures, 'search-a'))).rejects.toThrow(/search-a holds no bundle\.yaml/);
    await expect(loadBundle(path.join(fixtures, 'does-not-exist'))).rejects.toThrow(/no such bundle directory/);
  });
});

describe('findBundle and listBundles: lookup order', () => {
  const searchA = path.join(fixtures, 'search-a');
  const searchB = path.join(fixtures, 'search-b');
  let savedPath: string | undefined;
  beforeEach(() => {
    savedPath = process.env.SVCCTL_BUNDLE_PATH;
    process.env.SVCCTL_BUNDLE_PATH = `${searchA}::${searchB}`;
  });
  afterEach(() => {
    if (savedPath === undefined) delete process.env.SVCCTL_BUNDLE_PATH;
    else process.env.SVCCTL_BUNDLE_PATH = savedPath;
  });

  test('SVCCTL_BUNDLE_PATH entries come first, then /etc/svcctl/bundles, then the built-in units/', () => {
    expect(bundleSearchPath()).toEqual([searchA, searchB, systemBundlesDir, builtinBundlesDir]);
    expect(bundleSearchPath({})).toEqual([systemBundlesDir, builtinBundlesDir]);
  });

  test('a name resolves to the first directory that has it', async () => {
    expect((await findBundle('shadowed')).description).toBe('shadowed from search-a');
    expect((await findBundle('only-b')).directory).toBe(path.join(searchB, 'only-b'));
  });

  test('a path (with a slash, or .) is loaded directly, as a directory or as its bundle.yaml', async () => {
    const relative = path.relative(process.cwd(), validDir);
    expect((await findBundle(relative.includes('/') ? relative : `./${relative}`)).name).toBe('cleanup-demo');
    expect((await findBundle(path.join(validDir, 'bundle.yaml'))).name).toBe('cleanup-demo');
    expect(isPathReference('.')).toBe(true);
    expect(isPathReference('cleanup-demo')).toBe(false);
    await expect(findBundle(path.join(validDir, 'cleanup-demo.sh'))).rejects.toThrow(/is a file, not a bundle directory/);
  });

  test('an unknown name says where it looked and what to run next', async () => {
    const error = await findBundle('no-such-bundle').then(
      () => undefined,
      (e: unknown) => e as UserError,
    );
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toContain('no bundle named "no-such-bundle"');
    expect(error?.message).toContain(path.join(searchA, 'no-such-bundle'));
    expect(error?.message).toContain(path.join(systemBundlesDir, 'no-such-bundle'));
    expect(error?.message).toContain(path.join(builtinBundlesDir, 'no-such-bundle'));
    expect(error?.hint).toContain('svcctl bundles');
  });

  test('a reference that is neither a path nor a valid name is refused', async () => {
    await expect(findBundle('My_Bundle')).rejects.toThrow(/"My_Bundle" is not a bundle name/);
  });

  test('a bundle found by name must declare that name', async () => {
    await expect(findBundle('misnamed')).rejects.toThrow(/bundle\.yaml:1:7: name: is "other-name" but the bundle was looked up as "misnamed"/);
  });

  test('listBundles lists a shadowed name once (first wins) and invalid bundles with their error', async () => {
    const listed = (await listBundles()).filter((b) => b.source.startsWith(fixtures));
    expect(listed).toEqual([
      { name: 'misnamed', description: '', source: path.join(searchA, 'misnamed'), error: expect.stringContaining('looked up as "misnamed"') },
      { name: 'only-b', description: 'only-b from search-b', source: path.join(searchB, 'only-b') },
      { name: 'shadowed', description: 'shadowed from search-a', source: path.join(searchA, 'shadowed') },
    ]);
  });
});

describe('built-in bundles', () => {
  test('every bundle under units/ loads without a problem', async () => {
    const builtins = await listBundles([builtinBundlesDir]);
    expect(builtins.filter((b) => b.error !== undefined)).toEqual([]);
  });
});

describe('manifest helpers and the schema', () => {
  test('field paths, typo suggestions and anchored patterns', () => {
    expect(formatFieldPath(['settings', 0, 'pattern'])).toBe('settings[0].pattern');
    expect(closest('dirctories', ['directories', 'description'])).toBe('directories');
    expect(closest('zzz', ['directories', 'description'])).toBeUndefined();
    expect(settingPatternRegExp('[1-9][0-9]*').test('600')).toBe(true);
    expect(settingPatternRegExp('a|b').test('ab')).toBe(false);
    expect(() => settingPatternRegExp('a)|(b')).toThrow(SyntaxError);
  });

  test('every field in the schema has a description (editors show them)', async () => {
    const schema = JSON.parse(await readFile(bundleSchemaPath, 'utf8')) as SchemaNode;
    type SchemaNode = { description?: string; properties?: Record<string, SchemaNode>; items?: SchemaNode };
    const undocumented: string[] = [];
    const walk = (node: SchemaNode, at: string) => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (!child.description) undocumented.push(`${at}${key}`);
        walk(child, `${at}${key}.`);
      }
      if (node.items) walk(node.items, `${at}[].`);
    };
    walk(schema, '');
    expect(undocumented).toEqual([]);
  });
});
