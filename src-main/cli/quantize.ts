// `distillery quantize`: a library model (or a GGUF file) quantized to one or more types in one run, executed here;
// each file is added to the library. The types are llama-quantize's names (Q8_0, Q4_K_M, IQ4_XS, ...).
import { Option, type Command } from 'commander';
import { QUANT_TYPE_NAMES, QUANT_TYPES } from '../../src-shared/domain/quantize.js';
import { TENSOR_TYPES } from '../../src-shared/contract/quantize.js';
import type { LadderResults } from '../../src-shared/contract/quantize.js';
import { modelArg, runToEnd } from './open.js';
import { dataDirOption, jsonOption, parseId, parseRef, usageError, type Common } from './options.js';
import { table, type Io } from './output.js';

interface GateOpts {
  gateText?: string;
  gateDataset?: string;
  gateSplit: 'train' | 'validation' | 'test' | 'all';
  gateCtx: string;
  gateChunks?: string;
  /** commander's --no-gate / --no-speed */
  gate: boolean;
  speed: boolean;
}

/** quantize.start's `gate` from the command line: absent (the default rule), null (--no-gate) or a text. */
function gateArg(o: GateOpts) {
  if (!o.gate) return { gate: null };
  if (o.gateText && o.gateDataset) throw usageError('badSource', 'give either --gate-text FILE or --gate-dataset NAME[@VERSION], not both');
  const contextSize = Number(o.gateCtx);
  if (!Number.isInteger(contextSize) || contextSize < 16) throw usageError('badNumber', `--gate-ctx must be a whole number of at least 16, not "${o.gateCtx}"`);
  const source = o.gateText
    ? { textFile: o.gateText }
    : o.gateDataset
      ? { dataset: parseRef(o.gateDataset).name, version: parseRef(o.gateDataset).version, split: o.gateSplit }
      : undefined;
  if (!source && o.speed && o.gateCtx === '512' && !o.gateChunks) return {};
  return { gate: { ...(source ? { source } : {}), contextSize, ...(o.gateChunks ? { maxChunks: parseId(o.gateChunks) } : {}), speed: o.speed } };
}

const mb = (b: number) => (b / 1e6).toFixed(1);

/** The ladder's answer: every type's size, quality against the source and speed, the source first. */
export function ladderTable(r: LadderResults): string {
  const speedCells = (s: LadderResults['source']['speed']) =>
    s ? [s.promptTokensPerSecond.toFixed(0), s.genTokensPerSecond.toFixed(1), mb(s.peakRssBytes), s.loadSeconds.toFixed(2)] : ['', '', '', ''];
  const rows = [
    [`${r.source.name} (source)`, mb(r.source.bytes), r.source.bpw.toFixed(2), '', '', '', '', ...speedCells(r.source.speed)],
    ...r.rows.map((x) => [
      x.type,
      mb(x.bytes),
      x.bpw.toFixed(2),
      x.gate ? `${x.gate.kld.toFixed(6)} ± ${x.gate.kldStderr.toFixed(6)}` : '',
      x.gate ? x.gate.kldPercentiles.find((p) => p.p === 0.99)!.value.toFixed(6) : '',
      x.gate ? `${(100 * x.gate.sameTop).toFixed(2)} %` : '',
      x.gate ? x.gate.pplRatio.toFixed(4) : '',
      ...speedCells(x.speed),
    ]),
  ];
  const head = r.gateSource ? `Quality gate on ${r.gateSource} (against ${r.source.name}):` : 'No quality gate in this run.';
  return `${head}\n${table(['type', 'MB', 'bits/w', 'mean KLD', 'KLD 99%', 'same top', 'PPL ratio', 'prompt t/s', 'gen t/s', 'peak MB', 'load s'], rows)}`;
}

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
        .join(', ')} need --imatrix)`,
    )
    .option('--imatrix <file>', "an importance matrix: llama-imatrix's GGUF or legacy .dat, or one the app made")
    .option('--out <dir>', 'the folder the files are written to (default: quantized/<model>/ in the data folder)')
    .option('--pure', 'every tensor the same type (no k-quant mixture)')
    .option('--allow-requantize', 'quantize a model that is already quantized (loses more quality)')
    .addOption(new Option('--output-tensor-type <type>', 'type of output.weight').choices(TENSOR_TYPES))
    .addOption(new Option('--token-embedding-type <type>', 'type of the token embeddings').choices(TENSOR_TYPES))
    .option('--force', 'replace files that already exist')
    .option('--gate-text <file>', 'the quality gate: every type scored against the source on this text (KLD, same top, PPL ratio)')
    .option('--gate-dataset <dataset>', "...or on a dataset's split: NAME or NAME@VERSION")
    .addOption(new Option('--gate-split <split>', 'with --gate-dataset').choices(['train', 'validation', 'test', 'all']).default('test'))
    .option('--gate-ctx <n>', "the gate's tokens per chunk", '512')
    .option('--gate-chunks <n>', 'score at most this many chunks')
    .option('--no-gate', 'no quality gate (the default gate is the test split of the dataset an imatrix is computed from)')
    .option('--no-speed', "with a gate: don't measure load time, tokens/s and peak memory")
    .addOption(dataDirOption(io))
    .addOption(jsonOption())
    .action(
      (
        opts: Common & {
          model: string;
          type: string;
          imatrix?: string;
          out?: string;
          pure?: boolean;
          allowRequantize?: boolean;
          outputTensorType?: (typeof TENSOR_TYPES)[number];
          tokenEmbeddingType?: (typeof TENSOR_TYPES)[number];
          force?: boolean;
        } & GateOpts,
      ) => {
        const types = typesArg(opts.type);
        const gate = gateArg(opts);
        return runToEnd(
          io,
          opts,
          async (c) =>
            c.call('quantize.start', {
              modelId: await modelArg(c, opts.model),
              types,
              ...(opts.imatrix ? { imatrix: opts.imatrix } : {}),
              ...(opts.out ? { outDir: opts.out } : {}),
              ...(opts.outputTensorType ? { outputTensorType: opts.outputTensorType } : {}),
              ...(opts.tokenEmbeddingType ? { tokenEmbeddingType: opts.tokenEmbeddingType } : {}),
              pure: opts.pure === true,
              allowRequantize: opts.allowRequantize === true,
              replace: opts.force === true,
              ...gate,
            }),
          async (c, runId) => {
            const results = await c.call('quantize.results', { runId });
            return { key: 'results', value: results, text: ladderTable(results) };
          },
        );
      },
    );
}
