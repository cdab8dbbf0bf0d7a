// svcctl(1) is generated from the command table (scripts/gen-man-page.js): every command is on it, groff reads it
// without a warning, and any text from a command's help reaches the reader unchanged.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';

interface ManPageModule {
  renderManPage: (manifest: unknown, meta: { version: string; date: string }) => string;
  roffText: (text: string) => string;
}
const { renderManPage, roffText } = (await import(`${process.cwd()}/scripts/gen-man-page.js`)) as ManPageModule;
const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8')) as { commands: Record<string, { summary?: string; examples?: string[] }> };
const page = renderManPage(manifest, { version: '1.2.3', date: '2026-01-31' });

test('every command has its section, with its summary and examples, and groff has no warning', () => {
  const result = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: page, encoding: 'utf8' });
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  const text = execFileSync('groff', ['-man', '-Tascii', '-P-cbou', '-rLL=200n'], { input: page, encoding: 'utf8' });
  for (const [id, command] of Object.entries(manifest.commands)) {
    expect(page).toContain(`.SS ${roffText(`svcctl ${id.replaceAll(':', ' ')}`)}\n`);
    expect(text.replace(/\s+/g, ' ')).toContain((command.summary ?? '').replace(/\s+/g, ' ').replace(/[^\x20-\x7e]/g, '').split(' ').slice(0, 4).join(' '));
  }
  expect(text).toContain('$ svcctl install cleanup-blocking --yes --secret REDIS_PASSWORD=@/root/redis.pass');
  expect(page).toContain('.TH SVCCTL 1 "2026-01-31" "svcctl 1.2.3"');
});

test('roffText: printable text comes out of groff as it went in, whatever its dots, quotes, dashes and backslashes', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme-ascii' }).map((s) => s.replace(/[^\x20-\x7e]/g, '')), { minLength: 1, maxLength: 30 }), (lines) => {
      const input = ['.pl 100000', '.ll 1000', '.nf', ...lines.map(roffText), ''].join('\n');
      const out = execFileSync('groff', ['-Tascii', '-P-cbou'], { input, encoding: 'utf8' });
      expect(out.split('\n').slice(0, lines.length).map((l) => l.trimEnd())).toEqual(lines.map((l) => l.trimEnd()));
    }),
    { numRuns: 40 },
  );
});

test('roffText: other than ASCII as groff escapes, shown as the same characters', () => {
  const input = ['.pl 100000', '.nf', roffText('svcctl check — SVCCTL OK → … é'), ''].join('\n');
  expect(execFileSync('groff', ['-Tutf8', '-P-cbou'], { input, encoding: 'utf8' }).split('\n')[0]).toBe('svcctl check — SVCCTL OK → … é');
});
