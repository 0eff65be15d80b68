// Over 400 lines for a reason: the Parquet reader is tested on files written here (hyparquet-writer: list and struct
// columns, row groups, damage) and against the export writer (round trips per format); the cases share those builders.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { parquetWriteFile, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import { describe, expect, it, vi } from 'vitest';
import { toRecord } from '../../../src-main/core/datasets/formats/denormalize.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../../src-shared/domain/datasets.js';
import { detectImport } from '../../../src-main/core/datasets/formats/detect.js';
import { readRecords } from '../../../src-main/core/datasets/formats/read.js';
import { createParquetWriter } from '../../../src-main/core/datasets/formats/parquet-export.js';
import { readJsonl } from '../../../src-main/core/datasets/formats/jsonl.js';
import type { NormalizedExample } from '../../../src-shared/domain/datasets.js';
import { tempDir } from '../../helpers/tmp.js';
import { all, examples, failure, lines, rejected, write } from './helpers.js';

// Parquet as pyarrow writes it for a Hugging Face `datasets` export (`Dataset.to_parquet`): every field OPTIONAL,
// lists in the 3-level LIST layout (`<name>` LIST → repeated `list` → `element`), strings UTF8, root named `schema`.
const str = (name: string): SchemaElement => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
const listOf = (name: string, fields: string[]): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL', num_children: fields.length },
  ...fields.map(str),
];

const bytesOf = (file: string): ArrayBuffer => new Uint8Array(fs.readFileSync(file)).buffer;

function hfParquet(name: string, schema: SchemaElement[], columnData: ColumnSource[], options: { rowGroupSize?: number; codec?: 'GZIP' } = {}): string {
  const file = path.join(tempDir(), name);
  parquetWriteFile({
    filename: file,
    columnData,
    schema: [{ name: 'schema', num_children: columnData.length }, ...schema],
    rowGroupSize: options.rowGroupSize ?? 1000,
    ...(options.codec ? { codec: options.codec, compressors: { GZIP: (b: Uint8Array) => zlib.gzipSync(b) } } : {}),
  });
  return file;
}

const chats = [
  [
    { content: 'You are a helpful assistant.', role: 'system' },
    { content: 'What is the capital of France?', role: 'user' },
    { content: 'Paris.', role: 'assistant' },
  ],
  [
    { content: 'Hi', role: 'user' },
    { content: 'Hello! How can I help?', role: 'assistant' },
    { content: 'Tell me a joke.', role: 'user' },
    { content: 'Why did the chicken cross the road?', role: 'assistant' },
  ],
  [{ content: 'Just a prompt', role: 'user' }],
  [{ content: 'Not from a user', role: 'assistant' }],
  [],
];

