import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaModel, Token } from 'node-llama-cpp';
import { mergeAdapters, type MergeResult } from '../../../src-main/core/adapters/merge.js';
import { perplexity, type PerplexityAdapter } from '../../../src-main/core/adapters/perplexity.js';
import { readGgufHeader, type TensorInfo } from '../../../src-main/core/gguf/header.js';
import { GgufStreamWriter, readRawMetadata } from '../../../src-main/core/gguf/stream-writer.js';
import { writeSyntheticLora } from '../../../src-main/core/gguf/synthetic.js';
import { GgmlType, toHalf, u32, type GgufValue } from '../../../src-main/core/gguf/writer.js';
import { LlmEngine } from '../../../src-main/core/llm/engine.js';
import { fixtureAdapter, fixtureModel, fixtureSpec } from '../../fixtures/models.js';
import { tempDir } from '../../helpers/tmp.js';
import { perplexityText } from '../../tools/build-llama-perplexity.js';

const CTX = 128;
const SCALE = 0.7;
let engine: LlmEngine;
let student: string;
let lora: string;
let dir: string;
let text: string;
const merged: Record<'f32' | 'f16', { file: string; result: MergeResult; ms: number }> = {} as never;

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  return e === 0 ? sign * m * 2 ** -24 : sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** Bitwise equality of two float arrays (vitest's toEqual walks 8M-element arrays for a minute). */
const bytesOf = (a: Float32Array | undefined) => Buffer.from(a!.buffer, a!.byteOffset, a!.byteLength);

/** A tensor's raw bytes and, for F32/F16, its values. */
function tensor(file: string, name: string): { info: TensorInfo; bytes: Buffer; values: Float32Array } {
  const info = readGgufHeader(file).tensors.find((t) => t.name === name)!;
  const bytes = Buffer.alloc(info.byteSize);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, bytes, 0, bytes.length, info.offset);
  fs.closeSync(fd);
  const n = info.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(info.type <= 1 ? n : 0);
  for (let i = 0; i < values.length; i++) values[i] = info.type === 0 ? bytes.readFloatLE(i * 4) : halfToFloat(bytes.readUInt16LE(i * 2));
  return { info, bytes, values };
}

/** Perplexity of the model in `file` on the shared text (8 chunks of 128 tokens: enough to compare, quick). */
function ppl(file: string, adapters: PerplexityAdapter[] = []) {
  return perplexity(engine.native(), file, text, { contextSize: CTX, threads: 1, adapters, maxChunks: 8 });
}

/** 32 greedy tokens after `prompt`. */
async function greedy(model: LlamaModel, prompt: string, adapters: PerplexityAdapter[] = []): Promise<Token[]> {
  const context = await model.createContext({ contextSize: 256, threads: 1, ...(adapters.length ? { lora: { adapters } } : {}) });
  try {
    const out: Token[] = [];
    for await (const t of context.getSequence().evaluate(model.tokenize(prompt), { temperature: 0 })) {
      out.push(t);
      if (out.length >= 32) break;
    }
    return out;
  } finally {
    await context.dispose();
  }
}

/**
 * The student with every matrix quantized to Q8_0 as ggml does (d = amax / 127 stored as F16, q = round(x / d)), and
 * the values ggml dequantizes it to (q · d), for checking the merge's dequantization.
 */
function writeQ8Student(file: string): Map<string, Float32Array> {
  const header = readGgufHeader(student);
  const metadata: [string, GgufValue][] = [...readRawMetadata(student)].map(([k, raw]) => [k, k === 'general.file_type' ? u32(7) : { raw }]);
  const q8 = (t: TensorInfo) => t.shape.length === 2;
  const writer = GgufStreamWriter.open(
    file,
    metadata,
    header.tensors.map((t) => ({ name: t.name, shape: t.shape, type: q8(t) ? 8 : t.type })),
  );
  const expected = new Map<string, Float32Array>();
  for (const t of header.tensors) {
    const { values, bytes } = tensor(student, t.name);
    if (!q8(t)) {
      writer.writeEncoded(bytes);
      continue;
    }
    const out = Buffer.alloc((values.length / 32) * 34);
    const deq = new Float32Array(values.length);
    for (let b = 0; b < values.length / 32; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[b * 32 + j]!));
      const d = amax / 127;
      const id = d ? 1 / d : 0;
      const dh = toHalf(d);
      out.writeUInt16LE(dh, b * 34);
      for (let j = 0; j < 32; j++) {
        const q = Math.round(Math.fround(values[b * 32 + j]! * id)) | 0; // an int8: no -0
        out.writeInt8(q, b * 34 + 2 + j);
        deq[b * 32 + j] = Math.fround(q * halfToFloat(dh));
      }
    }
    writer.writeEncoded(out);
    expected.set(t.name, deq);
  }
  writer.close();
  return expected;
}

