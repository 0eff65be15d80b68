import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
// Only light modules are imported here, so `--help` and `--version` answer at once: the app (SQLite, node-llama-cpp,
// every service), the HTTP host and the data lock are loaded by the commands that need them (loadCore, serve).
import { defaultDataDir } from '../core/paths.js';
import { addDatasetCommands } from './datasets.js';
import { addDistillCommand } from './distill.js';
import { addModelCommands } from './models.js';
import { loadCore, runToEnd, withClient } from './open.js';
import { collect, dataDirOption, jsonOption, parseId, parseRef, usageError, type Common } from './options.js';
import { print, reportFailure, runDetails, runsTable, table } from './output.js';
import type { Client } from '../../src-shared/client.js';
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

  const adapters = program.command('adapters').description('LoRA adapters: import (GGUF or PEFT), list, merge into a model');
  adapters
    .command('import')
    .description('add a GGUF LoRA file, or convert a PEFT folder (adapter_config.json + adapter_model.safetensors) to GGUF; checked against --base')
    .argument('<path>', 'file.gguf or a PEFT folder')
    .option('--base <model>', 'the base model (id or GGUF path): needed for PEFT, and checks the adapter against it')
    .option('--name <name>', 'the name in the library (default: from the file or folder)')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((p: string, opts: Common & { base?: string; name?: string }) =>
      withClient(opts, async (c) => {
        const baseModelId = opts.base ? await modelArg(c, opts.base) : undefined;
        const a = await c.call('adapters.import', { path: p, ...(baseModelId ? { baseModelId } : {}), ...(opts.name ? { name: opts.name } : {}) });
        print(opts, a, () => adapterLine(a));
      }),
    );
  adapters
    .command('list')
    .description('adapters of the library: rank, alpha, targets, size, architecture, the base they were checked against')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((opts: Common) =>
      withClient(opts, async (c) => {
        const list = await c.call('adapters.list', {});
        print(opts, list, () =>
          list.length
            ? table(
                ['ID', 'NAME', 'ARCH', 'RANK', 'ALPHA', 'TARGETS', 'SIZE', 'BASE', 'FROM'],
                list.map((a) => [String(a.id), a.name, a.arch, String(a.rank), String(a.alpha), a.targets.join(','), formatBytes(a.sizeBytes), a.base?.name ?? '–', a.source.format]),
              )
            : 'no adapters yet: distillery adapters import <file.gguf|peft-dir> --base <model>',
        );
      }),
    );
  adapters
    .command('merge')
    .description('merge a base model and adapters (with scales) into a new GGUF, added to the library (a run, executed here)')
    .requiredOption('--base <model>', 'the base model (id or GGUF path)')
    .requiredOption('--lora <adapter[:scale]>', 'an adapter (id, name or file) and its scale (default 1); repeat for several', collect, [])
    .requiredOption('--out <file>', 'the merged model, a new .gguf file')
    .option('--force', 'replace the file if it already exists')
    .addOption(new Option('--type <type>', 'tensor type of the output').choices(['f16', 'f32']).default('f16'))
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((opts: Common & { base: string; lora: string[]; out: string; type: 'f16' | 'f32'; force?: boolean }) =>
      runToEnd(opts, async (c) => {
        const modelId = await modelArg(c, opts.base);
        return c.call('adapters.merge', { modelId, adapters: await loraArgs(c, opts.lora, modelId), out: opts.out, type: opts.type, replace: opts.force === true });
      }),
    );

  program
    .command('perplexity')
    .description("perplexity of a model (with adapters at scales) on a text file or a dataset split, computed like llama.cpp's perplexity tool")
    .requiredOption('--model <model>', 'a model id or GGUF path')
    .option('--lora <adapter[:scale]>', 'an adapter (id, name or file) and its scale; repeat for several', collect, [])
    .option('--text <file>', 'a text file')
    .option('--dataset <dataset>', 'NAME or NAME@VERSION: its examples, joined')
    .addOption(new Option('--split <split>', 'with --dataset').choices(['train', 'validation', 'test', 'all']).default('all'))
    .option('--ctx <n>', 'tokens per chunk (llama-perplexity -c)', '512')
    .option('--chunks <n>', 'score at most this many chunks')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((opts: Common & { model: string; lora: string[]; text?: string; dataset?: string; split: 'train' | 'validation' | 'test' | 'all'; ctx: string; chunks?: string }) =>
      runToEnd(opts, async (c) => {
        if (!opts.text === !opts.dataset) throw usageError('badSource', 'give either --text FILE or --dataset NAME[@VERSION]');
        const modelId = await modelArg(c, opts.model);
        const ctx = Number(opts.ctx);
        if (!Number.isInteger(ctx)) throw usageError('badNumber', `--ctx must be a whole number, not "${opts.ctx}"`);
        const source = opts.text ? { textFile: opts.text } : { dataset: parseRef(opts.dataset!).name, version: parseRef(opts.dataset!).version, split: opts.split };
        return c.call('adapters.perplexity', {
          variant: { modelId, adapters: await loraArgs(c, opts.lora, modelId) },
          source,
          contextSize: ctx,
          ...(opts.chunks ? { maxChunks: parseId(opts.chunks) } : {}),
        });
      }),
    );

  const secrets = program.command('secrets').description('API keys of OpenAI-compatible servers, stored encrypted (never in plain text)');
  secrets
    .command('set')
    .description('save an API key, read from standard input (never from the command line, where other users could see it)')
    .argument('<name>', 'a name to refer to it by, e.g. openai')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((name: string, opts: Common) =>
      withClient(opts, async (c) => {
        const value = (await readStdin(process.stdin.isTTY ? `API key for ${name} (input hidden): ` : null)).trim();
        if (!value) throw usageError('emptySecret', 'no API key on standard input');
        const saved = await c.call('secrets.set', { name, value });
        print(opts, saved, () => `saved ${saved.name} (encrypted: ${saved.backend})`);
      }),
    );
  secrets
    .command('list')
    .description('saved API keys: names and how they are protected, never values')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((opts: Common) =>
      withClient(opts, async (c) => {
        const r = await c.call('secrets.list', {});
        print(opts, r, () => (r.secrets.length ? r.secrets.map((s) => `${s.name}\t${s.backend}\tupdated ${s.updatedAt}`).join('\n') : `no saved API keys (new ones are encrypted with: ${r.backend})`));
      }),
    );
  secrets
    .command('delete')
    .description('forget a saved API key')
    .argument('<name>')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((name: string, opts: Common) =>
      withClient(opts, async (c) => {
        const r = await c.call('secrets.delete', { name });
        if (!r.deleted) throw new CommanderError(1, 'distillery.notFound', `there is no saved API key named ${name}`);
        print(opts, r, () => `deleted ${name}`);
      }),
    );

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