describe('Parquet import', () => {
  it('reads a messages list<struct<content, role>> column (HF chat layout), row group by row group', async () => {
    const file = hfParquet('chat.parquet', listOf('messages', ['content', 'role']), [{ name: 'messages', data: chats }], { rowGroupSize: 2 });
    expect(parquetMetadata(bytesOf(file)).row_groups.map((g) => Number(g.num_rows))).toEqual([2, 2, 1]);
    const { spec, columns } = await detectImport(file);
    expect(spec).toEqual({ container: 'parquet', record: 'openai' });
    expect(columns).toEqual(['messages']);
    const items = await all(file, spec);
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'ok'],
      [4, 'rejected'],
      [5, 'rejected'],
    ]);
    expect(examples(items)[0]).toEqual({
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'What is the capital of France?' },
        { role: 'assistant', content: 'Paris.' },
      ],
      reference: 'Paris.',
    });
    expect(examples(items)[1]!.reference).toBe('Why did the chicken cross the road?');
    expect(rejected(items).map((r) => r.reason)).toEqual(['the record has no user message', 'messages is empty']);
  });

  it('reads a ShareGPT conversations list<struct<from, value>> column with a system column', async () => {
    const file = hfParquet(
      'sharegpt.parquet',
      [...listOf('conversations', ['from', 'value']), str('system')],
      [
        {
          name: 'conversations',
          data: [
            [
              { from: 'human', value: 'My order is late.' },
              { from: 'gpt', value: 'What is the order number?' },
            ],
            [{ from: 'alien', value: '?' }],
          ],
        },
        { name: 'system', data: ['You are a support agent.', null] },
      ],
    );
    const { spec } = await detectImport(file);
    expect(spec).toEqual({ container: 'parquet', record: 'sharegpt' });
    const items = await all(file, spec);
    expect(examples(items)).toEqual([
      {
        messages: [
          { role: 'system', content: 'You are a support agent.' },
          { role: 'user', content: 'My order is late.' },
          { role: 'assistant', content: 'What is the order number?' },
        ],
        reference: 'What is the order number?',
      },
    ]);
    expect(rejected(items)[0]).toMatchObject({ line: 2, reason: expect.stringMatching(/conversations\[0\]\.from "alien"/) });
  });

  it('reads flat instruction/input/output string columns as Alpaca records', async () => {
    const file = hfParquet(
      'alpaca.parquet',
      [str('instruction'), str('input'), str('output')],
      [
        { name: 'instruction', data: ['Translate to French.', 'Name a color.', ''] },
        { name: 'input', data: ['The cat sleeps.', '', 'x'] },
        { name: 'output', data: ['Le chat dort.', 'Blue.', 'y'] },
      ],
    );
    const { spec, columns } = await detectImport(file);
    expect(spec).toEqual({ container: 'parquet', record: 'alpaca' });
    expect(columns).toEqual(['instruction', 'input', 'output']);
    const items = await all(file, spec);
    expect(examples(items)).toEqual([
      {
        messages: [
          { role: 'user', content: 'Translate to French.\n\nThe cat sleeps.' },
          { role: 'assistant', content: 'Le chat dort.' },
        ],
        reference: 'Le chat dort.',
      },
      {
        messages: [
          { role: 'user', content: 'Name a color.' },
          { role: 'assistant', content: 'Blue.' },
        ],
        reference: 'Blue.',
      },
    ]);
    expect(rejected(items)).toEqual([{ line: 3, reason: 'instruction is empty', excerpt: '{"instruction":"","input":"x","output":"y"}' }]);
  });

  it('reads flat prompt/completion columns through a guessed mapping, and only the mapped columns', async () => {
    const file = hfParquet(
      'pc.parquet',
      [str('id'), str('prompt'), str('completion')],
      [
        { name: 'id', data: ['a', 'b'] },
        { name: 'prompt', data: ['2+2?', null] },
        { name: 'completion', data: ['4', 'orphan'] },
      ],
    );
    const { spec, columns } = await detectImport(file);
    expect(spec).toEqual({ container: 'parquet', mapping: { prompt: 'prompt', response: 'completion' } });
    expect(columns).toEqual(['id', 'prompt', 'completion']);
    const items = await all(file, spec);
    expect(examples(items)).toEqual([
      {
        messages: [
          { role: 'user', content: '2+2?' },
          { role: 'assistant', content: '4' },
        ],
        reference: '4',
      },
    ]);
    expect(rejected(items)).toEqual([{ line: 2, reason: 'column "prompt" (the prompt) is empty', excerpt: '{"prompt":null,"completion":"orphan"}' }]);
  });

  it("reads TRL's conversational prompt/completion (lists of messages) through the mapping", async () => {
    const file = hfParquet(
      'trl.parquet',
      [...listOf('prompt', ['role', 'content']), ...listOf('completion', ['role', 'content'])],
      [
        { name: 'prompt', data: [[{ role: 'user', content: 'What color is the sky?' }]] },
        { name: 'completion', data: [[{ role: 'assistant', content: 'Blue.' }]] },
      ],
    );
    const { spec } = await detectImport(file);
    expect(examples(await all(file, spec))).toEqual([
      {
        messages: [
          { role: 'user', content: 'What color is the sky?' },
          { role: 'assistant', content: 'Blue.' },
        ],
        reference: 'Blue.',
      },
    ]);
  });

  it('offers the columns when none can be the prompt, and refuses a mapping naming a missing column', async () => {
    const file = hfParquet(
      'odd.parquet',
      [str('foo'), str('bar')],
      [
        { name: 'foo', data: ['x'] },
        { name: 'bar', data: ['y'] },
      ],
    );
    expect(await detectImport(file)).toEqual({ spec: { container: 'parquet' }, columns: ['foo', 'bar'] });
    const e = await failure(readRecords(file, { container: 'parquet', mapping: { prompt: 'question' } }).next());
    expect(e).toMatchObject({ code: 'invalid_input', field: 'mapping', message: 'odd.parquet has no column "question"; its columns are: foo, bar' });
    expect(examples(await all(file, { container: 'parquet', mapping: { prompt: 'bar', system: 'foo' } }))).toEqual([
      {
        messages: [
          { role: 'system', content: 'x' },
          { role: 'user', content: 'y' },
        ],
        reference: null,
      },
    ]);
  });

  it('decodes gzip-compressed files', async () => {
    const file = hfParquet('gz.parquet', [str('prompt')], [{ name: 'prompt', data: ['compressed prompt'] }], { codec: 'GZIP' });
    expect(parquetMetadata(bytesOf(file)).row_groups[0]!.columns[0]!.meta_data!.codec).toBe('GZIP');
    expect(examples(await all(file, { container: 'parquet' }))).toEqual([{ messages: [{ role: 'user', content: 'compressed prompt' }], reference: null }]);
  });

  it('refuses a file that is not Parquet, whatever its name', async () => {
    for (const [name, content, why] of [
      ['notes.parquet', 'prompt,response\na,b\nc,d\n', 'it starts with "prom", not "PAR1"'],
      ['tiny.parquet', 'PAR1', 'only 4 bytes'],
      ['empty.parquet', '', 'the file is empty'],
    ] as const) {
      const file = write(name, content);
      const read = await failure(readRecords(file, { container: 'parquet', record: 'openai' }).next());
      expect(read).toMatchObject({ code: 'invalid_input', message: `${name}: not a Parquet file (${why})` });
      const detect = await failure(detectImport(file));
      expect(detect).toMatchObject({ code: 'invalid_input', message: content ? `${name}: not a Parquet file (${why})` : `${name} is empty` });
    }
    // the right magic but a truncated footer
    const good = hfParquet('t.parquet', [str('prompt')], [{ name: 'prompt', data: ['a', 'b'] }]);
    const bytes = fs.readFileSync(good);
    const cut = write('cut.parquet', bytes.subarray(0, bytes.length - 10));
    expect(await failure(detectImport(cut))).toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/^cut\.parquet: not a Parquet file \(bad footer: /),
    });
  });

  it('reads the file a row group at a time, not whole', async () => {
    // three row groups of ~1 MB of incompressible text
    const prompts = Array.from({ length: 3000 }, () => randomBytes(500).toString('hex'));
    const file = hfParquet('big.parquet', [str('prompt')], [{ name: 'prompt', data: prompts }], { rowGroupSize: 1000 });
    const size = fs.statSync(file).size;
    expect(size).toBeGreaterThan(2_500_000);
    const handle = await fs.promises.open(file);
    const proto = Object.getPrototypeOf(handle) as { read: (...args: unknown[]) => Promise<{ bytesRead: number }> };
    await handle.close();
    let bytesRead = 0;
    const read = proto.read;
    const spy = vi.spyOn(proto, 'read').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      const r = await read.apply(this, args);
      bytesRead += r.bytesRead;
      return r;
    });
    try {
      const seen: number[] = [];
      for await (const item of readRecords(file, { container: 'parquet', mapping: { prompt: 'prompt' } })) {
        seen.push(bytesRead);
        expect('example' in item && item.example.messages[0]!.content).toBe(prompts[item.line - 1]);
      }
      expect(seen).toHaveLength(3000);
      expect(seen[0]).toBeLessThan(size * 0.7); // the footer fetch (512 KiB) and the first row group only
      expect(seen[999]).toBe(seen[0]); // the rest of a row group comes from memory
      expect(seen[1000]).toBeGreaterThan(seen[999]!); // the next group is read when needed
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects a row group that cannot be decoded at its first row and reads the next ones', async () => {
    const file = hfParquet('corrupt.parquet', [str('prompt')], [{ name: 'prompt', data: ['a', 'b', 'c', 'd'] }], { rowGroupSize: 2 });
    const bytes = new Uint8Array(fs.readFileSync(file));
    const page = Number(parquetMetadata(bytes.buffer).row_groups[0]!.columns[0]!.meta_data!.data_page_offset);
    bytes.fill(0xff, page, page + 6); // garble the first page header
    fs.writeFileSync(file, bytes);
    const items = await all(file, { container: 'parquet', mapping: { prompt: 'prompt' } });
    expect(lines(items)).toEqual([
      [1, 'rejected'],
      [3, 'ok'],
      [4, 'ok'],
    ]);
    expect(rejected(items)[0]!.reason).toMatch(/^rows 1–2 \(a row group\) cannot be decoded: /);
  });

  it('reads a Parquet file with no rows as no records', async () => {
    const file = path.join(tempDir(), 'none.parquet');
    const w = createParquetWriter(file, 'openai');
    await w.close();
    const { spec } = await detectImport(file);
    expect(spec).toEqual({ container: 'parquet', record: 'openai' });
    expect(await all(file, spec)).toEqual([]);
  });
});