beforeAll(async () => {
  student = await fixtureModel('student');
  lora = await fixtureAdapter('student-lora');
  dir = tempDir('distillery-merge-');
  text = perplexityText(7, 120);
  engine = new LlmEngine({ gpu: false });
  for (const type of ['f32', 'f16'] as const) {
    const file = path.join(dir, `student+lora-${type}.gguf`);
    const start = performance.now();
    const result = await mergeAdapters({ base: student, adapters: [{ filePath: lora, scale: SCALE }], output: file, type });
    merged[type] = { file, result, ms: performance.now() - start };
  }
});

afterAll(async () => {
  await engine?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('mergeAdapters', () => {
  it('writes F32 and F16 files with every tensor, the merged ones changed, metadata copied', () => {
    const base = readGgufHeader(student);
    for (const type of ['f32', 'f16'] as const) {
      const { file, result, ms } = merged[type];
      console.log(`merge ${type}: ${result.mergedTensors}/${result.tensors} tensors merged, ${result.bytes} bytes, ${ms.toFixed(0)} ms`);
      const out = readGgufHeader(file);
      expect(result).toEqual({ tensors: base.tensors.length, mergedTensors: 4, bytes: fs.statSync(file).size });
      expect(out.tensors.map((t) => [t.name, t.shape])).toEqual(base.tensors.map((t) => [t.name, t.shape]));
      for (const t of out.tensors) expect(t.type).toBe(type === 'f32' || t.shape.length === 1 ? GgmlType.F32 : GgmlType.F16);
      expect(out.metadata.get('general.file_type')).toBe(type === 'f32' ? 0 : 1);
      expect(out.metadata.get('general.name')).toBe(`${base.metadata.get('general.name')}+lora`);
      for (const [key, value] of base.metadata) {
        if (key !== 'general.file_type' && key !== 'general.name') expect(out.metadata.get(key)).toEqual(value);
      }
      expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    }
    // Untouched tensors: byte for byte in F16, exact conversions in F32.
    expect(tensor(merged.f16.file, 'token_embd.weight').bytes.equals(tensor(student, 'token_embd.weight').bytes)).toBe(true);
    expect(bytesOf(tensor(merged.f32.file, 'blk.0.attn_k.weight').values).equals(bytesOf(tensor(student, 'blk.0.attn_k.weight').values))).toBe(true);
    expect(tensor(merged.f16.file, 'blk.0.attn_q.weight').bytes.equals(tensor(student, 'blk.0.attn_q.weight').bytes)).toBe(false);
  });

  it("computes export-lora's W + scale · alpha / rank · B·A", () => {
    const name = 'blk.1.attn_v.weight';
    const w = tensor(student, name).values;
    const a = tensor(lora, `${name}.lora_a`);
    const b = tensor(lora, `${name}.lora_b`);
    const out = tensor(merged.f32.file, name).values;
    const [nIn, rank] = a.info.shape as [number, number];
    const alpha = readGgufHeader(lora).metadata.get('adapter.lora.alpha') as number;
    const s = Math.fround((SCALE * alpha) / rank);
    for (const [o, i] of [
      [0, 0],
      [3, 17],
      [100, 255],
      [255, 128],
    ] as const) {
      let delta = 0;
      for (let k = 0; k < rank; k++) delta += b.values[o * rank + k]! * a.values[k * nIn + i]!;
      expect(out[o * nIn + i]).toBeCloseTo(w[o * nIn + i]! + s * delta, 6);
    }
  });

  it('loads in node-llama-cpp with the perplexity of the attached adapter, and generates the same text (F32)', async () => {
    const base = await engine.loadModel(student);
    const attached = await ppl(student, [{ filePath: lora, scale: SCALE }]);
    const plain = await ppl(student);
    for (const type of ['f32', 'f16'] as const) {
      const m = await ppl(merged[type].file);
      console.log(
        `perplexity: merged ${type} ${m.ppl.toFixed(2)}, attached ${attached.ppl.toFixed(2)} (Δ ${(relative(m.ppl, attached.ppl) * 100).toFixed(4)}%), base ${plain.ppl.toFixed(2)}`,
      );
      expect(relative(m.ppl, attached.ppl)).toBeLessThan(1e-3);
      expect(relative(m.ppl, plain.ppl)).toBeGreaterThan(1e-2);
    }
    const f32 = await engine.loadModel(merged.f32.file);
    for (const prompt of ['The teacher said that', 'Small models learn from']) {
      const a = await greedy(base, prompt, [{ filePath: lora, scale: SCALE }]);
      expect(await greedy(f32, prompt)).toEqual(a);
      expect(await greedy(base, prompt)).not.toEqual(a); // the adapter matters to what is generated
    }
  });

  it('merges two adapters on different tensors at once (export-lora would refuse), one at a negative scale', async () => {
    const lora2 = path.join(dir, 'student-lora-2.gguf');
    writeSyntheticLora(lora2, { base: fixtureSpec('student'), rank: 4, alpha: 0, targets: ['attn_k', 'attn_output'], seed: 11, scale: 0.25 });
    const adapters = [
      { filePath: lora, scale: SCALE },
      { filePath: lora2, scale: -0.5 }, // no alpha: the scale applies as is
    ];
    const out = path.join(dir, 'two.gguf');
    const result = await mergeAdapters({ base: student, adapters, output: out, type: 'f32' });
    expect(result.mergedTensors).toBe(8);
    const attached = await ppl(student, adapters);
    const m = await ppl(out);
    console.log(`two adapters: merged F32 ${m.ppl.toFixed(2)}, attached ${attached.ppl.toFixed(2)}`);
    expect(relative(m.ppl, attached.ppl)).toBeLessThan(1e-3);
  });

  it('dequantizes a Q8_0 base exactly (ggml: q · d) and merges into it', async () => {
    const q8 = path.join(dir, 'student-q8_0.gguf');
    const expected = writeQ8Student(q8);
    const out = path.join(dir, 'student-q8_0+lora.gguf');
    const result = await mergeAdapters({ base: q8, adapters: [{ filePath: lora, scale: SCALE }], output: out, type: 'f32' });
    expect(result.mergedTensors).toBe(4);
    for (const name of ['blk.0.ffn_up.weight', 'output.weight']) expect(bytesOf(tensor(out, name).values).equals(bytesOf(expected.get(name)))).toBe(true);
    const attached = await ppl(q8, [{ filePath: lora, scale: SCALE }]);
    const m = await ppl(out);
    // llama.cpp's Q8_0 matmul also quantizes the activations to 8 bits: close, not equal.
    console.log(`Q8_0 base: merged F32 ${m.ppl.toFixed(2)}, attached ${attached.ppl.toFixed(2)} (Δ ${(relative(m.ppl, attached.ppl) * 100).toFixed(3)}%)`);
    expect(relative(m.ppl, attached.ppl)).toBeLessThan(2e-2);
  });

  it('refuses a quantized base, naming the tensor and its type, and a base the adapter does not fit', async () => {
    const q4 = path.join(dir, 'student-q4k.gguf');
    const bytes = fs.readFileSync(student);
    // Relabel one matrix's tensor info as Q4_K (type 12): its data (smaller than F16's) still lies inside the file.
    const name = Buffer.from('blk.0.attn_k.weight');
    const at = bytes.indexOf(name) + name.length + 4 + 2 * 8;
    expect(bytes.readUInt32LE(at)).toBe(GgmlType.F16);
    bytes.writeUInt32LE(12, at);
    fs.writeFileSync(q4, bytes);
    const out = path.join(dir, 'refused.gguf');
    const quantized = await rejection(mergeAdapters({ base: q4, adapters: [{ filePath: lora, scale: 1 }], output: out, type: 'f16' }));
    expect(quantized.code).toBe('invalid_input');
    expect(quantized.message).toContain('tensor blk.0.attn_k.weight is Q4_K');

    const teacher = await fixtureModel('teacher');
    const mismatch = await rejection(mergeAdapters({ base: teacher, adapters: [{ filePath: lora, scale: 1 }], output: out, type: 'f16' }));
    expect(mismatch.code).toBe('invalid_input');
    expect(mismatch.message).toMatch(/student-lora\.gguf does not fit teacher\.gguf: .*blk\.0\.attn_q\.weight/);

    const self = await rejection(mergeAdapters({ base: student, adapters: [{ filePath: lora, scale: 1 }], output: student, type: 'f16' }));
    expect(self.code).toBe('invalid_input');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('reports progress per tensor and stops when cancelled, leaving no file behind', async () => {
    const out = path.join(dir, 'cancelled.gguf');
    const controller = new AbortController();
    const seen: string[] = [];
    const e = await rejection(
      mergeAdapters({
        base: student,
        adapters: [{ filePath: lora, scale: 1 }],
        output: out,
        type: 'f32',
        signal: controller.signal,
        onTensor: (done, total, name) => {
          seen.push(`${done}/${total} ${name}`);
          if (done === 3) controller.abort();
        },
      }),
    );
    expect(e.code).toBe('cancelled');
    expect(seen).toHaveLength(3);
    expect(seen[0]).toBe(`1/${readGgufHeader(student).tensors.length} token_embd.weight`);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('cancelled'))).toEqual([]);
  });
});
