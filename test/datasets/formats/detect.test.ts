import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { detectImport } from '../../../src-main/core/datasets/formats/detect.js';
import { autoMapping } from '../../../src-main/core/datasets/formats/mapping.js';
import { IMPORT_CONTAINERS as CONTAINERS } from '../../../src-shared/domain/datasets.js';
import { Utf8Checker } from '../../../src-main/core/datasets/formats/utf8.js';
import { failure, sample, SAMPLES, write } from './helpers.js';

describe('detectImport', () => {
  it('picks container, record shape or mapping, and columns for each sample', async () => {
    expect(await detectImport(sample('qa.csv'))).toEqual({
      spec: { container: 'csv', mapping: { prompt: 'question', response: 'answer', system: 'system_prompt' } },
      columns: ['question', 'answer', 'system_prompt'],
    });
    expect(await detectImport(sample('completions.tsv'))).toEqual({
      spec: { container: 'tsv', mapping: { prompt: 'prompt', response: 'completion' } },
      columns: ['prompt', 'completion'],
    });
    expect(await detectImport(sample('prompts.txt'))).toEqual({ spec: { container: 'text' }, columns: null });
    expect(await detectImport(sample('alpaca.json'))).toEqual({ spec: { container: 'json', record: 'alpaca' }, columns: null });
    expect(await detectImport(sample('openai.json'))).toEqual({ spec: { container: 'json', record: 'openai' }, columns: null });
    for (const [file, record] of [
      ['openai-chat.jsonl', 'openai'],
      ['sharegpt.jsonl', 'sharegpt'],
      ['alpaca.jsonl', 'alpaca'],
      ['prompt-completion.jsonl', 'prompt-completion'],
    ] as const) {
      expect(await detectImport(path.join(SAMPLES, '..', '..', 'samples', file))).toEqual({ spec: { container: 'jsonl', record }, columns: null });
    }
  });

  it('reads Alpaca-shaped tables as Alpaca records and guesses mappings from header names, ignoring case', async () => {
    expect((await detectImport(write('a.csv', 'instruction,input,output\nx,y,z\n'))).spec).toEqual({ container: 'csv', record: 'alpaca' });
    expect((await detectImport(write('b.csv', 'Instruction,Output\nx,z\n'))).spec).toEqual({
      container: 'csv',
      mapping: { prompt: 'Instruction', response: 'Output' },
    });
    expect((await detectImport(write('c.tsv', 'id\tquery\tchosen\trejected\n1\tq\tc\tr\n'))).spec).toEqual({
      container: 'tsv',
      mapping: { prompt: 'query', response: 'chosen' },
    });
    // a header without a prompt-like column: the columns come back for the user to map
    expect(await detectImport(write('d.csv', 'foo,bar\n1,2\n'))).toEqual({ spec: { container: 'csv' }, columns: ['foo', 'bar'] });
  });

  it('maps JSON records of no known shape by their field names', async () => {
    expect(await detectImport(write('gsm.jsonl', '{"question": "q", "answer": "a"}\n'))).toEqual({
      spec: { container: 'jsonl', mapping: { prompt: 'question', response: 'answer' } },
      columns: ['question', 'answer'],
    });
    const e = await failure(detectImport(write('odd.json', '[{"foo": 1, "bar": 2}]')));
    expect(e).toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/^odd\.json: the records are in no known format .*; fields found: foo, bar$/),
    });
  });

  it('sniffs the content when the extension says nothing', async () => {
    const parquet = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'prompt', data: ['hi'], type: 'STRING' }] }));
    expect(await detectImport(write('data.bin', Buffer.from(parquet)))).toEqual({
      spec: { container: 'parquet', mapping: { prompt: 'prompt' } },
      columns: ['prompt'],
    });
    expect((await detectImport(write('data', '\ufeff  [{"instruction": "x", "output": "y"}]'))).spec).toEqual({ container: 'json', record: 'alpaca' });
    expect((await detectImport(write('data.log', '{"prompt": "p", "completion": "c"}\n'))).spec).toEqual({ container: 'jsonl', record: 'prompt-completion' });
    expect((await detectImport(write('data.dat', 'prompt\tresponse\np\tr\n'))).spec).toEqual({
      container: 'tsv',
      mapping: { prompt: 'prompt', response: 'response' },
    });
    expect((await detectImport(write('export', '"Question","Answer"\n"q","a"\n'))).spec).toEqual({
      container: 'csv',
      mapping: { prompt: 'Question', response: 'Answer' },
    });
    expect((await detectImport(write('notes.md', 'Hello, world\nWhat is love?\n'))).spec).toEqual({ container: 'text' });
  });

  it('reads JSON Lines named .json as JSON Lines', async () => {
    expect((await detectImport(write('x.json', '{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": []}\n'))).spec).toEqual({
      container: 'jsonl',
      record: 'openai',
    });
  });

  it('refuses what nothing fits, naming the file', async () => {
    for (const ext of ['jsonl', 'json', 'csv', 'tsv', 'txt', 'parquet']) {
      expect(await failure(detectImport(write(`empty.${ext}`, '')))).toMatchObject({ code: 'invalid_input', message: `empty.${ext} is empty` });
    }
    expect(await failure(detectImport(write('blank.csv', '\n \n')))).toMatchObject({ code: 'invalid_input', message: 'blank.csv is empty' });
    expect(await failure(detectImport(write('obj.json', '{\n  "prompt": "a"\n}\n')))).toMatchObject({
      code: 'invalid_input',
      message: 'obj.json holds a single JSON object, not an array of records or JSON Lines',
    });
    expect(await failure(detectImport(write('excel.csv', Buffer.from('\ufeffprompt,response\n', 'utf16le'))))).toMatchObject({
      code: 'invalid_input',
      message: 'excel.csv is UTF-16 text; save it as UTF-8 to import it',
    });
    expect(await failure(detectImport(write('blob', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00, 0x13]))))).toMatchObject({
      code: 'invalid_input',
      message: 'blob is neither text nor a Parquet file, so it cannot be imported',
    });
    expect(await failure(detectImport(write('latin1-header.csv', Buffer.from([0x70, 0x72, 0x6f, 0x6d, 0x70, 0x74, 0xe9, 0x0a, 0x61, 0x0a]))))).toMatchObject({
      code: 'invalid_input',
      message: 'latin1-header.csv: the header row is not valid UTF-8',
    });
    expect(await failure(detectImport(path.join(SAMPLES, 'nope.csv')))).toMatchObject({ code: 'file_missing' });
    expect(await failure(detectImport(SAMPLES))).toMatchObject({ code: 'not_a_file' });
  });

  it('still detects a CSV whose rows (not header) hold invalid UTF-8', async () => {
    const file = write('rows.csv', Buffer.concat([Buffer.from('prompt,response\ncaf'), Buffer.from([0xe9]), Buffer.from(',x\n')]));
    expect((await detectImport(file)).spec).toEqual({ container: 'csv', mapping: { prompt: 'prompt', response: 'response' } });
  });

  it('lists the containers and guesses mappings only when a prompt column exists', () => {
    expect(CONTAINERS).toEqual(['jsonl', 'json', 'csv', 'tsv', 'text', 'parquet']);
    expect(autoMapping(['text'])).toEqual({ prompt: 'text' });
    expect(autoMapping(['input', 'output', 'System_Prompt'])).toEqual({ prompt: 'input', response: 'output', system: 'System_Prompt' });
    expect(autoMapping(['id', 'label'])).toBeNull();
  });
});

