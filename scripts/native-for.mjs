#!/usr/bin/env node
// better-sqlite3 is a native addon compiled for one ABI: Node's (tests, CLI, `serve`) or Electron's (`npm start`).
// This script makes sure it is built for the runtime about to use it, and does nothing when it already is.
// (node-llama-cpp uses N-API prebuilt binaries that work under both.)
//   node scripts/native-for.mjs node       before tests and the CLI
//   node scripts/native-for.mjs electron   before starting the desktop app
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const target = process.argv[2];
if (target !== 'node' && target !== 'electron') {
  console.error('usage: native-for.mjs node|electron');
  process.exit(2);
}
const moduleDir = path.dirname(require.resolve('better-sqlite3/package.json'));
const marker = path.join(moduleDir, 'build', 'distillery-runtime');
const built = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : null;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd, args) => spawnSync(cmd, args, { cwd: moduleDir, stdio: 'inherit', shell: process.platform === 'win32' }).status === 0;
const write = (value) => {
  fs.mkdirSync(path.dirname(marker), { recursive: true });
  fs.writeFileSync(marker, value);
};

if (target === 'node') {
  const want = `node-${process.versions.modules}`;
  if (built === want) process.exit(0);
  // Without a marker (fresh `npm ci`), the addon was built for this Node: check by loading it.
  const loads = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: moduleDir }).status === 0;
  if (!loads) {
    console.log('Rebuilding better-sqlite3 for Node…');
    execFileSync(npm, ['rebuild', 'better-sqlite3'], { stdio: 'inherit', cwd: path.resolve(moduleDir, '../..') });
  }
  write(want);
} else {
  const version = require('electron/package.json').version;
  const want = `electron-${version}`;
  if (built === want) process.exit(0);
  console.log(`Building better-sqlite3 for Electron ${version}…`);
  const ok =
    run(process.execPath, [require.resolve('prebuild-install/bin.js'), '--runtime', 'electron', '--target', version, '--arch', process.arch]) ||
    run(npm, ['exec', '--yes', '--', 'node-gyp', 'rebuild', '--release', `--target=${version}`, '--dist-url=https://electronjs.org/headers']);
  if (!ok) {
    console.error('Could not build better-sqlite3 for Electron (this needs the internet once). `npx distillery serve` works without it.');
    process.exit(1);
  }
  write(want);
}
