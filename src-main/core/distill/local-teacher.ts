import type { ChatHistoryItem, ChatWrapper, LlamaModel } from 'node-llama-cpp';
import { llamaCpp } from '../llm/llama-cpp.js';
import type { LlmEngine } from '../llm/engine.js';
import { NativeBatch } from '../native/batch.js';
import { resolveSampling } from '../native/sampler-chain.js';
import type { ChatMessage, ToolCall, ToolDefinition } from '../../../src-shared/domain/datasets.js';
import type { DistillGeneration, TokenLogprob } from '../../../src-shared/domain/distill.js';
import { AppError, isAppError } from '../../../src-shared/errors.js';
import { availableFunctions, chatHistory } from './tool-prompt.js';

export interface TeacherAnswer {
  text: string;
  /** OpenAI's names: 'stop' (end of generation), 'length' (token limit), 'cancelled'. */
  finishReason: 'stop' | 'length' | 'cancelled';
  /** null when a server does not say. */
  promptTokens: number | null;
  completionTokens: number | null;
  /** Soft labels, when asked for and the teacher gives them. */
  logprobs?: TokenLogprob[] | null;
  /** The tools the answer calls, structured (server teachers); `text` then ends with them as `name(arguments)` lines. */
  toolCalls?: ToolCall[] | null;
  /** Local models: from the request to the first token (waiting for a free sequence included), and generation speed. */
  ttftMs?: number | null;
  tokensPerSecond?: number | null;
}

export interface RenderedPrompt {
  tokens: number[];
  /** The template's stop texts (an end-of-generation token ends an answer too). */
  stops: string[];
}

/** The chat wrapper node-llama-cpp picks for a model (from its chat template), as a LlamaChatSession would. */
const wrappers = new WeakMap<LlamaModel, ChatWrapper>();
function chatWrapperOf(model: LlamaModel): ChatWrapper {
  let w = wrappers.get(model);
  if (!w) wrappers.set(model, (w = llamaCpp().resolveChatWrapper(model)));
  return w;
}

/**
 * A conversation rendered through the model's own chat template into prompt tokens, with the template's stop texts.
 * Tools and tool calls go through node-llama-cpp's function support, so the template renders them as the model was
 * trained to see them. `model` may be the vocabulary-only model (LlmEngine.loadTokenizer): no weights needed.
 */
export function renderChat(model: LlamaModel, messages: ChatMessage[], tools?: ToolDefinition[]): RenderedPrompt {
  const functions = availableFunctions(tools);
  const history: ChatHistoryItem[] = [...chatHistory(messages), { type: 'model', response: [] }];
  const state = chatWrapperOf(model).generateContextState({
    chatHistory: history,
    ...(functions ? { availableFunctions: functions, documentFunctionParams: true } : {}),
  });
  return {
    tokens: [...state.contextText.tokenize(model.tokenizer)],
    stops: state.stopGenerationTriggers.map((t) => t.toString()).filter((t) => t !== ''),
  };
}

export interface LocalTeacherOptions {
  generation: DistillGeneration;
  /** Structured output: the schema becomes a GBNF grammar (node-llama-cpp converts it) for llama.cpp's sampler. */
  jsonSchema?: object | undefined;
  logprobs?: number | undefined;
  tools?: ToolDefinition[] | undefined;
  onToken?: ((tokens: number, text: () => string) => void) | undefined;
}

export interface LocalTeacher {
  answer(messages: ChatMessage[], seed: number, o: LocalTeacherOptions): Promise<TeacherAnswer>;
  close(): Promise<void>;
}

/**
 * A local GGUF teacher on the native batch path: its answers, `parallel` at a time, are sequences of one batch in the
 * engine host, decoded together (one llama_decode per step). Prompts are rendered here (node-llama-cpp's chat
 * templates, on the vocabulary-only model) and cross as tokens; sampling follows node-llama-cpp's chain and defaults.
 */
export async function openLocalTeacher(
  engine: LlmEngine,
  file: string,
  name: string,
  opts: { parallel: number; maxTokens: number; threads: number | null; lora?: { filePath: string; scale: number }[] },
  signal: AbortSignal,
): Promise<LocalTeacher> {
  await engine.checkModelFile(file, signal);
  const tokenizer = await engine.loadTokenizer(file, signal);
  const train = tokenizer.trainContextSize > 0 ? tokenizer.trainContextSize : 4096;
  const contextSize = Math.min(train, opts.maxTokens + 2048);
  const batch = await NativeBatch.open(
    engine.native(),
    { modelPath: file, lora: opts.lora ?? [], parallel: opts.parallel, contextSize, threads: await engine.resolveNativeThreads(opts.threads) },
    signal,
  ).catch((e: unknown) => {
    // only a context that does not fit is the parallelism's fault; a model llama.cpp cannot load says so itself
    if (signal.aborted || !isAppError(e) || e.code !== 'engine_error' || !/could not get a context/.test(e.message)) throw e;
    throw new AppError('out_of_memory', `${name} cannot answer ${opts.parallel} prompts at once (${(e as Error).message}); lower the parallelism`);
  });
  const grammars = new Map<string, Promise<string>>();
  const grammarFor = (schema: object) => {
    const key = JSON.stringify(schema);
    let g = grammars.get(key);
    if (!g) grammars.set(key, (g = engine.llama().then(async (l) => (await l.createGrammarForJsonSchema(schema as never)).grammar)));
    return g;
  };
  return {
    async answer(messages, seed, o) {
      const g = o.generation;
      const grammar = o.jsonSchema ? await grammarFor(o.jsonSchema) : null;
      const prompt = renderChat(tokenizer, messages, o.tools);
      const t0 = performance.now();
      const r = await batch.generate(
        {
          tokens: prompt.tokens,
          maxTokens: g.maxTokens,
          sampling: resolveSampling({ ...g, seed }),
          stops: prompt.stops,
          logprobs: o.logprobs ?? 0,
          grammar,
          stopAtJson: grammar !== null,
        },
        { signal, onText: o.onToken ? (n, text) => o.onToken!(n, () => text) : undefined },
      );
      // the host's clock is not this process's: time to first token is the wall time less the host's generating time
      const wall = performance.now() - t0;
      const generating = r.firstTokenAt !== null ? r.endedAt - r.firstTokenAt : null;
      const n = r.tokens.length;
      return {
        text: r.text.trim(),
        finishReason: r.finishReason,
        promptTokens: r.promptTokens,
        completionTokens: n,
        logprobs: r.logprobs,
        ttftMs: generating !== null ? Math.max(0, wall - generating) : null,
        tokensPerSecond: generating !== null && n > 1 && generating > 0 ? (n - 1) / (generating / 1000) : null,
      };
    },
    async close() {
      await batch.close();
    },
  };
}
