import { z } from 'zod';
import { op, event, job } from './define.js';
import { AttachedAdapter, CompareGeneration, TextSource, Variant, type AdapterEntry, type CompareResults, type SweepPoint } from '../domain/adapters.js';
import { FilePath } from '../domain/paths.js';

const AdapterId = z.number().int().positive();
const ModelId = z.number().int().positive();
const RunId = z.number().int().positive();

export const adaptersOps = {
  'adapters.list': op<AdapterEntry[]>()(z.strictObject({})),
  'adapters.get': op<AdapterEntry>()(z.strictObject({ id: AdapterId })),
  /**
   * Adds a GGUF LoRA file, or converts a PEFT folder (adapter_config.json + adapter_model.safetensors) to GGUF. A base
   * model is needed to convert PEFT (architecture, head counts) and, when given, the adapter is checked against it.
   */
  'adapters.import': op<AdapterEntry>()(
    z.strictObject({
      path: FilePath,
      baseModelId: ModelId.optional(),
      name: z.string().trim().min(1).max(200).optional(),
      note: z.string().max(10_000).default(''),
    }),
  ),
  /** Checks an adapter against a base model: architecture, tensor names and shapes. Refused with the exact reason. */
  'adapters.check': op<{ compatible: true }>()(z.strictObject({ id: AdapterId, modelId: ModelId })),
  /** Whether each adapter of the library fits a model (ok), and why not (reason): what the pickers grey out. Cached. */
  'adapters.compatibility': op<{ id: number; ok: boolean; reason: string | null }[]>()(z.strictObject({ modelId: ModelId })),
  /** Removes the library entry (and the converted file the app made; never the user's own files). */
  'adapters.remove': op<{ removed: true }>()(z.strictObject({ id: AdapterId })),
  /** Starts a run: perplexity of a variant on a text file or a dataset split, scored like llama.cpp's perplexity tool. */
  'adapters.perplexity': op<{ runId: number }>()(
    z.strictObject({
      variant: Variant,
      source: TextSource,
      contextSize: z.number().int().min(16).max(32_768).default(512),
      maxChunks: z.number().int().positive().optional(),
    }),
  ),
  /** Starts a run: perplexity of one adapter at several scales (e.g. 0, 0.25, …, 1.5). */
  'adapters.sweep': op<{ runId: number }>()(
    z.strictObject({
      modelId: ModelId,
      adapterId: AdapterId,
      /** Other adapters attached at fixed scales during the sweep. */
      fixed: z.array(AttachedAdapter).max(7).default([]),
      scales: z.array(z.number().min(-10).max(10)).min(2).max(32),
      source: TextSource,
      contextSize: z.number().int().min(16).max(32_768).default(512),
      maxChunks: z.number().int().positive().optional(),
    }),
  ),
  /** A sweep's points so far (scale → perplexity), for its chart. */
  'adapters.sweepPoints': op<SweepPoint[]>()(z.strictObject({ runId: RunId })),
  /** Starts a comparison run: 2–6 variants answer the same prompts with identical seeds and settings. */
  'adapters.compare': op<{ runId: number }>()(
    z.strictObject({
      variants: z.array(Variant).min(2).max(6),
      prompts: z.union([
        z.strictObject({ texts: z.array(z.string().trim().min(1).max(50_000)).min(1).max(1000) }),
        z.strictObject({
          dataset: z.string().trim().min(1).max(200),
          version: z.number().int().positive().optional(),
          split: z.enum(['train', 'validation', 'test', 'all']).default('all'),
          limit: z.number().int().positive().max(1000).default(20),
        }),
      ]),
      generation: CompareGeneration.default(CompareGeneration.parse({})),
      mode: z.enum(['chat', 'completion']).default('chat'),
    }),
  ),
  'adapters.compareResults': op<CompareResults>()(z.strictObject({ runId: RunId })),
  /** Marks the better answer of one prompt (a variant index, -1 for a tie, null to clear); kept in SQLite. */
  'adapters.vote': op<CompareResults['tally']>()(
    z.strictObject({ runId: RunId, prompt: z.number().int().min(0), winner: z.number().int().min(-1).max(5).nullable() }),
  ),
  /** Starts a run: base + adapters (with scales) merged into a new GGUF, registered as a model with its lineage. */
  'adapters.merge': op<{ runId: number }>()(
    z.strictObject({
      modelId: ModelId,
      adapters: z.array(AttachedAdapter).min(1).max(8),
      out: FilePath,
      type: z.enum(['f16', 'f32']).default('f16'),
      /** Replace an existing file (otherwise refused with code file_exists). */
      replace: z.boolean().default(false),
    }),
  ),
  /**
   * Starts a run that waits for a trainer's PEFT adapter in `dir` (or a subfolder, see docs/training.md "Back again"),
   * imports it once it is complete, and links it to the training export (`distillery-export.json`) it was trained from.
   */
  'adapters.watch': op<{ runId: number }>()(
    z.strictObject({
      /** The trainer's output folder (or the training folder holding it): an absolute path. */
      dir: FilePath,
      /** The base model the adapter was trained on (the PEFT conversion needs its architecture). */
      baseModelId: ModelId,
      /** The adapter's name in the library; default: from the export (dataset, version, trainer) or the folder. */
      name: z.string().trim().min(1).max(200).optional(),
      /** Give up after this long; default: wait until cancelled. */
      timeoutMinutes: z
        .number()
        .positive()
        .max(60 * 24 * 30)
        .optional(),
    }),
  ),
};

