import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel } from '../fixtures/models.js';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';

// models.benchmarks: a model's page shows its benchmark history, read from its finished `models.benchmark` runs.
let ws: Workspace;
let student: number;
let other: number;
beforeAll(async () => {
  ws = makeWorkspace();
  student = (await ws.client.call('models.add', { path: await fixtureModel('student') })).id;
  const copy = path.join(tempDir(), 'other.gguf');
  fs.copyFileSync(await fixtureModel('student'), copy);
  other = (await ws.client.call('models.add', { path: copy })).id;
});
afterAll(() => ws.close());

const bench = async (id: number, threads: number) => {
  const { runId } = await ws.client.call('models.benchmark', { id, promptTokens: 16, generateTokens: 8, repetitions: 2, threads });
  const end = await ws.app.runner.waitFor(runId);
  expect(end.status).toBe('succeeded');
  return runId;
};

describe('a model’s benchmark history', () => {
  it('lists each finished benchmark of that model only, oldest first, with its speeds, threads and sizes', async () => {
    expect(await ws.client.call('models.benchmarks', { id: student })).toEqual([]);
    const first = await bench(student, 1);
    const second = await bench(student, 2);
    const elsewhere = await bench(other, 1);

    const history = await ws.client.call('models.benchmarks', { id: student });
    expect(history.map((h) => [h.runId, h.threads, h.promptTokens, h.generateTokens, h.repetitions])).toEqual([
      [first, 1, 16, 8, 2],
      [second, 2, 16, 8, 2],
    ]);
    for (const h of history) {
      const run = await ws.client.call('runs.get', { id: h.runId });
      expect(h.generateTokensPerSecond).toBe(run.metrics.find((m) => m.name === 'generate_tps_mean')!.value);
      expect(h.promptTokensPerSecond).toBeGreaterThan(0);
      expect(h.at).toBe(run.endedAt);
    }
    expect((await ws.client.call('models.benchmarks', { id: other })).map((h) => h.runId)).toEqual([elsewhere]);
  }, 120_000);

  it('leaves out a benchmark that failed, and refuses an unknown model', async () => {
    const copy = path.join(tempDir(), 'gone.gguf');
    fs.copyFileSync(await fixtureModel('student'), copy);
    const gone = (await ws.client.call('models.add', { path: copy })).id;
    fs.rmSync(copy);
    const { runId } = await ws.client.call('models.benchmark', { id: gone, repetitions: 1 });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('failed');
    expect(await ws.client.call('models.benchmarks', { id: gone })).toEqual([]);
    await expect(ws.client.call('models.benchmarks', { id: 999 })).rejects.toMatchObject({ code: 'not_found' });
  });
});
