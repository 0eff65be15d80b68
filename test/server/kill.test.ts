import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { fixtureModel } from '../fixtures/models.js';
import { tempDir, waitUntil } from '../helpers/workspace.js';
import { callValue, startServer, type ServerProcess } from '../helpers/server.js';
import type { ModelEntry } from '../../src-shared/domain/models.js';
import type { RunDetail } from '../../src-shared/domain/runs.js';

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
});

describe('a server killed during a running job', () => {
  it('comes back with the run interrupted, the database intact, and resumes without duplicates', async () => {
    const dataDir = tempDir();
    const teacher = await fixtureModel('teacher');
    const first = await startServer(dataDir, ['--no-sample']);
    servers.push(first);
    const model = await callValue<ModelEntry>(first.url, 'models.add', { path: teacher, roles: ['teacher'] });
    await callValue(first.url, 'settings.update', { inferenceThreads: 1 });
    const { runId } = await callValue<{ runId: number }>(first.url, 'models.benchmark', {
      id: model.id,
      promptTokens: 64,
      generateTokens: 96,
      repetitions: 6,
    });
    await waitUntil(
      async () => {
        const r = await callValue<RunDetail>(first.url, 'runs.get', { id: runId });
        return r.status === 'running' && r.itemsDone >= 1;
      },
      90_000,
      'the benchmark to commit a repetition',
    );
    await first.kill();

    // The database as the crash left it: consistent, the run still marked running.
    const db = new Database(path.join(dataDir, 'distillery.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const committed = db.prepare(`SELECT count(*) FROM run_items WHERE run_id = ?`).pluck().get(runId) as number;
    expect(committed).toBeGreaterThanOrEqual(1);
    expect(committed).toBeLessThan(6);
    expect(db.prepare(`SELECT status FROM runs WHERE id = ?`).pluck().get(runId)).toBe('running');
    db.close();

    const second = await startServer(dataDir, ['--no-sample']);
    servers.push(second);
    const after = await callValue<RunDetail>(second.url, 'runs.get', { id: runId });
    expect(after.status).toBe('interrupted');
    expect(after.itemsDone).toBe(committed);
    expect(after.metrics.filter((m) => m.name === 'generate_tps')).toHaveLength(committed);
    expect(after.logs.at(-1)?.message).toMatch(/stopped while this run was running/);
    const models = await callValue<ModelEntry[]>(second.url, 'models.list', {});
    expect(models).toEqual([{ ...model, status: 'ok' }]);

    await callValue(second.url, 'runs.resume', { id: runId });
    await waitUntil(
      async () => (await callValue<RunDetail>(second.url, 'runs.get', { id: runId })).status === 'succeeded',
      120_000,
      'the resumed run to finish',
    );
    const done = await callValue<RunDetail>(second.url, 'runs.get', { id: runId });
    expect(done.itemsDone).toBe(6);
    const steps = done.metrics.filter((m) => m.name === 'generate_tps').map((m) => m.step);
    expect(steps).toEqual([0, 1, 2, 3, 4, 5]);
    expect(done.metrics.find((m) => m.name === 'generate_tps_mean')?.value).toBeGreaterThan(0);
    expect(await second.stop()).toBe(0);
  });
});
