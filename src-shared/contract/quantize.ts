import { z } from 'zod';
import { job, op } from './define.js';
import { FilePath } from '../domain/paths.js';
import { QUANT_TYPE_NAMES, type GateFigures, type SpeedFigures } from '../domain/quantize.js';
import { TextSource } from '../domain/adapters.js';
import { SourceConfig } from './adapters.js';

const ModelId = z.number().int().positive();
/** ggml tensor types the output and token-embedding tensors may be given (llama-quantize's --output-tensor-type). */
export const TENSOR_TYPES = ['F32', 'F16', 'BF16', 'Q8_0', 'Q6_K', 'Q5_K', 'Q4_K', 'Q5_0', 'Q4_0', 'IQ4_NL', 'IQ4_XS', 'Q3_K', 'Q2_K'] as const;

/** One quantized file of a ladder run, as its item records it. */
export const QuantizedFile = z.strictObject({
  type: z.string(),
  file: z.string(),
  bytes: z.number(),
  /** Bits per weight of the whole file (tensor bytes × 8 / parameters). */
  bpw: z.number(),
  seconds: z.number(),
  modelId: z.number().int().positive(),
});
export type QuantizedFile = z.infer<typeof QuantizedFile>;

const Percentiles = z.array(z.strictObject({ p: z.number(), value: z.number() }));
export const GateFiguresSchema: z.ZodType<GateFigures> = z.strictObject({
  sourceLabel: z.string(),
  contextSize: z.number().int(),
  chunks: z.number().int(),
  scoredTokens: z.number().int(),
  ppl: z.number(),
  pplStderr: z.number(),
  pplBase: z.number(),
  pplBaseStderr: z.number(),
  pplCorrelation: z.number(),
  lnPplRatio: z.number(),
  lnPplRatioStderr: z.number(),
  pplRatio: z.number(),
  pplRatioStderr: z.number(),
  pplDiff: z.number(),
  pplDiffStderr: z.number(),
  kld: z.number(),
  kldStderr: z.number(),
  kldPercentiles: Percentiles,
  meanDp: z.number(),
  meanDpStderr: z.number(),
  dpPercentiles: Percentiles,
  rmsDp: z.number(),
  rmsDpStderr: z.number(),
  sameTop: z.number(),
  sameTopStderr: z.number(),
  tokensPerSecond: z.number(),
});
export const SpeedFiguresSchema: z.ZodType<SpeedFigures> = z.strictObject({
  loadSeconds: z.number(),
  promptTokensPerSecond: z.number(),
  genTokensPerSecond: z.number(),
  peakRssBytes: z.number(),
  peakDeviceBytes: z.number().nullable(),
  threads: z.number().int(),
});

/** A ladder item that is not a file: the gate of one type (`of` its name) or the source's own speed (`of` 'source'). */
export const GateItem = z.strictObject({
  of: z.string(),
  gate: GateFiguresSchema.nullable(),
  speed: SpeedFiguresSchema.nullable(),
});
export type GateItem = z.infer<typeof GateItem>;

/** One row of a ladder's answer: a type's file with its gate figures and speed (null until measured). */
export interface LadderRow extends QuantizedFile {
  gate: GateFigures | null;
  speed: SpeedFigures | null;
}

/** What a ladder run made and measured, in the ladder's order; what the Quantize run page and `quantize` CLI show. */
export interface LadderResults {
  runId: number;
  source: { modelId: number; name: string; bytes: number; bpw: number; speed: SpeedFigures | null };
  imatrix: { file: string; entries: number; chunks: number; datasets: string[] } | null;
  /** The gate's text (null: no gate in this run). */
  gateSource: string | null;
  rows: LadderRow[];
}

/** A quantized model's gate figures, found through the ladder run that made it. */
export interface ModelGate {
  runId: number;
  type: string;
  source: { modelId: number; name: string };
  bytes: number;
  bpw: number;
  gate: GateFigures | null;
  speed: SpeedFigures | null;
}

/** How an importance matrix is computed in the app (as llama-imatrix: Σ x² of every weight matrix's inputs). */
const ImatrixFrom = z.strictObject({
  source: TextSource,
  /** Tokens per chunk (llama-imatrix's -c). */
  contextSize: z.number().int().min(16).max(32_768).default(512),
  /** At most this many chunks (llama-imatrix's --chunks). */
  maxChunks: z.number().int().positive().optional(),
});

/** The quality gate's settings: the text each variant is scored on against the source, and whether speed is measured. */
const GateOptions = z.strictObject({
  /** Default: the test split of the dataset the importance matrix came from; one must be given otherwise. */
  source: TextSource.optional(),
  contextSize: z.number().int().min(16).max(32_768).default(512),
  maxChunks: z.number().int().positive().optional(),
  /** Measure load time, prompt and generation tokens/s and peak memory of the source and each type. */
  speed: z.boolean().default(true),
});

