// `distillery serve`: the workbench UI and the contract over HTTP on 127.0.0.1, for a browser. It owns the data folder
// (its lock) and runs jobs, like the desktop app; the HTTP host and the app are imported only when it starts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { App } from '../core/app.js';
import { loadCore } from './open.js';
import { dataDirOf, dataDirOption, type Common } from './options.js';
import type { Io } from './output.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The renderer as electron-vite builds it: the same files the desktop window loads. */
const WEB_DIR = path.join(REPO_ROOT, 'out', 'renderer');

async function ensureWebBuilt(io: Io): Promise<string | null> {
  if (fs.existsSync(path.join(WEB_DIR, 'index.html'))) return WEB_DIR;
  io.err('Building the UI (first start)…\n');
  try {
    const { build } = await import('electron-vite');
    await build({ root: REPO_ROOT, configFile: path.join(REPO_ROOT, 'electron.vite.config.ts'), logLevel: 'warn' });
    return WEB_DIR;
  } catch (e) {
    io.err(`Could not build the UI (${(e as Error).message}); serving the API only. Run: npm run build\n`);
    return null;
  }
}

async function serve(io: Io, opts: Common & { port: string; sample?: boolean }): Promise<void> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${opts.port} is not a port number`);
  const [{ createApp, acquireDataLock }, { startHttpHost }] = await Promise.all([loadCore(), import('../server/http-host.js')]);
  const dataDir = dataDirOf(io, opts);
  const release = acquireDataLock(dataDir);
  let app: App | undefined;
  let host: Awaited<ReturnType<typeof startHttpHost>>;
  try {
    const staticDir = await ensureWebBuilt(io);
    app = createApp({ dataDir, host: 'http', sampleResourcesDir: opts.sample === false ? null : path.join(REPO_ROOT, 'resources'), env: io.env });
    host = await startHttpHost({ app, port, staticDir });
  } catch (e) {
    // not started (the port is taken, the library cannot be opened): close what was opened, so the lock is not left behind
    await app?.close();
    release();
    throw e;
  }
  const started = app;
  io.out(`Distillery listening on ${host.url}\n`);
  io.out(`Data: ${dataDir}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await host.close();
    await started.close();
    release();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

export function addServeCommand(program: Command, io: Io): void {
  program
    .command('serve')
    .description('serve the workbench UI and API to a browser on 127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '5174')
    .option('--no-sample', 'do not create the sample workspace in a new data folder')
    .addOption(dataDirOption(io))
    .action((opts: Common & { port: string; sample?: boolean }) => serve(io, opts));
}
