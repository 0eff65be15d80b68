import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../../helpers/workspace.js';
import { fixtureModel } from '../../fixtures/models.js';

/**
 * Evaluation with a teacher on an OpenAI-compatible server (llama.cpp's llama-server serving the fixture teacher):
 * soft-label divergence of a local student, a local judge (rubric and pairwise), contamination, send to curation,
 * and a server that dies mid-run (the run fails resumable; resumed once the server is back, nothing answered twice).
 */
let server: ChildProcess | null = null;
let port: number;
let baseUrl: string;
let ws: Workspace;
let student: number;
let teacher: number;
const TEST = 5;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

async function startServer(): Promise<void> {
  let log = '';
  server = spawn(
    inject('llamaServer'),
    ['-m', await fixtureModel('teacher'), '--host', '127.0.0.1', '--port', String(port), '-c', '2048', '-np', '2', '-t', '1', '--alias', 'fixture-teacher'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitUntil(
    async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok === true,
    60_000,
    `llama-server to start:\n${log.slice(-2000)}`,
  );
}

async function stopServer(): Promise<void> {
  const s = server;
  server = null;
  if (!s || s.exitCode !== null) return;
  const gone = new Promise((r) => s.once('exit', r));
  s.kill('SIGKILL');
  await gone;
}

beforeAll(async () => {
  port = await freePort();
  baseUrl = `http://127.0.0.1:${port}/v1`;
  await startServer();
  ws = makeWorkspace();
  student = (await ws.client.call('models.add', { path: await fixtureModel('student') })).id;
  teacher = (await ws.client.call('models.add', { path: await fixtureModel('teacher') })).id;
  const file = path.join(tempDir(), 'support.jsonl');
  const rows = Array.from({ length: 9 }, (_, i) => ({
    prompt: `Ticket ${i + 1}: the scanner on floor ${i} shows a blinking orange light after the update.`,
    completion: `Restart the scanner ${i} and update its driver.`,
  }));
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
  await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'tickets' })).runId);
  await ws.client.call('datasets.split', { name: 'tickets', counts: { test: TEST }, seed: 4 });
  await ws.client.call('datasets.commit', { name: 'tickets', message: 'split' });
});

afterAll(async () => {
  await ws?.close();
  await stopServer();
});

const generation = { temperature: 0, maxTokens: 8, seed: 2 };

describe('evaluation with a server teacher', () => {
  it('compares the student with the soft labels, judges both orders, checks contamination and tags divergent examples', async () => {
    const { runId } = await ws.client.call('evaluate.start', {
      dataset: 'tickets',
      variants: [
        { kind: 'model', modelId: student, label: 'student' },
        { kind: 'server', baseUrl, model: 'fixture-teacher', label: 'server teacher' },
      ],
      teacher: 1,
      metrics: ['chrf', 'judge', 'pairwise'],
      judge: { model: { modelId: teacher }, rubric: 'The answer tells the user what to do.', maxTokens: 24 },
      generation,
      parallel: 2,
      systems: false,
      contamination: { against: [{ dataset: 'tickets', split: 'train' }], n: 8 },
    });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.error).toBeNull();
    const r = await ws.client.call('evaluate.report', { runId });
    expect(r.leaderboard.map((x) => x.answered)).toEqual([TEST, TEST]);

    // the server's top-k soft labels: KLD over the top-k plus the rest, said on the page
    expect(r.divergence).toHaveLength(1);
    expect(r.divergence[0]!.method).toBe('topk');
    expect(r.divergence[0]!.examples).toBeGreaterThan(0);
    expect(r.notes.join(' ')).toMatch(/top-k soft labels/);

    // the judge scored every answer 1–10; pairwise asked both orders for the student only
    const judge = r.leaderboard.map((x) => x.metrics.judge);
    for (const j of judge) {
      expect(j!.n).toBe(TEST);
      expect(j!.mean).toBeGreaterThanOrEqual(1);
      expect(j!.mean).toBeLessThanOrEqual(10);
    }
    const pw = r.leaderboard[0]!.pairwise!;
    expect(pw.win + pw.tie + pw.loss).toBe(TEST);
    expect(r.leaderboard[1]!.pairwise).toBeNull();
    const items = ws.app.db.prepare(`SELECT item_key FROM run_items WHERE run_id = ? AND item_key LIKE 'p:%'`).all(runId) as { item_key: string }[];
    expect(items.map((i) => i.item_key).every((k) => k.startsWith('p:0:'))).toBe(true);

    // contamination against the train split: these tickets share their 8-word frame, so all are flagged
    expect(r.contamination).toMatchObject({ n: 8, checked: TEST, flagged: TEST });
    expect(r.leaderboardClean).not.toBeNull();
    const contaminated = await ws.client.call('evaluate.examples', { runId, filter: 'contaminated' });
    expect(contaminated.total).toBe(TEST);

    // send the two most divergent to curation: tagged in the working copy, undoable there
    const tagged = await ws.client.call('evaluate.sendToCuration', { runId, variant: 0, top: 2, tag: 'diverges' });
    expect(tagged.affected).toBe(2);
    const top = (await ws.client.call('evaluate.examples', { runId, filter: 'most-divergent', limit: 2 })).rows.map((x) => x.position);
    const inCopy = await ws.client.call('datasets.examples', { name: 'tickets', offset: 0, limit: 50 });
    expect(
      inCopy.rows
        .filter((x) => x.tags.includes('diverges'))
        .map((x) => x.position)
        .sort(),
    ).toEqual([...top].sort());
    await ws.client.call('datasets.undo', { name: 'tickets' });
    const undone = await ws.client.call('datasets.examples', { name: 'tickets', offset: 0, limit: 50 });
    expect(undone.rows.some((x) => x.tags.includes('diverges'))).toBe(false);
  }, 400_000);

  it('a server that dies mid-run fails the run with the reason; resumed when it is back, nothing is answered twice', async () => {
    const { runId } = await ws.client.call('evaluate.start', {
      dataset: 'tickets',
      variants: [{ kind: 'server', baseUrl, model: 'fixture-teacher', label: 'teacher', maxRetries: 1, timeoutMs: 5000 }],
      metrics: ['chrf'],
      generation: { ...generation, maxTokens: 24 },
      parallel: 1,
      divergence: false,
      systems: false,
    });
    const answered = () => (ws.app.db.prepare(`SELECT COUNT(*) AS n FROM eval_answers WHERE run_id = ?`).get(runId) as { n: number }).n;
    await waitUntil(() => answered() >= 1, 60_000, 'a first answer');
    await stopServer();
    const failed = await ws.app.runner.waitFor(runId);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/stopped answering .*resume the run when the server is back/);
    const kept = ws.app.db.prepare(`SELECT position, text, ms FROM eval_answers WHERE run_id = ? ORDER BY position`).all(runId) as { position: number }[];
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(TEST);

    await startServer();
    await ws.client.call('runs.resume', { id: runId });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('succeeded');
    const all = ws.app.db.prepare(`SELECT position, text, ms FROM eval_answers WHERE run_id = ? ORDER BY position`).all(runId) as { position: number }[];
    expect(all).toHaveLength(TEST);
    expect(all.filter((a) => kept.some((k) => k.position === a.position))).toEqual(kept);
  }, 400_000);
});
