// `distillery imatrix`: a model's importance matrix (llama-imatrix's Σ x² of every weight matrix's inputs) computed
// here from a text file or a dataset split (its conversations rendered with the model's chat template), written as a
// GGUF imatrix that `distillery quantize --imatrix` and llama-quantize read.
import { Option, type Command } from 'commander';
import { modelArg, runToEnd } from './open.js';
import { dataDirOption, intOption, jsonOption, SPLIT_CHOICES, textSourceArg, type Common, type SplitName } from './options.js';
import type { Io } from './output.js';

export function addImatrixCommand(program: Command, io: Io): void {
  program
    .command('imatrix')
    .description("compute a model's importance matrix from a text file or a dataset split, as llama-imatrix does (a run, executed here)")
    .requiredOption('--model <model>', 'a model id or GGUF path')
    .option('--text <file>', 'a text file')
    .option('--dataset <dataset>', "NAME or NAME@VERSION: its examples rendered with the model's chat template")
    .addOption(new Option('--split <split>', 'with --dataset').choices(SPLIT_CHOICES).default('all'))
    .option('--out <file>', 'the imatrix GGUF to write (default: imatrix/<model>-<source>.gguf in the data folder)')
    .option('--ctx <n>', 'tokens per chunk (llama-imatrix -c)', '512')
    .option('--chunks <n>', 'at most this many chunks')
    .option('--force', 'replace the file if it already exists')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action(
      (opts: Common & { model: string; text?: string; dataset?: string; split: SplitName; out?: string; ctx: string; chunks?: string; force?: boolean }) => {
        const source = textSourceArg(opts.text, opts.dataset, opts.split, { text: '--text', dataset: '--dataset' });
        const contextSize = intOption(opts.ctx, '--ctx');
        const maxChunks = opts.chunks === undefined ? undefined : intOption(opts.chunks, '--chunks');
        return runToEnd(io, opts, async (c) =>
          c.call('quantize.imatrix', {
            modelId: await modelArg(c, opts.model),
            source,
            contextSize,
            ...(maxChunks ? { maxChunks } : {}),
            ...(opts.out ? { out: opts.out } : {}),
            replace: opts.force === true,
          }),
        );
      },
    );
}
