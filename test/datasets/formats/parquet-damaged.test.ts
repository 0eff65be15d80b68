import fs from 'node:fs';
import path from 'node:path';
import { parquetMetadata } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { ByteWriter, parquetWriteFile, type SchemaElement } from 'hyparquet-writer';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { describe, expect, it } from 'vitest';
import { detectImport } from '../../../src-main/core/datasets/formats/detect.js';
import { readRecords } from '../../../src-main/core/datasets/formats/read.js';
import { tempDir } from '../../helpers/tmp.js';
import { nullRowsParquet } from '../../fuzz/crafted.js';
import { all, examples, failure, rejected } from './helpers.js';

// Damaged Parquet files made from good ones by rewriting the footer (as a fuzzer's byte flips did): hyparquet trusts
// the footer, so these were rows silently dropped or "Cannot read properties of undefined".
const str = (name: string): SchemaElement => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });

function prompts(name: string, rows: number, rowGroupSize: number): string {
  const file = path.join(tempDir(), name);
  const data = Array.from({ length: rows }, (_, i) => `prompt ${i + 1}`);
  parquetWriteFile({ filename: file, columnData: [{ name: 'prompt', data }], schema: [{ name: 'schema', num_children: 1 }, str('prompt')], rowGroupSize });
  return file;
}