/** Examples every export format represents exactly (one system message first, user/assistant turns). */
const exact: NormalizedExample[] = [
  {
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Capital of France?' },
      { role: 'assistant', content: 'Paris.' },
    ],
    reference: 'Paris.',
  },
  {
    messages: [
      { role: 'user', content: 'a, "quoted"\nmultiline\r\nprompt' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'follow-up with emoji 🦜 and NUL \u0000 and tabs\t' },
      { role: 'assistant', content: 'second answer' },
    ],
    reference: 'second answer',
  },
  { messages: [{ role: 'user', content: 'A prompt without an answer' }], reference: null },
  {
    messages: [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'x'.repeat(100_000) },
    ],
    reference: null,
  },
  ...Array.from({ length: 21 }, (_, i) => ({
    messages: [
      { role: 'user' as const, content: `question ${i}` },
      { role: 'assistant' as const, content: `answer ${i}` },
    ],
    reference: `answer ${i}`,
  })),
];
/** Examples a format flattens (tool turns, system messages mid-conversation): Parquet must match the JSONL export. */
const lossy: NormalizedExample[] = [
  {
    messages: [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: 'calling the tool' },
      { role: 'tool', content: '{"temp": 21}' },
      { role: 'assistant', content: 'It is 21 degrees.' },
    ],
    reference: 'It is 21 degrees.',
  },
  {
    messages: [
      { role: 'system', content: 'one' },
      { role: 'user', content: 'u' },
      { role: 'system', content: 'two' },
      { role: 'assistant', content: '' },
    ],
    reference: '',
  },
];

