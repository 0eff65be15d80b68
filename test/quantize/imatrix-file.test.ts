import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { checkImatrixFits, importanceOf, readImatrix, writeImatrixGguf } from '../../src-main/core/quantize/imatrix-file.js';
import { readGgufHeader } from '../../src-main/core/gguf/header.js';
import { writeGguf } from '../../src-main/core/gguf/stream-writer.js';
import { GgmlType, str } from '../../src-main/core/gguf/writer.js';
import { fixtureModel } from '../fixtures/models.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';
import { tempDir } from '../helpers/workspace.js';
import { tensorBytes, tool } from './helpers.js';

describe("importance-matrix files (llama.cpp's GGUF and legacy .dat forms)", () => {
  let dir: string;
  let student: string;
  let textFile: string;
  let toolGguf: string;
  let toolDat: string;

  beforeAll(async () => {
    dir = tempDir();
    student = await fixtureModel('student');
    textFile = path.join(dir, 'text.txt');
    fs.writeFileSync(textFile, perplexityText(7, 300));
    toolGguf = path.join(dir, 'tool.gguf');
    toolDat = path.join(dir, 'tool.dat');
    const args = ['-m', student, '-f', textFile, '-c', '128', '-t', '1'];
    tool(inject('llamaImatrix'), [...args, '-o', toolGguf]);
    tool(inject('llamaImatrix'), [...args, '--output-format', 'dat', '-o', toolDat]);
  });

  it("reads llama-imatrix's GGUF and .dat files to the same importance per weight", () => {
    const gguf = readImatrix(toolGguf);
    const dat = readImatrix(toolDat);
    expect(gguf.legacy).toBe(false);
    expect(dat.legacy).toBe(true);
    expect(gguf.chunkSize).toBe(128);
    expect(gguf.chunkCount).toBeGreaterThan(10);
    expect(dat.chunkCount).toBe(gguf.chunkCount);
    expect(gguf.datasets).toEqual([textFile]);
    expect(dat.datasets).toEqual([textFile]);
    // every matrix multiply against a block weight: q, k, v, o, gate, up, down of both layers
    expect([...gguf.entries.keys()].sort()).toEqual([...dat.entries.keys()].sort());
    expect(gguf.entries.size).toBe(14);
    const a = importanceOf(gguf);
    const b = importanceOf(dat);
    for (const [name, values] of a) {
      const other = b.get(name)!;
      expect(other.length, name).toBe(values.length);
      let worst = 0;
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! - other[i]!) / Math.max(1e-30, Math.abs(values[i]!)));
      expect(worst, `${name}: largest relative difference`).toBeLessThan(1e-5);
    }
  });

  it('writes a GGUF imatrix that reads back equal and that llama-quantize uses exactly as its own', () => {
    const original = readImatrix(toolGguf);
    const ours = path.join(dir, 'ours.imatrix.gguf');
    writeImatrixGguf(ours, original);
    const back = readImatrix(ours);
    expect(back.datasets).toEqual(original.datasets);
    expect(back.chunkCount).toBe(original.chunkCount);
    expect(back.chunkSize).toBe(original.chunkSize);
    for (const [name, e] of original.entries) {
      expect(back.entries.get(name)!.counts, name).toEqual(e.counts);
      expect([...back.entries.get(name)!.sums], name).toEqual([...e.sums]);
    }
    // IQ2_XS needs an importance matrix: llama-quantize must read ours, and quantize every tensor as with its own file
    const withTool = path.join(dir, 'q-tool.gguf');
    const withOurs = path.join(dir, 'q-ours.gguf');
    tool(inject('llamaQuantize'), ['--imatrix', toolGguf, student, withTool, 'IQ2_XS', '1']);
    const log = tool(inject('llamaQuantize'), ['--imatrix', ours, student, withOurs, 'IQ2_XS', '1']);
    expect(log).toMatch(/loaded 14 importance matrix entries/);
    const expected = tensorBytes(withTool);
    const actual = tensorBytes(withOurs);
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
  });

  it('refuses a matrix made for another model, naming the tensor, and accepts its own model', async () => {
    const m = readImatrix(toolGguf);
    expect(() => checkImatrixFits(m, { file: student, tensors: readGgufHeader(student).tensors })).not.toThrow();
    const teacher = await fixtureModel('teacher');
    expect(() => checkImatrixFits(m, { file: teacher, tensors: readGgufHeader(teacher).tensors })).toThrow(
      /^the importance matrix is for another model: blk\.0\.\w+\.weight has \d+ values there, but the model's tensor is 512 wide$/,
    );
  });

  it('refuses damaged and foreign files with the reason', () => {
    const cut = path.join(dir, 'cut.dat');
    fs.writeFileSync(cut, fs.readFileSync(toolDat).subarray(0, 1000));
    expect(() => readImatrix(cut)).toThrow(/^cut\.dat is not an importance matrix llama\.cpp can read: it ends inside .*'s values \(byte \d+ of 1000\)/);
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'just some notes, not a matrix\n');
    expect(() => readImatrix(text)).toThrow(/^notes\.txt is not an importance matrix llama\.cpp can read: it claims \d+ entries/);
    expect(() => readImatrix(student)).toThrow(
      /^student\.gguf is not an importance matrix llama\.cpp can read: it is a GGUF model \(general\.type\), not an imatrix$/,
    );
    expect(() => readImatrix(path.join(dir, 'missing.gguf'))).toThrow(/missing\.gguf/);
    // an imatrix GGUF without its keys: llama-quantize refuses it too ("missing imatrix metadata")
    const bare = path.join(dir, 'bare.gguf');
    writeGguf(
      bare,
      [['general.type', str('imatrix')]],
      [{ name: 'blk.0.attn_q.weight.in_sum2', shape: [4, 1], type: GgmlType.F32, data: new Float32Array(4) }],
    );
    expect(() => readImatrix(bare)).toThrow(/^bare\.gguf is not an importance matrix llama\.cpp can read: it lacks the imatrix\.datasets/);
  });
});
