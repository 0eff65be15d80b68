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
  files: TrainingManifestFile[];
}
