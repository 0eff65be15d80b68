// `distillery kld`: a model (a quantized file, or a model with adapters) against its base on a text or a dataset
// split, every figure `llama-perplexity --kl-divergence` prints, scored in lockstep in this process (no logits file,
// no run recorded).
import { Option, type Command } from 'commander';
import { formatKldReport } from '../core/native/kld-report.js';
import { loraArgs } from './adapters.js';
import { modelArg, withClient } from './open.js';
import { collect, dataDirOption, jsonOption, parseId, parseRef, usageError, type Common } from './options.js';
import { print, type Io } from './output.js';

interface KldOpts extends Common {
  base: string;
  model: string;
  lora: string[];
  baseLora: string[];
  text?: string;
  dataset?: string;
  split: 'train' | 'validation' | 'test' | 'all';
  ctx: string;
  chunks?: string;
}

export function addKldCommand(program: Command, io: Io): void {
  program
    .command('kld')
    .description("a model against its base in lockstep: KLD, Δp, same top token and the PPL ratio, as llama.cpp's perplexity tool --kl-divergence")
    .requiredOption('--base <model>', 'the reference model (id or GGUF path), e.g. the F16 source')
    .requiredOption('--model <model>', 'the model compared with it (id or GGUF path), e.g. a quantized file')
    .option('--lora <adapter[:scale]>', 'an adapter on --model (id, name or file) and its scale; repeat for several', collect, [])
    .option('--base-lora <adapter[:scale]>', 'an adapter on --base; repeat for several', collect, [])
    .option('--text <file>', 'a text file')
    .option('--dataset <dataset>', 'NAME or NAME@VERSION: its examples, joined')
    .addOption(new Option('--split <split>', 'with --dataset').choices(['train', 'validation', 'test', 'all']).default('test'))
    .option('--ctx <n>', 'tokens per chunk (llama-perplexity -c)', '512')
    .option('--chunks <n>', 'score at most this many chunks')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action(async (opts: KldOpts) => {
      if (!opts.text === !opts.dataset) throw usageError('badSource', 'give either --text FILE or --dataset NAME[@VERSION]');
      const ctx = Number(opts.ctx);
      if (!Number.isInteger(ctx) || ctx < 4) throw usageError('badNumber', `--ctx must be a whole number of at least 4, not "${opts.ctx}"`);
      const maxChunks = opts.chunks ? parseId(opts.chunks) : undefined;
      await withClient(io, opts, async (c, app) => {
        const baseId = await modelArg(c, opts.base);
        const modelId = await modelArg(c, opts.model);
        const source = opts.text
          ? { textFile: opts.text }
          : { dataset: parseRef(opts.dataset!).name, version: parseRef(opts.dataset!).version, split: opts.split };
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once('SIGINT', onSigint);
        try {
          const figures = await app.kld(
            {
              base: { modelId: baseId, adapters: await loraArgs(c, opts.baseLora, baseId) },
              model: { modelId, adapters: await loraArgs(c, opts.lora, modelId) },
              source,
              contextSize: ctx,
              ...(maxChunks ? { maxChunks } : {}),
            },
            { signal: abort.signal, onChunk: (done, total) => opts.json || io.err(`\rchunk ${done} of ${total}`.padEnd(30)) },
          );
          if (!opts.json) io.err('\n');
          print(io, opts, figures, () => formatKldReport(figures));
        } finally {
          process.off('SIGINT', onSigint);
        }
      });
    });
}
