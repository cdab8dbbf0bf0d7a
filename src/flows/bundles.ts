// The bundles named on the command line (by name or path, refusing duplicates), and every bundle findable by name.
import type { Bundle } from '../core/bundle/types.js';
import { bundleSearchPath, findBundle, listBundles, type BundleListing } from '../system/bundles/lookup.js';

export type { BundleListing };
import { UserError } from '../core/errors.js';

export async function loadBundles(references: string[]): Promise<Bundle[]> {
  if (references.length === 0) throw new UserError('no bundle given', 'name one or more bundles, e.g. svcctl install cleanup-blocking (see svcctl bundles)');
  // Read side by side (file reads and hashing), judged in the order given: the first bad reference is the one named.
  const loaded = await Promise.allSettled(references.map((reference) => findBundle(reference)));
  const bundles: Bundle[] = [];
  for (const result of loaded) {
    if (result.status === 'rejected') throw result.reason;
    const bundle = result.value;
    if (bundles.some((b) => b.name === bundle.name)) throw new UserError(`bundle ${bundle.name} is named twice`, 'name each bundle once');
    bundles.push(bundle);
  }
  return bundles;
}

/** Every bundle findable by name, with the search path it was found on (`svcctl bundles`). */
export async function availableBundles(): Promise<{ searchPath: string[]; bundles: BundleListing[] }> {
  return { searchPath: bundleSearchPath(), bundles: await listBundles() };
}
