import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';
import type { NormalizedExample } from '../../src-shared/domain/datasets.js';

const SAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'samples');
let ws: Workspace;
let original: NormalizedExample[];

/** Imports `file` as `name` and returns all its examples. */
async function importAll(file: string, name: string): Promise<NormalizedExample[]> {
  const { runId } = await ws.client.call('datasets.import', { path: file, name });
  expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
  const page = await ws.client.call('datasets.examples', { name, offset: 0, limit: 500 });
  return page.rows.map(({ messages, reference }) => ({ messages, reference }));
}

beforeAll(async () => {
  ws = makeWorkspace();
  // Multi-turn with a system prompt, single-turn, and a prompt without answer: the shapes that matter for export.
  const file = path.join(tempDir(), 'source.jsonl');
  fs.writeFileSync(
    file,
    [
      ...fs.readFileSync(path.join(SAMPLES, 'sharegpt.jsonl'), 'utf8').trim().split('\n'),
      JSON.stringify({ conversations: [{ from: 'human', value: 'No answer yet' }] }),
    ].join('\n'),
  );
  original = await importAll(file, 'source');
});
afterAll(() => ws.close());

describe('dataset export', () => {
  for (const format of ['openai', 'sharegpt', 'alpaca'] as const) {
    it(`round-trips every example through ${format} JSONL, with a manifest`, async () => {
      const out = path.join(tempDir(), `source.${format}.jsonl`);
      const { runId } = await ws.client.call('datasets.export', { name: 'source', format, out });
      expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
      const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, 'utf8')) as Record<string, unknown>;
      expect(manifest).toMatchObject({ dataset: 'source', version: 1, format, examples: original.length, run: runId });
      expect(manifest.sha256).toBe(createHash('sha256').update(fs.readFileSync(out)).digest('hex'));
      expect(fs.existsSync(`${out}.partial`)).toBe(false);
      expect(await importAll(out, `back-${format}`)).toEqual(original);
    });
  }

  it('writes the shapes the trainers read', async () => {
    const out = path.join(tempDir(), 'a.jsonl');
    await ws.app.runner.waitFor((await ws.client.call('datasets.export', { name: 'source', format: 'alpaca', out })).runId);
    const [, multi] = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(multi).toEqual({
      instruction: 'A-1042',
      input: '',
      output: 'Thanks, it ships tomorrow.',
      system: 'You are a support agent.',
      history: [['My order is late.', 'Sorry to hear that. What is the order number?']],
    });
  });

  it('refuses an unknown dataset or version and a folder as the output', async () => {
    await expect(ws.client.call('datasets.export', { name: 'nope', format: 'openai', out: '/tmp/x.jsonl' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(ws.client.call('datasets.export', { name: 'source', version: 9, format: 'openai', out: '/tmp/x.jsonl' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(ws.client.call('datasets.export', { name: 'source', format: 'openai', out: tempDir() })).rejects.toMatchObject({ code: 'not_a_file' });
  });
});
