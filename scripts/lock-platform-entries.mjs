#!/usr/bin/env node
// The npm mirror these machines use lacks other platforms' prebuilt packages (Windows/macOS node-llama-cpp binaries,
// most of rollup's), so `npm install` here leaves them out of package-lock.json and `npm ci` then refuses the lock
// ("Missing: … from lock file"). This adds an entry (version, os, cpu, libc, optional) for every optional dependency the
// lock names but lacks; npm skips entries for other platforms without fetching them, and fetches them by version on
// the platforms they are for. Run after `npm install` on such a machine: node scripts/lock-platform-entries.mjs
import fs from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const pk = lock.packages;
const OS = {
  win: 'win32',
  win32: 'win32',
  mac: 'darwin',
  darwin: 'darwin',
  linux: 'linux',
  android: 'android',
  freebsd: 'freebsd',
  openbsd: 'openbsd',
  openharmony: 'openharmony',
};
const CPUS = ['x64', 'arm64', 'armv7l', 'arm', 'ia32', 'riscv64', 'loong64', 'ppc64', 's390x'];

function platformOf(name) {
  const parts = name
    .split('/')
    .pop()
    .replace(/^rollup-/, '')
    .split('-');
  const entry = {};
  const os = OS[parts[0]];
  if (os) entry.os = [os];
  const cpu = CPUS.find((c) => parts.includes(c)) ?? (parts[0] === 'mac' ? 'x64' : undefined);
  if (cpu) entry.cpu = [cpu];
  if (parts.includes('musl') || parts.includes('musleabihf')) entry.libc = ['musl'];
  else if (parts.includes('gnu') || parts.includes('gnueabihf')) entry.libc = ['glibc'];
  return entry;
}

let added = 0;
for (const [, e] of Object.entries(pk)) {
  for (const [name, version] of Object.entries(e.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (pk[key]) continue;
    pk[key] = { version, ...(e.dev ? { dev: true } : {}), optional: true, ...platformOf(name) };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(pk).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b, 'en'))));
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`package-lock.json: ${added} platform entries added`);
