import { RecordError } from './normalize.js';
import { CHAT_ROLES } from '../../../../src-shared/domain/datasets.js';
import type { ChatMessage, ChatRole, ColumnMapping, JsonRecordFormat, NormalizedExample } from '../../../../src-shared/domain/datasets.js';

/** Header names each role is taken from when no mapping is given, by preference (compared case-insensitively). */
export const AUTO_COLUMNS = {
  prompt: ['prompt', 'instruction', 'question', 'input', 'query', 'text'],
  response: ['response', 'completion', 'output', 'answer', 'reference', 'chosen'],
  system: ['system', 'system_prompt'],
} as const;

const key = (name: string) => name.trim().toLowerCase();

/** The column of `columns` named `wanted`: exactly, else ignoring case and surrounding spaces. */
export function findColumn(columns: readonly string[], wanted: string): string | undefined {
  return columns.find((c) => c === wanted) ?? columns.find((c) => key(c) === key(wanted));
}

/** A mapping guessed from header names; null when no column can be the prompt. */
export function autoMapping(columns: readonly string[]): ColumnMapping | null {
  const pick = (names: readonly string[], taken: (string | undefined)[]) => {
    for (const n of names) {
      const c = columns.find((col) => key(col) === n && !taken.includes(col));
      if (c !== undefined) return c;
    }
    return undefined;
  };
  const prompt = pick(AUTO_COLUMNS.prompt, []);
  if (prompt === undefined) return null;
  const response = pick(AUTO_COLUMNS.response, [prompt]);
  const system = pick(AUTO_COLUMNS.system, [prompt, response]);
  return { prompt, ...(response !== undefined ? { response } : {}), ...(system !== undefined ? { system } : {}) };
}

/**
 * How rows with these columns are best read: as records of a known shape when the columns are that shape's fields
 * (chat lists, or Alpaca's instruction + input which a plain mapping could not combine), else through a mapping
 * guessed from the names; `{}` when no column can be the prompt (a UI then asks for a mapping). `isList` says which
 * columns hold lists (Parquet); CSV cells never do.
 */
export function tableShape(
  columns: readonly string[],
  isList: (column: string) => boolean = () => false,
): { record?: JsonRecordFormat; mapping?: ColumnMapping } {
  if (columns.includes('messages') && isList('messages')) return { record: 'openai' };
  if (columns.includes('conversations') && isList('conversations')) return { record: 'sharegpt' };
  if (columns.includes('instruction') && columns.includes('input')) return { record: 'alpaca' };
  const mapping = autoMapping(columns);
  return mapping ? { mapping } : {};
}

/** The columns a mapping names that are not among `columns`. */
export function missingColumns(mapping: ColumnMapping, columns: readonly string[]): string[] {
  return [mapping.prompt, mapping.response, mapping.system].filter((c): c is string => c !== undefined && !columns.includes(c));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A cell as text: strings as they are, numbers and booleans written out, null/missing as ''. */
function cellText(v: unknown, column: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) throw new RecordError(`column "${column}" holds binary data, not text`);
  throw new RecordError(`column "${column}" must be text, not ${Array.isArray(v) ? 'a list' : typeof v}`);
}

/** A cell holding a list of chat messages (TRL's conversational prompt/completion columns). */
function cellMessages(v: unknown[], column: string): ChatMessage[] {
  return v.map((m, i) => {
    if (!isObject(m) || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new RecordError(`column "${column}"[${i}] must be a {role, content} message`);
    }
    if (!(CHAT_ROLES as readonly string[]).includes(m.role)) {
      throw new RecordError(`column "${column}"[${i}].role must be system, user, assistant or tool, not ${JSON.stringify(m.role)}`);
    }
    return { role: m.role as ChatRole, content: m.content };
  });
}

/**
 * One table row (column name → value) as a conversation through a mapping: system column → system message, prompt →
 * user message (required, not blank), response → assistant message and reference. Throws RecordError naming the
 * column.
 */
export function mapRow(row: Record<string, unknown>, mapping: ColumnMapping): NormalizedExample {
  const messages: ChatMessage[] = [];
  if (mapping.system !== undefined) {
    const system = cellText(row[mapping.system], mapping.system);
    if (system) messages.push({ role: 'system', content: system });
  }
  const prompt = row[mapping.prompt];
  if (Array.isArray(prompt)) {
    messages.push(...cellMessages(prompt, mapping.prompt));
  } else {
    const text = cellText(prompt, mapping.prompt);
    if (!text.trim()) throw new RecordError(`column "${mapping.prompt}" (the prompt) is ${prompt === undefined ? 'missing' : 'empty'}`);
    messages.push({ role: 'user', content: text });
  }
  if (mapping.response !== undefined) {
    const response = row[mapping.response];
    if (Array.isArray(response)) messages.push(...cellMessages(response, mapping.response));
    else {
      const text = cellText(response, mapping.response);
      if (text) messages.push({ role: 'assistant', content: text });
    }
  }
  if (!messages.some((m) => m.role === 'user')) throw new RecordError(`column "${mapping.prompt}" has no user message`);
  const last = messages.at(-1)!;
  return { messages, reference: last.role === 'assistant' ? last.content : null };
}
