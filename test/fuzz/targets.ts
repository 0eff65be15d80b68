/**
 * What the fuzzer feeds: for every parser of the app, valid seed files (built here, not read from the repository) and
 * how to run one input the way the app does. A run returns the counts a dataset parser's input must account for, or
 * throws: an AppError / RecordError is the app's typed refusal, anything else is a crash.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { detectImport } from '../../src-main/core/datasets/formats/detect.js';
import { readRecords } from '../../src-main/core/datasets/formats/read.js';
import { normalizeRecord, RecordError } from '../../src-main/core/datasets/formats/normalize.js';
import { readGgufHeader } from '../../src-main/core/gguf/header.js';
import { writeGguf } from '../../src-main/core/gguf/stream-writer.js';
import { f32, GgmlType, str, u32 } from '../../src-main/core/gguf/writer.js';
import { readSafetensorsHeader, writeSafetensors } from '../../src-main/core/adapters/safetensors.js';
import { convertPeftAdapter } from '../../src-main/core/adapters/peft.js';
import { importanceOf, readImatrix, writeImatrixGguf } from '../../src-main/core/quantize/imatrix-file.js';
import { JSON_FORMATS } from '../../src-shared/domain/datasets.js';
import { AppError } from '../../src-shared/errors.js';

/** A dataset parser's accounting: every record of the input is imported or rejected with a reason, or a reason says the rest was not read. */
export interface Accounting {
  recordsIn: number;
  imported: number;
  rejected: number;
  /** A reject said that the rest of the file was not read (a syntax error, a record over the limit): nothing after it is silent. */
  stoppedWithReason: boolean;
}

export interface Target {
  name: string;
  /** The extension inputs are written with (the app picks the reader by it). */
  ext: string;
  /** Whether the mutator should treat inputs as text (deep nesting, long numbers) or bytes (huge counts). */
  text: boolean;
  seeds(dir: string): Buffer[];
  /** Runs one input; returns its accounting for dataset parsers, null for the others. */
  run(file: string, scratch: string): Promise<Accounting | null>;
}

/** The typed errors of the app: anything else thrown is a crash. */
export const isTyped = (e: unknown): boolean => e instanceof AppError || e instanceof RecordError;

const chats = [
  {
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Capital of France?' },
      { role: 'assistant', content: 'Paris.' },
    ],
  },
  {
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Hi "there"' }] },
      { role: 'assistant', content: 'Hello!\nHow can I help?' },
    ],
  },
  {
    conversations: [
      { from: 'human', value: 'Tell me a joke.' },
      { from: 'gpt', value: 'Why did the chicken cross the road?' },
    ],
    system: 'Be funny.',
  },
  { instruction: 'Translate to French', input: 'The cat sleeps.', output: 'Le chat dort.', history: [['Hi', 'Salut']] },
  { prompt: 'What is 2+2?', completion: '4' },
  { prompt: 'Ünïcödé ✓ 日本語', completion: 'ok' },
];

/** Reads a dataset file as the import does (detect, then read every record) and counts what came out. */
async function readDataset(file: string, recordsIn: (spec: { container: string }) => number | null): Promise<Accounting | null> {
  const { spec } = await detectImport(file);
  if (!spec.record && !spec.mapping && spec.container !== 'text') return null; // the app asks for a mapping
  let imported = 0;
  let rejected = 0;
  let stoppedWithReason = false;
  let parquetRows = 0;
  for await (const item of readRecords(file, spec)) {
    if ('example' in item) {
      imported++;
      parquetRows++;
    } else {
      rejected++;
      const group = /^rows (\d+)–(\d+) \(a row group\)/.exec(item.rejected.reason);
      parquetRows += group ? Number(group[2]) - Number(group[1]) + 1 : 1;
      if (/the rest of the file was not read|reading stopped here|were not imported/.test(item.rejected.reason)) stoppedWithReason = true;
    }
  }
  const n = recordsIn(spec);
  if (n === null) return null;
  // a rejected Parquet row group is one reject naming all its rows
  return spec.container === 'parquet'
    ? { recordsIn: n, imported, rejected: parquetRows - imported, stoppedWithReason }
    : { recordsIn: n, imported, rejected, stoppedWithReason };
}

/** Lines with something on them, as the line reader splits and trims them. */
function nonBlankLines(file: string): number {
  const text = fs
    .readFileSync(file)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  return text.split('\n').filter((l) => l.trim() !== '').length;
}

/**
 * Records of a CSV/TSV file by RFC 4180 quoting, minus the header and empty lines: a quote opens a quoted field only
 * at the start of a field, "" inside one is a quote, and a line end inside one does not end the record. As csv-parse,
 * the line end is the first one found (CRLF, LF or a lone CR): the others are field text.
 */
