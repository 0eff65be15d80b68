// `distillery quantize`: a library model (or a GGUF file) quantized to one or more types in one run, executed here;
// each file is added to the library. The types are llama-quantize's names (Q8_0, Q4_K_M, IQ4_XS, ...).
import { Option, type Command } from 'commander';
import { QUANT_TYPE_NAMES, QUANT_TYPES } from '../../src-shared/domain/quantize.js';
import { TENSOR_TYPES } from '../../src-shared/contract/quantize.js';
import { modelArg, runToEnd } from './open.js';
import { dataDirOption, intOption, jsonOption, SPLIT_CHOICES, textSourceArg, usageError, type Common, type SplitName } from './options.js';
import type { Io } from './output.js';

/** `Q4_K_M,q8_0` → ['Q4_K_M', 'Q8_0'], every name checked. */
function typesArg(raw: string): string[] {
  const names = raw
    .split(',')
    .map((t) => t.trim().toUpperCase())
    .filter(Boolean);
  for (const n of names) {
    if (!QUANT_TYPE_NAMES.includes(n)) throw usageError('distillery.type', `${n} is not a quantization type; choose from ${QUANT_TYPE_NAMES.join(', ')}`);
  }
  if (names.length === 0) throw usageError('distillery.type', 'give at least one type, e.g. --type Q4_K_M,Q8_0');
  return names;
}

export function addQuantizeCommand(program: Command, io: Io): void {
  program
    .command('quantize')
    .description('quantize a model to one or more GGUF types (a run, executed here); each file is added to the library')
    .requiredOption('--model <model>', 'the source model: a library id or a GGUF file (F32, F16 or BF16)')
    .requiredOption(
      '--type <types>',
      `comma-separated types, e.g. Q4_K_M,Q8_0 (${QUANT_TYPES.filter((t) => t.needsImatrix)
        .map((t) => t.name)
        .join(', ')} need an importance matrix)`,
    )
    .option('--imatrix <file>', "an importance matrix: llama-imatrix's GGUF or legacy .dat, or one the app made")
    .option('--imatrix-dataset <dataset>', "...or computed first from NAME or NAME@VERSION (rendered with the model's chat template)")
    .addOption(new Option('--split <split>', 'with --imatrix-dataset').choices(SPLIT_CHOICES).default('all'))
    .option('--imatrix-text <file>', '...or computed first from a text file')
    .option('--imatrix-ctx <n>', 'tokens per chunk of the computed importance matrix (llama-imatrix -c)', '512')
    .option('--out <dir>', 'the folder the files are written to (default: quantized/<model>/ in the data folder)')
    .option('--pure', 'every tensor the same type (no k-quant mixture)')
    .option('--allow-requantize', 'quantize a model that is already quantized (loses more quality)')
    .addOption(new Option('--output-tensor-type <type>', 'type of output.weight').choices(TENSOR_TYPES))
    .addOption(new Option('--token-embedding-type <type>', 'type of the token embeddings').choices(TENSOR_TYPES))
    .option('--force', 'replace files that already exist')
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action(
      (
        opts: Common & {
          model: string;
          type: string;
          imatrix?: string;
          imatrixDataset?: string;
          imatrixText?: string;
          split: SplitName;
          imatrixCtx: string;
          out?: string;
          pure?: boolean;
          allowRequantize?: boolean;
          outputTensorType?: (typeof TENSOR_TYPES)[number];
          tokenEmbeddingType?: (typeof TENSOR_TYPES)[number];
          force?: boolean;
        },
      ) => {
        const types = typesArg(opts.type);
        let imatrixFrom: { source: ReturnType<typeof textSourceArg>; contextSize: number } | undefined;
        if (opts.imatrixDataset || opts.imatrixText) {
          if (opts.imatrix) throw usageError('badImatrix', 'give --imatrix FILE or a text to compute one from (--imatrix-dataset, --imatrix-text), not both');
          imatrixFrom = {
            source: textSourceArg(opts.imatrixText, opts.imatrixDataset, opts.split, { text: '--imatrix-text', dataset: '--imatrix-dataset' }),
            contextSize: intOption(opts.imatrixCtx, '--imatrix-ctx'),
          };
        }
        return runToEnd(io, opts, async (c) =>
          c.call('quantize.start', {
            modelId: await modelArg(c, opts.model),
            types,
            ...(opts.imatrix ? { imatrix: opts.imatrix } : {}),
            ...(imatrixFrom ? { imatrixFrom } : {}),
            ...(opts.out ? { outDir: opts.out } : {}),
            ...(opts.outputTensorType ? { outputTensorType: opts.outputTensorType } : {}),
            ...(opts.tokenEmbeddingType ? { tokenEmbeddingType: opts.tokenEmbeddingType } : {}),
            pure: opts.pure === true,
            allowRequantize: opts.allowRequantize === true,
            replace: opts.force === true,
          }),
        );
      },
    );
}
