import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';

// The split panel's "freeze test split" ticked together with Split, before any test split exists: the split makes
// the test split and freezes it in one step (before, freezing first was refused: "no test split to freeze").
let ws: Workspace;
beforeAll(async () => {
  ws = makeWorkspace();
  const file = path.join(tempDir(), 'notes.jsonl');
  fs.writeFileSync(file, Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `note ${i + 1}`, completion: `ok ${i + 1}` })).join('\n') + '\n');
  for (const name of ['notes', 'other']) await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name })).runId);
});
afterAll(() => ws.close());

const testPositions = async (name: string) =>
  (await ws.client.call('datasets.examples', { name, offset: 0, limit: 500, filter: { split: 'test' } })).rows.map((r) => r.position);

describe('split with freezeTest', () => {
  it('freezing alone is still refused before a test split exists, saying what to do', async () => {
    await expect(ws.client.call('datasets.freezeTest', { name: 'notes', frozen: true })).rejects.toMatchObject({
      message: /no test split to freeze; make splits first/,
    });
  });

  it('splits and freezes the test split it made; a later split keeps those test examples', async () => {
    const r = await ws.client.call('datasets.split', { name: 'notes', ratios: { train: 0.8, validation: 0.1, test: 0.1 }, seed: 1, freezeTest: true });
    expect(r.affected).toBe(40);
    const d = await ws.client.call('datasets.get', { name: 'notes', previewLimit: 0 });
    expect(d.testFrozen).toBe(true);
    expect(d.splits).toMatchObject({ train: 32, validation: 4, test: 4 });
    const frozen = await testPositions('notes');
    // another seed moves train and validation around, never the frozen test examples
    await ws.client.call('datasets.split', { name: 'notes', ratios: { train: 0.5, validation: 0.25, test: 0.25 }, seed: 99 });
    expect(await testPositions('notes')).toEqual(frozen);
  });

  it('refuses to freeze when the split makes no test example, and changes nothing', async () => {
    await expect(
      ws.client.call('datasets.split', { name: 'other', ratios: { train: 0.9, validation: 0.1, test: 0 }, seed: 1, freezeTest: true }),
    ).rejects.toMatchObject({ code: 'invalid_input', field: 'freezeTest' });
    const d = await ws.client.call('datasets.get', { name: 'other', previewLimit: 0 });
    expect(d.testFrozen).toBe(false);
    expect(d.draft?.operations ?? []).toEqual([]);
    expect(d.splits.none).toBe(40);
  });
});
