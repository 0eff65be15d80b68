import { jsonValueDepth, MAX_JSON_DEPTH, TOO_DEEP } from '../json-depth.js';
import type { ChatMessage, ChatRole, JsonRecordFormat, NormalizedExample } from '../../../src-shared/domain/datasets.js';

/** Why one record cannot be imported; names the field. */
export class RecordError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(v: unknown, field: string, { optional = false } = {}): string {
  if (v === undefined || v === null) {
    if (optional) return '';
    throw new RecordError(`${field} is missing`);
  }
  if (typeof v === 'string') return v;
  // OpenAI content parts: [{ type: 'text', text }]
  if (Array.isArray(v) && v.every((p) => isObject(p) && p.type === 'text' && typeof p.text === 'string')) {
    return (v as { text: string }[]).map((p) => p.text).join('');
  }
  throw new RecordError(`${field} must be a string, not ${Array.isArray(v) ? 'an array' : typeof v}`);
}

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

function finish(messages: ChatMessage[]): NormalizedExample {
  if (!messages.some((m) => m.role === 'user')) throw new RecordError('the record has no user message');
  const last = messages.at(-1)!;
  return { messages, reference: last.role === 'assistant' ? last.content : null };
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
        list.map((m, i) => {
          if (!isObject(m)) throw new RecordError(`messages[${i}] must be an object`);
          const role = m.role;
          if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'tool') {
            throw new RecordError(`messages[${i}].role must be system, user, assistant or tool, not ${JSON.stringify(role)}`);
          }
          return { role, content: text(m.content, `messages[${i}].content`) };
        }),
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
        if (!role) throw new RecordError(`conversations[${i}].from ${JSON.stringify(m.from)} is not a known speaker (human, gpt, system…)`);
        messages.push({ role, content: text(m.value, `conversations[${i}].value`) });
      });
      return finish(messages);
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
      return finish(completion ? [{ role: 'user', content: prompt }, { role: 'assistant', content: completion }] : [{ role: 'user', content: prompt }]);
    }
  }
}
