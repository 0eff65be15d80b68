import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../helpers/workspace.js';

const open: Workspace[] = [];
afterEach(async () => {
  for (const ws of open.splice(0)) await ws.close().catch(() => undefined);
});

/** A workspace with dataset `tickets` imported from `n` records; every third is about billing, every fifth has no answer. */
async function tickets(n = 30): Promise<Workspace> {
  const ws = makeWorkspace();
  open.push(ws);
  const file = path.join(tempDir(), 'tickets.jsonl');
  const lines = [];
  for (let i = 1; i <= n; i++) {
    const topic = i % 3 === 0 ? 'billing invoice' : 'printer jam';
    lines.push(JSON.stringify(i % 5 === 0 ? { prompt: `ticket ${i}: ${topic}` } : { prompt: `ticket ${i}: ${topic}`, completion: `answer ${i}` }));
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'tickets' })).runId);
  return ws;
}

const positions = async (ws: Workspace, filter: Record<string, unknown> = {}, version?: number) =>
  (await ws.client.call('datasets.examples', { name: 'tickets', offset: 0, limit: 500, filter, ...(version ? { version } : {}) })).rows.map((r) => r.position);

describe('curation of a working copy', () => {
  it('tags a filtered selection, flags, deletes and undoes, then commits an immutable version', async () => {
    const ws = await tickets();
    const tagged = await ws.client.call('datasets.curate', {
      name: 'tickets',
      selection: { filter: { search: 'billing' } },
      action: { kind: 'tag', tag: 'billing' },
    });
    expect(tagged).toMatchObject({ affected: 10, skipped: 0, draft: { number: 2, basedOn: 1, exampleCount: 30 } });
    expect(tagged.label).toContain('matching “billing”');
    expect(await positions(ws, { tag: 'billing' })).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
    // tagging again changes nothing and adds no operation
    const again = await ws.client.call('datasets.curate', { name: 'tickets', selection: { positions: [3] }, action: { kind: 'tag', tag: 'billing' } });
    expect(again.affected).toBe(0);
    expect(again.draft!.operations).toHaveLength(1);

    await ws.client.call('datasets.curate', { name: 'tickets', selection: { positions: [1, 2] }, action: { kind: 'flag' } });
    expect(await positions(ws, { flagged: true })).toEqual([1, 2]);
    expect(await positions(ws, { flag: 'manual' })).toEqual([1, 2]);

    const deleted = await ws.client.call('datasets.curate', { name: 'tickets', selection: { filter: { hasReference: false } }, action: { kind: 'delete' } });
    expect(deleted.affected).toBe(6);
    expect((await positions(ws)).length).toBe(24);
    // version 1 is untouched while the working copy changes
    expect((await positions(ws, {}, 1)).length).toBe(30);
    expect(await positions(ws, { tag: 'billing' }, 1)).toEqual([]);

    const undone = await ws.client.call('datasets.undo', { name: 'tickets' });
    expect(undone.label).toMatch(/^Undid: Deleted: examples without a reference answer$/);
    expect((await positions(ws)).length).toBe(30);
    await ws.client.call('datasets.curate', { name: 'tickets', selection: { filter: { hasReference: false } }, action: { kind: 'delete' } });

    const v2 = await ws.client.call('datasets.commit', { name: 'tickets', message: 'billing tagged, prompt-only removed' });
    expect(v2).toMatchObject({ number: 2, exampleCount: 24, state: 'committed', message: 'billing tagged, prompt-only removed' });
    const detail = await ws.client.call('datasets.get', { name: 'tickets' });
    expect(detail.draft).toBeNull();
    expect(detail.versions.map((v) => v.number)).toEqual([1, 2]);
    expect(detail.tags).toEqual([{ tag: 'billing', count: 8 }]);

    // a new change starts version 3 from version 2; version 2 never changes again
    await ws.client.call('datasets.curate', { name: 'tickets', selection: { filter: { tag: 'billing' } }, action: { kind: 'untag', tag: 'billing' } });
    expect(await positions(ws, { tag: 'billing' })).toEqual([]);
    expect((await positions(ws, { tag: 'billing' }, 2)).length).toBe(8);
    await expect(ws.client.call('datasets.export', { name: 'tickets', version: 3, format: 'openai', out: path.join(tempDir(), 'x.jsonl') })).rejects.toThrow(
      /uncommitted working copy/,
    );
    expect(await ws.client.call('datasets.discard', { name: 'tickets' })).toEqual({ discarded: true });
    expect((await ws.client.call('datasets.get', { name: 'tickets' })).version.number).toBe(2);
    expect(ws.app.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('edits an example as new content: searchable, undoable, earlier versions keep the old text', async () => {
    const ws = await tickets(5);
    const r = await ws.client.call('datasets.edit', {
      name: 'tickets',
      position: 2,
      messages: [
        { role: 'user', content: 'ticket 2: the scanner is offline' },
        { role: 'assistant', content: 'power-cycle the scanner' },
      ],
    });
    expect(r.affected).toBe(1);
    expect(await positions(ws, { search: 'scanner' })).toEqual([2]);
    expect(await positions(ws, { search: 'scanner' }, 1)).toEqual([]);
    const row = (await ws.client.call('datasets.examples', { name: 'tickets', offset: 1, limit: 1 })).rows[0]!;
    expect(row.reference).toBe('power-cycle the scanner');
    await ws.client.call('datasets.undo', { name: 'tickets' });
    expect(await positions(ws, { search: 'scanner' })).toEqual([]);
    await expect(ws.client.call('datasets.edit', { name: 'tickets', position: 2, messages: [{ role: 'assistant', content: 'x' }] })).rejects.toThrow(
      /user message/,
    );
    await expect(ws.client.call('datasets.edit', { name: 'tickets', position: 99, messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow(
      /no example at position 99/,
    );
  });

  it('splits with a seed reproducibly, and a frozen test split survives later splits and deletes', async () => {
    const ws = await tickets(100);
    const split = await ws.client.call('datasets.split', { name: 'tickets', ratios: { train: 0.8, validation: 0.1, test: 0.1 }, seed: 7 });
    expect(split.affected).toBe(100);
    const detail = await ws.client.call('datasets.get', { name: 'tickets' });
    expect(detail.splits).toEqual({ train: 80, validation: 10, test: 10, none: 0 });
    const test1 = await positions(ws, { split: 'test' });
    await ws.client.call('datasets.commit', { name: 'tickets', message: 'splits' });

    // the same seed on the same rows gives the same assignment
    const other = await tickets(100);
    await other.client.call('datasets.split', { name: 'tickets', ratios: { train: 0.8, validation: 0.1, test: 0.1 }, seed: 7 });
    expect(await positions(other, { split: 'test' })).toEqual(test1);

    await ws.client.call('datasets.freezeTest', { name: 'tickets', frozen: true });
    const del = await ws.client.call('datasets.curate', { name: 'tickets', selection: { filter: { search: 'printer' } }, action: { kind: 'delete' } });
    const printerTests = (await positions(ws, { split: 'test', search: 'printer' })).length;
    expect(del.skipped).toBe(printerTests);
    expect(printerTests).toBeGreaterThan(0);
    await ws.client.call('datasets.split', { name: 'tickets', ratios: { train: 0.5, validation: 0.5, test: 0 }, seed: 99 });
    expect(await positions(ws, { split: 'test' })).toEqual(test1);
    await expect(ws.client.call('datasets.split', { name: 'tickets', ratios: { train: 0.5, validation: 0.2, test: 0.2 }, seed: 1 })).rejects.toThrow(
      /ratio|sum/i,
    );
  });

  it('diffs two versions: added, removed, changed and relabeled, with both sides', async () => {
    const ws = await tickets(10);
    await ws.client.call('datasets.curate', { name: 'tickets', selection: { positions: [1, 2] }, action: { kind: 'delete' } });
    await ws.client.call('datasets.curate', { name: 'tickets', selection: { positions: [3] }, action: { kind: 'tag', tag: 'x' } });
    await ws.client.call('datasets.edit', { name: 'tickets', position: 4, messages: [{ role: 'user', content: 'changed' }] });
    const diff = await ws.client.call('datasets.diff', { name: 'tickets', from: 1 });
    expect(diff).toMatchObject({ from: 1, to: 2, added: 0, removed: 2, changed: 1, relabeled: 1 });
    expect(diff.rows.map((r) => [r.position, r.change])).toEqual([
      [1, 'removed'],
      [2, 'removed'],
      [3, 'relabeled'],
      [4, 'changed'],
    ]);
    expect(diff.rows[3]!.before!.messages[0]!.content).toBe('ticket 4: printer jam');
    expect(diff.rows[3]!.after!.messages[0]!.content).toBe('changed');
    await ws.client.call('datasets.commit', { name: 'tickets', message: 'v2' });
    const back = await ws.client.call('datasets.diff', { name: 'tickets', from: 2, to: 1, only: 'added' });
    expect(back).toMatchObject({ added: 2, removed: 0 });
    expect(back.rows.map((r) => r.position)).toEqual([1, 2]);
  });

  it('refuses bad input at the boundary', async () => {
    const ws = await tickets(3);
    await expect(ws.client.call('datasets.curate', { name: 'tickets', selection: { positions: [1] }, action: { kind: 'tag', tag: 'a|b' } })).rejects.toThrow(
      /\|/,
    );
    await expect(ws.client.call('datasets.commit', { name: 'tickets', message: 'nothing' })).rejects.toThrow(/no changes/);
    await expect(ws.client.call('datasets.undo', { name: 'tickets' })).rejects.toThrow(/no change to undo/);
    await expect(ws.client.call('datasets.split', { name: 'tickets', seed: 1 } as never)).rejects.toThrow(/ratios or counts/);
    await expect(ws.client.call('datasets.freezeTest', { name: 'tickets', frozen: true })).rejects.toThrow(/no test split/);
  });
});

describe('datasets of several files', () => {
  it('adds a file as the next version, with its own source, filterable; a cancelled append leaves the dataset as it was', async () => {
    const ws = await tickets(4);
    const more = path.join(tempDir(), 'more.csv');
    fs.writeFileSync(more, 'question,answer\n"How do I print, double-sided?",Use the duplex option.\nWhere is my invoice?,In your account.\n');
    const { runId } = await ws.client.call('datasets.import', { path: more, name: 'tickets', append: true });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const d = await ws.client.call('datasets.get', { name: 'tickets' });
    expect(d.versions.map((v) => [v.number, v.exampleCount])).toEqual([
      [1, 4],
      [2, 6],
    ]);
    expect(d.version.message).toBe('Added more.csv (csv, columns question → answer)');
    expect(d.sources.map((s) => [s.idx, path.basename(s.file), s.examples])).toEqual([
      [0, 'tickets.jsonl', 4],
      [1, 'more.csv', 2],
    ]);
    const fromCsv = (await ws.client.call('datasets.examples', { name: 'tickets', offset: 0, limit: 10, filter: { source: 1 } })).rows;
    expect(fromCsv.map((r) => [r.source, r.messages[0]!.content])).toEqual([
      [{ file: 'more.csv', line: 2 }, 'How do I print, double-sided?'],
      [{ file: 'more.csv', line: 3 }, 'Where is my invoice?'],
    ]);
    expect((await ws.client.call('datasets.examples', { name: 'tickets', version: 1, offset: 0, limit: 10 })).total).toBe(4);

    // an append with uncommitted curation is refused; one cancelled midway leaves version 2 as the latest
    await ws.client.call('datasets.curate', { name: 'tickets', selection: { positions: [1] }, action: { kind: 'flag' } });
    await expect(ws.client.call('datasets.import', { path: more, name: 'tickets', append: true })).rejects.toThrow(/uncommitted changes/);
    await ws.client.call('datasets.discard', { name: 'tickets' });
    const big = path.join(tempDir(), 'big.jsonl');
    fs.writeFileSync(big, Array.from({ length: 200_000 }, (_, i) => JSON.stringify({ prompt: `q${i}` })).join('\n'));
    const cancelled = await ws.client.call('datasets.import', { path: big, name: 'tickets', append: true });
    await waitUntil(async () => (await ws.client.call('runs.get', { id: cancelled.runId })).progress.done > 0, 30_000, 'the append to start');
    await ws.client.call('runs.cancel', { id: cancelled.runId });
    expect((await ws.app.runner.waitFor(cancelled.runId)).status).toBe('cancelled');
    const after = await ws.client.call('datasets.get', { name: 'tickets' });
    expect(after.versions.map((v) => v.number)).toEqual([1, 2]);
    expect(after.sources).toHaveLength(2);
    expect(ws.app.db.prepare(`SELECT count(*) FROM examples`).pluck().get()).toBe(6);
  });
});