async function exportParquet(format: ExportFormat, list: NormalizedExample[], rowGroupRows: number): Promise<string> {
  const file = path.join(tempDir(), `${format}.parquet`);
  const w = createParquetWriter(file, format, { rowGroupRows });
  for (let i = 0; i < list.length; i += 7) w.write(list.slice(i, i + 7).map((e) => toRecord(format, e)));
  await w.close();
  return file;
}

describe('Parquet export', () => {
  it.each(EXPORT_FORMATS)('%s: export then import gives back every example exactly', async (format) => {
    const file = await exportParquet(format, exact, 10);
    const { spec } = await detectImport(file);
    expect(spec).toEqual({ container: 'parquet', record: format });
    const items = await all(file, spec);
    expect(rejected(items)).toEqual([]);
    expect(items.map((i) => i.line)).toEqual(exact.map((_, i) => i + 1));
    expect(examples(items)).toEqual(exact);
  });

  it.each(EXPORT_FORMATS)('%s: Parquet loses nothing the JSONL export keeps', async (format) => {
    const file = await exportParquet(format, lossy, 10);
    const jsonl = path.join(tempDir(), `${format}.jsonl`);
    fs.writeFileSync(jsonl, lossy.map((e) => JSON.stringify(toRecord(format, e))).join('\n') + '\n');
    const viaJsonl = [];
    for await (const item of readJsonl(jsonl, format)) viaJsonl.push(item);
    expect(await all(file, { container: 'parquet', record: format })).toEqual(viaJsonl);
  });

  it('writes nested columns, not JSON strings, in the layout HF datasets writes', async () => {
    const expected: Record<ExportFormat, string[]> = {
      openai: ['messages', 'messages.list', 'messages.list.element', 'messages.list.element.role', 'messages.list.element.content'],
      sharegpt: [
        'conversations',
        'conversations.list',
        'conversations.list.element',
        'conversations.list.element.from',
        'conversations.list.element.value',
        'system',
      ],
      alpaca: [
        'instruction',
        'input',
        'output',
        'system',
        'history',
        'history.list',
        'history.list.element',
        'history.list.element.list',
        'history.list.element.list.element',
      ],
    };
    for (const format of EXPORT_FORMATS) {
      const file = await exportParquet(format, [exact[1]!], 10);
      const metadata = parquetMetadata(bytesOf(file));
      const paths: string[] = [];
      const walk = (node: ReturnType<typeof parquetSchema>, prefix: string[]) => {
        for (const child of node.children) {
          const p = [...prefix, child.element.name];
          paths.push(p.join('.'));
          if (child.children.length === 0) expect(child.element).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
          else if (child.element.name !== 'list' && child.element.name !== 'element') expect(child.element.converted_type).toBe('LIST');
          walk(child, p);
        }
      };
      walk(parquetSchema(metadata), []);
      expect(paths).toEqual(expected[format]);
    }
    // what a generic Parquet reader sees: plain nested values
    const alpaca = await exportParquet('alpaca', [exact[1]!], 10);
    expect(await parquetReadObjects({ file: bytesOf(alpaca) })).toEqual([
      {
        instruction: 'follow-up with emoji 🦜 and NUL \u0000 and tabs\t',
        input: '',
        output: 'second answer',
        system: null, // toRecord leaves `system` out when there is none
        history: [['a, "quoted"\nmultiline\r\nprompt', 'first answer']],
      },
    ]);
  });

  it('writes a row group at a time as records come, not all at close', async () => {
    const file = path.join(tempDir(), 'stream.parquet');
    const w = createParquetWriter(file, 'openai', { rowGroupRows: 10 });
    const records = exact.map((e) => toRecord('openai', e));
    w.write(records.slice(0, 9));
    const before = fs.statSync(file).size;
    w.write(records.slice(9, 12)); // completes the first row group
    const after = fs.statSync(file).size;
    expect(after).toBeGreaterThan(before + 100);
    w.write(records.slice(12));
    await w.close();
    expect(() => w.write(records)).toThrow(/closed/);
    const metadata = parquetMetadata(bytesOf(file));
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([10, 10, 5]);
  });
});
