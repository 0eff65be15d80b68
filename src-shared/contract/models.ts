import { z } from 'zod';
import { op, event, job } from './define.js';
import { ModelRole, type BenchmarkRecord, type ModelEntry, type ModelInspection } from '../domain/models.js';
import { FilePath } from '../domain/paths.js';

const ModelId = z.number().int().positive();
const Note = z.string().max(10_000);

export const modelsOps = {
  'models.list': op<ModelEntry[]>()(z.strictObject({})),
  'models.get': op<ModelEntry>()(z.strictObject({ id: ModelId })),
  /** Read a file's GGUF header without adding it (the "add" dialog's preview). */
  'models.inspect': op<ModelInspection>()(z.strictObject({ path: FilePath })),
  'models.add': op<ModelEntry>()(
    z.strictObject({
      path: FilePath,
      roles: z.array(ModelRole).max(3).default([]),
      note: Note.default(''),
    }),
  ),
  'models.update': op<ModelEntry>()(
    z.strictObject({
      id: ModelId,
      name: z.string().trim().min(1).max(200).optional(),
      roles: z.array(ModelRole).max(3).optional(),
      note: Note.optional(),
    }),
  ),
  /** Removes the library entry; never deletes the user's file. */
  'models.remove': op<{ removed: true }>()(z.strictObject({ id: ModelId })),
  /** Starts a run that scans a folder for GGUF files and adds them. */
  'models.scan': op<{ runId: number }>()(z.strictObject({ folder: FilePath, recursive: z.boolean().default(true) })),
  /** Starts a run that loads a model and measures prompt and generation speed. */
  'models.benchmark': op<{ runId: number }>()(
    z.strictObject({
      id: ModelId,
      promptTokens: z.number().int().min(1).max(8192).default(128),
      generateTokens: z.number().int().min(1).max(4096).default(128),
      repetitions: z.number().int().min(1).max(20).default(3),
      threads: z.number().int().min(1).max(256).nullable().default(null),
    }),
  ),
  /** The model's finished benchmarks, oldest first (tokens/s, threads, date): its page's history. */
  'models.benchmarks': op<BenchmarkRecord[]>()(z.strictObject({ id: ModelId })),
};

export const modelsEvents = {
  /** The library changed (added, removed, updated): refetch. */
  'models.changed': event<{ id: number | null }>(),
};

/** The runs this room starts (see docs/runs.md). */
export const modelsJobs = {
  /** Adds every GGUF file below a folder; one item per file. */
  'models.scan': job({
    config: z.strictObject({ folder: z.string().min(1), recursive: z.boolean() }),
    metrics: { models_added: 'models', files_refused: 'files' },
    item: z.strictObject({ outcome: z.string() }),
  }),
  /** Prompt and generation speed of a model; one item per repetition (`prompt_tps` and `generate_tps` by repetition). */
  'models.benchmark': job({
    config: z.strictObject({
      id: ModelId,
      promptTokens: z.number().int().positive(),
      generateTokens: z.number().int().positive(),
      repetitions: z.number().int().positive(),
      threads: z.number().int().positive().nullable(),
    }),
    metrics: {
      prompt_tps: 'tokens/s',
      generate_tps: 'tokens/s',
      load_ms: 'ms',
      prompt_tps_mean: 'tokens/s',
      generate_tps_mean: 'tokens/s',
      threads: 'threads',
    },
  }),
};
