import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * The entry of the worker thread script `name` (e.g. 'import-worker') that sits beside the module at `from` (its
 * `import.meta.url`): the bundled `<name>.js` beside the app's main bundle; or, running from the TypeScript sources
 * (CLI, tests), a bootstrap that registers tsx in the worker (execArgv --import does not reach a worker's entry on
 * Node 20) and imports `<name>.ts`. Null when the bundle has no such file.
 */
export function workerEntry(from: string, name: string): URL | null {
  if (from.endsWith('.ts')) {
    const pkg = createRequire(from).resolve('tsx/package.json');
    const api = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
    const tsxApi = pathToFileURL(path.join(path.dirname(pkg), api)).href;
    const source = new URL(`./${name}.ts`, from).href;
    return new URL(
      `data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(source)});`)}`,
    );
  }
  const url = new URL(`./${name}.js`, from);
  return fs.existsSync(url) ? url : null;
}
