import { z } from 'zod';
import { op, event } from './define.js';
import { Sampling, type GenerationEvent } from '../domain/playground.js';
import { AttachedAdapter } from '../domain/adapters.js';

export const playgroundOps = {
  /** Starts streaming; tokens arrive as `playground.event` events with the returned id. */
  'playground.generate': op<{ generationId: string }>()(
    z.strictObject({
      modelId: z.number().int().positive(),
      mode: z.enum(['chat', 'completion']),
      prompt: z.string().min(1, 'the prompt is empty').max(200_000),
      systemPrompt: z.string().max(50_000).default(''),
      sampling: Sampling.default(Sampling.parse({})),
      /** LoRA adapters at scales; changing them keeps the base model loaded (only its context is rebuilt). */
      adapters: z.array(AttachedAdapter).max(8).default([]),
    }),
  ),
  'playground.stop': op<{ stopped: boolean }>()(z.strictObject({ generationId: z.string().min(1).max(100) })),
};

export const playgroundEvents = {
  'playground.event': event<GenerationEvent>(),
};
