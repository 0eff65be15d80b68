// One generation on a context sequence (chat or raw completion, sampling, stops, streamed tokens), shared by the rooms
// that generate: the playground, and the adapters room's compare job.
import type { ChatHistoryItem, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { llamaCpp } from './llama-cpp.js';
import type { ChatTurn, GenerationMode, Sampling, StopReason } from '../../../src-shared/domain/playground.js';

export interface GenerationRequest {
  mode: GenerationMode;
  prompt: string;
  systemPrompt: string;
  sampling: Sampling;
  /** Chat mode: the earlier turns, before `prompt`. */
  history?: ChatTurn[];
}

export interface GenerationCallbacks {
  /** Before the first token, with the prompt's length in tokens (chat: as the template renders it). */
  onStart(promptTokens: number): void;
  onTokens(count: number): void;
  onText(chunk: string): void;
}

export interface GenerationOutcome {
  text: string;
  stopReason: StopReason;
  chatWrapper: string | null;
}

export function hasChatTemplate(model: LlamaModel): boolean {
  const template = model.fileInfo.metadata.tokenizer?.chat_template;
  return typeof template === 'string' && template.trim() !== '';
}

/**
 * Runs one generation on a sequence: chat through the model's own template (LlamaChatSession picks the wrapper from
 * `tokenizer.chat_template`), or raw completion. Aborting `signal` ends it at once and keeps the text so far.
 */
export async function runGeneration(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  request: GenerationRequest,
  signal: AbortSignal,
  callbacks: GenerationCallbacks,
): Promise<GenerationOutcome> {
  const { sampling } = request;
  let text = '';
  const options = {
    signal,
    stopOnAbortSignal: true,
    ...toLlamaSampling(sampling),
    onToken: (tokens: Token[]) => callbacks.onTokens(tokens.length),
    onTextChunk: (chunk: string) => {
      text += chunk;
      callbacks.onText(chunk);
    },
  };

  const { LlamaChatSession, LlamaCompletion } = llamaCpp();
  if (request.mode === 'chat') {
    const session = new LlamaChatSession({
      contextSequence: sequence,
      systemPrompt: request.systemPrompt === '' ? undefined : request.systemPrompt,
      autoDisposeSequence: false,
    });
    try {
      // The earlier turns go in as the session's history, so the template renders the whole conversation.
      const earlier: ChatHistoryItem[] = [
        ...(request.systemPrompt === '' ? [] : [{ type: 'system' as const, text: request.systemPrompt }]),
        ...(request.history ?? []).map((t): ChatHistoryItem =>
          t.role === 'user' ? { type: 'user', text: t.content } : { type: 'model', response: [t.content] },
        ),
      ];
      session.setChatHistory(earlier);
      const rendered = session.chatWrapper.generateContextState({
        chatHistory: [...earlier, { type: 'user', text: request.prompt }, { type: 'model', response: [] }],
      });
      callbacks.onStart(rendered.contextText.tokenize(model.tokenizer).length);
      const result = await session.promptWithMeta(request.prompt, options);
      return {
        text,
        stopReason: stopReasonOf(result.stopReason),
        chatWrapper: session.chatWrapper.wrapperName,
      };
    } finally {
      session.dispose({ disposeSequence: false });
    }
  }

  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
  try {
    callbacks.onStart(model.tokenize(request.prompt).length);
    const result = await completion.generateCompletionWithMeta(request.prompt, options);
    return {
      text,
      stopReason: stopReasonOf(result.metadata.stopReason),
      chatWrapper: null,
    };
  } finally {
    completion.dispose({ disposeSequence: false });
  }
}

function stopReasonOf(reason: string): StopReason {
  if (reason === 'abort') return 'cancelled';
  if (reason === 'maxTokens') return 'maxTokens';
  return 'eos'; // end-of-generation token or a stop trigger of the template
}

/** The contract's sampling settings as node-llama-cpp's generation options. */
export function toLlamaSampling(sampling: Sampling) {
  return {
    maxTokens: sampling.maxTokens,
    temperature: sampling.temperature,
    topK: sampling.topK,
    topP: sampling.topP,
    minP: sampling.minP,
    // null = let node-llama-cpp draw a fresh seed
    seed: sampling.seed ?? undefined,
    // 1 means "no penalty": skip the work instead of multiplying by one
    repeatPenalty: sampling.repeatPenalty === 1 ? (false as const) : { penalty: sampling.repeatPenalty },
  };
}
