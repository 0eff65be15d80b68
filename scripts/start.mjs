#!/usr/bin/env node
// `npm start`: the desktop app when Electron's binary is installed and can open a window; otherwise (its download
// failed or was skipped with ELECTRON_SKIP_BINARY_DOWNLOAD, no display, better-sqlite3 not buildable for Electron)
// one line saying so, then `distillery serve` with the URL opened in the browser.
//   npm start [-- --port 5174 --data-dir DIR]     (the options go to `distillery serve`)
//   BROWSER=none npm start                         prints the URL without opening a browser
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Why the desktop window cannot open here, or null when Electron can start. */
export function whyNoWindow() {
  let binary;
  try {
    binary = require('electron'); // the binary's path, from node_modules/electron/path.txt (written by its download)
  } catch (e) {
    return e instanceof Error && /failed to install/.test(e.message) ? 'its binary was not downloaded' : `it is not installed (${e.message.split('\n')[0]})`;
  }
  if (typeof binary !== 'string' || !fs.existsSync(binary)) return `its binary is missing (${binary})`;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'no display: DISPLAY and WAYLAND_DISPLAY are not set';
  return null;
}

const node = (args) => spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

function startDesktop() {
  const electronVite = path.join(path.dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
  if (node(['scripts/native-for.mjs', 'electron']) !== 0) return startServe('better-sqlite3 could not be built for it', process.argv.slice(2));
  process.exit(node([electronVite, 'build']) || node([electronVite, 'preview']));
}

function openInBrowser(url) {
  if (process.env.BROWSER === 'none') return;
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  const opener = spawn(cmd, args, { stdio: 'ignore', detached: true });
  opener.on('error', () => process.stdout.write(`Open ${url} in your browser.\n`));
  opener.unref();
}

function startServe(reason, args) {
  process.stdout.write(`Electron cannot start (${reason}): serving the workbench to your browser instead (distillery serve).\n`);
  if (node(['scripts/native-for.mjs', 'node']) !== 0) process.exit(1);
  const child = spawn(process.execPath, ['bin/distillery.js', 'serve', ...args], { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
  let seen = '';
  let opened = false;
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (opened) return;
    seen += chunk.toString();
    const m = /Distillery listening on (http:\/\/\S+)/.exec(seen);
    if (m) {
      opened = true;
      openInBrowser(m[1]);
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const reason = whyNoWindow();
  if (reason === null) startDesktop();
  else startServe(reason, process.argv.slice(2));
}
