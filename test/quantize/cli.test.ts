import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel } from '../fixtures/models.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/workspace.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';
import { readImatrix } from '../../src-main/core/quantize/imatrix-file.js';

describe('distillery quantize', () => {
  let student: string;
  beforeAll(async () => {
    student = await fixtureModel('student');
  });

  it('quantizes a GGUF file to two types in one run, adding the file and both results to the library', async () => {
    const dir = tempDir();
    const out = tempDir();
    const r = await runCli('quantize', '--model', student, '--type', 'q8_0,Q4_K_M', '--out', out, '--data-dir', dir, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as { kind: string; status: string; lineage: { direction: string; label: string }[] };
    expect(run).toMatchObject({ kind: 'quantize.ladder', status: 'succeeded' });
    expect(
      run.lineage
        .filter((l) => l.direction === 'output')
        .map((l) => l.label)
        .sort(),
    ).toEqual(['student-Q4_K_M.gguf', 'student-Q8_0.gguf']);
    expect(fs.readdirSync(out).sort()).toEqual(['student-Q4_K_M.gguf', 'student-Q8_0.gguf']);
    const list = JSON.parse((await runCli('models', 'list', '--json', '--data-dir', dir)).stdout) as { path: string }[];
    expect(list.map((m) => m.path).sort()).toEqual([path.join(out, 'student-Q4_K_M.gguf'), path.join(out, 'student-Q8_0.gguf'), student].sort());
    // the same again refuses to replace the files unless --force
    const again = await runCli('quantize', '--model', student, '--type', 'Q8_0', '--out', out, '--data-dir', dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^distillery: .*student-Q8_0\.gguf already exists/);
  });

  it('refuses an unknown type and an imatrix type without a matrix, in one line', async () => {
    const dir = tempDir();
    const bad = await runCli('quantize', '--model', student, '--type', 'Q9', '--data-dir', dir);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^distillery: Q9 is not a quantization type; choose from F16, BF16, Q8_0/);
    const iq = await runCli('quantize', '--model', student, '--type', 'IQ2_XS', '--data-dir', dir);
    expect(iq.code).toBe(1);
    expect(iq.stderr).toBe('distillery: IQ2_XS needs an importance matrix (llama.cpp refuses it without one): give one, or leave it out\n');
  });

  it('imatrix: computes a matrix from a text file; quantize computes one first with --imatrix-text for an IQ type', async () => {
    const dir = tempDir();
    const work = tempDir();
    const text = path.join(work, 'notes.txt');
    fs.writeFileSync(text, perplexityText(4, 200));
    const out = path.join(work, 'student.imatrix.gguf');
    const r = await runCli('imatrix', '--model', student, '--text', text, '--out', out, '--ctx', '128', '--chunks', '4', '--data-dir', dir, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'quantize.imatrix', status: 'succeeded' });
    const m = readImatrix(out);
    expect(m).toMatchObject({ chunkCount: 4, chunkSize: 128, datasets: [text] });
    expect(m.entries.size).toBe(14);
    const q = await runCli(
      'quantize',
      '--model',
      student,
      '--type',
      'IQ2_XS',
      '--imatrix-text',
      text,
      '--imatrix-ctx',
      '128',
      '--out',
      work,
      '--data-dir',
      dir,
      '--json',
    );
    expect(q.stderr).toBe('');
    expect(q.code).toBe(0);
    expect(fs.existsSync(path.join(work, 'student-IQ2_XS.gguf'))).toBe(true);
    expect(readImatrix(path.join(dir, 'imatrix', 'student-notes.gguf')).chunkSize).toBe(128);
  });

  it('imatrix: one source exactly, and a text shorter than a chunk fails with the reason', async () => {
    const dir = tempDir();
    const both = await runCli('imatrix', '--model', student, '--text', 'a.txt', '--dataset', 'd', '--data-dir', dir);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('distillery: give either --text FILE or --dataset NAME[@VERSION]\n');
    const twice = await runCli('quantize', '--model', student, '--type', 'Q8_0', '--imatrix', 'm.gguf', '--imatrix-text', 'a.txt', '--data-dir', dir);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/^distillery: give --imatrix FILE or a text to compute one from/);
    const short = path.join(tempDir(), 'short.txt');
    fs.writeFileSync(short, 'Too short.');
    const r = await runCli('imatrix', '--model', student, '--text', short, '--data-dir', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^distillery: run \d+ failed: student on short\.txt: the text is only \d+ tokens long, shorter than one 512-token chunk/m);
  });
});
