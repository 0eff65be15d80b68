/**
 * A training folder (issue 15): the data in a trainer's format, its recipe, a README and `distillery-export.json`,
 * the manifest below. The manifest is how the app finds its way back: `adapters.watch` reads it in the trainer's output
 * folder (or a parent) to link the adapter it imports to the export run and its dataset version.
 */
export const TRAINERS = ['axolotl', 'trl', 'unsloth', 'llamafactory'] as const;
export type Trainer = (typeof TRAINERS)[number];

/** The manifest's file name, at the top of every training folder. */
export const TRAINING_MANIFEST = 'distillery-export.json';

export interface TrainingManifestFile {
  /** Relative to the folder, `/`-separated. */
  path: string;
  bytes: number;
  sha256: string;
  /** JSONL data files: their record count. */
  records?: number;
}

export interface TrainingManifest {
  format: 'distillery-training-export';
  formatVersion: 1;
  /** The `training.export` run that wrote the folder. */
  runId: number;
  createdAt: string;
  trainer: Trainer;
  dataset: { name: string; version: number; versionId: number };
  /** The distillation run the dataset came from, when it did (its soft labels are the KD file's source). */
  distillRunId: number | null;
  studentHfId: string;
  counts: { train: number; validation: number; kd: number | null };
  /** Where the trainer will write the adapter, relative to the folder. */
  adapterDir: string;
  /** The run that made the dataset version (import, distillation, dedupe…), when one did. */
  versionRunId: number | null;
  /** The recipe's choices, as the recipe carries them. */
  recipe: {
    loraRank: number;
    loraAlpha: number;
    loraDropout: number;
    targetModules: string[];
    epochs: number;
    learningRate: number;
    maxLength: number;
    microBatchSize: number;
    gradientAccumulation: number;
    seed: number;
  };
  /** The one command that trains, run in the folder (as the README says). */
  command: string;
  /** The KD files and where their soft labels came from, when the export has them. */
  kd: { file: string; compactFile: string; k: number; temperature: number; teacher: string; distillRunId: number; student: string } | null;
  files: TrainingManifestFile[];
  /** Examples left out of the data files, by reason (e.g. no assistant answer; a conversation the trainer's reader skips). */
  skipped?: { reason: string; count: number }[];
}

/** The attention and MLP projections of Llama-style models (Llama, Qwen, Mistral, Gemma, Phi-3): what LoRA adapts by default. */
export const DEFAULT_TARGET_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

/** The recipe's defaults (the contract's `TrainingRecipe` fills them in). */
export const DEFAULT_RECIPE = {
  loraRank: 16,
  loraAlpha: 32,
  loraDropout: 0.05,
  epochs: 3,
  learningRate: 2e-4,
  maxLength: 2048,
  microBatchSize: 2,
  gradientAccumulation: 4,
  seed: 42,
} as const;

/** Where every recipe writes the LoRA adapter (PEFT: adapter_config.json + adapter_model.safetensors), relative to the folder. */
export const ADAPTER_DIR = 'outputs/adapter';

/** What an export of a version would hold: the export form's counts and defaults. */
export interface TrainingPlan {
  dataset: string;
  version: number;
  versionId: number;
  /** Examples written to the train file (the train split, or every example when the version has no splits). */
  train: number;
  trainSplit: 'train' | 'all';
  /** Examples of the validation split (0: none). */
  validation: number;
  /** Examples left out: the test split and examples in no split (when the version has splits). */
  leftOut: number;
  /** The default of `validation`. */
  defaultValidation: 'validation' | 'none';
  /** The distillation run whose output the dataset is, if any (KD's soft labels come from it). */
  distillRunId: number | null;
  /** Default folder name, `<dataset>-v<version>-<trainer>` (the CLI puts it in the current directory). */
  defaultFolderName: Record<Trainer, string>;
}
