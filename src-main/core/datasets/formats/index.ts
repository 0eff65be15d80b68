import fs from 'node:fs';
import path from 'node:path';
import { readLines } from '../line-reader.js';
import { readJsonl, type JsonlItem } from '../jsonl.js';
import { normalizeRecord, recordFormat, RecordError } from '../normalize.js';
import { fileError } from '../../files/errors.js';
import { AppError } from '../../../../src-shared/errors.js';
import type { ColumnMapping, ImportContainer as Container, ImportSpec, JsonRecordFormat, NormalizedExample } from '../../../../src-shared/domain/datasets.js';
import { readTable } from './csv.js';
import { readJsonArray } from './json-array.js';
import { autoMapping, findColumn, mapRow, missingColumns, tableShape } from './mapping.js';
import { openParquet } from './parquet.js';
import { Utf8Checker } from './utf8.js';
import { jsonValueDepth, MAX_JSON_DEPTH, TOO_DEEP } from '../../json-depth.js';

export { autoMapping, AUTO_COLUMNS } from './mapping.js';

// The shapes are the contract's (src-shared): the preview, the import run and the UI speak the same ImportSpec.
export { IMPORT_CONTAINERS as CONTAINERS } from '../../../../src-shared/domain/datasets.js';
export type { ImportContainer as Container, ColumnMapping, ImportSpec } from '../../../../src-shared/domain/datasets.js';

export interface ReadOptions {
  signal?: AbortSignal;
  /** Longest line (jsonl/text) or record (csv/tsv/json) read; longer ones are rejected. */
  maxLineBytes?: number;
}

const EXTENSIONS: Record<string, Container> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.jsonlines': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.txt': 'text',
  '.text': 'text',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

const SAMPLE_RECORDS = 50;
const HEAD_BYTES = 64 * 1024;

const excerpt = (s: string) => s.slice(0, 200);

function checkFile(file: string): fs.Stats {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    throw fileError(e, file);
  }
  if (!stat.isFile()) throw new AppError('not_a_file', `${file} is not a file`);
  return stat;
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The start of a file as text without its BOM; null when it is not text (invalid UTF-8 or NUL bytes). */
function headText(head: Buffer): string | null {
  // (a character cut by the end of the sample is not an invalid sequence for the checker)
  if (new Utf8Checker().firstInvalid(head) !== null || head.includes(0)) return null;
  return new TextDecoder('utf-8').decode(head);
}

/** The container of a file with an unknown extension, from its first bytes. */
function sniffContainer(name: string, head: Buffer): Container {
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  const text = headText(head);
  if (text === null) throw new AppError('invalid_input', `${name} is neither text nor a Parquet file, so it cannot be imported`);
  const start = text.trimStart();
  if (start.startsWith('[')) return 'json';
  if (start.startsWith('{')) return 'jsonl';
  const firstLine = start.split(/\r?\n/, 1)[0] ?? '';
  for (const [delimiter, container] of [
    ['\t', 'tsv'],
    [',', 'csv'],
  ] as const) {
    const cells = firstLine.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (cells.length >= 2 && autoMapping(cells)) return container;
  }
  return 'text';
}

/** The first records of a JSON(L) file that parse as objects. */
async function sampleObjects(file: string, container: 'jsonl' | 'json'): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (container === 'json') {
    for await (const item of readJsonArray(file)) {
      if ('value' in item && isObject(item.value)) out.push(item.value);
      if (out.length >= SAMPLE_RECORDS) break;
    }
    return out;
  }
  let seen = 0;
  for await (const r of readLines(file)) {
    if ('error' in r || !r.text.trim()) continue;
    try {
      const v: unknown = JSON.parse(r.text);
      if (isObject(v)) out.push(v);
    } catch {
      /* a broken line says nothing about the shape */
    }
    if (++seen >= SAMPLE_RECORDS) break;
  }
  return out;
}