function chats(name: string, rows: number, rowGroupSize: number): string {
  const file = path.join(tempDir(), name);
  const data = Array.from({ length: rows }, (_, i) => [{ role: 'user', content: `question ${i + 1}` }]);
  const schema: SchemaElement[] = [
    { name: 'schema', num_children: 1 },
    { name: 'messages', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
    str('role'),
    str('content'),
  ];
  parquetWriteFile({ filename: file, columnData: [{ name: 'messages', data }], schema, rowGroupSize });
  return file;
}

/** The same file with its footer rewritten after `edit`. */
function patchFooter(file: string, edit: (m: FileMetaData) => void): string {
  const bytes = fs.readFileSync(file);
  const metadata = parquetMetadata(new Uint8Array(bytes).buffer);
  const dataEnd = bytes.length - 8 - metadata.metadata_length;
  edit(metadata);
  const writer = new ByteWriter();
  writeMetadata(writer, metadata);
  const footer = new Uint8Array(writer.getBuffer());
  const length = Buffer.alloc(4);
  length.writeUInt32LE(footer.length);
  const out = file.replace(/\.parquet$/, '-patched.parquet');
  fs.writeFileSync(out, Buffer.concat([bytes.subarray(0, dataEnd), footer, length, Buffer.from('PAR1')]));
  return out;
}

const spec = { container: 'parquet', mapping: { prompt: 'prompt' } } as const;

describe('damaged Parquet files', () => {
  it('a row group whose row count disagrees with the file is refused, not 28 of 300 rows dropped', async () => {
    const good = prompts('rows.parquet', 300, 100);
    expect(examples(await all(good, spec))).toHaveLength(300);
    const file = patchFooter(good, (m) => {
      m.row_groups[1]!.num_rows = 72n;
    });
    const message = 'rows-patched.parquet: damaged Parquet file: its row groups hold 272 rows but the footer says the file has 300';
    expect(await failure(detectImport(file))).toMatchObject({ code: 'invalid_input', message });
    expect(await failure(readRecords(file, spec).next())).toMatchObject({ code: 'invalid_input', message });
  });

  it('a row group count matching the file but not its column is refused too', async () => {
    const file = patchFooter(prompts('rows2.parquet', 300, 100), (m) => {
      m.row_groups[1]!.num_rows = 72n;
      m.num_rows = 272n;
    });
    expect(await failure(detectImport(file))).toMatchObject({
      code: 'invalid_input',
      message: 'rows2-patched.parquet: damaged Parquet file: row group 2 says it has 72 rows but its column "prompt" holds 100 values',
    });
  });

  it("a chunk whose pages disagree with its value count rejects that row group's rows by number and reads the others", async () => {
    const file = patchFooter(chats('chat.parquet', 30, 10), (m) => {
      const content = m.row_groups[1]!.columns[1]!.meta_data!;
      content.num_values = BigInt(content.num_values) + 5n;
    });
    const items = await all(file, { container: 'parquet', record: 'openai' });
    expect(examples(items)).toHaveLength(20);
    expect(rejected(items)).toEqual([
      {
        line: 11,
        reason: 'rows 11–20 (a row group) cannot be decoded: column "messages.list.element.content": its pages hold 10 values but the footer says 15',
        excerpt: '',
      },
    ]);
  });

  it('a run-length run longer than its page is a rejected row group, not a process killed by running out of memory', async () => {
    // hyparquet writes a run whole into an array sized by the page: 2^30 entries was a fatal out-of-memory of the
    // whole process (not only of the import's thread)
    const file = path.join(tempDir(), 'run.parquet');
    nullRowsParquet(file, 1, 3, 1 << 30);
    expect(rejected(await all(file, spec))).toEqual([
      {
        line: 1,
        reason: 'rows 1–3 (a row group) cannot be decoded: column "prompt": page 1: its definition levels: a run of 1073741824 values where 3 remain',
        excerpt: '',
      },
    ]);
    // and a page claiming more values than any writer puts in one
    const many = path.join(tempDir(), 'many.parquet');
    nullRowsParquet(many, 2, 1 << 29);
    expect(rejected(await all(many, spec))[0]!.reason).toBe(
      `rows 1–${2 ** 30} (a row group) cannot be decoded: column "prompt": page 1 claims 536870912 values (at most 2097152 are read)`,
    );
  });

  it('a schema whose child counts overrun it is refused with the reason (not "Cannot read properties of undefined")', async () => {
    // (the writer cannot write such a schema: the root's num_children, field 5 after its name, goes from 1 to 2 by hand)
    const good = fs.readFileSync(prompts('schema.parquet', 3, 10));
    const at = good.lastIndexOf(Buffer.from('schema\x15\x02', 'latin1'));
    expect(at).toBeGreaterThan(0);
    good[at + 7] = 0x04; // zigzag 2
    const file = path.join(tempDir(), 'schema-patched.parquet');
    fs.writeFileSync(file, good);
    expect(await failure(detectImport(file))).toMatchObject({
      code: 'invalid_input',
      message: 'schema-patched.parquet: damaged Parquet file: its schema lists 2 elements but their child counts need more',
    });
  });

  it('a footer whose fields have the wrong type says so, not "Cannot read properties of undefined"', async () => {
    // the row groups list (field 4 of FileMetaData, a list header 0x19 + count) turned into an i32 (0x15): hyparquet
    // then read `.map` of a number
    const good = fs.readFileSync(prompts('types.parquet', 3, 10));
    const footerStart = good.length - 8 - good.readUInt32LE(good.length - 8);
    let file = '';
    const messages: string[] = [];
    // every list or struct header of the footer made an i32, one at a time: each refusal is in words
    for (let i = footerStart; i < good.length - 8; i++) {
      if (good[i] !== 0x19 && good[i] !== 0x1c) continue;
      const bytes = Buffer.from(good);
      bytes[i] = 0x15;
      const candidate = path.join(tempDir(), `types-${i}.parquet`);
      fs.writeFileSync(candidate, bytes);
      const e = await detectImport(candidate).then(
        () => null,
        (err: Error) => err,
      );
      if (e) messages.push(e.message);
      if (e && /wrong type/.test(e.message)) file ||= candidate;
    }
    expect(messages.filter((m) => /Cannot read|is not a function|undefined/.test(m))).toEqual([]);
    expect(file).not.toBe('');
    expect(await failure(detectImport(file))).toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(
        /^types-\d+\.parquet: not a Parquet file \(bad footer: fields of its footer are missing or of the wrong type; is the file truncated\?\)$/,
      ),
    });
  });

  it('a column chunk outside the data is refused', async () => {
    const file = patchFooter(prompts('offset.parquet', 3, 10), (m) => {
      m.row_groups[0]!.columns[0]!.meta_data!.total_compressed_size = 1n << 40n;
    });
    expect(await failure(detectImport(file))).toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(
        /^offset-patched\.parquet: damaged Parquet file: column "prompt" of row group 1 lies at bytes \d+\+1099511627776, outside the data/,
      ),
    });
  });
});
