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
  return page.rows.map(({ messages, reference, tools }) => ({ messages, reference, ...(tools ? { tools } : {}) }));
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
    const [, multi] = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
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
    await expect(ws.client.call('datasets.export', { name: 'source', version: 9, format: 'openai', out: '/tmp/x.jsonl' })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(ws.client.call('datasets.export', { name: 'source', format: 'openai', out: tempDir() })).rejects.toMatchObject({ code: 'not_a_file' });
  });
});

describe('dataset export of tool-calling conversations, content parts and per-message fields', () => {
  // LLaMA-Factory's glaive_toolcall_en_demo records (function_call / observation turns, tools as a JSON string) and
  // OpenAI's fine-tuning tool examples (tool_calls, tool messages, tools), text parts, name, weight, loss_weight.
  let sharegpt: NormalizedExample[];
  let openai: NormalizedExample[];
  beforeAll(async () => {
    sharegpt = await importAll(path.join(SAMPLES, 'sharegpt-tools.jsonl'), 'sg-tools');
    openai = await importAll(path.join(SAMPLES, 'openai-tools.jsonl'), 'oa-tools');
    expect(sharegpt.filter((e) => e.tools)).toHaveLength(2);
    expect(openai.filter((e) => e.messages.some((m) => m.tool_calls))).toHaveLength(2);
  });
  const exportAs = async (name: string, format: 'openai' | 'sharegpt' | 'alpaca', container: 'jsonl' | 'parquet') => {
    const out = path.join(tempDir(), `${name}.${format}.${container}`);
    const { runId } = await ws.client.call('datasets.export', { name, format, container, out });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    return { out, runId };
  };

  for (const container of ['jsonl', 'parquet'] as const) {
    for (const format of ['openai', 'sharegpt'] as const) {
      it(`ShareGPT tool calls round-trip through ${format} ${container}`, async () => {
        const { out } = await exportAs('sg-tools', format, container);
        expect(await importAll(out, `sg-${format}-${container}`)).toEqual(sharegpt);
      });
    }
    it(`OpenAI tool calls, parts and weights round-trip through openai ${container}`, async () => {
      const { out } = await exportAs('oa-tools', 'openai', container);
      expect(await importAll(out, `oa-openai-${container}`)).toEqual(openai);
    });
  }

  it('ShareGPT export writes function_call / observation turns and tools as a JSON string', async () => {
    const { out } = await exportAs('oa-tools', 'sharegpt', 'jsonl');
    const [, answered] = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { conversations: { from: string; value: string }[]; tools?: string });
    expect(answered!.conversations.map((t) => t.from)).toEqual(['human', 'function_call', 'observation', 'gpt']);
    expect(JSON.parse(answered!.conversations[1]!.value)).toEqual({ name: 'get_current_weather', arguments: { location: 'Paris, France', format: 'celsius' } });
    expect(JSON.parse(answered!.tools!)).toEqual([openai[1]!.tools![0]!.function]);
    // the examples without tools come back equal through ShareGPT too (weights and names kept on the turns)
    expect((await importAll(out, 'oa-sharegpt')).slice(2)).toEqual(openai.slice(2));
  });

  it('Alpaca has no tool form: such examples are left out, counted in the log and the manifest', async () => {
    const { out, runId } = await exportAs('sg-tools', 'alpaca', 'jsonl');
    expect(fs.readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(1);
    const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ examples: 1, skipped: { 'Alpaca has no form for tools, tool calls or tool results': 2 } });
    const run = await ws.client.call('runs.get', { id: runId });
    expect(run.logs.map((l) => l.message)).toContain(
      '2 example(s) not exported: Alpaca has no form for tools, tool calls or tool results (positions 1, 3); export them as openai or sharegpt.',
    );
    expect(run.metrics.find((m) => m.name === 'examples_skipped')?.value).toBe(2);
  });

  it("search sees tool calls and tools' descriptions; an edit keeps the tools", async () => {
    const count = async (search: string) => (await ws.client.call('datasets.examples', { name: 'sg-tools', offset: 0, limit: 10, filter: { search } })).total;
    expect(await count('calculate_area')).toBe(1); // a call's name
    expect(await count('rectangle')).toBe(1); // its arguments
    expect(await count('discounted')).toBe(1); // a tool's description
    expect(await count('convert_currency EUR')).toBe(1);
    const page = await ws.client.call('datasets.examples', { name: 'sg-tools', offset: 0, limit: 10 });
    const row = page.rows[0]!;
    await ws.client.call('datasets.edit', {
      name: 'sg-tools',
      position: row.position,
      messages: [...row.messages.slice(0, -1), { role: 'assistant', content: 'It is 15.' }],
    });
    const edited = (await ws.client.call('datasets.examples', { name: 'sg-tools', version: 2, offset: 0, limit: 1 })).rows[0]!;
    expect(edited.tools).toEqual(row.tools);
    expect(edited.messages[1]!.tool_calls).toEqual(row.messages[1]!.tool_calls);
    expect(edited.reference).toBe('It is 15.');
    expect(
      (await ws.client.call('datasets.examples', { name: 'sg-tools', version: 2, offset: 0, limit: 10, filter: { search: 'calculate_area' } })).total,
    ).toBe(1);
  });
});
