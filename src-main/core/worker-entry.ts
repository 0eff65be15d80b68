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
    const source = new URL(`./${name}.ts`, from).href;
    return new URL(
      `data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(tsxFile(from, './esm/api'))}; register(); await import(${JSON.stringify(source)});`)}`,
    );
  }
  return bundled(from, name, 'worker');
}

/**
 * The same for a child process script (`child_process.fork`): from the TypeScript sources, the `.ts` file run with
 * tsx's loader (`--import`); from a bundle, the `<name>.js` beside it (both builds write it). In Electron the caller
 * forks `process.execPath` with ELECTRON_RUN_AS_NODE=1.
 */
export function childEntry(from: string, name: string): { file: string; execArgv: string[] } {
  if (from.endsWith('.ts')) return { file: fileURLToPath(new URL(`./${name}.ts`, from)), execArgv: ['--import', tsxFile(from, '.')] };
  return { file: fileURLToPath(bundled(from, name, 'child process')), execArgv: [] };
}

/** The file URL of tsx's export `subpath` (its ESM import condition), resolved from `from`. */
function tsxFile(from: string, subpath: string): string {
  const pkg = createRequire(from).resolve('tsx/package.json');
  const exp = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { exports: Record<string, string | { import: string | { default: string } }> }).exports[subpath]!;
  const file = typeof exp === 'string' ? exp : typeof exp.import === 'string' ? exp.import : exp.import.default;
  return pathToFileURL(path.join(path.dirname(pkg), file)).href;
}

function bundled(from: string, name: string, what: string): URL {
  // beside the module, or one folder up when the module landed in a shared chunk (electron-vite's out/main/chunks/)
  const up = new URL(`../${name}.js`, from);
  const url =
    !fs.existsSync(new URL(`./${name}.js`, from)) && /[\\/]chunks[\\/][^\\/]+$/.test(fileURLToPath(from)) && fs.existsSync(up)
      ? up
      : new URL(`./${name}.js`, from);
  // every build writes it (electron-vite for the app, scripts/build-cli.mjs for out/cli): without it, refuse rather
  // than quietly run the work on the thread that answers
  if (!fs.existsSync(url)) throw new AppError('internal', `the ${what} ${fileURLToPath(url)} is missing: this build is incomplete (npm run build)`);
  return url;
}
