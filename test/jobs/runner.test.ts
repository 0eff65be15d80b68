import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ExternalJob } from '../../src-main/core/jobs/runner.js';
import { job } from '../../src-shared/contract/define.js';
import type { JobKindName } from '../../src-shared/contract/index.js';
import type { App } from '../../src-main/core/app.js';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../helpers/workspace.js';

const ItemsConfig = z.strictObject({ count: z.number().int(), delayMs: z.number().int(), failAt: z.number().int().nullable() });
type ItemsConfig = z.infer<typeof ItemsConfig>;

/** A job that writes one row per item into `test_out`, committing each item with its row. */
const itemsJob: ExternalJob<ItemsConfig> = {
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
      ctx.metric('items', i + 1, i);
    }
    ctx.lineage('output', 'file', '/tmp/out.jsonl', 'out.jsonl');
  },
};

function prepare(app: App): void {
  app.db.exec(`CREATE TABLE IF NOT EXISTS test_out (run_id INTEGER, item INTEGER)`);
  app.runner.registerExternal('test.items', job({ config: ItemsConfig, metrics: { items: 'items' } }), itemsJob);
}

/** The test's kinds are outside the contract: submitted under their own names. */
const testKind = (name: string) => name as JobKindName;

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

const rows = (app: App, runId: number) => app.db.prepare(`SELECT item FROM test_out WHERE run_id = ? ORDER BY item`).pluck().all(runId) as number[];