function csvRecords(file: string, delimiter: string): number {
  const text = fs
    .readFileSync(file)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  let end: string | null = null;
  let records = 0;
  let quoted = false;
  let fieldStart = true;
  let content = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (end === null && (c === '\r' || c === '\n')) end = c === '\r' && text[i + 1] === '\n' ? '\r\n' : c;
    if (end !== null && text.startsWith(end, i)) {
      if (content) records++;
      content = false;
      fieldStart = true;
      i += end.length - 1;
      continue;
    }
    content = true;
    if (c === '"' && fieldStart) quoted = true;
    fieldStart = c === delimiter;
  }
  if (content) records++;
  return Math.max(0, records - 1);
}

/** Top-level elements of a JSON array, counted by a bracket scan outside strings. */
function jsonElements(file: string): number {
  const text = fs.readFileSync(file).toString('utf8');
  let depth = 0;
  let elements = 0;
  let pending = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth === 1) pending = true;
      continue;
    }
    if (c === '[' || c === '{') {
      if (depth === 1) pending = true;
      depth++;
    } else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0 && pending) elements++;
    } else if (c === ',' && depth === 1) {
      if (pending) elements++;
      pending = false;
    } else if (depth === 1 && !/\s/.test(c)) pending = true;
  }
  return elements;
}

const jsonl = (records: unknown[]) => Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n');

function parquetSeed(columns: { name: string; data: unknown[] }[], rowGroupSize: number): Buffer {
  return Buffer.from(parquetWriteBuffer({ columnData: columns, rowGroupSize } as Parameters<typeof parquetWriteBuffer>[0]));
}

/** A tiny llama GGUF (for the PEFT converter's base) and a matching LoRA pair. */
function peftFixture(dir: string): { base: string; weights: string } {
  const base = path.join(dir, 'base.gguf');
  if (!fs.existsSync(base)) {
    const q = { name: 'blk.0.attn_q.weight', shape: [16, 16], type: GgmlType.F32, data: new Float32Array(256).fill(0.5) };
    writeGguf(
      base,
      [
        ['general.architecture', str('llama')],
        ['llama.attention.head_count', u32(2)],
        ['llama.attention.head_count_kv', u32(2)],
        ['llama.rope.freq_base', f32(10000)],
      ],
      [q],
    );
  }
  const weights = path.join(dir, 'adapter_model.safetensors');
  if (!fs.existsSync(weights)) {
    const P = 'base_model.model.model.layers.0.self_attn.q_proj';
    writeSafetensors(weights, [
      { name: `${P}.lora_A.weight`, dtype: 'F32', shape: [4, 16], data: new Float32Array(64).fill(0.1) },
      { name: `${P}.lora_B.weight`, dtype: 'F16', shape: [16, 4], data: new Float32Array(64).fill(0.2) },
    ]);
  }
  return { base, weights };
}

