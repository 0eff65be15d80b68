import type { Trainer } from '../../../../src-shared/domain/training.js';
import type { TrainingRecipe } from '../../../../src-shared/contract/training.js';
import type { KdSummary } from '../kd-types.js';
import type { DataFormat } from '../data-files.js';

/** What a recipe is written from: the user's choices and the files the export wrote (paths relative to the folder). */
export interface RecipeInput {
  trainer: Trainer;
  studentHfId: string;
  recipe: TrainingRecipe;
  /** The train file, e.g. `data/train.jsonl`. */
  train: string;
  /** The validation file, or null (no validation split, or the user chose none). */
  validation: string | null;
  /** The KD files (Axolotl only). */
  kd: KdSummary | null;
  /** The top-level fields each data file's records have, by file. */
  columns: Map<string, Set<string>>;
  /** Where the adapter is written, relative to the folder. */
  adapterDir: string;
  /** `name@version`, for comments. */
  source: string;
}

/** A trainer's recipe: the files it adds, the one command that trains (run in the folder), and how to install it. */
export interface RecipeOutput {
  files: { path: string; text: string }[];
  command: string;
  install: string;
  /** Trainer-specific notes for the README. */
  notes: string[];
}

export interface TrainerRecipe {
  /** The record form of its data files. */
  format: DataFormat;
  write(input: RecipeInput): RecipeOutput;
}

/** A Python string literal (JSON's escapes are valid Python for the strings we write). */
export const py = (s: string) => JSON.stringify(s);
/** A Python number literal (JavaScript's shortest form, `0.0002` or `1e-7`, is valid Python). */
export const pyNum = (n: number) => String(n);
