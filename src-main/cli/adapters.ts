// `distillery adapters …` (import, list, watch, merge) and `distillery perplexity`, which scores a model with adapters at
// scales. Models and adapters are named by id, by name or by file; a file not in the library yet is added to it.
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { Client } from '../../src-shared/client.js';
import { humanBytes } from '../../src-shared/format.js';
import { callAndPrint, modelArg, runToEnd, withClient } from './open.js';
import { collect, dataDirOption, jsonOption, parseId, parseRef, usageError, type Common } from './options.js';
import { print, table, type Io } from './output.js';
import { addWatchCommand } from './adapters-watch.js';

export function addAdapterCommands(program: Command, io: Io): void {
  const adapters = program.command('adapters').description('LoRA adapters: import (GGUF or PEFT), list, merge into a model');
  adapters
    .command('import')
    .description('add a GGUF LoRA file, or convert a PEFT folder (adapter_config.json + adapter_model.safetensors) to GGUF; checked against --base')
    .argument('<path>', 'file.gguf or a PEFT folder')
    .option('--base <model>', 'the base model (id or GGUF path): needed for PEFT, and checks the adapter against it')
    .option('--name <name>', 'the name in the library (default: from the file or folder)')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((p: string, opts: Common & { base?: string; name?: string }) =>
      withClient(io, opts, async (c) => {
        const baseModelId = opts.base ? await modelArg(c, opts.base) : undefined;
        const a = await c.call('adapters.import', { path: p, ...(baseModelId ? { baseModelId } : {}), ...(opts.name ? { name: opts.name } : {}) });
        print(io, opts, a, () => adapterLine(a));
      }),
    );
  adapters
    .command('list')
    .description('adapters of the library: rank, alpha, targets, size, architecture, the base they were checked against')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((opts: Common) =>
      callAndPrint(
        io,
        opts,
        (c) => c.call('adapters.list', {}),
        (list) =>
          list.length
            ? table(
                ['ID', 'NAME', 'ARCH', 'RANK', 'ALPHA', 'TARGETS', 'SIZE', 'BASE', 'FROM'],
                list.map((a) => [
                  String(a.id),
                  a.name,
                  a.arch,
                  String(a.rank),
                  String(a.alpha),
                  a.targets.join(','),
                  humanBytes(a.sizeBytes),
                  a.base?.name ?? '–',
                  a.source.format,
                ]),
              )
            : 'no adapters yet: distillery adapters import <file.gguf|peft-dir> --base <model>',
      ),
    );
  addWatchCommand(adapters, io);
  adapters
    .command('merge')
    .description('merge a base model and adapters (with scales) into a new GGUF, added to the library (a run, executed here)')
    .requiredOption('--base <model>', 'the base model (id or GGUF path)')
    .requiredOption('--lora <adapter[:scale]>', 'an adapter (id, name or file) and its scale (default 1); repeat for several', collect, [])
    .requiredOption('--out <file>', 'the merged model, a new .gguf file')
    .option('--force', 'replace the file if it already exists')
    .addOption(new Option('--type <type>', 'tensor type of the output').choices(['f16', 'f32']).default('f16'))
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action((opts: Common & { base: string; lora: string[]; out: string; type: 'f16' | 'f32'; force?: boolean }) =>
      runToEnd(io, opts, async (c) => {
        const modelId = await modelArg(c, opts.base);
        return c.call('adapters.merge', {
          modelId,
          adapters: await loraArgs(c, opts.lora, modelId),
          out: opts.out,
          type: opts.type,
          replace: opts.force === true,
        });
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
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action(
      (
        opts: Common & {
          model: string;
          lora: string[];
          text?: string;
          dataset?: string;
          split: 'train' | 'validation' | 'test' | 'all';
          ctx: string;
          chunks?: string;
        },
      ) =>
        runToEnd(io, opts, async (c) => {
          if (!opts.text === !opts.dataset) throw usageError('badSource', 'give either --text FILE or --dataset NAME[@VERSION]');
          const modelId = await modelArg(c, opts.model);
          const ctx = Number(opts.ctx);
          if (!Number.isInteger(ctx)) throw usageError('badNumber', `--ctx must be a whole number, not "${opts.ctx}"`);
          const source = opts.text
            ? { textFile: opts.text }
            : { dataset: parseRef(opts.dataset!).name, version: parseRef(opts.dataset!).version, split: opts.split };
          return c.call('adapters.perplexity', {
            variant: { modelId, adapters: await loraArgs(c, opts.lora, modelId) },
            source,
            contextSize: ctx,
            ...(opts.chunks ? { maxChunks: parseId(opts.chunks) } : {}),
          });
        }),
    );
}

function adapterLine(a: {
  id: number;
  name: string;
  arch: string;
  rank: number;
  alpha: number;
  targets: string[];
  base: { name: string } | null;
  source: { format: string };
}): string {
  return `adapter ${a.id} ${a.name}: ${a.arch}, rank ${a.rank}, alpha ${a.alpha}, targets ${a.targets.join(', ')}${a.base ? `, checked against ${a.base.name}` : ''} (from ${a.source.format})`;
}

/**
 * --lora values: ID[:SCALE], NAME[:SCALE] or FILE[:SCALE]; a file not in the library is imported (checked against the
 * model). `flag` names the argument in the error (`--lora`, or `--variant SPEC: adapter` for evaluate's SPECs).
 */
export async function loraArgs(c: Client, values: string[], modelId: number, flag = '--lora'): Promise<{ id: number; scale: number }[]> {
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
      else throw usageError('badLora', `${flag} ${v}: no adapter named ${ref} in the library, and no file there`);
    }
    out.push({ id, scale });
  }
  return out;
}
