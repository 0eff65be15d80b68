// Reading an import file's records, normalized to conversations, with the rejected ones and why (each container's
// reader: JSON Lines, a JSON array, CSV/TSV, plain text, Parquet). What a file holds is found by detect.ts.
import path from 'node:path';
import { readLines } from './line-reader.js';
import { readJsonl, type JsonlItem } from './jsonl.js';
import { normalizeRecord, RecordError } from './normalize.js';
import { AppError } from '../../../../src-shared/errors.js';
import type { ColumnMapping, ImportSpec, JsonRecordFormat, NormalizedExample } from '../../../../src-shared/domain/datasets.js';
import { readTable } from './csv.js';
import { readJsonArray } from './json-array.js';
import { autoMapping, findColumn, mapRow, missingColumns } from './mapping.js';
import { openParquet } from './parquet.js';
import { jsonValueDepth, MAX_JSON_DEPTH, TOO_DEEP } from '../../json-depth.js';

export interface ReadOptions {
  signal?: AbortSignal;
  /** Longest line (jsonl/text) or record (csv/tsv/json) read; longer ones are rejected. */
  maxLineBytes?: number;
}

const excerpt = (s: string) => s.slice(0, 200);

/** The mapping to read a table with: the given one (its columns must exist) or one guessed from the header. */
function resolveMapping(file: string, spec: ImportSpec, columns: string[]): ColumnMapping {
  const name = path.basename(file);
  if (spec.mapping) {
    const missing = missingColumns(spec.mapping, columns);
    if (missing.length) {
      const [first] = missing;
      const hint = findColumn(columns, first!);
      throw new AppError(
        'invalid_input',
        `${name} has no column ${missing.map((c) => `"${c}"`).join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}; its columns are: ${columns.join(', ')}`,
        'mapping',
      );
    }
    return spec.mapping;
  }
  const auto = autoMapping(columns);
  if (!auto) throw new AppError('invalid_input', `${name}: no column can be the prompt; choose one of: ${columns.join(', ')}`, 'mapping');
  return auto;
}

/** A row as an example through the spec's record shape, else its mapping. Throws RecordError. */
function rowExample(row: Record<string, unknown>, spec: ImportSpec, mapping: ColumnMapping | null): NormalizedExample {
  if (spec.record) return normalizeRecord(spec.record, row);
  return mapRow(row, mapping!);
}

async function* readCsv(file: string, spec: ImportSpec, options: ReadOptions): AsyncGenerator<JsonlItem> {
  let columns: string[] | null = null;
  let mapping: ColumnMapping | null = null;
  for await (const item of readTable(file, spec.container === 'tsv' ? '\t' : ',', options)) {
    if (item.kind === 'header') {
      columns = item.columns;
      if (item.columns.some((c) => c.includes('\uFFFD'))) {
        throw new AppError('invalid_input', `${path.basename(file)}: the header row is not valid UTF-8`);
      }
      if (spec.record) checkRecordColumns(file, spec.record, columns);
      else mapping = resolveMapping(file, spec, columns);
      continue;
    }
    if (item.kind === 'reject') {
      if (!columns) throw new AppError('invalid_input', `${path.basename(file)}: the header row (line ${item.line}) cannot be read: ${item.reason}`);
      yield { line: item.line, rejected: { line: item.line, reason: item.reason, excerpt: item.excerpt } };
      continue;
    }
    const { line, fields } = item;
    const reject = (reason: string) => ({ line, rejected: { line, reason, excerpt: item.excerpt } });
    if (fields.length !== columns!.length) {
      yield reject(`expected ${columns!.length} columns (${columns!.join(', ')}), found ${fields.length}`);
      continue;
    }
    if (item.badUtf8Column !== undefined) {
      const column = columns![item.badUtf8Column];
      yield reject(column !== undefined ? `column "${column}" is not valid UTF-8` : 'the row is not valid UTF-8');
      continue;
    }
    const row: Record<string, unknown> = {};
    columns!.forEach((c, i) => {
      if (!(c in row)) row[c] = fields[i];
    });
    try {
      yield { line, example: rowExample(row, spec, mapping) };
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      yield reject(e.message);
    }
  }
}

async function* readText(file: string, options: ReadOptions): AsyncGenerator<JsonlItem> {
  for await (const r of readLines(file, options)) {
    if ('error' in r) {
      yield { line: r.line, rejected: { line: r.line, reason: r.error, excerpt: r.excerpt } };
      continue;
    }
    if (!r.text.trim()) continue;
    yield { line: r.line, example: { messages: [{ role: 'user', content: r.text }], reference: null } };
  }
}

/** JSON Lines read through a mapping (objects of no known record shape). */
async function* readJsonlMapped(file: string, mapping: ColumnMapping, options: ReadOptions): AsyncGenerator<JsonlItem> {
  for await (const r of readLines(file, options)) {
    if ('error' in r) {
      yield { line: r.line, rejected: { line: r.line, reason: r.error, excerpt: r.excerpt } };
      continue;
    }
    if (!r.text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(r.text);
    } catch (e) {
      yield { line: r.line, rejected: { line: r.line, reason: `not valid JSON (${(e as Error).message})`, excerpt: excerpt(r.text) } };
      continue;
    }
    yield objectItem(r.line, value, { container: 'jsonl', mapping }, mapping, () => r.text);
  }
}

