import fs from 'node:fs';
import { ByteWriter, ParquetWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import type { ExportFormat } from '../../../../src-shared/domain/datasets.js';

/**
 * Parquet in the layout Hugging Face `datasets` (pyarrow) writes for the same records, so `load_dataset("parquet")`
 * and TRL read it as they read the JSONL export: hyparquet-writer has no nested-type inference (`autoSchemaElement`
 * turns objects into JSON strings), but with an explicit schema it writes true nested columns through its Dremel
 * encoder, so lists of structs are real `list<struct<…>>` columns, not JSON text. Every column is OPTIONAL like
 * pyarrow's, lists use the standard 3-level LIST layout (`<name>` LIST → repeated `list` → `element`), strings are
 * UTF8/STRING:
 *   openai   → messages: list<struct<role: string, content: string>>
 *   sharegpt → conversations: list<struct<from: string, value: string>>, system: string (null when there is none)
 *   alpaca   → instruction, input, output, system: string (system null when none);
 *              history: list<list<string>> (LLaMA-Factory's [instruction, response] pairs; null when none) — a real
 *              nested list, not a JSON string.
 * An export whose examples use tools or per-message fields (`withChatFields`) gets the wider layout pyarrow infers
 * for such records (absent fields null):
 *   openai   → messages: list<struct<role, content, tool_calls: list<struct<id, type, function: struct<name,
 *              arguments>>>, tool_call_id, name: string, weight, loss_weight: double>>, tools: string (JSON: the
 *              schemas have no fixed shape)
 *   sharegpt → conversations: list<struct<from, value, name: string, weight, loss_weight: double>>, system, tools: string
 */
const string = (name: string): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  logical_type: { type: 'STRING' },
  repetition_type: 'OPTIONAL',
});
const list = (name: string, element: SchemaElement[]): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  ...element,
];
const struct = (fields: string[]): SchemaElement[] => [{ name: 'element', repetition_type: 'OPTIONAL', num_children: fields.length }, ...fields.map(string)];

const double = (name: string): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: 'OPTIONAL' });
/** A struct of fields, each a leaf or a subtree (a group's num_children counts its direct children). */
const group = (name: string, fields: (SchemaElement | SchemaElement[])[]): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', num_children: fields.length },
  ...fields.flat(),
];
const weights = [string('name'), double('weight'), double('loss_weight')];
const toolCall = group('element', [string('id'), string('type'), group('function', [string('name'), string('arguments')])]);
const json = (v: unknown) => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));

type Column = { name: string; value: (r: Record<string, unknown>) => unknown };
/** The layouts with tool and per-message fields (see above); Alpaca has none. */
const WIDE: Partial<Record<ExportFormat, { schema: SchemaElement[]; columns: Column[] }>> = {
  openai: {
    schema: [
      { name: 'schema', num_children: 2 },
      ...list('messages', group('element', [string('role'), string('content'), list('tool_calls', toolCall), string('tool_call_id'), ...weights])),
      string('tools'),
    ],
    columns: [
      { name: 'messages', value: (r) => r.messages ?? null },
      { name: 'tools', value: (r) => json(r.tools) },
    ],
  },
  sharegpt: {
    schema: [
      { name: 'schema', num_children: 3 },
      ...list('conversations', group('element', [string('from'), string('value'), ...weights])),
      string('system'),
      string('tools'),
    ],
    columns: [
      { name: 'conversations', value: (r) => r.conversations ?? null },
      { name: 'system', value: (r) => r.system ?? null },
      { name: 'tools', value: (r) => json(r.tools) },
    ],
  },
};

const LAYOUTS: Record<ExportFormat, { schema: SchemaElement[]; columns: Column[] }> = {
  openai: {
    schema: [{ name: 'schema', num_children: 1 }, ...list('messages', struct(['role', 'content']))],
    columns: [{ name: 'messages', value: (r) => r.messages ?? null }],
  },
  sharegpt: {
    schema: [{ name: 'schema', num_children: 2 }, ...list('conversations', struct(['from', 'value'])), string('system')],
    columns: [
      { name: 'conversations', value: (r) => r.conversations ?? null },
      { name: 'system', value: (r) => r.system ?? null },
    ],
  },
  alpaca: {
    schema: [
      { name: 'schema', num_children: 5 },
      string('instruction'),
      string('input'),
      string('output'),
      string('system'),
      ...list('history', list('element', [string('element')])),
    ],
    columns: [
      { name: 'instruction', value: (r) => r.instruction ?? null },
      { name: 'input', value: (r) => r.input ?? null },
      { name: 'output', value: (r) => r.output ?? null },
      { name: 'system', value: (r) => r.system ?? null },
      { name: 'history', value: (r) => r.history ?? null },
    ],
  },
};

export const DEFAULT_ROW_GROUP_ROWS = 10_000;
const FLUSH_BYTES = 1 << 20;

/** hyparquet-writer's ByteWriter, emptied into a file descriptor every megabyte and after each row group. */
class FileByteWriter extends ByteWriter {
  constructor(private readonly fd: number) {
    super(FLUSH_BYTES + 64 * 1024);
  }
  override ensure(size: number): void {
    if (this.index > FLUSH_BYTES) this.drain();
    super.ensure(size);
  }
  flush(): void {
    this.drain();
  }
  override finish(): void {
    this.drain();
  }
  override getBuffer(): ArrayBuffer {
    throw new Error('the bytes were written to the file');
  }
  private drain() {
    let done = 0;
    while (done < this.index) done += fs.writeSync(this.fd, new Uint8Array(this.buffer, done, this.index - done));
    this.index = 0;
  }
}

export interface ParquetExportWriter {
  /** Adds records (as `toRecord()` makes them); a row group is written each time `rowGroupRows` are buffered. */
  write(records: Record<string, unknown>[]): void;
  /** Writes the last row group and the footer, and closes the file. A file with no records is a valid empty table. */
  close(): Promise<void>;
}

/**
 * Writes the records of an export format to a Parquet file at `out` (created or replaced), holding at most one row
 * group (`rowGroupRows`, default 10,000) in memory: hyparquet-writer's ParquetWriter takes row groups one at a time
 * and its writer is drained to the file as it goes.
 */
export function createParquetWriter(out: string, format: ExportFormat, options: { rowGroupRows?: number; withChatFields?: boolean } = {}): ParquetExportWriter {
  const layout = (options.withChatFields && WIDE[format]) || LAYOUTS[format];
  const groupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  const fd = fs.openSync(out, 'w');
  let closed = false;
  let pending: Record<string, unknown>[] = [];
  let writer: ParquetWriter;
  try {
    writer = new ParquetWriter({ writer: new FileByteWriter(fd), schema: layout.schema, createdBy: 'distillery' });
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }

  const writeGroup = () => {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    const columnData: ColumnSource[] = layout.columns.map((c) => ({ name: c.name, data: rows.map(c.value) }));
    void writer.write({ columnData, rowGroupSize: rows.length }); // synchronous: the file writer's flush is
  };

  return {
    write(records) {
      if (closed) throw new Error('the Parquet writer is closed');
      for (const r of records) {
        pending.push(r);
        if (pending.length >= groupRows) writeGroup();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        writeGroup();
        await writer.finish();
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}
