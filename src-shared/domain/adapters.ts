import { z } from 'zod';
import { Sampling, Seed } from './playground.js';
import { FilePath } from './paths.js';

/** A LoRA adapter of the library: a GGUF adapter file (imported as is, or converted from a PEFT folder). */
export interface AdapterEntry {
  id: number;
  name: string;
  /** The GGUF adapter file the engine loads (converted adapters live in the data folder). */
  path: string;
  /** Where it came from: the GGUF file itself, or the PEFT folder it was converted from. */
  source: { format: 'gguf' | 'peft'; path: string };
  arch: string;
  rank: number;
  alpha: number;
  /** Projections it adapts, in llama.cpp's names (attn_q, attn_v, ffn_up, …). */
  targets: string[];
  layers: number;
  tensorCount: number;
  sizeBytes: number;
  /** The base model it was checked against (architecture, tensor names and shapes), if any. */
  base: { modelId: number; name: string; checkedAt: string } | null;
  note: string;
  addedAt: string;
  /** 'missing' when the adapter file is gone. */
  status: 'ok' | 'missing';
}

/** An adapter attached at a scale (0 = off, negative = subtract, above 1 = amplify). */
export const AttachedAdapter = z.strictObject({
  id: z.number().int().positive(),
  scale: z.number().min(-10).max(10).default(1),
});
export type AttachedAdapter = z.infer<typeof AttachedAdapter>;

/** A model with adapters at scales: what a comparison, a perplexity run or the playground runs. */
export const Variant = z.strictObject({
  modelId: z.number().int().positive(),
  adapters: z.array(AttachedAdapter).max(8).default([]),
  /** Shown in tables and charts; default from the model and adapters. */
  label: z.string().trim().max(100).optional(),
});
export type Variant = z.infer<typeof Variant>;

/** Text to score: a file, or a dataset version's split (its examples' messages joined, in order). */
export const TextSource = z.union([
  z.strictObject({ textFile: FilePath }),
  z.strictObject({
    dataset: z.string().trim().min(1).max(200),
    version: z.number().int().positive().optional(),
    split: z.enum(['train', 'validation', 'test', 'all']).default('all'),
  }),
]);
export type TextSource = z.infer<typeof TextSource>;

export const CompareGeneration = Sampling.extend({
  temperature: z.number().min(0).max(5).default(0),
  maxTokens: z.number().int().min(1).max(8192).default(256),
  seed: Seed.nullable().default(42),
});
export type CompareGeneration = z.infer<typeof CompareGeneration>;

/** Below this many chunks a perplexity is too rough to compare (llama-perplexity's figures settle over tens of chunks). */
export const MIN_MEANINGFUL_CHUNKS = 10;

export interface PerplexityResult {
  ppl: number;
  /** ± as llama.cpp's perplexity tool prints it. */
  stderr: number;
  tokens: number;
  chunks: number;
  scoredTokens: number;
  tokensPerSecond: number;
}

/** A comparison run's answers: one row per prompt, one cell per variant, and the user's verdicts. */
export interface CompareResults {
  variants: { index: number; label: string }[];
  prompts: {
    index: number;
    prompt: string;
    answers: ({ variant: number; text: string; tokens: number; tokensPerSecond: number | null; ms: number } | null)[];
    /** The variant the user marked better; null when not marked; -1 for a tie. */
    winner: number | null;
  }[];
  /** Wins per variant index (ties not counted). */
  tally: number[];
}

/** One point of a scale sweep. */
export interface SweepPoint {
  scale: number;
  ppl: number;
  stderr: number;
}