export const adaptersEvents = {
  'adapters.changed': event<{ id: number | null }>(),
};

/** A variant as a run's config holds it: files resolved and checked when the run was started. */
export const VariantConfig = z.strictObject({
  modelId: ModelId,
  modelPath: z.string(),
  modelName: z.string(),
  adapters: z.array(z.strictObject({ id: AdapterId, name: z.string(), filePath: z.string(), scale: z.number() })),
  label: z.string(),
});
export type VariantConfig = z.infer<typeof VariantConfig>;

/** A text to score as a run's config holds it: a file, or a dataset version's split (its messages joined). */
export const SourceConfig = z.union([
  z.strictObject({ kind: z.literal('file'), path: z.string() }),
  z.strictObject({
    kind: z.literal('dataset'),
    dataset: z.string(),
    versionId: z.number().int().positive(),
    label: z.string(),
    split: z.enum(['train', 'validation', 'test', 'all']),
  }),
]);
export type SourceConfig = z.infer<typeof SourceConfig>;

const Scoring = {
  source: SourceConfig,
  contextSize: z.number().int().positive(),
  maxChunks: z.number().int().positive().optional(),
};

/** The runs this room starts (see docs/runs.md). */
export const adaptersJobs = {
  /** A variant's perplexity on a text, chunked and scored like llama.cpp's perplexity tool. */
  'adapters.perplexity': job({
    config: z.strictObject({ variant: VariantConfig, ...Scoring }),
    metrics: { perplexity: '', perplexity_stderr: '', scored_tokens: 'tokens', tokens_per_second: 'tokens/s', chunks: 'chunks' },
  }),
  /** One adapter at several scales; one item per scale (`perplexity` by scale index), its point the item's result. */
  'adapters.sweep': job({
    config: z.strictObject({
      variant: VariantConfig,
      /** The swept adapter: its index in variant.adapters (whose scale each step replaces). */
      swept: z.number().int().min(0),
      scales: z.array(z.number()).min(2),
      ...Scoring,
    }),
    metrics: { perplexity: '', chunks: 'chunks' },
    item: z.strictObject({ scale: z.number(), ppl: z.number(), stderr: z.number() }),
  }),
  /** Every variant answers every prompt with the same seed and settings; one item per (variant, prompt). */
  'adapters.compare': job({
    config: z.strictObject({
      variants: z.array(VariantConfig).min(2),
      prompts: z.array(z.string()),
      generation: CompareGeneration,
      mode: z.enum(['chat', 'completion']),
      source: z.string(),
    }),
  }),
  /** Base + adapters (with scales) written as a new GGUF and added to the library. */
  'adapters.merge': job({
    config: z.strictObject({
      variant: VariantConfig,
      out: z.string(),
      type: z.enum(['f16', 'f32']),
      /** The user asked to replace an existing file (`--force`, confirmed in the UI). */
      replace: z.boolean().default(false),
    }),
    metrics: { merged_tensors: '' },
    /** The `merged` item: what was written. */
    item: z.strictObject({ tensors: z.number(), mergedTensors: z.number(), bytes: z.number() }).optional(),
  }),
  /** Waits for a complete PEFT adapter below `dir`, imports it once (the `imported` item), links it to its export. */
  'adapters.watch': job({
    config: z.strictObject({
      dir: z.string(),
      base: z.strictObject({ id: ModelId, name: z.string() }),
      /** The user's name for the adapter; null: chosen when it is imported. */
      name: z.string().nullable(),
      timeoutMinutes: z.number().positive().nullable(),
    }),
    metrics: { adapter_bytes: 'bytes' },
    /** The `imported` item: which file became which adapter (a later watch of the same file links it, not imports it). */
    item: z.strictObject({
      /** The adapter's folder and its safetensors file, with the file's size and sha256 when it was imported. */
      folder: z.string(),
      file: z.string(),
      bytes: z.number().int().nonnegative(),
      sha256: z.string(),
      adapterId: AdapterId,
      /** Whether this run imported it (false: it was in the library already and was only linked). */
      imported: z.boolean(),
    }),
  }),
};