/** All of standard input; on a terminal, one line typed without echo after `prompt`. */
function readStdin(prompt: string | null): Promise<string> {
  if (prompt === null) {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      process.stdin.on('data', (c: Buffer) => chunks.push(c));
      process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      process.stdin.on('error', reject);
    });
  }
  return new Promise((resolve) => {
    process.stderr.write(prompt);
    const stdin = process.stdin;
    stdin.setRawMode(true);
    let value = '';
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode(false);
          stdin.off('data', onData);
          stdin.pause();
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        value = ch === '\u007f' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GB` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} KB`;
}

function adapterLine(a: { id: number; name: string; arch: string; rank: number; alpha: number; targets: string[]; base: { name: string } | null; source: { format: string } }): string {
  return `adapter ${a.id} ${a.name}: ${a.arch}, rank ${a.rank}, alpha ${a.alpha}, targets ${a.targets.join(', ')}${a.base ? `, checked against ${a.base.name}` : ''} (from ${a.source.format})`;
}

/** A model given as a library id or a GGUF path (added to the library when it is not there yet). */
async function modelArg(c: Client, raw: string): Promise<number> {
  if (/^\d+$/.test(raw)) return parseId(raw);
  const file = path.resolve(raw);
  const known = (await c.call('models.list', {})).find((m) => m.path === file);
  return known ? known.id : (await c.call('models.add', { path: file })).id;
}

/** --lora values: ID[:SCALE], NAME[:SCALE] or FILE[:SCALE]; a file not in the library is imported (checked against the model). */
async function loraArgs(c: Client, values: string[], modelId: number): Promise<{ id: number; scale: number }[]> {
  const list = await c.call('adapters.list', {});
  const out: { id: number; scale: number }[] = [];
  for (const v of values) {
    const m = v.match(/^(.*?)(?::(-?\d+(?:\.\d+)?))?$/)!;
    const ref = m[1]!;
    const scale = m[2] === undefined ? 1 : Number(m[2]);
    let id: number;
    if (/^\d+$/.test(ref)) id = Number(ref);
    else {
      const file = path.resolve(ref);
      const known = list.find((a) => a.name === ref || a.path === file || a.source.path === file);
      if (known) id = known.id;
      else if (fs.existsSync(file)) id = (await c.call('adapters.import', { path: file, baseModelId: modelId })).id;
      else throw usageError('badLora', `--lora ${v}: no adapter named ${ref} in the library, and no file there`);
    }
    out.push({ id, scale });
  }
  return out;
}
