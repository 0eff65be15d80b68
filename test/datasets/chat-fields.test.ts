import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readJsonl, type JsonlItem } from '../../src-main/core/datasets/formats/jsonl.js';
import { toRecord, unrepresentable } from '../../src-main/core/datasets/formats/denormalize.js';
import { FTS_TEXT_SQL, ftsText } from '../../src-main/core/store/search-db.js';
import Database from 'better-sqlite3';
import type { JsonRecordFormat, NormalizedExample } from '../../src-shared/domain/datasets.js';
import { tempDir } from '../helpers/tmp.js';

// Records as LLaMA-Factory's data/glaive_toolcall_en_demo.json and OpenAI's fine-tuning docs write them.
const SAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'samples');

async function all(file: string, format: JsonRecordFormat): Promise<JsonlItem[]> {
  const out: JsonlItem[] = [];
  for await (const item of readJsonl(file, format)) out.push(item);
  return out;
}
const sampleItems = (file: string, format: JsonRecordFormat) => all(path.join(SAMPLES, file), format);
const examples = (items: JsonlItem[]) => items.flatMap((i) => ('example' in i ? [i.example] : []));
const reasons = (items: JsonlItem[]) => items.flatMap((i) => ('rejected' in i ? [[i.line, i.rejected.reason]] : []));
const lines = (...records: unknown[]) => {
  const file = path.join(tempDir(), 'x.jsonl');
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
};

