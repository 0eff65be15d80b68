import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel, vocabFile } from '../fixtures/models.js';
import { writeSyntheticLlama } from '../../src-main/core/gguf/synthetic.js';
import type { GateFigures } from '../../src-shared/domain/quantize.js';
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

  it('with --gate-text, prints the gate table after the run and adds the results to --json', async () => {
    const dir = tempDir();
    const out = tempDir();
    const text = path.join(tempDir(), 'gate.txt');
    fs.writeFileSync(text, perplexityText(3, 160));
    const r = await runCli('quantize', '--model', student, '--type', 'Q8_0,Q4_K_M', '--out', out, '--gate-text', text, '--gate-ctx', '64', '--data-dir', dir);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => l === 'Quality gate on gate.txt (against student):');
    expect(head).toBeGreaterThan(0);
    expect(lines[head + 1]).toMatch(/^type\s+MB\s+bits\/w\s+mean KLD\s+KLD 99%\s+same top\s+PPL ratio\s+prompt t\/s\s+gen t\/s\s+peak MB\s+load s$/);
    expect(lines[head + 3]).toMatch(/^student \(source\)\s+36\.1\s+16\.\d\d\s+\d+\s+[\d.]+\s+\d+\.\d\s+[\d.]+$/);
    expect(lines[head + 4]).toMatch(/^Q8_0\s+19\.\d\s+8\.\d\d\s+0\.\d{6} ± 0\.\d{6}\s+0\.\d{6}\s+\d+\.\d\d %\s+\d\.\d{4}\s+\d+/);
    expect(lines[head + 5]).toMatch(/^Q4_K_M\s/);
    const json = await runCli(
      'quantize',
      '--model',
      student,
      '--type',
      'Q8_0',
      '--out',
      tempDir(),
      '--gate-text',
      text,
      '--gate-ctx',
      '64',
      '--no-speed',
      '--data-dir',
      dir,
      '--json',
    );
    expect(json.code).toBe(0);
    const run = JSON.parse(json.stdout) as { results: { gateSource: string; rows: { type: string; gate: GateFigures; speed: null }[] } };
    expect(run.results.gateSource).toBe('gate.txt');
    expect(run.results.rows).toHaveLength(1);
    expect(run.results.rows[0]!.gate.contextSize).toBe(64);
    expect(run.results.rows[0]!.speed).toBeNull();
  }, 180_000);

  it('distillery kld prints every section llama-perplexity --kl-divergence prints; a model of another vocabulary is refused', async () => {
    const dir = tempDir();
    const out = tempDir();
    const text = path.join(tempDir(), 'kld.txt');
    fs.writeFileSync(text, perplexityText(4, 160));
    expect((await runCli('quantize', '--model', student, '--type', 'Q4_K_M', '--out', out, '--data-dir', dir)).code).toBe(0);
    const q4 = path.join(out, 'student-Q4_K_M.gguf');
    const r = await runCli('kld', '--base', student, '--model', q4, '--text', text, '--ctx', '64', '--data-dir', dir);
    expect(r.code).toBe(0);
    for (const re of [
      /^kld\.txt: \d+ chunks of 64 tokens, \d+ scored positions/m,
      /^====== Perplexity statistics ======$/m,
      /^Mean PPL\(Q\)\s+:\s+[\d.]+ ±\s+[\d.]+$/m,
      /^Cor\(ln\(PPL\(Q\)\), ln\(PPL\(base\)\)\):\s+[\d.]+%$/m,
      /^Mean PPL\(Q\)\/PPL\(base\)\s+:\s+[\d.]+ ±/m,
      /^Mean PPL\(Q\)-PPL\(base\)\s+:/m,
      /^Mean {4}KLD:\s+0\.\d{6} ±\s+0\.\d{6}$/m,
      /^Maximum KLD:/m,
      /^99\.9% {3}KLD:/m,
      /^Median {2}KLD:/m,
      /^ 0\.1% {3}KLD:/m,
      /^Minimum KLD:/m,
      /^75\.0% {3}Δp:/m,
      /^RMS Δp {4}:\s+[\d.]+ ±\s+[\d.]+ %$/m,
      /^Same top p:\s+[\d.]+ ±\s+[\d.]+ %$/m,
    ])
      expect(r.stdout).toMatch(re);
    const json = await runCli('kld', '--base', student, '--model', q4, '--text', text, '--ctx', '64', '--chunks', '3', '--data-dir', dir, '--json');
    const g = JSON.parse(json.stdout) as GateFigures;
    expect(g).toMatchObject({ chunks: 3, contextSize: 64, scoredTokens: 3 * 31 });
    expect(g.kld).toBeGreaterThan(0);
    // a llama with GPT-2's vocabulary (50257 tokens) against the student (32000)
    const other = path.join(tempDir(), 'gpt2-vocab.gguf');
    writeSyntheticLlama(other, {
      name: 'other-vocab',
      vocabFile: vocabFile().replace('llama-spm', 'gpt-2'),
      embedding: 256,
      layers: 1,
      heads: 4,
      kvHeads: 4,
      feedForward: 512,
      contextLength: 512,
      seed: 9,
      matrixType: 'f16',
    });
    const bad = await runCli('kld', '--base', student, '--model', other, '--text', text, '--ctx', '64', '--data-dir', dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^distillery: student\.gguf and gpt2-vocab\.gguf do not share a vocabulary \(student\.gguf has 32000 tokens, gpt2-vocab\.gguf 50257\): .*\n$/,
    );
  }, 180_000);
});
