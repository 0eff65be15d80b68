import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { fixtureModel } from '../fixtures/models.js';
import { tempDir, waitUntil } from '../helpers/workspace.js';
import { callValue, startServer, type ServerProcess } from '../helpers/server.js';
import type { RunDetail } from '../../src-shared/domain/runs.js';

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
});

const PROMPTS = 30;
const answersIn = (dataDir: string, runId: number) => {
  const db = new Database(path.join(dataDir, 'distillery.db'), { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM distill_answers WHERE run_id = ?`).pluck().get(runId) as number;
  } finally {
    db.close();
  }
};

describe('a distillation killed with SIGKILL', () => {
  it('at five moments of a run, resumes each time with no answer lost or duplicated', async () => {
    const dataDir = tempDir();
    const file = path.join(tempDir(), 'prompts.jsonl');
    fs.writeFileSync(file, Array.from({ length: PROMPTS }, (_, i) => JSON.stringify({ prompt: `Question ${i + 1}: why does the printer stop?` })).join('\n'));
    let server = await startServer(dataDir, ['--no-sample']);
    servers.push(server);
    const model = await callValue<{ id: number }>(server.url, 'models.add', { path: await fixtureModel('student'), roles: ['teacher'] });
    await callValue<RunDetail>(server.url, 'runs.get', {
      id: (await callValue<{ runId: number }>(server.url, 'datasets.import', { path: file, name: 'p' })).runId,
    });
    await waitUntil(async () => (await callValue<{ name: string }[]>(server.url, 'datasets.list', {})).length === 1, 30_000, 'the import');
    const { runId } = await callValue<{ runId: number }>(server.url, 'distill.start', {
      dataset: 'p',
      teacher: { modelId: model.id },
      generation: { temperature: 0, maxTokens: 160, seed: 9 },
      filters: { truncated: false, refusals: false },
      parallel: 2,
      outName: 'survivor',
    });
    const seenAtKill: number[] = [];
    // kill at 5 moments: after about 3, 8, 13, 18 and 23 committed answers (wherever the run is at that instant)
    for (const at of [3, 8, 13, 18, 23]) {
      await waitUntil(async () => (await callValue<RunDetail>(server.url, 'runs.get', { id: runId })).progress.done >= at, 90_000, `${at} answers`);
      await server.kill();
      const db = new Database(path.join(dataDir, 'distillery.db'));
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
      seenAtKill.push(answersIn(dataDir, runId));
      server = await startServer(dataDir, ['--no-sample']);
      servers.push(server);
      expect((await callValue<RunDetail>(server.url, 'runs.get', { id: runId })).status).toBe('interrupted');
      await callValue(server.url, 'runs.resume', { id: runId });
    }
    await waitUntil(async () => (await callValue<RunDetail>(server.url, 'runs.get', { id: runId })).status === 'succeeded', 120_000, 'the run to finish');
    // every kill happened mid-run, with answers committed before it and more to come
    seenAtKill.forEach((n, i) => {
      expect(n, `answers committed before kill ${i + 1}`).toBeGreaterThanOrEqual([3, 8, 13, 18, 23][i]!);
      expect(n, `answers committed before kill ${i + 1}`).toBeLessThan(PROMPTS);
    });
    const answers = await callValue<{ total: number; rows: { position: number }[] }>(server.url, 'distill.answers', { runId, limit: 500 });
    expect(answers.total).toBe(PROMPTS);
    expect(new Set(answers.rows.map((r) => r.position)).size).toBe(PROMPTS);
    const out = await callValue<{ version: { exampleCount: number } }>(server.url, 'datasets.get', { name: 'survivor' });
    expect(out.version.exampleCount).toBe(PROMPTS);
    await server.stop();
    const db = new Database(path.join(dataDir, 'distillery.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare(`SELECT count(*) FROM run_items WHERE run_id = ?`).pluck().get(runId)).toBe(PROMPTS);
    db.close();
  }, 300_000); // a hang guard above its own waits (five restarts, up to 90 s each): it takes ~50 s alone, more on a busy machine
});
