import { z } from 'zod';
import { Sampling, Seed } from './playground.js';

/** What the teacher is sent for each example. Placeholders: {{prompt}} (the last user message), {{system}}, {{reference}}. */
export const DistillTemplate = z.strictObject({
  /** The teacher's system prompt; null keeps each example's own. */
  system: z.string().max(100_000).nullable().default(null),
  /** The last user message as the teacher sees it. */
  user: z.string().min(1).max(100_000).default('{{prompt}}'),
  /** Worked examples placed before each prompt (teacher-side only: never in the output). */
  fewShot: z
    .array(z.strictObject({ user: z.string().min(1), assistant: z.string().min(1) }))
    .max(20)
    .default([]),
  /** What the training example holds besides the answer: the example's own messages, or the prompt as sent. */
  output: z.enum(['original', 'as-sent']).default('original'),
});
export type DistillTemplate = z.infer<typeof DistillTemplate>;

/** Answers a filter rejects are kept with the reason, out of the output dataset until re-included by hand. */
export const DistillFilters = z.strictObject({
  minChars: z.number().int().min(0).optional(),
  maxChars: z.number().int().min(1).optional(),
  /** A regular expression the answer must match / must not match. */
  mustMatch: z.string().max(1000).optional(),
  mustNotMatch: z.string().max(1000).optional(),
  /** Reject answers that open like a refusal ("I'm sorry, but I can't…", "As an AI…"). */
  refusals: z.boolean().default(true),
  /** Reject answers cut by the token limit. */
  truncated: z.boolean().default(true),
});
export type DistillFilters = z.infer<typeof DistillFilters>;

export const DistillGeneration = Sampling.extend({
  temperature: z.number().min(0).max(5).default(0.7),
  maxTokens: z.number().int().min(1).max(32_768).default(512),
  /** The run's seed: each (example, sample) gets its own seed from it, so a run is reproducible. */
  seed: Seed.default(42),
  /** Answers per prompt. */
  samples: z.number().int().min(1).max(16).default(1),
});
export type DistillGeneration = z.infer<typeof DistillGeneration>;

export interface DistillAnswer {
  position: number;
  sample: number;
  /** The messages the teacher was sent (few-shot examples left out). */
  prompt: { role: string; content: string }[];
  answer: string;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  ms: number;
  rejected: string | null;
  included: boolean;
  /** The LLM judge's score (1–10) and reason, when the run has a judge and it has scored this answer. */
  judgeScore: number | null;
  judgeReason: string | null;
}

export interface DistillAnswersPage {
  total: number;
  included: number;
  rejected: number;
  rows: DistillAnswer[];
}

/** One generated token with the teacher's log-probability and its top alternatives (soft labels). */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

/** What a run would cost, before it starts. */
export interface DistillEstimate {
  prompts: number;
  answers: number;
  /** answers × max tokens: the most it can generate. */
  maxTokens: number;
  /** The teacher's measured generation speed, and where it comes from; null when never measured. */
  tokensPerSecond: number | null;
  measuredBy: string | null;
  /** maxTokens at that speed (an upper bound: answers usually stop earlier); null without a measurement. */
  maxSeconds: number | null;
}

/** Share of answers a run may reject before it fails (0–1); a run that keeps no answer fails whatever this is. */
export const MaxRejectRate = z.number().min(0).max(1).default(0.5);

/** A distillation run's answers: in all, kept in the output, rejected. */
export interface DistillRunCounts {
  runId: number;
  total: number;
  included: number;
  rejected: number;
}

/** The answers a run is generating, as far as they are (throttled): each event lists every answer in flight. */
export interface DistillStreamEvent {
  runId: number;
  inFlight: { position: number; sample: number; text: string; tokens: number }[];
}
