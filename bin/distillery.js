#!/usr/bin/env node
// The `distillery` command. Runs the built CLI (out/cli/cli.js, made by `npm install` and `npm run build`) while no
// source it was built from is newer; otherwise (a git checkout after a pull or an edit, or no build) the TypeScript
// sources through tsx, which is slower to start. DISTILLERY_FROM_SOURCE=1 always runs the sources.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'out', 'cli', 'cli.js');

/** Why the built CLI cannot be used, or null when it can. */
function staleReason() {
  let builtAt;
  let inputs;
  try {
    builtAt = fs.statSync(built).mtimeMs;
    inputs = JSON.parse(fs.readFileSync(path.join(root, 'out', 'cli', 'inputs.json'), 'utf8'));
  } catch {
    return 'out/cli is not built';
  }
  for (const file of inputs) {
    let changed;
    try {
      changed = fs.statSync(path.join(root, file)).mtimeMs;
    } catch {
      return `${file} is gone`;
    }
    if (changed > builtAt) return `${file} changed after it`;
  }
  return null;
}

let entry = built;
if (process.env.DISTILLERY_FROM_SOURCE === '1') entry = null;
else {
  const reason = staleReason();
  if (reason) {
    process.stderr.write(`distillery: running from the TypeScript sources (${reason}; \`npm run build\` makes start-up fast)\n`);
    entry = null;
  }
}

let main;
try {
  if (entry) ({ main } = await import(pathToFileURL(entry).href));
  else {
    const { register } = await import('tsx/esm/api');
    register();
    ({ main } = await import('../src-main/cli/index.ts'));
  }
} catch (e) {
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  // After `npm start`, better-sqlite3 is built for Electron's ABI, not Node's.
  const hint = /NODE_MODULE_VERSION/.test(String(e)) ? ' (run: node scripts/native-for.mjs node)' : '';
  process.stderr.write(`distillery: could not start: ${message}${hint}\n`);
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2));
