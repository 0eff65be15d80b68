import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions } from 'node-llama-cpp';
import type { ChatMessage, ToolCall, ToolDefinition } from '../../../src-shared/domain/datasets.js';
import { linkToolCalls } from '../datasets/chat-fields.js';

/**
 * A conversation with tool calls as each kind of teacher takes it: OpenAI's wire form for a server, node-llama-cpp's
 * chat history (function calls paired with their results, rendered by the model's own chat template) for a GGUF model.
 */

/** OpenAI's wire form: calls and results linked by ids (ShareGPT has none), null content beside calls, no training weights. */
export function wireMessages(messages: ChatMessage[]): Record<string, unknown>[] {
  return linkToolCalls(messages).map((m) => ({
    role: m.role,
    content: m.tool_calls?.length && !m.content ? null : m.content,
    ...(m.tool_calls?.length ? { tool_calls: m.tool_calls } : {}),
    ...(m.tool_call_id !== undefined ? { tool_call_id: m.tool_call_id } : {}),
    ...(m.name !== undefined ? { name: m.name } : {}),
  }));
}

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** The tools as node-llama-cpp's available functions (its chat wrappers document them in the prompt). */
export function availableFunctions(tools: ToolDefinition[] | undefined): ChatModelFunctions | undefined {
  if (!tools?.length) return undefined;
  return Object.fromEntries(
    tools.map((t) => [
      t.function.name,
      {
        ...(typeof t.function.description === 'string' ? { description: t.function.description } : {}),
        ...(t.function.parameters ? { params: t.function.parameters as never } : {}),
      },
    ]),
  );
}

/**
 * The conversation as node-llama-cpp's chat history: an assistant message's calls become function calls carrying the
 * tool messages that answer them as results, and the assistant's text after the results continues the same model turn
 * (as node-llama-cpp's chat sessions record it). A tool message answering no call is shown as a user turn.
 */
export function chatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const linked = linkToolCalls(messages);
  const results = new Map<string, string>();
  for (const m of linked) if (m.role === 'tool' && m.tool_call_id) results.set(m.tool_call_id, m.content);
  const calls = new Set(linked.flatMap((m) => (m.tool_calls ?? []).map((c) => c.id!)));
  const out: ChatHistoryItem[] = [];
  const call = (c: ToolCall): ChatModelFunctionCall => ({
    type: 'functionCall',
    name: c.function.name,
    params: parsed(c.function.arguments),
    result: parsed(results.get(c.id!) ?? ''),
  });
  for (const m of linked) {
    if (m.role === 'system') out.push({ type: 'system', text: m.content });
    else if (m.role === 'user') out.push({ type: 'user', text: m.content });
    else if (m.role === 'tool') {
      if (!m.tool_call_id || !calls.has(m.tool_call_id)) out.push({ type: 'user', text: m.content });
    } else {
      const response = [...(m.content ? [m.content] : []), ...(m.tool_calls ?? []).map(call)];
      const prev = out.at(-1);
      if (prev?.type === 'model' && typeof prev.response.at(-1) === 'object') prev.response.push(...response);
      else out.push({ type: 'model', response: response.length ? response : [''] });
    }
  }
  return out;
}
