// A small dataset for the training export tests: plain chats, a system prompt, and tool use (an assistant message that
// only calls tools, parallel calls answered by two tool messages, tool definitions), split train/validation/test.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { tempDir, type Workspace } from '../helpers/workspace.js';
import type { NormalizedExample } from '../../src-shared/domain/datasets.js';
import { normalizeRecord, recordFormat } from '../../src-main/core/datasets/formats/normalize.js';

/** What a data file must keep of an example: its messages and tool definitions. */
export type Chat = Pick<NormalizedExample, 'messages' | 'tools'>;

export const TOOLS = [
  {
    type: 'function',
    function: { name: 'get_order', description: 'Look an order up', parameters: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } },
  },
];

export function example(i: number): Record<string, unknown> {
  if (i % 3 === 0) {
    return {
      messages: [
        { role: 'system', content: 'You are a support agent.' },
        { role: 'user', content: `Where are orders A-${i} and B-${i}?` },
        {
          role: 'assistant',
          tool_calls: [
            { id: `c${i}a`, type: 'function', function: { name: 'get_order', arguments: JSON.stringify({ id: `A-${i}` }) } },
            { id: `c${i}b`, type: 'function', function: { name: 'get_order', arguments: JSON.stringify({ id: `B-${i}` }) } },
          ],
        },
        { role: 'tool', tool_call_id: `c${i}a`, content: '{"status":"shipped"}' },
        { role: 'tool', tool_call_id: `c${i}b`, content: '{"status":"packed"}' },
        { role: 'assistant', content: `A-${i} has shipped; B-${i} is packed.` },
      ],
      tools: TOOLS,
    };
  }
  return {
    messages: [
      ...(i % 3 === 1 ? [{ role: 'system', content: 'Answer briefly.' }] : []),
      { role: 'user', content: `Question ${i}: how do I reset the printer?` },
      { role: 'assistant', content: `Hold the button for ${i} seconds.` },
      { role: 'user', content: 'And then?' },
      { role: 'assistant', content: 'Wait for the light.' },
    ],
  };
}

/** Imports `records` as `name` (OpenAI JSONL) and returns its version number once committed with `split`. */
export async function makeDataset(
  ws: Workspace,
  name: string,
  records: Record<string, unknown>[],
  split?: { validation: number; test: number },
): Promise<void> {
  const file = path.join(tempDir(), `${name}.jsonl`);
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const { runId } = await ws.client.call('datasets.import', { path: file, name });
  expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
  if (split) {
    await ws.client.call('datasets.split', { name, counts: split, seed: 3 });
    await ws.client.call('datasets.commit', { name, message: 'split' });
  }
}

/** The examples of a split, as the dataset holds them (what a data file must round-trip to). */
export async function splitExamples(ws: Workspace, name: string, split: 'train' | 'validation'): Promise<Chat[]> {
  const page = await ws.client.call('datasets.examples', { name, offset: 0, limit: 500, filter: { split } });
  return page.rows.map(({ messages, tools }) => ({ messages, ...(tools ? { tools } : {}) }));
}

/** A data file the export wrote, read back by the importer's own record reader (format detected per record). */
export function readBack(file: string): Chat[] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line, i) => {
      const record: unknown = JSON.parse(line);
      const format = recordFormat(record);
      if (!format) throw new Error(`${file}:${i + 1}: not a record the importer reads`);
      const { messages, tools } = normalizeRecord(format, record);
      return { messages, ...(tools ? { tools } : {}) };
    });
}
