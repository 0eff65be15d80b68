// What an import file holds: its container (from the extension, else its first bytes) and its records' shape or a
// column mapping, read from a sample of its first records. The reading itself is read.ts.
import fs from 'node:fs';
import path from 'node:path';
import { readLines } from './line-reader.js';
import { recordFormat } from './normalize.js';
import { fileError } from '../../files/errors.js';
import { AppError } from '../../../../src-shared/errors.js';
import type { ImportContainer as Container, ImportSpec, JsonRecordFormat } from '../../../../src-shared/domain/datasets.js';
import { readTable } from './csv.js';
import { readJsonArray } from './json-array.js';
import { autoMapping, tableShape } from './mapping.js';
import { openParquet } from './parquet.js';
import { Utf8Checker } from './utf8.js';

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
