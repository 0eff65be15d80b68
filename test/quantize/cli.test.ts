import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel } from '../fixtures/models.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/workspace.js';

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
});
