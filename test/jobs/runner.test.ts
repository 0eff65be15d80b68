import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobKind } from '../../src-main/core/jobs/types.js';
import type { App } from '../../src-main/core/app.js';
import { makeWorkspace, waitUntil, type Workspace } from '../helpers/workspace.js';

const ItemsConfig = z.strictObject({ count: z.number().int(), delayMs: z.number().int(), failAt: z.number().int().nullable() });
type ItemsConfig = z.infer<typeof ItemsConfig>;

/** A job that writes one row per item into `test_out`, committing each item with its row. */
const itemsJob: JobKind<ItemsConfig> = {
  kind: 'test.items',
  schema: ItemsConfig,
  title: (c) => `${c.count} items`,
  async run(ctx) {
    const done = ctx.doneItems();
    for (let i = 0; i < ctx.config.count; i++) {
      ctx.progress(i, ctx.config.count);
      if (done.has(`item-${i}`)) continue;
      await new Promise((r) => setTimeout(r, ctx.config.delayMs));
      ctx.throwIfCancelled();
      if (i === ctx.config.failAt) throw new Error(`item ${i} is broken`);
      ctx.commitItem(`item-${i}`, (db) => db.prepare(`INSERT INTO test_out (run_id, item) VALUES (?, ?)`).run(ctx.runId, i));
      ctx.metric('items', i + 1, 'items', i);
    }
    ctx.lineage('output', 'file', '/tmp/out.jsonl', 'out.jsonl');
  },
};

function prepare(app: App): void {
  app.db.exec(`CREATE TABLE IF NOT EXISTS test_out (run_id INTEGER, item INTEGER)`);
  app.runner.register(itemsJob);
}

const open: Workspace[] = [];
function workspace(dir?: string): Workspace {
  const ws = makeWorkspace(dir ? { dataDir: dir } : {});
  prepare(ws.app);
  open.push(ws);
  return ws;
}
afterEach(async () => {
  for (const ws of open.splice(0)) await ws.close().catch(() => undefined);
});

const rows = (app: App, runId: number) =>
  app.db.prepare(`SELECT item FROM test_out WHERE run_id = ? ORDER BY item`).pluck().all(runId) as number[];

describe('job runner', () => {
  it('runs a job to success, storing progress, metrics, lineage and logs', async () => {
    const { app, client } = workspace();
    const changes: string[] = [];
    client.on('runs.changed', (r) => changes.push(r.status));
    const run = app.runner.submit('test.items', { count: 5, delayMs: 1, failAt: null });
    const end = await app.runner.waitFor(run.id);
    expect(end.status).toBe('succeeded');
    expect(rows(app, run.id)).toEqual([0, 1, 2, 3, 4]);
    const detail = await client.call('runs.get', { id: run.id });
    expect(detail.itemsDone).toBe(5);
    expect(detail.metrics.filter((m) => m.name === 'items').map((m) => m.value)).toEqual([1, 2, 3, 4, 5]);
    expect(detail.lineage).toContainEqual({ direction: 'output', kind: 'file', ref: '/tmp/out.jsonl', label: 'out.jsonl' });
    expect(detail.logs.at(-1)?.message).toBe('Succeeded.');
    expect(changes[0]).toBe('queued');
    expect(changes).toContain('running');
    expect(changes.at(-1)).toBe('succeeded');
  });

  it('marks a job that throws as failed with its message, keeping the items it committed', async () => {
    const { app, client } = workspace();
    const run = app.runner.submit('test.items', { count: 5, delayMs: 1, failAt: 3 });
    const end = await app.runner.waitFor(run.id);
    expect(end.status).toBe('failed');
    expect(end.error).toBe('item 3 is broken');
    expect(rows(app, run.id)).toEqual([0, 1, 2]);
    const detail = await client.call('runs.get', { id: run.id });
    expect(detail.logs.some((l) => l.level === 'error' && l.message === 'item 3 is broken')).toBe(true);
  });

  it('cancels a running job promptly and a queued one before it starts', async () => {
    const { app, client } = workspace();
    const running = app.runner.submit('test.items', { count: 1000, delayMs: 5, failAt: null });
    const queued = app.runner.submit('test.items', { count: 3, delayMs: 1, failAt: null });
    await waitUntil(() => rows(app, running.id).length >= 3, 10_000, 'items');
    expect((await client.call('runs.cancel', { id: queued.id })).status).toBe('cancelled');
    await client.call('runs.cancel', { id: running.id });
    const end = await app.runner.waitFor(running.id);
    expect(end.status).toBe('cancelled');
    expect(rows(app, running.id).length).toBeLessThan(1000);
    expect(rows(app, queued.id)).toEqual([]);
    await expect(client.call('runs.cancel', { id: running.id })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('marks a run left running by a dead process as interrupted, and resumes it without duplicates', async () => {
    const first = workspace();
    const run = first.app.runner.submit('test.items', { count: 40, delayMs: 10, failAt: null });
    await waitUntil(() => rows(first.app, run.id).length >= 5, 10_000, 'items');
    await first.close(); // like a crash: the row stays `running`
    open.splice(open.indexOf(first), 1);

    const second = workspace(first.dir);
    const after = await second.client.call('runs.get', { id: run.id });
    expect(after.status).toBe('interrupted');
    const committed = after.itemsDone;
    expect(committed).toBeGreaterThanOrEqual(5);
    expect(rows(second.app, run.id)).toHaveLength(committed);

    await second.client.call('runs.resume', { id: run.id });
    const end = await second.app.runner.waitFor(run.id);
    expect(end.status).toBe('succeeded');
    const items = rows(second.app, run.id);
    expect(items).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await expect(second.client.call('runs.resume', { id: run.id })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('never inserts an item twice, even when a job commits the same key again', async () => {
    const { app } = workspace();
    const twice: JobKind<Record<string, never>> = {
      kind: 'test.twice',
      schema: z.strictObject({}),
      title: () => 'twice',
      async run(ctx) {
        const write = () => ctx.db.prepare(`INSERT INTO test_out (run_id, item) VALUES (?, 7)`).run(ctx.runId);
        expect(ctx.commitItem('k', write)).toBe(true);
        expect(ctx.commitItem('k', write)).toBe(false);
      },
    };
    app.runner.register(twice);
    const run = app.runner.submit('test.twice', {});
    expect((await app.runner.waitFor(run.id)).status).toBe('succeeded');
    expect(rows(app, run.id)).toEqual([7]);
  });
});
