import type { ChatMessage, ExportFormat, NormalizedExample } from '../../../../src-shared/domain/datasets.js';
import { functionCallValue } from '../chat-fields.js';

const SHAREGPT_FROM = { user: 'human', assistant: 'gpt', tool: 'observation' } as const;

/** The per-message fields every format that has messages writes back as they came. */
const extras = (m: ChatMessage) => ({
  ...(m.name !== undefined ? { name: m.name } : {}),
  ...(m.weight !== undefined ? { weight: m.weight } : {}),
  ...(m.loss_weight !== undefined ? { loss_weight: m.loss_weight } : {}),
});

/** Whether an example calls tools, answers one or declares some: what Alpaca cannot hold. */
export const usesTools = (e: NormalizedExample): boolean => !!e.tools?.length || e.messages.some((m) => m.role === 'tool' || !!m.tool_calls?.length);

/** Why an example cannot be written in `format`, or null when it can. */
export function unrepresentable(format: ExportFormat, e: NormalizedExample): string | null {
  return format === 'alpaca' && usesTools(e) ? 'Alpaca has no form for tools, tool calls or tool results' : null;
}

/** ShareGPT turns of the non-system messages: tool calls as `function_call` turns, consecutive tool results as one `observation`. */
function sharegptTurns(turns: ChatMessage[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < turns.length; i++) {
    const m = turns[i]!;
    if (m.role === 'tool') {
      // parallel calls' results: one observation turn (LLaMA-Factory alternates human/observation with gpt/function_call)
      const results = [m];
      while (turns[i + 1]?.role === 'tool') results.push(turns[++i]!);
      out.push({ from: 'observation', value: results.length === 1 ? m.content : JSON.stringify(results.map((r) => r.content)), ...extras(m) });
    } else if (m.tool_calls?.length) {
      if (m.content) out.push({ from: 'gpt', value: m.content, ...extras(m) });
      out.push({ from: 'function_call', value: functionCallValue(m.tool_calls), ...(m.content ? {} : extras(m)) });
    } else out.push({ from: SHAREGPT_FROM[m.role as keyof typeof SHAREGPT_FROM], value: m.content, ...extras(m) });
  }
  return out;
}

/** OpenAI's message: content left out when an assistant message only calls tools (as OpenAI's fine-tuning examples write it). */
function openaiMessage(m: ChatMessage): Partial<ChatMessage> {
  if (!m.tool_calls?.length || m.content) return m;
  const { content: _, ...rest } = m;
  return rest;
}

/**
 * One example as a record of a training format, as Unsloth, Axolotl, LLaMA-Factory and TRL read them:
 * OpenAI chat `{messages, tools?}` with `tool_calls` and `tool` messages; ShareGPT `{system?, conversations: [{from,
 * value}], tools?}` with `function_call` / `observation` turns and `tools` as a JSON string (LLaMA-Factory's form);
 * Alpaca `{instruction, input, output, system?, history?}` where earlier turns go to `history` (LLaMA-Factory's form).
 * Alpaca cannot hold tools: check `unrepresentable()` first.
 */
export function toRecord(format: ExportFormat, e: NormalizedExample): Record<string, unknown> {
  const system = e.messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const turns = e.messages.filter((m) => m.role !== 'system');
  switch (format) {
    case 'openai':
      return { messages: e.messages.map(openaiMessage), ...(e.tools ? { tools: e.tools } : {}) };
    case 'sharegpt':
      return {
        ...(system ? { system } : {}),
        conversations: sharegptTurns(turns),
        ...(e.tools ? { tools: JSON.stringify(e.tools.map((t) => t.function)) } : {}),
      };
    case 'alpaca': {
      // The last user message is the instruction; its answer (if any) the output; earlier pairs the history.
      const lastUser = turns.map((m) => m.role).lastIndexOf('user');
      const history: [string, string][] = [];
      for (let i = 0; i < lastUser; i++) {
        const m = turns[i]!;
        const next = turns[i + 1];
        if (m.role === 'user' && next?.role === 'assistant') {
          history.push([m.content, next.content]);
          i++;
        }
      }
      const output = turns[lastUser + 1]?.role === 'assistant' ? turns[lastUser + 1]!.content : '';
      return {
        instruction: turns[lastUser]?.content ?? '',
        input: '',
        output,
        ...(system ? { system } : {}),
        ...(history.length ? { history } : {}),
      };
    }
  }
}
