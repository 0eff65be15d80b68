import type { ChatMessage, ToolCall, ToolDefinition } from '../../../src-shared/domain/datasets.js';
import { RecordError } from './record-error.js';

/**
 * What a chat record holds besides roles and plain text, read into OpenAI's chat form (and written back for ShareGPT):
 * content as a list of parts, per-message fields (name, weight, loss_weight), tool calls and tool results, and the
 * record's tools.
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/**
 * Message content as text: a string, or a list of text parts joined (OpenAI's `{type: 'text', text}`, LLaMA-Factory's
 * `{type: 'text', value}`). Distillery is text-only: a part of another type (image_url, input_audio…) refuses the
 * record, naming the part and its type.
 */
export function contentText(v: unknown, field: string, { optional = false } = {}): string {
  if (v === undefined || v === null) {
    if (optional) return '';
    throw new RecordError(`${field} is missing`);
  }
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) throw new RecordError(`${field} must be a string, not ${kind(v)}`);
  return v
    .map((p, i) => {
      if (!isObject(p)) throw new RecordError(`${field}[${i}] must be a {type, text} part, not ${kind(p)}`);
      if (p.type !== 'text') {
        throw new RecordError(`${field}[${i}] is a ${JSON.stringify(p.type ?? null)} part; only text parts can be imported (Distillery is text-only)`);
      }
      const t = typeof p.text === 'string' ? p.text : p.value;
      if (typeof t !== 'string') throw new RecordError(`${field}[${i}] is a text part without a text (or value) string`);
      return t;
    })
    .join('');
}

/** The per-message fields kept as they are: `name`, `weight`, `loss_weight`. */
export function messageExtras(m: Record<string, unknown>, field: string): Pick<ChatMessage, 'name' | 'weight' | 'loss_weight'> {
  const out: Pick<ChatMessage, 'name' | 'weight' | 'loss_weight'> = {};
  if (m.name !== undefined && m.name !== null) {
    if (typeof m.name !== 'string') throw new RecordError(`${field}.name must be a string, not ${kind(m.name)}`);
    out.name = m.name;
  }
  for (const k of ['weight', 'loss_weight'] as const) {
    const w = m[k];
    if (w === undefined || w === null) continue;
    if (typeof w !== 'number' || !Number.isFinite(w)) throw new RecordError(`${field}.${k} must be a number, not ${kind(w)}`);
    out[k] = w;
  }
  return out;
}

/** `arguments` as JSON text: OpenAI writes a string, LLaMA-Factory an object. */
function argumentsText(v: unknown, field: string): string {
  if (v === undefined || v === null) return '{}';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  throw new RecordError(`${field} must be a JSON object or a JSON string, not ${kind(v)}`);
}

/** OpenAI's `tool_calls` of an assistant message. */
export function toolCalls(v: unknown, field: string): ToolCall[] {
  if (!Array.isArray(v)) throw new RecordError(`${field} must be an array, not ${kind(v)}`);
  return v.map((c, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(c)) throw new RecordError(`${f} must be an object`);
    // null fields are absent ones: a Parquet reader gives null for a struct field a row does not have
    if (c.type !== undefined && c.type !== null && c.type !== 'function') throw new RecordError(`${f}.type must be "function", not ${JSON.stringify(c.type)}`);
    if (!isObject(c.function)) throw new RecordError(`${f}.function must be an object {name, arguments}`);
    if (typeof c.function.name !== 'string' || !c.function.name) throw new RecordError(`${f}.function.name must be a non-empty string`);
    if (c.id !== undefined && c.id !== null && typeof c.id !== 'string') throw new RecordError(`${f}.id must be a string`);
    return {
      ...(typeof c.id === 'string' ? { id: c.id } : {}),
      type: 'function' as const,
      function: { name: c.function.name, arguments: argumentsText(c.function.arguments, `${f}.function.arguments`) },
    };
  });
}

/** A ShareGPT `function_call` turn's value: JSON text of `{name, arguments}` or of a list of them (parallel calls). */
export function functionCallTurn(value: unknown, field: string): ToolCall[] {
  if (typeof value !== 'string') throw new RecordError(`${field} must be a JSON string {"name", "arguments"}, not ${kind(value)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    throw new RecordError(`${field} is not JSON {"name", "arguments"} (${(e as Error).message})`);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) throw new RecordError(`${field} is an empty list of calls`);
  return list.map((c, i) => {
    const f = Array.isArray(parsed) ? `${field}[${i}]` : field;
    if (!isObject(c) || typeof c.name !== 'string' || !c.name) throw new RecordError(`${f} must be {"name": "…", "arguments": {…}}`);
    return { type: 'function' as const, function: { name: c.name, arguments: argumentsText(c.arguments, `${f}.arguments`) } };
  });
}

/** ShareGPT's calls written back as LLaMA-Factory reads them: `{"name", "arguments": {…}}`, a list for parallel calls. */
export function functionCallValue(calls: ToolCall[]): string {
  const one = (c: ToolCall) => {
    let args: unknown = c.function.arguments;
    try {
      args = JSON.parse(c.function.arguments);
    } catch {
      /* not JSON: kept as the text it is */
    }
    return { name: c.function.name, arguments: args };
  };
  return JSON.stringify(calls.length === 1 ? one(calls[0]!) : calls.map(one));
}

/**
 * A record's `tools`: a list, or a JSON string of one (LLaMA-Factory). Items in OpenAI's `{type: 'function', function}`
 * form are kept as they are; bare `{name, description, parameters}` schemas are wrapped into it. Empty: undefined.
 */
export function recordTools(v: unknown): ToolDefinition[] | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  let list = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch (e) {
      throw new RecordError(`tools is not a JSON list of functions (${(e as Error).message})`);
    }
  }
  if (isObject(list)) list = [list];
  if (!Array.isArray(list)) throw new RecordError(`tools must be a list of functions, not ${kind(list)}`);
  if (list.length === 0) return undefined;
  return list.map((t, i) => {
    if (!isObject(t)) throw new RecordError(`tools[${i}] must be an object`);
    const wrapped = isObject(t.function) && (t.type === undefined || t.type === null || t.type === 'function');
    const fn = wrapped ? (t.function as Record<string, unknown>) : t;
    if (typeof fn.name !== 'string' || !fn.name) throw new RecordError(`tools[${i}]${wrapped ? '.function' : ''}.name must be a non-empty string`);
    return { type: 'function' as const, function: fn as ToolDefinition['function'] };
  });
}

/**
 * Gives calls without an id `call_<n>` (n counting the record's calls from 1) and tool results without a
 * tool_call_id the id of the oldest call not yet answered: ShareGPT has no ids, OpenAI's API needs them.
 */
export function linkToolCalls(messages: ChatMessage[]): ChatMessage[] {
  let n = 0;
  const open: string[] = [];
  return messages.map((m) => {
    if (m.tool_calls?.length) {
      const calls = m.tool_calls.map((c) => (c.id ? c : { ...c, id: `call_${++n}` }));
      open.push(...calls.map((c) => c.id!));
      return { ...m, tool_calls: calls };
    }
    if (m.role === 'tool') {
      if (m.tool_call_id) {
        const at = open.indexOf(m.tool_call_id);
        if (at >= 0) open.splice(at, 1);
        return m;
      }
      const id = open.shift();
      return id ? { ...m, tool_call_id: id } : m;
    }
    return m;
  });
}
