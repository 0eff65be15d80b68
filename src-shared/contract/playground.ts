import { z } from 'zod';
import { op, event } from './define.js';
import { ChatTurn, Sampling, type Conversation, type ConversationSummary, type GenerationEvent } from '../domain/playground.js';
import { AttachedAdapter } from '../domain/adapters.js';

const ConversationId = z.number().int().positive();

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
      /** Chat mode: the earlier turns, in order, rendered with the model's chat template before `prompt`. */
      history: z.array(ChatTurn).max(1000).default([]),
    }),
  ),
  'playground.stop': op<{ stopped: boolean }>()(z.strictObject({ generationId: z.string().min(1).max(100) })),
  /** The saved chats, most recently changed first. */
  'playground.conversations': op<ConversationSummary[]>()(z.strictObject({})),
  'playground.conversation': op<Conversation>()(z.strictObject({ id: ConversationId })),
  /** Creates (no id) or replaces a chat; the title defaults to its first message. */
  'playground.saveConversation': op<Conversation>()(
    z.strictObject({
      id: ConversationId.optional(),
      title: z.string().trim().max(200).optional(),
      modelId: z.number().int().positive().nullable().default(null),
      systemPrompt: z.string().max(50_000).default(''),
      messages: z.array(ChatTurn).max(1000),
    }),
  ),
  'playground.deleteConversation': op<{ deleted: boolean }>()(z.strictObject({ id: ConversationId })),
};

export const playgroundEvents = {
  'playground.event': event<GenerationEvent>(),
};
