import { LlamaChatSession, type ChatHistoryItem, type LlamaContextSequence, type LlamaGrammar, type Token } from 'node-llama-cpp';
import type { ChatMessage } from '../../../src-shared/domain/datasets.js';
import type { DistillGeneration, TokenLogprob } from '../../../src-shared/domain/distill.js';
import { toLlamaSampling } from '../playground/generation.js';

export interface TeacherAnswer {
  text: string;
  /** OpenAI's names: 'stop' (end of generation), 'length' (token limit), 'cancelled'. */
  finishReason: 'stop' | 'length' | 'cancelled';
  /** null when a server does not say. */
  promptTokens: number | null;
  completionTokens: number | null;
  /** Soft labels, when asked for and the teacher gives them. */
  logprobs?: TokenLogprob[] | null;
}

const historyItem = (m: ChatMessage): ChatHistoryItem =>
  m.role === 'system' ? { type: 'system', text: m.content } : m.role === 'assistant' ? { type: 'model', response: [m.content] } : { type: 'user', text: m.content };

/**
 * One answer from a local GGUF teacher on one sequence of a shared context (several sequences answer at once; the
 * engine batches their tokens). The conversation goes through the model's own chat template; the sequence is cleared
 * first, so it can serve the next prompt.
 */
export async function answerOnSequence(
  sequence: LlamaContextSequence,
  messages: ChatMessage[],
  generation: DistillGeneration,
  seed: number,
  signal: AbortSignal,
  grammar?: LlamaGrammar,
): Promise<TeacherAnswer> {
  await sequence.clearHistory();
  const last = messages.at(-1)!;
  const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
  let completionTokens = 0;
  try {
    session.setChatHistory(messages.slice(0, -1).map(historyItem));
    const result = await session.promptWithMeta(last.content, {
      ...toLlamaSampling({ ...generation, seed }),
      signal,
      stopOnAbortSignal: true,
      ...(grammar ? { grammar } : {}),
      onToken: (tokens: Token[]) => (completionTokens += tokens.length),
    });
    const finishReason = result.stopReason === 'maxTokens' ? 'length' : result.stopReason === 'abort' ? 'cancelled' : 'stop';
    return { text: result.responseText, finishReason, promptTokens: Math.max(0, sequence.nextTokenIndex - completionTokens), completionTokens };
  } finally {
    session.dispose({ disposeSequence: false });
  }
}