describe('job runner', () => {
  it('runs a job to success, storing progress, metrics, lineage and logs', async () => {
    const { app, client } = workspace();
    const changes: string[] = [];
    client.on('runs.changed', (r) => changes.push(r.status));
    const run = app.runner.submit(testKind('test.items'), { count: 5, delayMs: 1, failAt: null } as never);
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
    const run = app.runner.submit(testKind('test.items'), { count: 5, delayMs: 1, failAt: 3 } as never);
    const end = await app.runner.waitFor(run.id);
    expect(end.status).toBe('failed');
    expect(end.error).toBe('item 3 is broken');
    expect(rows(app, run.id)).toEqual([0, 1, 2]);
    const detail = await client.call('runs.get', { id: run.id });
    expect(detail.logs).toContainEqual(expect.objectContaining({ level: 'error', message: 'item 3 is broken' }));
  });

  it('cancels a running job promptly and a queued one before it starts', async () => {
    const { app, client } = workspace();
    const running = app.runner.submit(testKind('test.items'), { count: 1000, delayMs: 5, failAt: null } as never);
    const queued = app.runner.submit(testKind('test.items'), { count: 3, delayMs: 1, failAt: null } as never);
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
    const run = first.app.runner.submit(testKind('test.items'), { count: 40, delayMs: 10, failAt: null } as never);
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

  it('starts a kind that waits beside the busy slot, and it holds up none of the runs queued behind it', async () => {
    const { app, client } = workspace(); // one slot (the default)
    const waiter: ExternalJob<Record<string, never>> = {
      title: () => 'waits for a file',
      waits: true,
      async run(ctx) {
        ctx.progress(0, null, 'waiting');
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
      },
    };
    app.runner.registerExternal('test.waiter', job({ config: z.strictObject({}) }), waiter);
    const long = app.runner.submit(testKind('test.items'), { count: 1000, delayMs: 5, failAt: null } as never);
    const queued = app.runner.submit(testKind('test.items'), { count: 3, delayMs: 1, failAt: null } as never);
    const waiting = app.runner.submit(testKind('test.waiter'), {} as never);
    // submitted last, it runs at once beside the busy slot, while the second items run still waits for that slot
    await waitUntil(async () => (await client.call('runs.get', { id: waiting.id })).status === 'running', 10_000, 'the waiting run to start');
    expect((await client.call('runs.get', { id: long.id })).status).toBe('running');
    expect((await client.call('runs.get', { id: queued.id })).status).toBe('queued');
    await client.call('runs.cancel', { id: long.id });
    expect((await app.runner.waitFor(queued.id)).status).toBe('succeeded');
    expect(rows(app, queued.id)).toEqual([0, 1, 2]);
    expect((await client.call('runs.get', { id: waiting.id })).status).toBe('running');
    await client.call('runs.cancel', { id: waiting.id });
    expect((await app.runner.waitFor(waiting.id)).status).toBe('cancelled');
  });

  it('never inserts an item twice, even when a job commits the same key again', async () => {
    const { app } = workspace();
    const twice: ExternalJob<Record<string, never>> = {
      title: () => 'twice',
      async run(ctx) {
        const write = () => ctx.db.prepare(`INSERT INTO test_out (run_id, item) VALUES (?, 7)`).run(ctx.runId);
        expect(ctx.commitItem('k', write)).toBe(true);
        expect(ctx.commitItem('k', write)).toBe(false);
      },
    };
    app.runner.registerExternal('test.twice', job({ config: z.strictObject({}) }), twice);
    const run = app.runner.submit(testKind('test.twice'), {} as never);
    expect((await app.runner.waitFor(run.id)).status).toBe('succeeded');
    expect(rows(app, run.id)).toEqual([7]);
  });
});

describe('temporary files of runs', () => {
  const TempConfig = z.strictObject({ file: z.string(), fail: z.boolean() });
  /** Records a temporary file, writes it, then fails or waits until it is cancelled (or the app shuts down). */
  const tempJob: ExternalJob<z.infer<typeof TempConfig>> = {
    title: () => 'temp',
    async run(ctx) {
      fs.writeFileSync(ctx.tempFile(ctx.config.file), 'partial');
      ctx.progress(1, 2, 'written');
      if (ctx.config.fail) throw new Error('broken half-way');
      await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
    },
  };
  function tempWorkspace(dir?: string): Workspace {
    const ws = workspace(dir);
    ws.app.runner.registerExternal('test.temp', job({ config: TempConfig }), tempJob);
    return ws;
  }
  const recorded = (app: App) => app.db.prepare(`SELECT path FROM run_temp_files`).pluck().all() as string[];

  it('removes them when the run fails or is cancelled, and only them', async () => {
    const dir = tempDir();
    const neighbour = path.join(dir, 'out.gguf.tmp-1'); // a user's file with the same kind of name: never touched
    fs.writeFileSync(neighbour, 'mine');
    const { app, client } = tempWorkspace();
    const failing = path.join(dir, 'out.gguf.tmp-2');
    const failed = await app.runner.waitFor(app.runner.submit(testKind('test.temp'), { file: failing, fail: true } as never).id);
    expect(failed.status).toBe('failed');
    expect(fs.existsSync(failing)).toBe(false);
    expect((await client.call('runs.get', { id: failed.id })).logs.map((l) => l.message)).toContain(`Removed the temporary file ${failing}.`);

    const cancelling = path.join(dir, 'out.gguf.tmp-3');
    const run = app.runner.submit(testKind('test.temp'), { file: cancelling, fail: false } as never);
    await waitUntil(() => fs.existsSync(cancelling), 20_000, 'the temporary file');
    app.runner.cancel(run.id);
    expect((await app.runner.waitFor(run.id)).status).toBe('cancelled');
    expect(fs.existsSync(cancelling)).toBe(false);
    expect(fs.readFileSync(neighbour, 'utf8')).toBe('mine');
    expect(recorded(app)).toEqual([]);
  });

  it('removes those of a run the app left running at the next start-up', async () => {
    const dataDir = tempDir();
    const file = path.join(tempDir(), 'merged.gguf.tmp-4');
    const first = tempWorkspace(dataDir);
    const run = first.app.runner.submit(testKind('test.temp'), { file, fail: false } as never);
    await waitUntil(() => fs.existsSync(file), 20_000, 'the temporary file');
    // Files written outside runs (a PEFT conversion during import) are recorded under -pid: a dead process's are
    // leftovers, a living one's are still being written.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const orphan = path.join(tempDir(), 'lora.gguf.tmp-5');
    const inFlight = path.join(tempDir(), 'lora.gguf.tmp-6');
    for (const [pid, f] of [
      [dead, orphan],
      [process.ppid, inFlight],
    ] as const) {
      fs.writeFileSync(f, 'half');
      first.app.db.prepare(`INSERT INTO run_temp_files (run_id, path) VALUES (?, ?)`).run(-pid, f);
    }
    await first.close(); // the app stops: the run stays `running`, its file stays
    expect(fs.existsSync(file)).toBe(true);
    const second = tempWorkspace(dataDir);
    expect((await second.client.call('runs.get', { id: run.id })).status).toBe('interrupted');
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(orphan)).toBe(false);
    expect(fs.existsSync(inFlight)).toBe(true);
    expect(recorded(second.app)).toEqual([inFlight]);
  });
});
