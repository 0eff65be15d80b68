import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { fixtureModel } from '../../fixtures/models.js';
import { tempDir, waitUntil } from '../../helpers/workspace.js';
import { callValue, startServer, type ServerProcess } from '../../helpers/server.js';
import type { RunDetail } from '../../../src-shared/domain/runs.js';
import type { EvalReport } from '../../../src-shared/domain/evaluate.js';

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
});

const TEST = 12;
const VARIANTS = 2;

/** The answers a run has committed: position, variant and the time it took (a regenerated answer gets a new time). */
function committed(dataDir: string, runId: number): { variant: number; position: number; ms: number | null; text: string | null }[] {
  const db = new Database(path.join(dataDir, 'distillery.db'), { readonly: true });
  try {
    return db.prepare(`SELECT variant, position, ms, text FROM eval_answers WHERE run_id = ? ORDER BY variant, position`).all(runId) as {
      variant: number;
      position: number;
      ms: number | null;
      text: string | null;
    }[];
  } finally {
    db.close();
  }
}

describe('an evaluation killed with SIGKILL', () => {
  it('at four moments (three while answering, one after), resumes each time with nothing lost, redone or doubled', async () => {
    const dataDir = tempDir();
    const file = path.join(tempDir(), 'support.jsonl');
    fs.writeFileSync(
      file,
      Array.from({ length: TEST + 4 }, (_, i) =>
        JSON.stringify({ prompt: `Ticket ${i + 1}: the printer stops at page ${i}.`, completion: `Clear the jam ${i}.` }),
      ).join('\n'),
    );
    let server = await startServer(dataDir, ['--no-sample']);
    servers.push(server);
    const student = await callValue<{ id: number }>(server.url, 'models.add', { path: await fixtureModel('student') });
    const teacher = await callValue<{ id: number }>(server.url, 'models.add', { path: await fixtureModel('teacher') });
    const imported = await callValue<{ runId: number }>(server.url, 'datasets.import', { path: file, name: 'support' });
    await waitUntil(async () => (await callValue<RunDetail>(server.url, 'runs.get', { id: imported.runId })).status === 'succeeded', 30_000, 'the import');
    await callValue(server.url, 'datasets.split', { name: 'support', counts: { test: TEST }, seed: 1 });
    await callValue(server.url, 'datasets.commit', { name: 'support', message: 'split' });
    const { runId } = await callValue<{ runId: number }>(server.url, 'evaluate.start', {
      dataset: 'support',
      variants: [
        { kind: 'model', modelId: student.id, label: 'student' },
        { kind: 'model', modelId: teacher.id, label: 'teacher' },
      ],
      teacher: 1,
      metrics: ['f1', 'chrf'],
      generation: { temperature: 0, maxTokens: 48, seed: 3 },
      parallel: 2,
    });
    const kept: ReturnType<typeof committed>[] = [];
    const total = TEST * VARIANTS;
    for (const at of [3, 9, 16, total]) {
      await waitUntil(() => committed(dataDir, runId).length >= at, 120_000, `${at} answers`);
      await server.kill();
      const db = new Database(path.join(dataDir, 'distillery.db'));
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
      kept.push(committed(dataDir, runId));
      server = await startServer(dataDir, ['--no-sample']);
      servers.push(server);
      const status = (await callValue<RunDetail>(server.url, 'runs.get', { id: runId })).status;
      if (status === 'succeeded') break; // the last kill may land after the run ended: nothing to resume
      expect(status).toBe('interrupted');
      await callValue(server.url, 'runs.resume', { id: runId });
    }
    await waitUntil(async () => (await callValue<RunDetail>(server.url, 'runs.get', { id: runId })).status === 'succeeded', 180_000, 'the run to finish');
    // the first three kills landed while answering: some answers in, more to come
    for (const [i, k] of kept.slice(0, 3).entries()) {
      expect(k.length, `answers before kill ${i + 1}`).toBeGreaterThan(0);
      expect(k.length, `answers before kill ${i + 1}`).toBeLessThan(total);
    }
    const end = committed(dataDir, runId);
    expect(end).toHaveLength(total);
    expect(new Set(end.map((a) => `${a.variant}:${a.position}`)).size).toBe(total);
    expect(end.every((a) => a.text !== null)).toBe(true);
    // what was committed before each kill is exactly what the run ends with: never answered again
    for (const k of kept) for (const a of k) expect(end.find((e) => e.variant === a.variant && e.position === a.position)).toEqual(a);
    const report = await callValue<EvalReport>(server.url, 'evaluate.report', { runId });
    expect(report.leaderboard.map((r) => r.answered)).toEqual([TEST, TEST]);
    expect(report.divergence[0]!.examples).toBe(TEST);
    expect(report.systems.every((s) => s.loadSeconds !== null)).toBe(true);
    await server.stop();
    const db = new Database(path.join(dataDir, 'distillery.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    // one item per answer, per divergence figure and per systems row: none twice (the key is unique), none missing
    const items = db.prepare(`SELECT item_key FROM run_items WHERE run_id = ?`).pluck().all(runId) as string[];
    expect(items.filter((k) => k.startsWith('a:'))).toHaveLength(total);
    expect(items.filter((k) => k.startsWith('d:'))).toHaveLength(TEST);
    expect(items.filter((k) => k.startsWith('s:'))).toHaveLength(VARIANTS);
    db.close();
  }, 400_000);
});
