// Every on-demand import of a dependency goes through importModule(). The built CLI runs from V8's code
// cache (bin/run.js, scripts/bundle.js), where import() cannot work on Node 20: cached code loses the
// script's dynamic-import callback. bin/run.js, an ES module, lends its own import() instead; the sources
// (tests) and any other way of loading the code use their own. Modules resolve from the package's node_modules.
type Importer = (specifier: string) => Promise<unknown>;

const HOST_IMPORT_KEY = Symbol.for('svcctl.import');

export function importModule<T>(specifier: string): Promise<T> {
  const hostImport = (globalThis as { [HOST_IMPORT_KEY]?: Importer })[HOST_IMPORT_KEY];
  return (hostImport ? hostImport(specifier) : import(specifier)) as Promise<T>;
}
