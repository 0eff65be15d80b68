import { z } from 'zod';
import { job, op } from './define.js';
import { FilePath } from '../domain/paths.js';
import { QUANT_TYPE_NAMES } from '../domain/quantize.js';

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
      /** ggml type ids, null: the type's own choice. */
      outputTensorType: z.number().int().nullable(),
      tokenEmbeddingType: z.number().int().nullable(),
      pure: z.boolean(),
      allowRequantize: z.boolean(),
      replace: z.boolean(),
    }),
    metrics: { 'bytes:*': 'bytes', 'bpw:*': 'bits/weight', 'seconds:*': 's', source_bytes: 'bytes' },
    item: QuantizedFile,
  }),
};