describe('tool calls, content parts and per-message fields', () => {
  it("reads LLaMA-Factory's ShareGPT function_call / observation turns and its tools JSON string", async () => {
    const [area, plain, currency] = examples(await all(path.join(SAMPLES, 'sharegpt-tools.jsonl'), 'sharegpt'));
    expect(area!.messages.slice(0, 4)).toEqual([
      { role: 'user', content: 'I need to calculate the area of a rectangle. The length is 5 units and the breadth is 3 units.' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'calculate_area', arguments: '{"shape":"rectangle","dimensions":[5,3]}' } }],
      },
      { role: 'tool', content: '{"area": 15}', tool_call_id: 'call_1' },
      { role: 'assistant', content: 'The area of the rectangle with length 5 units and breadth 3 units is 15 square units.' },
    ]);
    expect(area!.messages[5]!.tool_calls![0]!.id).toBe('call_2');
    expect(area!.messages[6]!.tool_call_id).toBe('call_2');
    expect(area!.tools!.map((t) => [t.type, t.function.name])).toEqual([
      ['function', 'calculate_area'],
      ['function', 'calculate_discount'],
    ]);
    expect(area!.tools![0]!.function.parameters).toMatchObject({ required: ['shape', 'dimensions'] });
    expect(plain!.tools).toBeUndefined(); // "tools": "[]"
    expect(currency!.messages[0]).toEqual({ role: 'system', content: 'You are a helpful assistant with access to functions.' });
    expect(currency!.messages.at(-1)).toEqual({ role: 'assistant', content: '1000 US dollars is approximately 850 euros.', loss_weight: 1 });
  });

  it("reads OpenAI's tool_calls, tool messages, tools, text parts in both forms, name, weight and loss_weight", async () => {
    const [call, answered, marv, prime] = examples(await all(path.join(SAMPLES, 'openai-tools.jsonl'), 'openai'));
    expect(call!.messages[1]).toEqual({
      role: 'assistant',
      content: '',
      tool_calls: [
        { id: 'call_id', type: 'function', function: { name: 'get_current_weather', arguments: '{"location": "San Francisco, USA", "format": "celsius"}' } },
      ],
    });
    // a conversation ending in a call: the call is the reference answer
    expect(call!.reference).toBe('get_current_weather({"location": "San Francisco, USA", "format": "celsius"})');
    expect(call!.tools![0]!.function.name).toBe('get_current_weather');
    expect(answered!.messages[3]).toEqual({
      role: 'tool',
      content: '{"temperature": 14, "condition": "light rain"}',
      tool_call_id: 'call_9pw1qnYScqvGrCH58HWCvFH6',
    });
    expect(answered!.reference).toBe('Yes, there is light rain in Paris right now, and it is 14 °C.');
    expect(marv!.messages).toEqual([
      { role: 'system', content: 'Marv is a factual chatbot that is also sarcastic.' },
      { role: 'user', content: "What's the capital of France?", name: 'alice' },
      { role: 'assistant', content: 'Paris', weight: 0 },
      { role: 'user', content: 'Can you be more sarcastic?' },
      { role: 'assistant', content: "Paris, as if everyone doesn't know that already.", weight: 1 },
    ]);
    expect(prime!.messages).toEqual([
      { role: 'user', content: 'Name a prime number.' },
      { role: 'assistant', content: '7', loss_weight: 0.5 },
    ]);
  });

  it('takes null fields as absent ones (what a Parquet reader gives for a field a row lacks)', async () => {
    const file = lines({
      messages: [
        { role: 'user', content: 'hi', name: null, weight: null, tool_calls: null, tool_call_id: null },
        { role: 'assistant', content: null, tool_calls: [{ id: null, type: null, function: { name: 'f', arguments: null } }] },
      ],
      tools: [{ type: null, function: { name: 'f' } }],
    });
    const [e] = examples(await all(file, 'openai'));
    expect(e).toEqual({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: '', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] },
      ],
      reference: 'f({})',
      tools: [{ type: 'function', function: { name: 'f' } }],
    });
  });

  it('refuses what it cannot keep, naming the field: image parts, calls that are not JSON, tools that are not a list', async () => {
    const file = lines(
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this image?' },
              { type: 'image_url', image_url: { url: 'https://x/y.png' } },
            ],
          },
        ],
      },
      {
        conversations: [
          { from: 'human', value: 'hi' },
          { from: 'function_call', value: 'get_time()' },
        ],
      },
      {
        conversations: [
          { from: 'human', value: 'hi' },
          { from: 'function_call', value: '{"arguments": {}}' },
        ],
      },
      { conversations: [{ from: 'human', value: 'hi' }], tools: '{not json' },
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', tool_calls: [{ type: 'code', function: { name: 'f' } }] },
        ],
      },
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'x', weight: 'high' },
        ],
      },
      { messages: [{ role: 'user', content: 'hi' }], tools: 5 },
    );
    const items = [...(await all(file, 'openai')), ...(await all(file, 'sharegpt'))];
    const got = reasons(items).map(([, reason]) => reason);
    expect(got).toContain('messages[0].content[1] is a "image_url" part; only text parts can be imported (Distillery is text-only)');
    expect(got).toContainEqual(expect.stringMatching(/^conversations\[1\]\.value is not JSON \{"name", "arguments"\}/));
    expect(got).toContain('conversations[1].value must be {"name": "…", "arguments": {…}}');
    expect(got).toContainEqual(expect.stringMatching(/^tools is not a JSON list of functions/));
    expect(got).toContain('messages[1].tool_calls[0].type must be "function", not "code"');
    expect(got).toContain('messages[1].weight must be a number, not string');
    expect(got).toContain('tools must be a list of functions, not number');
  });

  it('writes each format back its own way; Alpaca refuses tools', async () => {
    const [area] = examples(await all(path.join(SAMPLES, 'sharegpt-tools.jsonl'), 'sharegpt'));
    const sharegpt = toRecord('sharegpt', area!);
    expect((sharegpt.conversations as { from: string }[]).map((t) => t.from)).toEqual([
      'human',
      'function_call',
      'observation',
      'gpt',
      'human',
      'function_call',
      'observation',
      'gpt',
    ]);
    expect((sharegpt.conversations as { value: string }[])[1]!.value).toBe('{"name":"calculate_area","arguments":{"shape":"rectangle","dimensions":[5,3]}}');
    expect(JSON.parse(sharegpt.tools as string)).toEqual(area!.tools!.map((t) => t.function)); // bare schemas, as LLaMA-Factory stores them
    const openai = toRecord('openai', area!) as { messages: Record<string, unknown>[]; tools: unknown[] };
    expect(openai.messages[1]).toEqual({ role: 'assistant', tool_calls: area!.messages[1]!.tool_calls }); // no empty content
    expect(openai.messages[2]).toEqual({ role: 'tool', content: '{"area": 15}', tool_call_id: 'call_1' });
    expect(openai.tools).toEqual(area!.tools);
    expect(unrepresentable('alpaca', area!)).toBe('Alpaca has no form for tools, tool calls or tool results');
    expect(unrepresentable('sharegpt', area!)).toBeNull();
    const plain: NormalizedExample = { messages: [{ role: 'user', content: 'q' }], reference: null };
    expect(unrepresentable('alpaca', plain)).toBeNull();
  });

  it('parallel calls: one function_call turn with a list, their results as one observation', async () => {
    const e: NormalizedExample = {
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', content: '14', tool_call_id: 'a' },
        { role: 'tool', content: '19', tool_call_id: 'b' },
        { role: 'assistant', content: 'Paris 14, Rome 19.' },
      ],
      reference: 'Paris 14, Rome 19.',
    };
    const r = toRecord('sharegpt', e) as { conversations: { from: string; value: string }[] };
    expect(r.conversations.slice(1, 3)).toEqual([
      { from: 'function_call', value: '[{"name":"weather","arguments":{"city":"Paris"}},{"name":"weather","arguments":{"city":"Rome"}}]' },
      { from: 'observation', value: '["14","19"]' },
    ]);
    const back = examples(await all(lines(r), 'sharegpt'))[0]!;
    expect(back.messages[1]!.tool_calls!.map((c) => [c.id, c.function.arguments])).toEqual([
      ['call_1', '{"city":"Paris"}'],
      ['call_2', '{"city":"Rome"}'],
    ]);
  });

  it('the search text is the same computed in SQL (imports, edits) and in JS (the import worker)', async () => {
    const list = [...examples(await sampleItems('sharegpt-tools.jsonl', 'sharegpt')), ...examples(await sampleItems('openai-tools.jsonl', 'openai'))];
    const db = new Database(':memory:');
    db.exec('CREATE TABLE examples (id INTEGER PRIMARY KEY, messages TEXT NOT NULL, tools TEXT)');
    const insert = db.prepare('INSERT INTO examples (messages, tools) VALUES (?, ?)');
    for (const e of list) insert.run(JSON.stringify(e.messages), e.tools ? JSON.stringify(e.tools) : null);
    const sql = db.prepare(`SELECT ${FTS_TEXT_SQL} FROM examples e ORDER BY id`).pluck().all();
    expect(sql).toEqual(list.map((e) => ftsText(e)));
    expect(ftsText(list[0]!)).toContain('calculate_area({"shape":"rectangle","dimensions":[5,3]})');
    expect(ftsText(list[0]!)).toContain('calculate_discount: Calculate the discounted price');
    db.close();
  });
});
