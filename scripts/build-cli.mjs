#!/usr/bin/env node
// Builds the `distillery` CLI into out/cli/ (cli.js, the dataset import and preview workers and the native engine host beside it, shared chunks), so that
// bin/distillery.js starts from JavaScript instead of transpiling the TypeScript sources at every start. npm packages
// stay external (loaded from node_modules as they are). out/cli/inputs.json lists the sources the bundle was made of:
// bin/distillery.js runs the bundle only while none of them is newer than it.
// Run by `npm install` (prepare) and `npm run build`; without esbuild (a production install) it says so and the CLI
// keeps running from the sources.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Writes the bundle into `outDir` (default out/cli); returns the number of source files in it. */
export async function buildCli(outDir = path.join(root, 'out', 'cli')) {
  const { build } = await import('esbuild');
  // Built beside the old bundle and swapped in at the end, so a CLI started meanwhile never sees half a bundle.
  const tmp = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      cli: 'src-main/cli/index.ts',
      'import-worker': 'src-main/core/datasets/jobs/import-worker.ts',
      'preview-worker': 'src-main/core/datasets/preview-worker.ts',
      // the native engine's child process (native/client.ts forks it from beside the bundle)
      'engine-host': 'src-main/core/native/engine-host.ts',
    },
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
  fs.writeFileSync(path.join(tmp, 'inputs.json'), JSON.stringify(inputs) + '\n');
  const old = `${outDir}.old-${process.pid}`;
  if (fs.existsSync(outDir)) fs.renameSync(outDir, old);
  fs.renameSync(tmp, outDir);
  fs.rmSync(old, { recursive: true, force: true });
  return inputs.length;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await import('esbuild');
  } catch {
    console.log('distillery: esbuild is not installed (a production install?); the CLI runs from its TypeScript sources');
    process.exit(0);
  }
  fs.mkdirSync(path.join(root, 'out'), { recursive: true });
  const n = await buildCli();
  console.log(`out/cli: the distillery CLI built from ${n} source files`);
}
