import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AppError } from '../../src-shared/errors.js';

/**
 * The entry of the worker thread script `name` (e.g. 'import-worker') that sits beside the module at `from` (its
 * `import.meta.url`): the bundled `<name>.js` beside the app's main bundle; or, running from the TypeScript sources
 * (CLI, tests), a bootstrap that registers tsx in the worker (execArgv --import does not reach a worker's entry on
 * Node 20) and imports `<name>.ts`. Throws when the bundle has no such file.
 */
export function workerEntry(from: string, name: string): URL {
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
  // every build writes it (electron-vite for the app, scripts/build-cli.mjs for out/cli): without it, refuse rather
  // than quietly run the work on the thread that answers
  if (!fs.existsSync(url)) throw new AppError('internal', `the worker ${fileURLToPath(url)} is missing: this build is incomplete (npm run build)`);
  return url;
}
