import { z } from 'zod';
import { job, op } from './define.js';
import { FilePath } from '../domain/paths.js';
import { DEFAULT_RECIPE, DEFAULT_TARGET_MODULES, TRAINERS, type TrainingManifest, type TrainingPlan } from '../domain/training.js';

const ModelId = z.number().int().positive();
const RunId = z.number().int().positive();
const DatasetName = z.string().trim().min(1, 'a dataset name is required').max(200);

/** An absolute path on any platform (`/x`, `C:\x`, `\\server\share`): the renderer has no `node:path`. */
export const isAbsolutePath = (p: string) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');

/**
 * The student's original weights as the trainer loads them: a Hugging Face id (`org/name`, e.g.
 * `Qwen/Qwen2.5-0.5B-Instruct`) or an absolute path to a local copy.
 */
export const StudentHfId = z
  .string()
  .trim()
  .min(1, 'the Hugging Face id of the student is required')
  .max(300)
  .refine(
    (s) => /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s) || (isAbsolutePath(s) && !s.includes('\0')),
    'give a Hugging Face id as org/name (e.g. Qwen/Qwen2.5-0.5B-Instruct) or an absolute path to the weights',
  );

/** A module name PEFT matches (`q_proj`, `all-linear`). */
const ModuleName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a module name has letters, digits, _ . - only');

/** The user's choices a recipe carries; every field has a default (DEFAULT_RECIPE). */
export const TrainingRecipe = z.strictObject({
  loraRank: z.number().int().min(1).max(1024).default(DEFAULT_RECIPE.loraRank),
  /** A whole number (LLaMA-Factory reads it as one). */
  loraAlpha: z.number().int().min(1).max(1_000_000).default(DEFAULT_RECIPE.loraAlpha),
  loraDropout: z.number().min(0).max(0.9).default(DEFAULT_RECIPE.loraDropout),
  targetModules: z
    .array(ModuleName)
    .min(1)
    .max(64)
    .default([...DEFAULT_TARGET_MODULES]),
  epochs: z.number().positive().max(1000).default(DEFAULT_RECIPE.epochs),
  learningRate: z.number().positive().max(1).default(DEFAULT_RECIPE.learningRate),
  /** Longest sequence in tokens (longer examples are truncated by the trainer). */
  maxLength: z.number().int().min(16).max(1_048_576).default(DEFAULT_RECIPE.maxLength),
  microBatchSize: z.number().int().min(1).max(4096).default(DEFAULT_RECIPE.microBatchSize),
  gradientAccumulation: z.number().int().min(1).max(4096).default(DEFAULT_RECIPE.gradientAccumulation),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(DEFAULT_RECIPE.seed),
});
export type TrainingRecipe = z.output<typeof TrainingRecipe>;

export const trainingOps = {
  /**
   * Starts a `training.export` run: a committed dataset version as a training folder for one trainer (data in its
   * format, recipe, README, `distillery-export.json`), written whole at `outDir` or not at all. Refused before the run
   * starts: a version with no training example, an `outDir` that is relative, inside the data folder, whose parent is
   * missing, or that exists and is not empty (unless `force`), KD with another trainer than Axolotl, KD the soft
   * labels cannot serve (no distillation run, no soft labels, another vocabulary).
   */
  'training.export': op<{ runId: number }>()(
    z.strictObject({
      dataset: DatasetName,
      /** A committed version; default the latest. */
      version: z.number().int().positive().optional(),
      trainer: z.enum(TRAINERS),
      studentHfId: StudentHfId,
      recipe: TrainingRecipe.prefault({}),
      /** The validation file: the version's validation split, or none. Default: the split when the version has one. */
      validation: z.enum(['validation', 'none']).optional(),
      /** Knowledge distillation from the run's soft labels (Axolotl only): the student GGUF of the library whose vocabulary the ids are in. */
      kd: z.strictObject({ studentModelId: ModelId }).optional(),
      /** The training folder: absolute; its parent must exist. */
      outDir: FilePath.refine(isAbsolutePath, 'the output folder must be an absolute path'),
      /** Replace an existing, non-empty `outDir` as a whole. */
      force: z.boolean().default(false),
    }),
  ),
  /** What an export of this version would hold (the form's counts and default validation choice), before starting one. */
  'training.plan': op<TrainingPlan>()(z.strictObject({ dataset: DatasetName, version: z.number().int().positive().optional() })),
  /** The manifest a finished `training.export` run wrote, read back from its folder (checked to be this run's). */
  'training.manifest': op<TrainingManifest>()(z.strictObject({ runId: RunId })),
};

/** The runs this room starts (see docs/runs.md). */
export const trainingJobs = {
  /** A dataset version as a training folder for one trainer, assembled beside `outDir` and renamed into place whole. */
  'training.export': job({
    config: z.strictObject({
      dataset: z.string().min(1),
      versionId: z.number().int().positive(),
      versionNumber: z.number().int().positive(),
      trainer: z.enum(TRAINERS),
      studentHfId: z.string().min(1),
      recipe: TrainingRecipe,
      /** `train`: the train split (the version has splits); `all`: every example (it has none). */
      trainSplit: z.enum(['train', 'all']),
      validation: z.enum(['validation', 'none']),
      kd: z.strictObject({ modelId: ModelId, path: z.string().min(1), name: z.string() }).nullable(),
      outDir: z.string().min(1),
      force: z.boolean(),
    }),
    metrics: { examples_train: 'examples', examples_validation: 'examples', kd_records: 'records', bytes: 'bytes' },
  }),
};
