import { jsonValueDepth, MAX_JSON_DEPTH, TOO_DEEP } from '../../json-depth.js';
import type { ChatMessage, ChatRole, JsonRecordFormat, NormalizedExample, ToolDefinition } from '../../../../src-shared/domain/datasets.js';
import { referenceOf } from '../../../../src-shared/domain/datasets.js';
import { contentText as text, functionCallTurn, linkToolCalls, messageExtras, recordTools, toolCalls } from '../chat-fields.js';
import { RecordError } from '../record-error.js';

export { RecordError };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const SHAREGPT_ROLES: Record<string, ChatRole> = {
  system: 'system',
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  model: 'assistant',
  chatgpt: 'assistant',
  bard: 'assistant',
  tool: 'tool',
  function_response: 'tool',
  observation: 'tool',
};

function finish(messages: ChatMessage[], tools?: ToolDefinition[]): NormalizedExample {
  if (!messages.some((m) => m.role === 'user')) throw new RecordError('the record has no user message');
  return { messages, reference: referenceOf(messages), ...(tools ? { tools } : {}) };
}

/** Which format a parsed JSON record is in, from its fields; null when none fits. */
export function recordFormat(record: unknown): JsonRecordFormat | null {
  if (!isObject(record)) return null;
  if ('messages' in record) return 'openai';
  if ('conversations' in record) return 'sharegpt';
  if ('instruction' in record) return 'alpaca';
  if ('prompt' in record) return 'prompt-completion';
  return null;
}

/** One record in `format` as a conversation; throws RecordError naming the offending field. */
export function normalizeRecord(format: JsonRecordFormat, record: unknown): NormalizedExample {
  if (!isObject(record)) throw new RecordError(`the record must be a JSON object, not ${Array.isArray(record) ? 'an array' : typeof record}`);
  // before anything below recurses into a value (JSON.stringify in a message, a content walker)
  if (jsonValueDepth(record) > MAX_JSON_DEPTH) throw new RecordError(`the record ${TOO_DEEP}`);
  switch (format) {
    case 'openai': {
      const list = record.messages;
      if (!Array.isArray(list)) throw new RecordError('messages must be an array');
      if (list.length === 0) throw new RecordError('messages is empty');
      return finish(
        list.map((m, i): ChatMessage => {
          if (!isObject(m)) throw new RecordError(`messages[${i}] must be an object`);
          const role = m.role;
          if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'tool') {
            throw new RecordError(`messages[${i}].role must be system, user, assistant or tool, not ${JSON.stringify(role)}`);
          }
          const calls = role === 'assistant' && m.tool_calls !== undefined && m.tool_calls !== null ? toolCalls(m.tool_calls, `messages[${i}].tool_calls`) : [];
          if (m.tool_call_id !== undefined && m.tool_call_id !== null && typeof m.tool_call_id !== 'string')
            throw new RecordError(`messages[${i}].tool_call_id must be a string`);
          return {
            role,
            // an assistant message that only calls tools has no content (null or absent)
            content: text(m.content, `messages[${i}].content`, { optional: calls.length > 0 }),
            ...(calls.length ? { tool_calls: calls } : {}),
            ...(role === 'tool' && typeof m.tool_call_id === 'string' ? { tool_call_id: m.tool_call_id } : {}),
            ...messageExtras(m, `messages[${i}]`),
          };
        }),
        recordTools(record.tools),
      );
    }
    case 'sharegpt': {
      const list = record.conversations;
      if (!Array.isArray(list)) throw new RecordError('conversations must be an array');
      if (list.length === 0) throw new RecordError('conversations is empty');
      const messages: ChatMessage[] = [];
      if (typeof record.system === 'string' && record.system) messages.push({ role: 'system', content: record.system });
      list.forEach((m, i) => {
        if (!isObject(m)) throw new RecordError(`conversations[${i}] must be an object`);
        const from = typeof m.from === 'string' ? m.from.toLowerCase() : m.from;
        const role = typeof from === 'string' ? SHAREGPT_ROLES[from] : undefined;
        const field = `conversations[${i}]`;
        if (from === 'function_call') {
          // LLaMA-Factory's tool call turn; after a gpt turn it is that turn's call (an answer that also calls)
          const calls = functionCallTurn(m.value, `${field}.value`);
          const prev = messages.at(-1);
          if (prev?.role === 'assistant' && !prev.tool_calls) prev.tool_calls = calls;
          else messages.push({ role: 'assistant', content: '', tool_calls: calls, ...messageExtras(m, field) });
          return;
        }
        if (!role) throw new RecordError(`${field}.from ${JSON.stringify(m.from)} is not a known speaker (human, gpt, system, function_call, observation…)`);
        messages.push({ role, content: text(m.value, `${field}.value`), ...messageExtras(m, field) });
      });
      return finish(linkToolCalls(messages), recordTools(record.tools));
    }
    case 'alpaca': {
      const instruction = text(record.instruction, 'instruction');
      if (!instruction.trim()) throw new RecordError('instruction is empty');
      const input = text(record.input, 'input', { optional: true });
      const output = text(record.output, 'output', { optional: true });
      const system = text(record.system, 'system', { optional: true });
      const messages: ChatMessage[] = [];
      if (system) messages.push({ role: 'system', content: system });
      // LLaMA-Factory's `history`: earlier [instruction, response] pairs of a multi-turn record
      if (record.history !== undefined) {
        if (!Array.isArray(record.history)) throw new RecordError('history must be an array of [instruction, response] pairs');
        record.history.forEach((pair, i) => {
          if (!Array.isArray(pair) || pair.length !== 2) throw new RecordError(`history[${i}] must be an [instruction, response] pair`);
          messages.push({ role: 'user', content: text(pair[0], `history[${i}][0]`) }, { role: 'assistant', content: text(pair[1], `history[${i}][1]`) });
        });
      }
      messages.push({ role: 'user', content: input ? `${instruction}\n\n${input}` : instruction });
      if (output) messages.push({ role: 'assistant', content: output });
      return finish(messages);
    }
    case 'prompt-completion': {
      const prompt = text(record.prompt, 'prompt');
      if (!prompt.trim()) throw new RecordError('prompt is empty');
      const completion = text(record.completion, 'completion', { optional: true });
      return finish(
        completion
          ? [
              { role: 'user', content: prompt },
              { role: 'assistant', content: completion },
            ]
          : [{ role: 'user', content: prompt }],
      );
    }
  }
}
