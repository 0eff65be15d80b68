import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { fixtureAdapter, fixtureModel } from '../fixtures/models.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';

const open: Workspace[] = [];
afterEach(async () => {
  for (const ws of open.splice(0)) await ws.close();
});
function workspace(): Workspace {
  const ws = makeWorkspace();
  open.push(ws);
  return ws;
}

describe('quantize ladder runs', () => {
  let student: string;
  let teacher: string;
  beforeAll(async () => {
    student = await fixtureModel('student');
    teacher = await fixtureModel('teacher');
  });

  it('quantizes a model to each type, adds every file to the library with its lineage, and lists them', async () => {
    const ws = workspace();
    const source = await ws.client.call('models.add', { path: student });
    const outDir = tempDir();
    const { runId } = await ws.client.call('quantize.start', { modelId: source.id, types: ['Q4_K_M', 'Q8_0'], outDir });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.error).toBeNull();
    expect(end.status).toBe('succeeded');
    const files = await ws.client.call('quantize.files', { runId });
    // the ladder's order (largest first), whatever order they were asked in
    expect(files.map((f) => [f.type, path.basename(f.file)])).toEqual([
      ['Q8_0', 'student-Q8_0.gguf'],
      ['Q4_K_M', 'student-Q4_K_M.gguf'],
    ]);
    const sourceBytes = fs.statSync(student).size;
    for (const f of files) {
      expect(f.bytes).toBe(fs.statSync(f.file).size);
      expect(f.bytes).toBeLessThan(sourceBytes);
    }
    expect(files[0]!.bpw).toBeGreaterThan(files[1]!.bpw);
    expect(files[0]!.bpw).toBeGreaterThan(8);
    expect(files[0]!.bpw).toBeLessThan(9);
    expect(fs.readdirSync(outDir).sort()).toEqual(['student-Q4_K_M.gguf', 'student-Q8_0.gguf']); // no temporary file left
    const library = await ws.client.call('models.list', {});
    for (const f of files) {
      const m = library.find((e) => e.id === f.modelId)!;
      expect(m.path).toBe(f.file);
      expect(m.summary.fileType).toBe(f.type);
      expect(m.note).toBe(`Quantized from student (${f.type}) by run ${runId}.`);
    }
    const run = await ws.client.call('runs.get', { id: runId });
    expect(
      run.lineage
        .filter((l) => l.direction === 'output')
        .map((l) => l.label)
        .sort(),
    ).toEqual(['student-Q4_K_M.gguf', 'student-Q8_0.gguf']);
    expect(run.lineage).toContainEqual({ direction: 'input', kind: 'model', ref: String(source.id), label: source.name });
    expect(run.metrics.find((m) => m.name === 'bytes:Q8_0')).toMatchObject({ value: files[0]!.bytes, unit: 'bytes' });
  });

  it('refuses, before a run starts: an imatrix type without one, a quantized source, a matrix of another model, an existing file', async () => {
    const ws = workspace();
    const source = await ws.client.call('models.add', { path: student });
    await expect(ws.client.call('quantize.start', { modelId: source.id, types: ['Q4_K_M', 'IQ2_XS'] })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'types',
      message: 'IQ2_XS needs an importance matrix (llama.cpp refuses it without one): give one, or leave it out',
    });
    // a matrix computed on the teacher does not fit the student
    const text = path.join(tempDir(), 'text.txt');
    fs.writeFileSync(text, perplexityText(5, 200));
    const foreign = path.join(path.dirname(text), 'teacher.imatrix.gguf');
    const r = spawnSync(inject('llamaImatrix'), ['-m', teacher, '-f', text, '-c', '128', '-t', '1', '-o', foreign], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    await expect(ws.client.call('quantize.start', { modelId: source.id, types: ['IQ2_XS'], imatrix: foreign })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'imatrix',
      message: expect.stringMatching(
        /^the importance matrix is for another model: blk\.0\.\w+\.weight has \d+ values there, but the model's tensor is 256 wide$/,
      ),
    });
    // a quantized model as the source
    const outDir = tempDir();
    const { runId } = await ws.client.call('quantize.start', { modelId: source.id, types: ['Q8_0'], outDir });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const [q8] = await ws.client.call('quantize.files', { runId });
    await expect(ws.client.call('quantize.start', { modelId: q8!.modelId, types: ['Q4_K_M'], outDir: tempDir() })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'modelId',
      message: expect.stringMatching(/^student-Q8_0 is already quantized \(Q8_0\); quantizing it again loses more quality/),
    });
    // the same file again, not asked to replace it
    await expect(ws.client.call('quantize.start', { modelId: source.id, types: ['Q8_0'], outDir })).rejects.toMatchObject({
      code: 'file_exists',
      field: 'outDir',
    });
    expect(await ws.client.call('runs.list', { kind: 'quantize.ladder' })).toHaveLength(1);
  });

  it('a cancelled ladder leaves no partial file; resumed, it makes only the types it lacks', async () => {
    const ws = workspace();
    const source = await ws.client.call('models.add', { path: teacher });
    const outDir = tempDir();
    const { runId } = await ws.client.call('quantize.start', { modelId: source.id, types: ['Q8_0', 'Q4_K_M', 'Q3_K_M'], outDir });
    // cancel once the first type is committed and the second has started
    await new Promise<void>((resolve) => {
      const off = ws.client.on('runs.changed', (r) => {
        if (r.id === runId && r.progress.message.startsWith('Q4_K_M: tensor')) {
          off();
          resolve();
        }
      });
    });
    await ws.client.call('runs.cancel', { id: runId });
    const cancelled = await ws.app.runner.waitFor(runId);
    expect(cancelled.status).toBe('cancelled');
    expect(fs.readdirSync(outDir)).toEqual(['teacher-Q8_0.gguf']);
    const q8 = fs.statSync(path.join(outDir, 'teacher-Q8_0.gguf')).mtimeMs;
    await ws.client.call('runs.resume', { id: runId });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    expect(fs.readdirSync(outDir).sort()).toEqual(['teacher-Q3_K_M.gguf', 'teacher-Q4_K_M.gguf', 'teacher-Q8_0.gguf']);
    expect(fs.statSync(path.join(outDir, 'teacher-Q8_0.gguf')).mtimeMs).toBe(q8); // not made again
    expect((await ws.client.call('quantize.files', { runId })).map((f) => f.type)).toEqual(['Q8_0', 'Q4_K_M', 'Q3_K_M']);
    expect((await ws.client.call('models.list', {})).filter((m) => m.path.startsWith(outDir))).toHaveLength(3);
  });

  it('a killed quantization child fails the run with the reason; resumed, the finished types are kept and nothing is partial', async () => {
    const ws = workspace();
    const source = await ws.client.call('models.add', { path: teacher });
    const outDir = tempDir();
    const { runId } = await ws.client.call('quantize.start', { modelId: source.id, types: ['Q8_0', 'Q4_K_M'], outDir });
    await new Promise<void>((resolve) => {
      const off = ws.client.on('runs.changed', (r) => {
        if (r.id === runId && r.progress.message.startsWith('Q4_K_M: tensor')) {
          off();
          resolve();
        }
      });
    });
    // the child this process forked for the quantization (llama.cpp aborting, or the OOM killer, looks the same)
    const pid = Number(
      execFileSync('pgrep', ['-P', String(process.pid), '-f', 'quantize-child'], { encoding: 'utf8' })
        .trim()
        .split('\n')[0],
    );
    process.kill(pid, 'SIGKILL');
    const failed = await ws.app.runner.waitFor(runId);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^llama\.cpp could not quantize .*teacher\.gguf \(the process ended by SIGKILL\)/);
    expect(fs.readdirSync(outDir)).toEqual(['teacher-Q8_0.gguf']);
    await ws.client.call('runs.resume', { id: runId });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    expect(fs.readdirSync(outDir).sort()).toEqual(['teacher-Q4_K_M.gguf', 'teacher-Q8_0.gguf']);
    expect(await ws.client.call('quantize.files', { runId })).toHaveLength(2);
  });

  it('a full disk fails the run with the reason and removes the partial file', async () => {
    const ws = workspace();
    const source = await ws.client.call('models.add', { path: student });
    // a 4 MB file system: the 19.5 MB Q8_0 file cannot fit
    const outDir = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', outDir]);
    try {
      const { runId } = await ws.client.call('quantize.start', { modelId: source.id, types: ['Q8_0'], outDir });
      const end = await ws.app.runner.waitFor(runId);
      expect(end.status).toBe('failed');
      expect(end.error).toMatch(new RegExp(`^${outDir}: the disk is full \\([\\d.]+ [kM]B free\\); quantized files of this model take up to 36\\.1 MB$`));
      expect(fs.readdirSync(outDir)).toEqual([]);
    } finally {
      execFileSync('umount', [outDir]);
    }
  });

  it('refuses an output folder that is a file, missing or not writable, and an adapter as the source', async () => {
    const ws = workspace();
    const source = await ws.client.call('models.add', { path: student });
    const file = path.join(tempDir(), 'not-a-folder');
    fs.writeFileSync(file, 'x');
    await expect(ws.client.call('quantize.start', { modelId: source.id, types: ['Q8_0'], outDir: file })).rejects.toMatchObject({
      code: 'not_a_file',
      field: 'outDir',
    });
    await expect(ws.client.call('quantize.start', { modelId: source.id, types: ['Q8_0'], outDir: path.join(file, 'x', 'y') })).rejects.toMatchObject({
      field: 'outDir',
    });
    // a folder that cannot be written (a read-only file system: root may write anywhere else)
    const readOnly = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly]);
    try {
      await expect(ws.client.call('quantize.start', { modelId: source.id, types: ['Q8_0'], outDir: readOnly })).rejects.toMatchObject({
        code: 'file_access',
        field: 'outDir',
        message: `${readOnly}: the file system is read-only`,
      });
    } finally {
      execFileSync('umount', [readOnly]);
    }
    // an adapter is refused as a model at the door, so it can never be a ladder's source
    const adapter = await fixtureAdapter('student-lora');
    await expect(ws.client.call('models.add', { path: adapter })).rejects.toMatchObject({
      message: expect.stringMatching(/is a GGUF adapter \(general\.type\), not a model/),
    });
    expect(await ws.client.call('runs.list', { kind: 'quantize.ladder' })).toHaveLength(0);
  });
});
