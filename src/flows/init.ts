// `svcctl init`: writes a new bundle directory from src/plan/scaffold.ts. Never into a directory that
// already holds files.
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { scaffoldBundle, type ScaffoldOptions } from '../core/scaffold.js';
import { atomicWrite, ensureDirectory, listDirectory } from '../system/fs.js';

export interface InitResult {
  bundle: string;
  directory: string;
  files: string[];
}

export async function init(name: string, options: ScaffoldOptions & { directory?: string }): Promise<InitResult> {
  const files = scaffoldBundle(name, options);
  const directory = path.resolve(options.directory ?? name);
  const present = await listDirectory(directory);
  if (present.length > 0) throw new UserError(`${directory} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''})`, 'choose a new directory with --directory DIR');
  // A scaffold goes wherever its author asks, as that author (usually not root): the directories on the way are theirs.
  await ensureDirectory(directory, { mode: 0o755, looseParents: true });
  for (const file of files) await atomicWrite(path.join(directory, file.name), file.content, { mode: file.mode, looseParents: true });
  return { bundle: name, directory, files: files.map((f) => f.name) };
}
