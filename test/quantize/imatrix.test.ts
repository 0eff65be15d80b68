import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getLlama, resolveChatWrapper, type ChatHistoryItem } from 'node-llama-cpp';
import { readImatrix } from '../../src-main/core/quantize/imatrix-file.js';
import { fixtureModel } from '../fixtures/models.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';
import { tool } from './helpers.js';

/**
 * The importance matrix computed in the app (a `quantize.imatrix` run: the engine host's eval callback) against
 * llama-imatrix on the same model, text and context: the same weights, counts and chunk count, the sums within 1e-3
 * relative per tensor (both accumulate in float32); llama-quantize takes the app's file for an IQ type.
 */
const CTX = 128;
let ws: Workspace;
let student: string;
let dir: string;
let textFile: string;
let toolFile: string;
let studentId: number;

const waitRun = async (runId: number) => {
  await ws.app.runner.waitFor(runId);
  return ws.client.call('runs.get', { id: runId });
};

beforeAll(async () => {
  student = await fixtureModel('student');
  dir = tempDir();
  textFile = path.join(dir, 'text.txt');
  fs.writeFileSync(textFile, perplexityText(11, 300));
  toolFile = path.join(dir, 'tool.imatrix.gguf');
  tool(inject('llamaImatrix'), ['-m', student, '-f', textFile, '-c', String(CTX), '-t', '1', '--no-ppl', '-o', toolFile]);
  ws = makeWorkspace();
  studentId = (await ws.client.call('models.add', { path: student })).id;
});

afterAll(async () => {
  await ws?.close();
});

