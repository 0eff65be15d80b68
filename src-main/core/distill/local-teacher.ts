import type { ChatHistoryItem, ChatWrapper, LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp';
import { llamaCpp } from '../llm/llama-cpp.js';
import type { ChatMessage, ToolCall, ToolDefinition } from '../../../src-shared/domain/datasets.js';
import { availableFunctions, chatHistory } from './tool-prompt.js';
import type { DistillGeneration, TokenLogprob } from '../../../src-shared/domain/distill.js';

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
}

/** The chat wrapper node-llama-cpp picks for a model (from its chat template), found once per model. */
const wrappers = new WeakMap<LlamaModel, ChatWrapper>();
function chatWrapperOf(model: LlamaModel, sequence: LlamaContextSequence): ChatWrapper {
  let w = wrappers.get(model);
  if (!w) {
    const session = new (llamaCpp().LlamaChatSession)({ contextSequence: sequence, autoDisposeSequence: false });
    w = session.chatWrapper;
    session.dispose({ disposeSequence: false });
    wrappers.set(model, w);
  }
  return w;
}

/**
 * One answer from a local GGUF teacher on one sequence of a shared context (several sequences answer at once). The
 * conversation is rendered through the model's own chat template into tokens and generated on the sequence itself:
 * a chat session's per-token work costs more than the model's on small teachers (see docs/performance.md). Ends at
 * an end-of-generation token, one of the template's stop texts, the token limit or the signal. Tools and tool calls
 * go through node-llama-cpp's function support, so the chat template renders them as the model was trained to see them.
 */
export async function answerOnSequence(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  messages: ChatMessage[],
  generation: DistillGeneration,
  seed: number,
  signal: AbortSignal,
  grammar?: LlamaGrammar,
  /** Keep the top-k probabilities of every generated token (soft labels), as the run's sampling settings shape them. */
  logprobsK?: number,
  tools?: ToolDefinition[],
  /** Told after each generated token; `text()` detokenizes what is generated so far (call it only when showing it). */
  onToken?: (tokens: number, text: () => string) => void,
): Promise<TeacherAnswer> {
  await sequence.clearHistory();
  const wrapper = chatWrapperOf(model, sequence);
  const functions = availableFunctions(tools);
  const history: ChatHistoryItem[] = [...chatHistory(messages), { type: 'model', response: [] }];
  const state = wrapper.generateContextState({ chatHistory: history, ...(functions ? { availableFunctions: functions, documentFunctionParams: true } : {}) });
  const prompt = state.contextText.tokenize(model.tokenizer);
  const stops = state.stopGenerationTriggers.map((t) => t.toString()).filter((t) => t !== '');
  const longestStop = Math.max(0, ...stops.map((s) => s.length));
  const grammarState = grammar ? new (llamaCpp().LlamaGrammarEvaluationState)({ model, grammar }) : undefined;
  const out: Token[] = [];
  let finishReason: TeacherAnswer['finishReason'] = 'length';
  let text = '';
  const options = {
    temperature: generation.temperature,
    topK: generation.topK,
    topP: generation.topP,
    minP: generation.minP,
    seed,
    ...(generation.repeatPenalty === 1 ? {} : { repeatPenalty: { punishTokens: () => out.slice(-64), penalty: generation.repeatPenalty } }),
    ...(grammarState ? { grammarEvaluationState: grammarState } : {}),
  };
  const soft: TokenLogprob[] | null = logprobsK ? [] : null;
  // with soft labels, each token comes with the probabilities it was drawn from (sorted, highest first)
  const iterator: AsyncGenerator<{ token: Token; probabilities?: Map<Token, number> }, void, void> = logprobsK
    ? sequence.evaluateWithMetadata(prompt, { probabilities: true }, options)
    : (async function* () {
        for await (const token of sequence.evaluate(prompt, options)) yield { token };
      })();
  try {
    for await (const { token, probabilities } of iterator) {
      if (signal.aborted) {
        finishReason = 'cancelled';
        break;
      }
      if (model.isEogToken(token)) {
        finishReason = 'stop';
        break;
      }
      out.push(token);
      onToken?.(out.length, () => model.detokenize(out));
      if (soft && probabilities) {
        const top: { token: string; logprob: number }[] = [];
        for (const [t, p] of probabilities) {
          if (top.length >= logprobsK!) break;
          top.push({ token: model.detokenize([t]), logprob: Math.log(p) });
        }
        soft.push({ token: model.detokenize([token]), logprob: Math.log(probabilities.get(token) ?? 0), top });
      }
      if (stops.length) {
        // a stop text may span tokens: look at the last few tokens' text only (every token has at least a character)
        const tail = model.detokenize(out.slice(-(longestStop + 2)));
        const hit = stops.find((s) => tail.includes(s));
        if (hit) {
          const full = model.detokenize(out);
          text = full.slice(0, full.lastIndexOf(hit));
          finishReason = 'stop';
          break;
        }
      }
      if (grammarState) {
        // the JSON grammar is satisfied once the value is complete (it would only allow whitespace after)
        const end = model.detokenize([token]).trimEnd().at(-1);
        if (end === '}' || end === ']' || end === '"') {
          try {
            text = model.detokenize(out);
            JSON.parse(text);
            finishReason = 'stop';
            break;
          } catch {
            /* not complete yet */
          }
        }
      }
      if (out.length >= generation.maxTokens) break;
    }
  } finally {
    await iterator.return();
  }
  if (finishReason !== 'stop' || text === '') text = model.detokenize(out);
  return { text: text.trim(), finishReason, promptTokens: prompt.length, completionTokens: out.length, logprobs: soft };
}
