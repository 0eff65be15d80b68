import { z } from 'zod';

/** A 32-bit seed, as llama.cpp's samplers take it. */
export const Seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);

export const Sampling = z.strictObject({
  temperature: z.number().min(0).max(5).default(0.8),
  topP: z.number().gt(0).max(1).default(0.95),
  topK: z.number().int().min(0).max(100_000).default(40),
  minP: z.number().min(0).max(1).default(0.05),
  repeatPenalty: z.number().min(0.5).max(3).default(1.1),
  maxTokens: z.number().int().min(1).max(32_768).default(256),
  /** Same seed + same settings = same text. null = a fresh random seed. */
  seed: Seed.nullable().default(null),
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

/** One turn of a Playground chat. */
export const ChatTurn = z.strictObject({ role: z.enum(['user', 'assistant']), content: z.string().max(200_000) });
export type ChatTurn = z.infer<typeof ChatTurn>;

/** A Playground chat as the list shows it. */
export interface ConversationSummary {
  id: number;
  title: string;
  modelId: number | null;
  turns: number;
  updatedAt: string;
}

/** A Playground chat, kept in SQLite so it survives a reload and lives with the library. */
export interface Conversation extends ConversationSummary {
  systemPrompt: string;
  messages: ChatTurn[];
  createdAt: string;
}