function objectItem(line: number, value: unknown, spec: ImportSpec, mapping: ColumnMapping | null, raw: () => string): JsonlItem {
  try {
    if (spec.record) return { line, example: normalizeRecord(spec.record, value) };
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new RecordError(`the record must be a JSON object, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
    }
    if (jsonValueDepth(value) > MAX_JSON_DEPTH) throw new RecordError(`the record ${TOO_DEEP}`);
    return { line, example: mapRow(value as Record<string, unknown>, mapping!) };
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    let text = '';
    try {
      text = raw();
    } catch {
      /* a value JSON.stringify cannot write (too deep for its recursion): the reason says what is wrong */
    }
    return { line, rejected: { line, reason: e.message, excerpt: excerpt(text) } };
  }
}

async function* readJson(file: string, spec: ImportSpec, options: ReadOptions): AsyncGenerator<JsonlItem> {
  for await (const item of readJsonArray(file, options)) {
    if ('rejected' in item) {
      yield item;
      continue;
    }
    yield objectItem(item.line, item.value, spec, spec.mapping ?? null, () => JSON.stringify(item.value) ?? '');
  }
}

/** The columns a record shape reads (those the file has), so other columns (images…) are never decoded. */
const RECORD_COLUMNS: Record<JsonRecordFormat, string[]> = {
  openai: ['messages', 'tools'],
  sharegpt: ['conversations', 'system', 'tools'],
  alpaca: ['instruction', 'input', 'output', 'system', 'history'],
  'prompt-completion': ['prompt', 'completion'],
};

/** The columns of `record` that the table has; throws when it has none of them. */
function checkRecordColumns(file: string, record: JsonRecordFormat, columns: string[]): string[] {
  const present = RECORD_COLUMNS[record].filter((c) => columns.includes(c));
  if (present.length === 0) {
    throw new AppError(
      'invalid_input',
      `${path.basename(file)} has none of the columns of ${record} records (${RECORD_COLUMNS[record].join(', ')}); its columns are: ${columns.join(', ')}`,
      'record',
    );
  }
  return present;
}

async function* readParquet(file: string, spec: ImportSpec, options: ReadOptions): AsyncGenerator<JsonlItem> {
  const pq = await openParquet(file);
  try {
    let wanted: string[];
    let mapping: ColumnMapping | null = null;
    if (spec.record) {
      wanted = checkRecordColumns(file, spec.record, pq.columns);
    } else {
      mapping = resolveMapping(file, spec, pq.columns);
      wanted = [...new Set([mapping.prompt, mapping.response, mapping.system].filter((c): c is string => c !== undefined))];
    }
    for await (const group of pq.rowGroups(wanted, options.signal)) {
      if ('error' in group) {
        const line = group.first + 1;
        yield {
          line,
          rejected: { line, reason: `rows ${group.first + 1}–${group.first + group.count} (a row group) cannot be decoded: ${group.error}`, excerpt: '' },
        };
        continue;
      }
      for (let i = 0; i < group.rows.length; i++) {
        const line = group.first + i + 1;
        const row = group.rows[i]!;
        yield objectItem(line, row, spec, mapping, () => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? '');
      }
    }
  } finally {
    await pq.close();
  }
}

/**
 * Streams records normalized to conversations, with rejects, in constant memory (Parquet: one row group at a time).
 * `line` is strictly increasing and 1-based: the physical line (jsonl, text, and csv/tsv where it is the line a record
 * starts on), the index in the array (json) or the row number (parquet). Throws AppError('invalid_input', …,
 * 'mapping') before reading when the mapping names a column the table lacks, or no column can be the prompt.
 */
export function readRecords(file: string, spec: ImportSpec, options: ReadOptions = {}): AsyncGenerator<JsonlItem> {
  const items = reader(file, spec, options);
  return options.signal ? abortable(items, options.signal) : items;
}

/** Stops at the next record once `signal` is aborted, even when the file was already read into the parser's buffers. */
async function* abortable(items: AsyncGenerator<JsonlItem>, signal: AbortSignal): AsyncGenerator<JsonlItem> {
  for await (const item of items) {
    signal.throwIfAborted();
    yield item;
  }
}

function reader(file: string, spec: ImportSpec, options: ReadOptions): AsyncGenerator<JsonlItem> {
  switch (spec.container) {
    case 'jsonl':
      if (spec.record) return readJsonl(file, spec.record, options);
      if (spec.mapping) return readJsonlMapped(file, spec.mapping, options);
      return missingShape(file, spec);
    case 'json':
      if (!spec.record && !spec.mapping) return missingShape(file, spec);
      return readJson(file, spec, options);
    case 'csv':
    case 'tsv':
      return readCsv(file, spec, options);
    case 'text':
      return readText(file, options);
    case 'parquet':
      return readParquet(file, spec, options);
  }
}

// eslint-disable-next-line require-yield
async function* missingShape(file: string, spec: ImportSpec): AsyncGenerator<JsonlItem> {
  throw new AppError('invalid_input', `${path.basename(file)}: reading ${spec.container} needs a record format or a column mapping`, 'record');
}