describe('Utf8Checker', () => {
  const invalid = (...chunks: number[][]) => {
    const checker = new Utf8Checker();
    const found: number[] = [];
    let base = 0;
    for (const c of chunks) {
      checker.scan(Uint8Array.from(c), (i) => found.push(base + i));
      base += c.length;
    }
    return { found, incomplete: checker.endsIncomplete() };
  };
  const euro = [0xe2, 0x82, 0xac]; // €

  it('accepts multi-byte characters split across chunks', () => {
    expect(invalid([0x61, ...euro.slice(0, 1)], euro.slice(1), [0xf0, 0x9f], [0xa6, 0x9c])).toEqual({ found: [], incomplete: false });
  });

  it('reports where each invalid sequence starts, also across chunks and at the end', () => {
    expect(invalid([0x61, 0xe9, 0x62])).toEqual({ found: [1], incomplete: false }); // Latin-1 é
    expect(invalid([0x61, 0xe2, 0x82], [0x62])).toEqual({ found: [1], incomplete: false }); // € cut short
    expect(invalid([0xc0, 0xaf, 0xed, 0xa0, 0x80])).toEqual({ found: [0, 1, 2, 3, 4], incomplete: false }); // overlong, surrogate
    expect(invalid([0x61, 0xe2, 0x82])).toEqual({ found: [], incomplete: true });
  });
});
