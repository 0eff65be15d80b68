#!/usr/bin/env node
// The `distillery` command. Runs the TypeScript sources through tsx so the CLI needs no build step.
import { register } from 'tsx/esm/api';

register();
let main;
try {
  ({ main } = await import('../src-main/server/cli.ts'));
} catch (e) {
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  // After `npm start`, better-sqlite3 is built for Electron's ABI, not Node's.
  const hint = /NODE_MODULE_VERSION/.test(String(e)) ? ' (run: node scripts/native-for.mjs node)' : '';
  process.stderr.write(`distillery: could not start: ${message}${hint}\n`);
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2));
