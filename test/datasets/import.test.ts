import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../helpers/workspace.js';

const SAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'samples');
const open: Workspace[] = [];
const workspace = (dataDir?: string) => {
  const ws = makeWorkspace(dataDir ? { dataDir } : {});
  open.push(ws);
  return ws;
};
afterEach(async () => {
  for (const ws of open.splice(0)) await ws.close().catch(() => undefined);
});

/** A JSONL file of `n` prompt/completion records. */
function bigFile(n: number): string {
  const file = path.join(tempDir(), 'big.jsonl');
  const fd = fs.openSync(file, 'w');
  for (let i = 1; i <= n; i += 1000) {
    const lines = [];
    for (let j = i; j < Math.min(i + 1000, n + 1); j++) lines.push(JSON.stringify({ prompt: `question ${j}`, completion: `answer ${j}` }));
    fs.writeSync(fd, lines.join('\n') + '\n');
  }
  fs.closeSync(fd);
  return file;
}

const examplesRows = (ws: Workspace) => ws.app.db.prepare(`SELECT count(*) FROM examples`).pluck().get() as number;

describe('dataset import runs', () => {
  it('imports a file with its format detected, as version 1, with a preview', async () => {
    const ws = workspace();
    const { runId, spec } = await ws.client.call('datasets.import', { path: path.join(SAMPLES, 'sharegpt.jsonl'), name: 'support' });
    expect(spec).toEqual({ container: 'jsonl', record: 'sharegpt' });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const [d] = await ws.client.call('datasets.list', {});
    expect(d).toMatchObject({ name: 'support', latest: { number: 1, exampleCount: 2, runId } });
    const detail = await ws.client.call('datasets.get', { name: 'support' });
    expect(detail.preview[1]!.messages[0]).toEqual({ role: 'system', content: 'You are a support agent.' });
    const run = await ws.client.call('runs.get', { id: runId });
    expect(run.lineage).toContainEqual({ direction: 'output', kind: 'dataset', ref: 'support', label: 'support@1' });
    await expect(ws.client.call('datasets.import', { path: path.join(SAMPLES, 'alpaca.jsonl'), name: 'support' })).rejects.toMatchObject({ code: 'conflict' });
    await expect(ws.client.call('datasets.get', { name: 'support', version: 2 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('previews a file before importing, and pages through a version in order', async () => {
    const ws = workspace();
    const file = bigFile(1_234);
    const preview = await ws.client.call('datasets.previewImport', { path: file, limit: 5 });
    expect(preview).toMatchObject({ spec: { container: 'jsonl', record: 'prompt-completion' }, linesRead: 5, rejects: [] });
    expect(preview.examples.map((e) => e.reference)).toEqual(['answer 1', 'answer 2', 'answer 3', 'answer 4', 'answer 5']);
    expect(await ws.client.call('datasets.list', {})).toEqual([]); // a preview imports nothing
    const { runId } = await ws.client.call('datasets.import', { path: file, name: 'paged' });
    await ws.app.runner.waitFor(runId);
    const page = await ws.client.call('datasets.examples', { name: 'paged', offset: 1_200, limit: 500 });
    expect(page.total).toBe(1_234);
    expect(page.rows).toHaveLength(34);
    expect(page.rows[0]).toMatchObject({ position: 1_201, reference: 'answer 1201' });
  });

  it('searches a version by words (full text) and filters by reference answer', async () => {
    const ws = workspace();
    const file = path.join(tempDir(), 'search.jsonl');
    fs.writeFileSync(
      file,
      [
        { prompt: 'My printer jams every morning', completion: 'Clean the rollers.' },
        { prompt: 'The printer shows error E-12' },
        { prompt: 'Café au lait recipe?', completion: 'Equal parts coffee and hot milk.' },
        { prompt: 'Where is my invoice?', completion: 'In your account, under Billing.' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'tickets' })).runId);
    const search = async (s: string, hasReference?: boolean) => {
      const page = await ws.client.call('datasets.examples', {
        name: 'tickets',
        offset: 0,
        limit: 50,
        filter: { search: s, ...(hasReference === undefined ? {} : { hasReference }) },
      });
      return { total: page.total, positions: page.rows.map((r) => r.position) };
    };
    expect(await search('printer')).toEqual({ total: 2, positions: [1, 2] });
    expect(await search('printer rollers')).toEqual({ total: 1, positions: [1] }); // every word, in prompt or answer
    expect(await search('cafe')).toEqual({ total: 1, positions: [3] }); // diacritics folded
    expect(await search('billing')).toEqual({ total: 1, positions: [4] });
    expect(await search('printer', false)).toEqual({ total: 1, positions: [2] });
    expect(await search('NEAR( "zzz')).toEqual({ total: 0, positions: [] }); // query syntax cannot break the search
    expect((await ws.client.call('datasets.examples', { name: 'tickets', offset: 0, limit: 50, filter: { hasReference: true } })).total).toBe(3);
  });

  it('reports malformed lines with numbers and reasons and imports the rest', async () => {
    const ws = workspace();
    const file = path.join(tempDir(), 'mixed.jsonl');
    fs.writeFileSync(file, ['{"prompt": "a"}', '{"prompt": 5}', 'oops', '{"prompt": "b", "completion": "B"}'].join('\n'));
    const { runId } = await ws.client.call('datasets.import', { path: file, name: 'mixed', format: 'prompt-completion' });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    expect((await ws.client.call('datasets.get', { name: 'mixed' })).version.exampleCount).toBe(2);
    const rejects = await ws.client.call('datasets.rejects', { runId });
    expect(rejects.map((r) => [r.line, r.reason.replace(/ \(.*/, '')])).toEqual([
      [2, 'prompt must be a string, not number'],
      [3, 'not valid JSON'],
    ]);
    const run = await ws.client.call('runs.get', { id: runId });
    expect(run.metrics).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'rejected', value: 2 })]));
    // the report's download: the rejected lines themselves, read again from the file
    const long = 'x'.repeat(300);
    fs.appendFileSync(file, `\n${long}`);
    const again = await ws.client.call('datasets.import', { path: file, name: 'mixed2', format: 'prompt-completion' });
    await ws.app.runner.waitFor(again.runId);
    const download = await ws.client.call('datasets.rejectedLines', { runId: again.runId });
    expect(download.lines.map((l) => [l.line, l.text, l.whole])).toEqual([
      [2, '{"prompt": 5}', true],
      [3, 'oops', true],
      [5, long, true],
    ]);
  });

  it('refuses a missing file and a file of no known format with clear errors', async () => {
    const ws = workspace();
    await expect(ws.client.call('datasets.import', { path: '/nope/x.jsonl', name: 'x' })).rejects.toMatchObject({ code: 'file_missing' });
    const odd = path.join(tempDir(), 'odd.jsonl');
    fs.writeFileSync(odd, '{"colour": "red", "size": 3}\n');
    const refused = ws.client.call('datasets.import', { path: odd, name: 'x' });
    await expect(refused).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(refused).rejects.toThrow(/odd\.jsonl/);
    // objects of another shape import through a column mapping: {"text": …} is a prompt
    const texts = path.join(tempDir(), 'texts.jsonl');
    fs.writeFileSync(texts, '{"text": "hello"}\n');
    const { spec } = await ws.client.call('datasets.import', { path: texts, name: 'texts' });
    expect(spec).toEqual({ container: 'jsonl', mapping: { prompt: 'text' } });
    await expect(ws.client.call('datasets.import', { path: odd, name: 'a/b' })).rejects.toMatchObject({ code: 'invalid_input', field: 'name' });
  });

  it('a cancelled import leaves no partial dataset', async () => {
    const ws = workspace();
    const before = examplesRows(ws);
    const { runId } = await ws.client.call('datasets.import', { path: bigFile(300_000), name: 'big' });
    await waitUntil(() => (ws.app.db.prepare(`SELECT count(*) FROM run_items WHERE run_id = ?`).pluck().get(runId) as number) >= 2, 30_000, 'batches');
    await ws.client.call('runs.cancel', { id: runId });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('cancelled');
    expect(await ws.client.call('datasets.list', {})).toEqual([]);
    await expect(ws.client.call('datasets.get', { name: 'big' })).rejects.toMatchObject({ code: 'not_found' });
    expect(examplesRows(ws)).toBe(before);
  });

  it('an import interrupted by a shutdown resumes after its last batch, without duplicates', async () => {
    const first = workspace();
    const n = 120_000;
    const { runId } = await first.client.call('datasets.import', { path: bigFile(n), name: 'resumed' });
    await waitUntil(() => (first.app.db.prepare(`SELECT count(*) FROM run_items WHERE run_id = ?`).pluck().get(runId) as number) >= 3, 30_000, 'batches');
    await first.close();
    open.splice(open.indexOf(first), 1);

    const second = workspace(first.dir);
    expect((await second.client.call('runs.get', { id: runId })).status).toBe('interrupted');
    // as if the process had died between committing the last batch and indexing it
    const db = second.app.db;
    const lastLine = db.prepare(`SELECT max(position) FROM version_examples`).pluck().get() as number;
    const unindexed = db
      .prepare(`SELECT example_id FROM version_examples WHERE position > ?`)
      .pluck()
      .all(lastLine - 2000) as number[];
    for (const id of unindexed) db.prepare(`DELETE FROM search.examples_fts WHERE rowid = ?`).run(id);
    // (min: the indexing thread may have been further behind than one batch when the app closed)
    db.prepare(`UPDATE search.fts_progress SET last_line = min(last_line, ?) WHERE run_id = ?`).run(lastLine - 2000, runId);
    expect(await second.client.call('datasets.list', {})).toEqual([]); // still hidden
    await second.client.call('runs.resume', { id: runId });
    expect((await second.app.runner.waitFor(runId)).status).toBe('succeeded');
    const detail = await second.client.call('datasets.get', { name: 'resumed', previewLimit: 2 });
    expect(detail.version.exampleCount).toBe(n);
    expect(examplesRows(second)).toBe(n);
    const distinct = second.app.db.prepare(`SELECT count(DISTINCT source_line) FROM examples`).pluck().get();
    expect(distinct).toBe(n);
    expect(detail.preview[0]!.messages[0]!.content).toBe('question 1');
    // the full-text index (written by its own thread) holds every example once, including those the first attempt
    // committed but had not indexed yet
    const indexed = second.app.db.prepare(`SELECT count(*) FROM search.examples_fts`).pluck().get();
    expect(indexed).toBe(n);
    for (const line of [1, 5_000, 60_001, n, lastLine /* un-indexed above, indexed again by the resume */]) {
      const hits = await second.client.call('datasets.examples', { name: 'resumed', offset: 0, limit: 5, filter: { search: `question ${line}` } });
      expect(hits.rows.map((r) => r.position)).toContain(line);
    }
  });

  it('refuses a small file with no valid record before a run starts; a larger one ends its run failed, leaving nothing', async () => {
    const ws = workspace();
    const bad = (n: number) =>
      Array.from({ length: n }, (_, i) => JSON.stringify({ messages: [{ role: 'assistant', content: `no question ${i}` }] })).join('\n') + '\n';
    const small = path.join(tempDir(), 'answers-only.jsonl');
    fs.writeFileSync(small, bad(20));
    const refused = ws.client.call('datasets.import', { path: small, name: 'nothing', format: 'openai' });
    await expect(refused).rejects.toMatchObject({ code: 'invalid_input', field: 'path' });
    await expect(refused).rejects.toThrow(/^answers-only\.jsonl has no valid record \(20 rejected; line 1: .+\): nothing to import$/);
    expect(await ws.client.call('runs.list', { kind: 'datasets.import' })).toEqual([]);

    // too large to read whole before starting: the run reads it, imports nothing, and fails saying so
    const large = path.join(tempDir(), 'large.jsonl');
    fs.writeFileSync(large, bad(30_000));
    expect(fs.statSync(large).size).toBeGreaterThan(1 << 20);
    const { runId } = await ws.client.call('datasets.import', { path: large, name: 'nothing', format: 'openai' });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('failed');
    expect(end.error).toMatch(/^nothing imported from large\.jsonl: all 30000 record\(s\) were rejected \(line 1: .+\)$/);
    await expect(ws.client.call('datasets.get', { name: 'nothing' })).rejects.toMatchObject({ code: 'not_found' });
    expect(examplesRows(ws)).toBe(0);
    // the rejects report stays with the run
    expect((await ws.client.call('datasets.rejects', { runId })).length).toBeGreaterThan(0);

    // appending nothing leaves the dataset at its version
    const { runId: ok } = await ws.client.call('datasets.import', { path: path.join(SAMPLES, 'sharegpt.jsonl'), name: 'support' });
    await ws.app.runner.waitFor(ok);
    const append = await ws.client.call('datasets.import', { path: large, name: 'support', format: 'openai', append: true });
    expect((await ws.app.runner.waitFor(append.runId)).status).toBe('failed');
    const d = await ws.client.call('datasets.get', { name: 'support' });
    expect(d.version).toMatchObject({ number: 1, exampleCount: 2 });
    expect(d.versions).toHaveLength(1);
  });
});