export const TARGETS: Target[] = [
  {
    name: 'jsonl',
    ext: 'jsonl',
    text: true,
    seeds: () => [
      jsonl(chats.slice(0, 2)),
      jsonl(chats.slice(4)),
      jsonl([
        { question: 'q?', answer: 'a' },
        { question: 'r?', answer: 'b' },
      ]),
    ],
    run: (file) => readDataset(file, () => nonBlankLines(file)),
  },
  {
    name: 'json-array',
    ext: 'json',
    text: true,
    seeds: () => [
      Buffer.from(JSON.stringify(chats.slice(3, 6), null, 2)),
      Buffer.from(JSON.stringify(chats.slice(0, 2))),
      Buffer.from('[{"question": "q?", "answer": "[a]"}]'),
    ],
    run: (file) => readDataset(file, () => jsonElements(file)),
  },
  {
    name: 'csv',
    ext: 'csv',
    text: true,
    seeds: () => [
      Buffer.from('prompt,completion\n"What is 2+2?",4\n"A ""quoted""\nmulti-line prompt",yes\nplain,text\n'),
      Buffer.from('\uFEFFinstruction,input,output\r\nTranslate,The cat,Le chat\r\nSum,"1,2",3\r\n'),
    ],
    run: (file) => readDataset(file, () => csvRecords(file, ',')),
  },
  {
    name: 'tsv',
    ext: 'tsv',
    text: true,
    seeds: () => [Buffer.from('prompt\tcompletion\nWhat is 2+2?\t4\nName a color\tBlue\n')],
    run: (file) => readDataset(file, () => csvRecords(file, '\t')),
  },
  {
    name: 'text',
    ext: 'txt',
    text: true,
    seeds: () => [Buffer.from('What is the capital of France?\n\nWrite a haiku.\r\nÜnïcödé line\nlast line without newline')],
    run: (file) => readDataset(file, () => nonBlankLines(file)),
  },
  {
    name: 'parquet',
    ext: 'parquet',
    text: false,
    seeds: () => [
      parquetSeed(
        [
          { name: 'prompt', data: Array.from({ length: 30 }, (_, i) => (i % 7 === 6 ? null : `prompt ${i % 4}`)) },
          { name: 'completion', data: Array.from({ length: 30 }, (_, i) => `answer ${i}`) },
        ],
        10,
      ),
      parquetSeed(
        [
          {
            name: 'messages',
            data: Array.from({ length: 12 }, (_, i) => [
              { role: 'user', content: `q${i}` },
              { role: 'assistant', content: `a${i % 3}` },
            ]),
          },
        ],
        5,
      ),
    ],
    run: (file) =>
      readDataset(file, () => {
        const bytes = new Uint8Array(fs.readFileSync(file));
        return Number(parquetMetadata(bytes.buffer).num_rows);
      }),
  },
  {
    name: 'normalizer',
    ext: 'json',
    text: true,
    seeds: () => chats.map((c) => Buffer.from(JSON.stringify(c))),
    async run(file) {
      let value: unknown;
      try {
        value = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        return null; // not JSON: the readers reject it before the normalizer
      }
      for (const format of JSON_FORMATS) {
        try {
          normalizeRecord(format, value);
        } catch (e) {
          if (!(e instanceof RecordError)) throw e;
        }
      }
      return null;
    },
  },
  {
    name: 'gguf',
    ext: 'gguf',
    text: false,
    seeds: (dir) => {
      const file = path.join(dir, 'seed.gguf');
      const t = { name: 'blk.0.attn_q.weight', shape: [8, 4], type: GgmlType.F16, data: new Float32Array(32).fill(1) };
      writeGguf(
        file,
        [
          ['general.architecture', str('llama')],
          ['general.name', str('tiny')],
          ['llama.context_length', u32(128)],
        ],
        [t],
      );
      return [fs.readFileSync(file)];
    },
    run: async (file) => (readGgufHeader(file), null),
  },
  {
    name: 'safetensors',
    ext: 'safetensors',
    text: false,
    seeds: (dir) => [fs.readFileSync(peftFixture(dir).weights)],
    run: async (file) => (readSafetensorsHeader(file), null),
  },
  {
    name: 'peft-config',
    ext: 'json',
    text: true,
    seeds: () => [
      Buffer.from(JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj'], use_rslora: false, modules_to_save: null })),
    ],
    async run(file, scratch) {
      const { base, weights } = peftFixture(scratch);
      const dir = fs.mkdtempSync(path.join(scratch, 'adapter-'));
      try {
        fs.copyFileSync(file, path.join(dir, 'adapter_config.json'));
        fs.copyFileSync(weights, path.join(dir, 'adapter_model.safetensors'));
        convertPeftAdapter(dir, path.join(dir, 'out.gguf'), { file: base });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      return null;
    },
  },
  {
    name: 'imatrix-gguf',
    ext: 'gguf',
    text: false,
    seeds: (dir) => {
      const file = path.join(dir, 'seed.imatrix.gguf');
      writeImatrixGguf(file, {
        entries: new Map([
          ['blk.0.attn_q.weight', { sums: Float32Array.from({ length: 16 }, (_, i) => i + 0.5), counts: [128] }],
          ['blk.0.ffn_up_exps.weight', { sums: new Float32Array(24).fill(2), counts: [10, 0, 7] }],
        ]),
        datasets: ['notes.txt'],
        chunkCount: 3,
        chunkSize: 64,
        legacy: false,
      });
      return [fs.readFileSync(file)];
    },
    run: async (file) => (importanceOf(readImatrix(file)), null),
  },
  {
    name: 'imatrix-dat',
    ext: 'dat',
    text: false,
    seeds: () => {
      // llama-imatrix's legacy form: n_entries, then {len, name, ncall, nval, float[nval]}, then last_chunk and the dataset
      const parts: Buffer[] = [];
      const i32 = (v: number) => {
        const b = Buffer.alloc(4);
        b.writeInt32LE(v);
        return b;
      };
      parts.push(i32(2));
      for (const [name, n] of [
        ['blk.0.attn_q.weight', 8],
        ['blk.0.ffn_down.weight', 4],
      ] as const) {
        parts.push(i32(name.length), Buffer.from(name), i32(3), i32(n), Buffer.from(Float32Array.from({ length: n }, (_, i) => i * 0.25).buffer));
      }
      parts.push(i32(3), i32(9), Buffer.from('notes.txt'));
      return [Buffer.concat(parts)];
    },
    run: async (file) => (importanceOf(readImatrix(file)), null),
  },
];
