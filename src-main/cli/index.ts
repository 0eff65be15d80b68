import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
// Only light modules are imported here, so `--help` and `--version` answer at once: the app (SQLite, node-llama-cpp,
// every service), the HTTP host and the data lock are loaded by the commands that need them (loadCore, serve).
import { defaultDataDir } from '../core/paths.js';
import { addAdapterCommands } from './adapters.js';
import { addDatasetCommands } from './datasets.js';
import { addDistillCommand } from './distill.js';
import { addModelCommands } from './models.js';
import { loadCore, runToEnd, withClient } from './open.js';
import { dataDirOption, jsonOption, parseId, type Common } from './options.js';
import { print, reportFailure, runDetails, runsTable } from './output.js';
import { addSecretCommands } from './secrets.js';
import { RUN_STATUSES, type RunStatus } from '../../src-shared/domain/runs.js';
import { APP_VERSION } from '../../src-shared/version.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The renderer as electron-vite builds it: the same files the desktop window loads. */
const WEB_DIR = path.join(REPO_ROOT, 'out', 'renderer');

async function ensureWebBuilt(): Promise<string | null> {
  if (fs.existsSync(path.join(WEB_DIR, 'index.html'))) return WEB_DIR;
  process.stderr.write('Building the UI (first start)…\n');
  try {
    const { build } = await import('electron-vite');
    await build({ root: REPO_ROOT, configFile: path.join(REPO_ROOT, 'electron.vite.config.ts'), logLevel: 'warn' });
    return WEB_DIR;
  } catch (e) {
    process.stderr.write(`Could not build the UI (${(e as Error).message}); serving the API only. Run: npm run build\n`);
    return null;
  }
}

async function serve(opts: Common & { port: string; sample?: boolean }): Promise<void> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${opts.port} is not a port number`);
  const [{ createApp, acquireDataLock }, { startHttpHost }] = await Promise.all([loadCore(), import('../server/http-host.js')]);
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
  const release = acquireDataLock(dataDir);
  const staticDir = await ensureWebBuilt();
  const app = createApp({ dataDir, host: 'http', sampleResourcesDir: opts.sample === false ? null : path.join(REPO_ROOT, 'resources') });
  const host = await startHttpHost({ app, port, staticDir });
  process.stdout.write(`Distillery listening on ${host.url}\n`);
  process.stdout.write(`Data: ${dataDir}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await host.close();
    await app.close();
    release();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

export function buildProgram(): Command {
  const program = new Command('distillery')
    .description('Distillery: a local workbench for distilling small language models and LoRA adapters')
    .version(APP_VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  program
    .command('serve')
    .description('serve the workbench UI and API to a browser on 127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '5174')
    .option('--no-sample', 'do not create the sample workspace in a new data folder')
    .addOption(dataDirOption())
    .action(serve);

  addModelCommands(program);
  addDatasetCommands(program);

  addDistillCommand(program);

  addAdapterCommands(program);

  addSecretCommands(program);

  const runs = program.command('runs').description('runs: every long operation, kept in SQLite');
  runs
    .command('list')
    .description('list runs, newest first')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .option('--kind <kind>', 'only runs of this kind')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((opts: Common & { status?: RunStatus; kind?: string }) =>
      withClient(opts, async (c) => {
        const list = await c.call('runs.list', { status: opts.status, kind: opts.kind });
        print(opts, list, () => runsTable(list));
      }),
    );
  runs
    .command('show')
    .description("show a run's config, progress, log, metrics and lineage")
    .argument('<id>', 'run id', parseId)
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((id: number, opts: Common) =>
      withClient(opts, async (c) => {
        const r = await c.call('runs.get', { id });
        print(opts, r, () => runDetails(r));
      }),
    );
  runs
    .command('resume')
    .description('resume an interrupted, failed or cancelled run here, from where it stopped')
    .argument('<id>', 'run id', parseId)
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((id: number, opts: Common) =>
      runToEnd(opts, async (c) => {
        await c.call('runs.resume', { id });
        return { runId: id };
      }),
    );
  runs
    .command('cancel')
    .description('cancel a queued or running run (also one running in the app or in serve)')
    .argument('<id>', 'run id', parseId)
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((id: number, opts: Common) =>
      withClient(opts, async (c) => {
        let r = await c.call('runs.cancel', { id });
        // A run of another process: its owner notices the request within a second
        for (let i = 0; i < 100 && r.status === 'running'; i++) {
          await new Promise((ok) => setTimeout(ok, 100));
          r = await c.call('runs.get', { id });
        }
        print(opts, r, () => `run ${id}: ${r.status}`);
        if (r.status === 'running') throw new Error(`run ${id} is still running: is the process that runs it responsive?`);
      }),
    );
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return reportFailure(e);
  }
}

// Run when executed directly (bin/distillery.js, or `node --import tsx src-main/cli/index.ts`).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