/** Record shape (or, failing that, a mapping over the fields) of JSON objects; throws when neither fits. */
async function detectObjects(file: string, container: 'jsonl' | 'json'): Promise<{ spec: ImportSpec; columns: string[] | null }> {
  const name = path.basename(file);
  const sample = await sampleObjects(file, container);
  if (sample.length === 0) {
    throw new AppError('invalid_input', container === 'json' ? `${name} is not a JSON array of records` : `${name} has no JSON object on its first lines`);
  }
  const counts = new Map<JsonRecordFormat, number>();
  for (const r of sample) {
    const f = recordFormat(r);
    if (f) counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  const record = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (record) return { spec: { container, record }, columns: null };
  const fields = [...new Set(sample.flatMap((r) => Object.keys(r)))];
  const mapping = autoMapping(fields);
  if (mapping) return { spec: { container, mapping }, columns: fields };
  throw new AppError(
    'invalid_input',
    `${name}: the records are in no known format (messages, conversations, instruction, prompt…) and no field can be the prompt; fields found: ${fields.join(', ') || 'none'}`,
  );
}

/** The header of a CSV/TSV file; null when it has no record at all. */
async function tableHeader(file: string, container: 'csv' | 'tsv'): Promise<string[] | null> {
  for await (const item of readTable(file, container === 'csv' ? ',' : '\t')) {
    if (item.kind === 'header') return item.columns;
    if (item.kind === 'reject')
      throw new AppError('invalid_input', `${path.basename(file)}: the header row (line ${item.line}) cannot be read: ${item.reason}`);
  }
  return null;
}

/**
 * Detects container (extension, then content sniffing: 'PAR1' magic, leading '[' for a JSON array, '{' for JSON Lines,
 * a CSV/TSV header with a prompt-like column, else plain text) and record shape / column mapping. Returns the columns
 * for tables (and for JSON objects read through a mapping) so a UI can offer a mapping; a table none of whose columns
 * can be the prompt comes back with neither `record` nor `mapping`. Throws AppError('invalid_input', message naming
 * the file) when nothing fits: an empty file, a non-Parquet `.parquet`, binary data, JSON records of no known shape.
 */
export async function detectImport(file: string): Promise<{ spec: ImportSpec; columns: string[] | null }> {
  const name = path.basename(file);
  const stat = checkFile(file);
  if (stat.size === 0) throw new AppError('invalid_input', `${name} is empty`);
  const head = await readHead(file);
  let container = EXTENSIONS[path.extname(file).toLowerCase()] ?? sniffContainer(name, head);
  if (container !== 'parquet') {
    // Rows with invalid UTF-8 are rejected one by one when reading; here only what cannot be text at all is refused.
    if (head.subarray(0, 2).equals(Buffer.from([0xff, 0xfe])) || head.subarray(0, 2).equals(Buffer.from([0xfe, 0xff]))) {
      throw new AppError('invalid_input', `${name} is UTF-16 text; save it as UTF-8 to import it`);
    }
    if (head.includes(0)) throw new AppError('invalid_input', `${name} is not text (it holds NUL bytes), so it cannot be read as ${container}`);
    const text = new TextDecoder('utf-8').decode(head);
    if (!text.trim()) throw new AppError('invalid_input', `${name} is empty`);
    if (container === 'json' && text.trimStart().startsWith('{')) {
      // JSON Lines named .json, or a single object
      const firstLine = text.trimStart().split('\n', 1)[0]!;
      try {
        JSON.parse(firstLine);
        container = 'jsonl';
      } catch {
        throw new AppError('invalid_input', `${name} holds a single JSON object, not an array of records or JSON Lines`);
      }
    }
  }
  switch (container) {
    case 'parquet': {
      const pq = await openParquet(file);
      await pq.close();
      const shape = tableShape(pq.columns, (c) => pq.isList(c));
      return { spec: { container, ...shape }, columns: pq.columns };
    }
    case 'csv':
    case 'tsv': {
      const columns = await tableHeader(file, container);
      if (!columns) throw new AppError('invalid_input', `${name} is empty`);
      if (columns.some((c) => c.includes('\uFFFD'))) throw new AppError('invalid_input', `${name}: the header row is not valid UTF-8`);
      return { spec: { container, ...tableShape(columns) }, columns };
    }
    case 'json':
    case 'jsonl':
      return detectObjects(file, container);
    case 'text':
      return { spec: { container }, columns: null };
  }
}

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
