import { z } from 'zod';

export const Sampling = z.strictObject({
  temperature: z.number().min(0).max(5).default(0.8),
  topP: z.number().gt(0).max(1).default(0.95),
  topK: z.number().int().min(0).max(100_000).default(40),
  minP: z.number().min(0).max(1).default(0.05),
  repeatPenalty: z.number().min(0.5).max(3).default(1.1),
  maxTokens: z.number().int().min(1).max(32_768).default(256),
  /** Same seed + same settings = same text. null = a fresh random seed. */
  seed: z.number().int().min(0).max(2 ** 32 - 1).nullable().default(null),
});
export type Sampling = z.infer<typeof Sampling>;

export type GenerationMode = 'chat' | 'completion';

export type StopReason = 'eos' | 'maxTokens' | 'cancelled' | 'error';

export interface GenerationStats {
  promptTokens: number;
  generatedTokens: number;
  /** From the call to the first streamed token, model load excluded. */
  timeToFirstTokenMs: number | null;
  /** Generated tokens per second after the first token. */
  tokensPerSecond: number | null;
  totalMs: number;
  loadMs: number;
  stopReason: StopReason;
  /** What chat mode used; null in completion mode. */
  chatWrapper: string | null;
}

export type GenerationEvent =
  | { generationId: string; type: 'loading'; progress: number }
  | { generationId: string; type: 'started'; mode: GenerationMode; promptTokens: number }
  | { generationId: string; type: 'token'; text: string; tokens: number }
  | { generationId: string; type: 'done'; text: string; stats: GenerationStats }
  | { generationId: string; type: 'error'; code: string; message: string };
