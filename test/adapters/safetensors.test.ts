import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensorsHeader, readTensor, writeSafetensors } from '../../src-main/core/adapters/safetensors.js';
import { tempDir } from '../helpers/tmp.js';

/** A safetensors file from a header object and raw data, to build damaged files by hand. */
function rawFile(name: string, header: unknown, data: Buffer | number, headerLength?: bigint): string {
  const file = path.join(tempDir(), name);
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLength ?? BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, typeof data === 'number' ? Buffer.alloc(data) : data]));
  return file;
}

const A = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';

describe('safetensors', () => {
  it('round-trips F32 exactly, F16 and BF16 to their precision, with metadata', () => {
    const file = path.join(tempDir(), 'adapter_model.safetensors');
    const values = Float32Array.from({ length: 24 }, (_, i) => (i - 11.5) / 7);
    writeSafetensors(
      file,
      [
        { name: 'f32', dtype: 'F32', shape: [4, 6], data: values },
        { name: 'f16', dtype: 'F16', shape: [2, 3, 4], data: values },
        { name: 'bf16', dtype: 'BF16', shape: [24], data: values },
        { name: 'exact', dtype: 'BF16', shape: [1, 4], data: Float32Array.of(1, -2, 0.5, 3) },
      ],
      { format: 'pt' },
    );
    expect(fs.readFileSync(file).readBigUInt64LE(0) % 8n).toBe(0n); // header padded to 8 bytes
    const header = readSafetensorsHeader(file);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect([...header.tensors.keys()]).toEqual(['f32', 'f16', 'bf16', 'exact']);
    expect(header.tensors.get('f16')).toMatchObject({ dtype: 'F16', shape: [2, 3, 4], begin: header.dataStart + 96, end: header.dataStart + 144 });
    expect(readTensor(file, header, 'f32')).toEqual(values);
    const f16 = readTensor(file, header, 'f16');
    const bf16 = readTensor(file, header, 'bf16');
    for (let i = 0; i < values.length; i++) {
      expect(Math.abs(f16[i]! - values[i]!)).toBeLessThanOrEqual(Math.abs(values[i]!) * 2 ** -11 + 1e-7);
      expect(Math.abs(bf16[i]! - values[i]!)).toBeLessThanOrEqual(Math.abs(values[i]!) * 2 ** -8);
    }
    expect([...readTensor(file, header, 'exact')]).toEqual([1, -2, 0.5, 3]);
    expect(() => readTensor(file, header, 'nope')).toThrow('adapter_model.safetensors: there is no tensor "nope"');
  });

  it('refuses damaged or unsupported files, naming the file and the tensor', () => {
    const entry = (extra: object) => ({ [A]: { dtype: 'F32', shape: [4, 8], data_offsets: [0, 128], ...extra } });
    const cases: [string, string][] = [
      [rawFile('a.safetensors', entry({}), 64, 1n << 40n), 'a.safetensors: the header length is 1099511627776 bytes, above the 100 MB limit'],
      [rawFile('b.safetensors', entry({}), 128, 5000n), 'b.safetensors: the header length is 5000 bytes but the file has only'],
      [rawFile('c.safetensors', '{"x": ', 0), 'c.safetensors: the header is not valid JSON'],
      [rawFile('d.safetensors', [1, 2], 0), 'd.safetensors: the header is not a JSON object'],
      [
        rawFile('e.safetensors', entry({ data_offsets: [0, 999999] }), 4096),
        `e.safetensors: tensor "${A}": data_offsets [0, 999999] run past the end of the data (4096 bytes)`,
      ],
      [rawFile('f.safetensors', entry({ dtype: 'I8' }), 128), `f.safetensors: tensor "${A}": dtype "I8" is not supported (only F32, F16 and BF16)`],
      [
        rawFile('g.safetensors', entry({ data_offsets: [0, 100] }), 128),
        `g.safetensors: tensor "${A}": data_offsets [0, 100] hold 100 bytes but F32 shape [4, 8] needs 128`,
      ],
      [rawFile('h.safetensors', entry({ shape: [4, -8] }), 128), `h.safetensors: tensor "${A}": shape [4,-8] is not an array of non-negative integers`],
      [rawFile('i.safetensors', entry({ data_offsets: [128, 0] }), 128), `i.safetensors: tensor "${A}": data_offsets [128, 0] begin after they end`],
      [rawFile('j.safetensors', { ...entry({}), __metadata__: { n: 1 } }, 128), 'j.safetensors: __metadata__ "n" is 1, not a string'],
      [
        rawFile('l.safetensors', { ...entry({}), second: { dtype: 'F16', shape: [16], data_offsets: [96, 128] } }, 128),
        `l.safetensors: tensor "second": data_offsets [96, 128] overlap tensor "${A}" [0, 128]`,
      ],
    ];
    for (const [file, message] of cases) {
      let error: unknown;
      try {
        readSafetensorsHeader(file);
      } catch (e) {
        error = e;
      }
      expect(error, path.basename(file)).toMatchObject({ code: 'invalid_input', message: expect.stringContaining(message) });
    }
    expect(readSafetensorsHeader(rawFile('empty.safetensors', {}, 0)).tensors.size).toBe(0); // no tensors is valid
    const truncated = path.join(tempDir(), 'short.safetensors');
    fs.writeFileSync(truncated, Buffer.from([1, 2, 3]));
    expect(() => readSafetensorsHeader(truncated)).toThrow('short.safetensors: the file has 3 bytes, too short');
    expect(() => readSafetensorsHeader(path.join(tempDir(), 'missing.safetensors'))).toThrow(expect.objectContaining({ code: 'file_missing' }));
  });

  it('refuses a header nested too deep (a stack overflow before) with the reason, and shortens long values', () => {
    const deep = `{"x": ${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
    expect(() => readSafetensorsHeader(rawFile('deep.safetensors', deep, 0))).toThrow(
      expect.objectContaining({
        code: 'invalid_input',
        message: 'deep.safetensors: the header nests deeper than 64 levels (the limit for JSON): not a safetensors header, or a damaged one',
      }),
    );
    // 60 levels is within the limit: refused for what it is, its value cut to 100 characters
    const nested = `{"x": ${'['.repeat(60)}${'"long text",'.repeat(50)}1${']'.repeat(60)}}`;
    expect(() => readSafetensorsHeader(rawFile('nested.safetensors', nested, 0))).toThrow(
      /^nested\.safetensors: tensor "x": its entry is \[{60}"long text",.{0,60}…, not an object$/,
    );
  });

  it('refuses a file cut short after the header', () => {
    const file = path.join(tempDir(), 'cut.safetensors');
    writeSafetensors(file, [{ name: A, dtype: 'F32', shape: [8, 64], data: new Float32Array(512) }]);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    expect(() => readSafetensorsHeader(file)).toThrow(`cut.safetensors: tensor "${A}": data_offsets [0, 2048] run past the end of the data (1948 bytes)`);
  });
});
