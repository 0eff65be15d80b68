import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';
import { fixtureModel } from '../fixtures/models.js';

const open: Workspace[] = [];
afterEach(async () => {
  for (const ws of open.splice(0)) await ws.close().catch(() => undefined);
});

async function dataset(records: object[], name = 'd'): Promise<Workspace> {
  const ws = makeWorkspace();
  open.push(ws);
  const file = path.join(tempDir(), `${name}.jsonl`);
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const run = await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name })).runId);
  expect(run.status).toBe('succeeded');
  return ws;
}

const rows = async (ws: Workspace, filter: Record<string, unknown> = {}) =>
  (await ws.client.call('datasets.examples', { name: 'd', offset: 0, limit: 500, filter })).rows;

describe('scan runs: quality and PII', () => {
  it('flags PII per kind and quality problems, counts them, and redacts on request (undoable)', async () => {
    const ws = await dataset([
      { prompt: 'Mail me at jane.doe@example.com please', completion: 'Sure, noted.' },
      { prompt: 'My card is 4111 1111 1111 1111, charge it', completion: 'Done.' },
      { prompt: 'Card 4111 1111 1111 1112 was refused', completion: 'That number fails the check digit.' }, // invalid Luhn: no PII
      { prompt: 'Server at 10.0.0.254 is down since 2024-01-15', completion: 'Restart it.' },
      { prompt: 'Set OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z and retry', completion: 'Works now.' },
      { prompt: 'What is the answer?', completion: '   ' },
      { prompt: 'Explain the steps', completion: 'Open the lid first. Then you take the' },
      { prompt: 'Version 1.2.3.4.5 of the tool', completion: 'Update it.' },
    ]);
    const { runId } = await ws.client.call('datasets.scan', { name: 'd' });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const run = await ws.client.call('runs.get', { id: runId });
    const metrics = Object.fromEntries(run.metrics.map((m) => [m.name, m.value]));
    expect(metrics).toMatchObject({
      'pii:email': 1,
      'pii:credit-card': 1,
      'pii:ip': 1,
      'pii:secret': 1,
      'quality:empty-answer': 1,
      'quality:truncated-answer': 1,
    });
    expect(metrics['pii:phone']).toBeUndefined(); // the date is not a phone number
    const flagged = await rows(ws, { flagged: true });
    expect(flagged.map((r) => [r.position, r.flags])).toEqual([
      [1, ['pii:email']],
      [2, ['pii:credit-card']],
      [4, ['pii:ip']],
      [5, ['pii:secret']],
      [6, ['quality:empty-answer']],
      [7, ['quality:truncated-answer']],
    ]);
    expect((await rows(ws, { flag: 'pii:email' })).map((r) => r.position)).toEqual([1]);
    const { flags } = await ws.client.call('datasets.get', { name: 'd' });
    expect(flags).toEqual(
      expect.arrayContaining([
        { flag: 'pii:email', count: 1 },
        { flag: 'quality:empty-answer', count: 1 },
      ]),
    );
    expect(flags).toHaveLength(6);

    const redact = await ws.client.call('datasets.scan', { name: 'd', quality: false, pii: 'redact' });
    await ws.app.runner.waitFor(redact.runId);
    const after = await rows(ws);
    expect(after[0]!.messages[0]!.content).toBe('Mail me at [EMAIL] please');
    expect(after[1]!.messages[0]!.content).toBe('My card is [CREDIT_CARD], charge it');
    expect(after[2]!.messages[0]!.content).toContain('4111 1111 1111 1112');
    expect(after[4]!.messages[0]!.content).not.toContain('sk-proj');
    // the raw text is still in version 1, and the search index follows the redaction
    expect((await rows(ws, { search: 'jane.doe' })).length).toBe(0);
    const v1 = await ws.client.call('datasets.examples', { name: 'd', version: 1, offset: 0, limit: 1 });
    expect(v1.rows[0]!.messages[0]!.content).toContain('jane.doe@example.com');
    // undo the flags of the second scan, then the redaction
    await ws.client.call('datasets.undo', { name: 'd' });
    await ws.client.call('datasets.undo', { name: 'd' });
    expect((await rows(ws))[0]!.messages[0]!.content).toContain('jane.doe@example.com');
  });
});

