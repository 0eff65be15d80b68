import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../helpers/workspace.js';
import { fixtureModel } from '../fixtures/models.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';

/**
 * The engine host child process through the app: models stay loaded between requests, a native failure becomes an
 * error (or a failed run) with llama.cpp's reason and the app keeps serving, a crash of the child is contained.
 */
let ws: Workspace;
let student: string;
let studentId: number;
let textFile: string;

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string; field?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  ws = makeWorkspace();
  student = await fixtureModel('student');
  studentId = (await ws.client.call('models.add', { path: student, roles: ['student'] })).id;
  textFile = path.join(tempDir(), 'text.txt');
  fs.writeFileSync(textFile, perplexityText(3, 400));
});
afterAll(async () => {
  await ws?.close();
});

describe('engine host', () => {
  it('keeps a model loaded between requests, and attaches a persistent threadpool', async () => {
    const native = ws.app.engine.native();
    const before = await native.request('info', {});
    await native.request('tokenize', { model: { path: student }, text: 'Hello', addSpecial: true, parseSpecial: false });
    const t = await native.request('tokenize', { model: { path: student }, text: 'Hello world', addSpecial: true, parseSpecial: false });
    expect((await native.request('detokenize', { model: { path: student }, tokens: t.tokens })).text).toBe(' Hello world');
    await native.request('checkContext', { model: { path: student }, nCtx: 256, nBatch: 256, threads: 2 });
    const after = await native.request('info', {});
    expect(after.modelLoads - before.modelLoads).toBeLessThanOrEqual(1);
    expect(after.loaded).toContain(student);
    expect(after.persistentThreads).toBe(true);
    expect(after.threadpools).toContain(2);
    expect(after.libraries.backends.some((b) => /ggml-cpu/.test(b))).toBe(true);
  });

  it('checks token ids before they reach C, naming the field', async () => {
    const tokens = Array.from({ length: 300 }, (_, i) => 1 + (i % 100));
    tokens[77] = 32000;
    const e = await rejection(ws.app.engine.native().request('score', { model: { path: student }, tokens, contextSize: 128, threads: 1 }));
    expect(e.code).toBe('invalid_input');
    expect(e.field).toBe('tokens.77');
    expect(e.message).toContain('32000 is not a token');
  });

  it('a context too large to allocate is an engine_error with llama.cpp reason, and the host keeps serving', async () => {
    const native = ws.app.engine.native();
    const pid = (await native.request('info', {})).pid;
    const e = await rejection(native.request('checkContext', { model: { path: student }, nCtx: 1 << 24, nBatch: 512, nSeqMax: 256, threads: 1 }));
    expect(e.code).toBe('engine_error');
    expect(e.message).toMatch(/could not get a context of 16777216 tokens.*failed to allocate/);
    expect(native.pid).toBe(pid);
    expect((await native.request('checkContext', { model: { path: student }, nCtx: 128, nBatch: 128, threads: 1 })).nCtx).toBeGreaterThanOrEqual(128);
  });

  it('an abort in the child (what a GGML_ASSERT does) fails the request with the reason; the next one starts a new child', async () => {
    const native = ws.app.engine.native();
    const starts = native.childStarts;
    const e = await rejection(native.request('crash', {}));
    expect(e.code).toBe('engine_error');
    expect(e.message).toMatch(/the inference engine process was killed \(SIGABRT\)/);
    const info = await native.request('info', {});
    expect(native.childStarts).toBe(starts + 1);
    expect(info.modelLoads).toBe(0);
  });

  it('killing the child mid-score fails the run with the reason, and the next run succeeds', async () => {
    const { runId } = await ws.client.call('adapters.perplexity', { variant: { modelId: studentId }, source: { textFile }, contextSize: 64 });
    await waitUntil(async () => (await ws.client.call('runs.get', { id: runId })).progress.done >= 1, 60_000, 'a first chunk');
    ws.app.engine.native().kill();
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('failed');
    expect(end.error).toMatch(/inference engine process was killed \(SIGKILL\)/);
    const next = await ws.app.runner.waitFor(
      (await ws.client.call('adapters.perplexity', { variant: { modelId: studentId }, source: { textFile }, contextSize: 64, maxChunks: 4 })).runId,
    );
    expect(next.status).toBe('succeeded');
  });

  it('a cancelled run stops within a chunk', async () => {
    const { runId } = await ws.client.call('adapters.perplexity', { variant: { modelId: studentId }, source: { textFile }, contextSize: 64 });
    await waitUntil(async () => (await ws.client.call('runs.get', { id: runId })).progress.done >= 1, 60_000, 'a first chunk');
    await ws.client.call('runs.cancel', { id: runId });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('cancelled');
    const run = await ws.client.call('runs.get', { id: runId });
    expect(run.progress.done).toBeLessThan(run.progress.total!);
  });
});