describe('quantize.imatrix runs', () => {
  it("computes llama-imatrix's matrix on a text file, writes it where asked, and llama-quantize makes an IQ type with it", async () => {
    const out = path.join(dir, 'app.imatrix.gguf');
    const { runId } = await ws.client.call('quantize.imatrix', { modelId: studentId, source: { textFile }, contextSize: CTX, out });
    const run = await waitRun(runId);
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    const ours = readImatrix(out);
    const theirs = readImatrix(toolFile);
    expect(ours.datasets).toEqual([textFile]);
    expect(ours.chunkSize).toBe(CTX);
    expect(ours.chunkCount).toBe(theirs.chunkCount);
    expect(ours.chunkCount).toBeGreaterThan(10);
    expect([...ours.entries.keys()].sort()).toEqual([...theirs.entries.keys()].sort());
    expect(ours.entries.size).toBe(14);
    for (const [name, e] of ours.entries) {
      const t = theirs.entries.get(name)!;
      expect(e.counts, name).toEqual(t.counts);
      expect(e.sums.length, name).toBe(t.sums.length);
      let worst = 0;
      for (let i = 0; i < e.sums.length; i++) worst = Math.max(worst, Math.abs(e.sums[i]! - t.sums[i]!) / Math.max(1e-30, Math.abs(t.sums[i]!)));
      expect(worst, `${name}: largest relative difference`).toBeLessThan(1e-3);
    }
    expect(run.metrics.find((m) => m.name === 'chunks')?.value).toBe(ours.chunkCount);
    expect(run.metrics.find((m) => m.name === 'entries')?.value).toBe(14);
    expect(run.lineage).toEqual(
      expect.arrayContaining([
        { direction: 'input', kind: 'model', ref: String(studentId), label: 'student' },
        { direction: 'input', kind: 'file', ref: textFile, label: textFile },
        { direction: 'output', kind: 'file', ref: out, label: 'app.imatrix.gguf' },
      ]),
    );
    expect(fs.readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
    // llama-quantize reads it and makes a type that needs one
    const iq = path.join(dir, 'student-IQ2_XS.gguf');
    const log = tool(inject('llamaQuantize'), ['--imatrix', out, student, iq, 'IQ2_XS', '1']);
    expect(log).toMatch(/loaded 14 importance matrix entries/);
    expect(fs.statSync(iq).size).toBeLessThan(fs.statSync(student).size / 3);
  });

  it("renders a dataset split's conversations through the model's chat template and names the split in the file", async () => {
    const file = path.join(dir, 'tickets.jsonl');
    const words = perplexityText(5, 400).split(/(?<=[.?])\s+/);
    const lines = words.map((w, i) => JSON.stringify({ prompt: `Ticket ${i}: ${w}`, completion: `Answer: ${w}` }));
    fs.writeFileSync(file, lines.join('\n'));
    await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'tickets' })).runId);
    await ws.client.call('datasets.split', { name: 'tickets', counts: { test: 150 }, seed: 1 });
    await ws.client.call('datasets.commit', { name: 'tickets', message: 'split' });
    const ctx = 64;
    const { runId } = await ws.client.call('quantize.imatrix', { modelId: studentId, source: { dataset: 'tickets', split: 'test' }, contextSize: ctx });
    const run = await waitRun(runId);
    expect(run.error).toBeNull();
    const out = path.join(ws.dir, 'imatrix', 'student-tickets@2-test.gguf');
    expect(run.lineage).toEqual(
      expect.arrayContaining([
        { direction: 'input', kind: 'dataset', ref: 'tickets', label: 'tickets@2' },
        { direction: 'output', kind: 'file', ref: out, label: path.basename(out) },
      ]),
    );
    const m = readImatrix(out);
    expect(m.datasets).toEqual(['tickets@2:test']);
    // the same conversations rendered here with node-llama-cpp's chat wrapper for the model: as many chunks
    const test = await ws.client.call('datasets.examples', { name: 'tickets', offset: 0, limit: 500, filter: { split: 'test' } });
    expect(test.total).toBe(150);
    const llama = await getLlama({ gpu: false });
    const model = await llama.loadModel({ modelPath: student, vocabOnly: true });
    const wrapper = resolveChatWrapper(model);
    let rendered = 0;
    let plain = 0;
    let sample = '';
    for (const ex of test.rows) {
      const history: ChatHistoryItem[] = ex.messages.map((msg) =>
        msg.role === 'user'
          ? { type: 'user', text: msg.content }
          : msg.role === 'assistant'
            ? { type: 'model', response: [msg.content] }
            : { type: 'system', text: msg.content },
      );
      const text = wrapper.generateContextState({ chatHistory: history }).contextText;
      rendered += text.tokenize(model.tokenizer).length;
      plain += model.tokenize(ex.messages.map((msg) => msg.content).join('\n')).length;
      sample ||= text.toString();
    }
    await model.dispose();
    expect(sample).toMatch(/Ticket \d+: .*Answer: /s);
    expect(sample.length).toBeGreaterThan(test.rows[0]!.messages.map((msg) => msg.content).join('\n').length + 4); // the template's marks
    expect(rendered).toBeGreaterThan(plain);
    expect(m.chunkCount).toBe(Math.floor(rendered / ctx));
    expect(run.metrics.find((x) => x.name === 'tokens')?.value).toBe(Math.floor(rendered / ctx) * ctx);
  });

  it('fails a text shorter than one chunk with the reason, and leaves no file', async () => {
    const short = path.join(dir, 'short.txt');
    fs.writeFileSync(short, 'A few words only.');
    const out = path.join(dir, 'short.imatrix.gguf');
    const run = await waitRun((await ws.client.call('quantize.imatrix', { modelId: studentId, source: { textFile: short }, contextSize: CTX, out })).runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^student on short\.txt: the text is only \d+ tokens long, shorter than one 128-token chunk: nothing would be collected/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it("refuses, before a run starts: the data folder's own files, an existing file unless replaced, a missing text", async () => {
    await expect(
      ws.client.call('quantize.imatrix', { modelId: studentId, source: { textFile }, out: path.join(ws.dir, 'distillery.db') }),
    ).rejects.toMatchObject({ field: 'out' });
    const existing = path.join(dir, 'existing.gguf');
    fs.writeFileSync(existing, 'x');
    await expect(ws.client.call('quantize.imatrix', { modelId: studentId, source: { textFile }, out: existing })).rejects.toMatchObject({
      code: 'file_exists',
      field: 'out',
    });
    await expect(ws.client.call('quantize.imatrix', { modelId: studentId, source: { textFile: path.join(dir, 'none.txt') } })).rejects.toMatchObject({
      code: 'file_missing',
      field: 'source.textFile',
    });
    const before = (await ws.client.call('runs.list', { kind: 'quantize.imatrix' })).length;
    const { runId } = await ws.client.call('quantize.imatrix', {
      modelId: studentId,
      source: { textFile },
      contextSize: CTX,
      out: existing,
      replace: true,
      maxChunks: 2,
    });
    expect((await waitRun(runId)).status).toBe('succeeded');
    expect(readImatrix(existing).chunkCount).toBe(2);
    expect(await ws.client.call('runs.list', { kind: 'quantize.imatrix' })).toHaveLength(before + 1);
  });

  it('a cancelled run ends cancelled with no file; resumed, it computes the matrix again', async () => {
    const long = path.join(dir, 'long.txt');
    fs.writeFileSync(long, perplexityText(3, 800));
    const out = path.join(dir, 'cancelled.imatrix.gguf');
    const { runId } = await ws.client.call('quantize.imatrix', { modelId: studentId, source: { textFile: long }, contextSize: 16, out });
    await new Promise<void>((resolve) => {
      const off = ws.client.on('runs.changed', (r) => {
        if (r.id === runId && r.progress.message.startsWith('chunk ')) {
          off();
          resolve();
        }
      });
    });
    await ws.client.call('runs.cancel', { id: runId });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('cancelled');
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
    await ws.client.call('runs.resume', { id: runId });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    expect(readImatrix(out).chunkSize).toBe(16);
  });

  it('a killed engine process fails the run with the reason; resumed, it computes the matrix again and leaves no partial file', async () => {
    const long = path.join(dir, 'killed.txt');
    fs.writeFileSync(long, perplexityText(9, 800));
    const out = path.join(dir, 'killed.imatrix.gguf');
    const { runId } = await ws.client.call('quantize.imatrix', { modelId: studentId, source: { textFile: long }, contextSize: 16, out });
    await new Promise<void>((resolve) => {
      const off = ws.client.on('runs.changed', (r) => {
        if (r.id === runId && r.progress.message.startsWith('chunk ')) {
          off();
          resolve();
        }
      });
    });
    ws.app.engine.native().kill(); // what a GGML_ASSERT abort or the OOM killer does
    const failed = await waitRun(runId);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^the inference engine process was killed \(SIGKILL\)/);
    expect(fs.existsSync(out)).toBe(false);
    await ws.client.call('runs.resume', { id: runId });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    expect(readImatrix(out).entries.size).toBe(14);
    expect(fs.readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });
});

describe("a ladder's own importance matrix (imatrixFrom)", () => {
  it('computes it first as item `imatrix`, quantizes an IQ type with it, and reuses it when resumed', async () => {
    await expect(
      ws.client.call('quantize.start', { modelId: studentId, types: ['IQ2_XS'], imatrix: toolFile, imatrixFrom: { source: { textFile } } }),
    ).rejects.toMatchObject({ code: 'invalid_input', field: 'imatrixFrom' });
    const outDir = tempDir();
    const { runId } = await ws.client.call('quantize.start', {
      modelId: studentId,
      types: ['Q8_0', 'IQ2_XS'],
      imatrixFrom: { source: { textFile }, contextSize: CTX },
      outDir,
    });
    // cancel once the matrix is committed and the first type has started
    await new Promise<void>((resolve) => {
      const off = ws.client.on('runs.changed', (r) => {
        if (r.id === runId && r.progress.message.startsWith('Q8_0: ')) {
          off();
          resolve();
        }
      });
    });
    await ws.client.call('runs.cancel', { id: runId });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('cancelled');
    const file = path.join(ws.dir, 'imatrix', 'student-text.gguf');
    const made = fs.statSync(file).mtimeMs;
    await ws.client.call('runs.resume', { id: runId });
    const run = await waitRun(runId);
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    expect(fs.statSync(file).mtimeMs).toBe(made); // not computed again
    const m = readImatrix(file);
    expect(m.chunkCount).toBe(readImatrix(toolFile).chunkCount);
    expect(ws.app.runner.itemResults(runId, 'quantize.ladder')).toContainEqual({ imatrix: file, entries: 14, chunks: m.chunkCount });
    expect((await ws.client.call('quantize.files', { runId })).map((f) => f.type)).toEqual(['Q8_0', 'IQ2_XS']);
    expect(fs.readdirSync(outDir).sort()).toEqual(['student-IQ2_XS.gguf', 'student-Q8_0.gguf']);
    expect(run.lineage).toEqual(
      expect.arrayContaining([
        { direction: 'input', kind: 'file', ref: textFile, label: textFile },
        { direction: 'output', kind: 'file', ref: file, label: 'student-text.gguf' },
      ]),
    );
    const iq = (await ws.client.call('models.list', {})).find((x) => x.path === path.join(outDir, 'student-IQ2_XS.gguf'))!;
    expect(iq.note).toBe(`Quantized from student (IQ2_XS with the importance matrix student-text.gguf) by run ${runId}.`);
  });
});