describe('duplicate detection runs', () => {
  it('finds exact and near clusters for review, keeps the chosen one, and never deletes from a frozen test split', async () => {
    const base = 'the quick brown fox jumps over the lazy dog near the river bank while the farmer watches from the old barn';
    const ws = await dataset([
      { prompt: base, completion: 'a' }, // 1
      { prompt: base.toUpperCase(), completion: 'A' }, // 2: exact after normalization
      { prompt: base.replace('lazy', 'sleepy'), completion: 'a' }, // 3: near
      { prompt: 'an entirely different question about invoices and refunds for the month of june', completion: 'b' }, // 4
      { prompt: 'what is the capital of france and why is it famous for its museums', completion: 'c' }, // 5
    ]);
    const exact = await ws.client.call('datasets.dedupe', { name: 'd' });
    await ws.app.runner.waitFor(exact.runId);
    let clusters = await ws.client.call('datasets.clusters', { name: 'd' });
    expect(clusters.clusters.map((c) => c.members.map((m) => m.position))).toEqual([[1, 2]]);

    const near = await ws.client.call('datasets.dedupe', { name: 'd', near: 0.7 });
    await ws.app.runner.waitFor(near.runId);
    clusters = await ws.client.call('datasets.clusters', { name: 'd' });
    expect(clusters.total).toBe(1);
    expect(clusters.clusters[0]!.members.map((m) => m.position)).toEqual([1, 2, 3]);
    expect((await rows(ws, { duplicates: true })).map((r) => r.position)).toEqual([1, 2, 3]);
    expect((await rows(ws, { cluster: 1 })).map((r) => r.cluster)).toEqual([1, 1, 1]);

    // 3 is in a frozen test split: it stays whatever is chosen; the user keeps 2 otherwise
    await ws.client.call('datasets.split', { name: 'd', counts: { test: 0, validation: 0 }, seed: 1 });
    ws.app.db.prepare(`UPDATE version_examples SET split = 'test' WHERE position = 3 AND version_id = (SELECT max(id) FROM dataset_versions)`).run();
    await ws.client.call('datasets.freezeTest', { name: 'd', frozen: true });
    const resolved = await ws.client.call('datasets.resolveDuplicates', { name: 'd', keep: [{ cluster: 1, position: 2 }] });
    expect(resolved).toMatchObject({ affected: 1, skipped: 1 });
    expect((await rows(ws)).map((r) => r.position)).toEqual([2, 3, 4, 5]);
  });
});

describe('token counts', () => {
  it('counts every example with a model tokenizer (vocabulary only), caches them and filters by length', async () => {
    const ws = await dataset([
      { prompt: 'hi', completion: 'hello' },
      { prompt: 'please summarise the following long support ticket about a printer that keeps jamming', completion: 'Clean the rollers.' },
    ]);
    const model = await ws.client.call('models.add', { path: await fixtureModel('student'), roles: ['student'] });
    const { runId } = await ws.client.call('datasets.countTokens', { name: 'd', modelId: model.id });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('succeeded');
    const all = await rows(ws, { tokenizerModel: model.id });
    const [short, long] = all.map((r) => r.tokens!);
    expect(short).toBeGreaterThan(1);
    expect(long).toBeGreaterThan(short! * 4);
    expect((await rows(ws, { tokenizerModel: model.id, minTokens: short! + 1 })).map((r) => r.position)).toEqual([2]);
    expect((await rows(ws, { tokenizerModel: model.id, maxTokens: short! })).map((r) => r.position)).toEqual([1]);
    // a second count finds everything cached
    const again = await ws.app.runner.waitFor((await ws.client.call('datasets.countTokens', { name: 'd', modelId: model.id })).runId);
    expect(again.status).toBe('succeeded');
    const detail = await ws.client.call('runs.get', { id: again.id });
    expect(detail.metrics.find((m) => m.name === 'examples_counted')?.value).toBe(0);
  });
});

describe('tool-calling examples in scans and token counts', () => {
  const weather = {
    type: 'function',
    function: {
      name: 'get_current_weather',
      description: 'Get the current weather in a city',
      parameters: { type: 'object', properties: { location: { type: 'string' } } },
    },
  };
  const call = (args: string) => ({
    role: 'assistant',
    tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_current_weather', arguments: args } }],
  });

  it('counts the tokens of tool calls and tools, not only of message text', async () => {
    const ws = await dataset([
      {
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: '' },
        ],
      },
      { messages: [{ role: 'user', content: 'Weather in Paris?' }, call('{"location": "Paris, France", "unit": "celsius"}')], tools: [weather] },
    ]);
    const model = await ws.client.call('models.add', { path: await fixtureModel('student'), roles: ['student'] });
    expect((await ws.app.runner.waitFor((await ws.client.call('datasets.countTokens', { name: 'd', modelId: model.id })).runId)).status).toBe('succeeded');
    const [plain, tools] = (await rows(ws, { tokenizerModel: model.id })).map((r) => r.tokens!);
    expect(tools! - plain!).toBeGreaterThan(30); // the call, its arguments and the tool's schema
  });

  it("finds PII in a call's arguments and redacts it there, keeping the call", async () => {
    const ws = await dataset([{ messages: [{ role: 'user', content: 'Mail the report' }, call('{"to": "jane.doe@example.com"}')] }]);
    const { runId } = await ws.client.call('datasets.scan', { name: 'd', pii: 'redact' });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const [row] = await rows(ws);
    expect(row!.flags).toContain('pii:email');
    const args = row!.messages[1]!.tool_calls![0]!.function.arguments;
    expect(args).not.toContain('jane.doe@example.com');
    expect(Object.keys(JSON.parse(args) as object)).toEqual(['to']); // still JSON
  });
});