export const quantizeOps = {
  /**
   * Starts a ladder run: a library model (F32, F16 or BF16; merged adapters included) quantized to each type, one
   * file per type, each added to the library with its lineage. Types that need an importance matrix are refused
   * without one, before the run starts.
   */
  'quantize.start': op<{ runId: number }>()(
    z.strictObject({
      modelId: ModelId,
      types: z.array(z.enum(QUANT_TYPE_NAMES)).min(1).max(QUANT_TYPE_NAMES.length),
      /** An importance-matrix file (GGUF from llama-imatrix or the app, or a legacy .dat). */
      imatrix: FilePath.optional(),
      /** ...or computed first, in this run, from a dataset split (rendered with the model's chat template) or a text file. */
      imatrixFrom: ImatrixFrom.optional(),
      /**
       * The quality gate: every type scored against the source in lockstep (KLD, Δp, same top, PPL ratio). Absent: on
       * the importance matrix's dataset's test split when there is one, else no gate (the run says so); null: no gate.
       */
      gate: GateOptions.nullable().optional(),
      /** The folder the files are written to; default: `quantized/<model>/` in the data folder. */
      outDir: FilePath.optional(),
      outputTensorType: z.enum(TENSOR_TYPES).optional(),
      tokenEmbeddingType: z.enum(TENSOR_TYPES).optional(),
      /** Every tensor the same type (no k-quant mixture). */
      pure: z.boolean().default(false),
      /** Quantize a model that is already quantized (quality suffers: say so). */
      allowRequantize: z.boolean().default(false),
      /** Replace files that exist (otherwise refused with code file_exists). */
      replace: z.boolean().default(false),
    }),
  ),
  /** The files a ladder run has made so far, largest type first. */
  'quantize.files': op<QuantizedFile[]>()(z.strictObject({ runId: z.number().int().positive() })),
  /** A ladder run's files with their gate figures and speeds, and the source's: the page's table and charts. */
  'quantize.results': op<LadderResults>()(z.strictObject({ runId: z.number().int().positive() })),
  /** A quantized model's gate figures (null: not made by a ladder run, or not gated). */
  'quantize.gateOf': op<ModelGate | null>()(z.strictObject({ modelId: ModelId })),
  /** Starts an importance-matrix run: a model's Σ x² statistics on a text, saved in llama.cpp's GGUF imatrix format. */
  'quantize.imatrix': op<{ runId: number }>()(
    ImatrixFrom.extend({
      modelId: ModelId,
      /** Default: `imatrix/<model>-<source>.gguf` in the data folder. */
      out: FilePath.optional(),
      replace: z.boolean().default(false),
    }),
  ),
};

/** Where a text for scoring or statistics comes from, resolved (a file, or a dataset version's split). */
const Scored = {
  source: SourceConfig,
  /** Dataset examples rendered through the model's chat template ('chat') or as their messages' texts ('plain'). */
  render: z.enum(['chat', 'plain']),
  contextSize: z.number().int().positive(),
  maxChunks: z.number().int().positive().optional(),
};

/** The runs this room starts (see docs/runs.md). */
export const quantizeJobs = {
  /** A model quantized to each type of a ladder, one item per type; the files are added to the library. */
  'quantize.ladder': job({
    config: z.strictObject({
      model: z.strictObject({ id: ModelId, path: z.string(), name: z.string() }),
      types: z.array(z.strictObject({ name: z.string(), ftype: z.number().int() })).min(1),
      outDir: z.string(),
      imatrix: z.strictObject({ file: z.string(), entries: z.number().int(), chunks: z.number().int(), datasets: z.array(z.string()) }).nullable(),
      /** The importance matrix to compute first (item `imatrix`), written to `file`; then `imatrix` is null. */
      imatrixFrom: z
        .strictObject({ ...Scored, file: z.string() })
        .nullable()
        .default(null),
      /** The quality gate (items `gate:<type>` and `gate:source`), null: none. */
      gate: z
        .strictObject({ ...Scored, speed: z.boolean() })
        .nullable()
        .default(null),
      /** ggml type ids, null: the type's own choice. */
      outputTensorType: z.number().int().nullable(),
      tokenEmbeddingType: z.number().int().nullable(),
      pure: z.boolean(),
      allowRequantize: z.boolean(),
      replace: z.boolean(),
    }),
    metrics: {
      'bytes:*': 'bytes',
      'bpw:*': 'bits/weight',
      'seconds:*': 's',
      source_bytes: 'bytes',
      'kld:*': '',
      'same_top:*': '',
      'ppl_ratio:*': '',
      'gen_tps:*': 'tokens/s',
    },
    item: z.union([QuantizedFile, GateItem, z.strictObject({ imatrix: z.string(), entries: z.number().int(), chunks: z.number().int() })]),
  }),
  /** A model's importance matrix on a text (llama-imatrix's Σ x² per weight matrix), written to one GGUF file. */
  'quantize.imatrix': job({
    config: z.strictObject({
      model: z.strictObject({ id: ModelId, path: z.string(), name: z.string() }),
      ...Scored,
      out: z.string(),
      replace: z.boolean(),
    }),
    metrics: { chunks: 'chunks', tokens: 'tokens', tokens_per_second: 'tokens/s', entries: 'weights' },
  }),
};
