import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectJsonlFormat, readJsonl, type JsonlItem } from '../../src-main/core/datasets/formats/jsonl.js';
import { readLines } from '../../src-main/core/datasets/formats/line-reader.js';
import type { JsonRecordFormat } from '../../src-shared/domain/datasets.js';
import { tempDir } from '../helpers/tmp.js';

// Samples written by hand from each format's public description (OpenAI fine-tuning docs, ShareGPT, Stanford Alpaca,
// OpenAI legacy prompt/completion), not by our own exporter.
const SAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'samples');

async function all(file: string, format: JsonRecordFormat, maxLineBytes?: number): Promise<JsonlItem[]> {
  const out: JsonlItem[] = [];
  for await (const item of readJsonl(file, format, maxLineBytes ? { maxLineBytes } : {})) out.push(item);
  return out;
}
const examples = (items: JsonlItem[]) => items.flatMap((i) => ('example' in i ? [i.example] : []));
const rejected = (items: JsonlItem[]) => items.flatMap((i) => ('rejected' in i ? [i.rejected] : []));

function write(name: string, content: string | Buffer): string {
  const file = path.join(tempDir(), name);
  fs.writeFileSync(file, content);
  return file;
}

describe('JSONL import formats', () => {
  it('detects each format from its records', async () => {
    expect(await detectJsonlFormat(path.join(SAMPLES, 'openai-chat.jsonl'))).toBe('openai');
    expect(await detectJsonlFormat(path.join(SAMPLES, 'sharegpt.jsonl'))).toBe('sharegpt');
    expect(await detectJsonlFormat(path.join(SAMPLES, 'alpaca.jsonl'))).toBe('alpaca');
    expect(await detectJsonlFormat(path.join(SAMPLES, 'prompt-completion.jsonl'))).toBe('prompt-completion');
    expect(await detectJsonlFormat(write('x.jsonl', '{"text": "hi"}\n'))).toBeNull();
  });

  it('reads OpenAI chat records, joining text content parts', async () => {
    const ex = examples(await all(path.join(SAMPLES, 'openai-chat.jsonl'), 'openai'));
    expect(ex).toHaveLength(3);
    expect(ex[0]!.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(ex[0]!.reference).toBe("Paris, as if everyone doesn't know that already.");
    expect(ex[2]!.messages[0]).toEqual({ role: 'user', content: 'How far is the Moon from Earth?' });
  });

  it('reads ShareGPT conversations with their system prompt and speaker names', async () => {
    const ex = examples(await all(path.join(SAMPLES, 'sharegpt.jsonl'), 'sharegpt'));
    expect(ex[1]!.messages).toEqual([
      { role: 'system', content: 'You are a support agent.' },
      { role: 'user', content: 'My order is late.' },
      { role: 'assistant', content: 'Sorry to hear that. What is the order number?' },
      { role: 'user', content: 'A-1042' },
      { role: 'assistant', content: 'Thanks, it ships tomorrow.' },
    ]);
    expect(ex[1]!.reference).toBe('Thanks, it ships tomorrow.');
  });

  it('reads Alpaca records: instruction + input as the prompt, output as the reference (optional)', async () => {
    const ex = examples(await all(path.join(SAMPLES, 'alpaca.jsonl'), 'alpaca'));
    expect(ex[1]!.messages).toEqual([
      { role: 'user', content: 'Translate the sentence to French.\n\nThe cat sleeps.' },
      { role: 'assistant', content: 'Le chat dort.' },
    ]);
    expect(ex[2]!.reference).toBeNull();
  });

  it('reads prompt/completion pairs written with CRLF line ends', async () => {
    const ex = examples(await all(path.join(SAMPLES, 'prompt-completion.jsonl'), 'prompt-completion'));
    expect(ex.map((e) => e.reference)).toEqual(['positive', 'negative', null]);
  });
});

describe('malformed input: reported with line and reason, skipped, the rest imported', () => {
  it('bad JSON, wrong types, missing fields and a truncated last line', async () => {
    const file = write(
      'mixed.jsonl',
      [
        '{"messages": [{"role": "user", "content": "ok"}]}',
        '{"messages": [{"role": "user", "content": 42}]}',
        '{"messages": "hello"}',
        'not json at all',
        '',
        '{"messages": [{"role": "robot", "content": "beep"}]}',
        '{"messages": [{"role": "assistant", "content": "no question"}]}',
        '{"messages": [{"role": "user", "content": "trunc',
      ].join('\n'),
    );
    const items = await all(file, 'openai');
    expect(examples(items)).toHaveLength(1);
    expect(rejected(items).map((r) => [r.line, r.reason.replace(/ \(.*\)$/, '')])).toEqual([
      [2, 'messages[0].content must be a string, not number'],
      [3, 'messages must be an array'],
      [4, 'not valid JSON'],
      [6, 'messages[0].role must be system, user, assistant or tool, not "robot"'],
      [7, 'the record has no user message'],
      [8, 'not valid JSON'],
    ]);
    expect(rejected(items)[2]!.excerpt).toBe('not json at all');
  });

  it('a BOM is dropped; invalid UTF-8 is rejected for its line only', async () => {
    const good = Buffer.from('{"prompt": "é ok"}\n');
    const bad = Buffer.concat([Buffer.from('{"prompt": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
    const file = write('utf8.jsonl', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), good, bad, good]));
    const items = await all(file, 'prompt-completion');
    expect(examples(items).map((e) => e.messages[0]!.content)).toEqual(['é ok', 'é ok']);
    expect(rejected(items)).toEqual([expect.objectContaining({ line: 2, reason: 'the line is not valid UTF-8' })]);
  });

  it('a 10 MB line is over the limit: rejected without being kept in memory, the next line still read', async () => {
    const huge = `{"prompt": "${'x'.repeat(10 * 1024 * 1024)}"}`;
    const file = write('huge.jsonl', `{"prompt": "a"}\n${huge}\n{"prompt": "b"}\n`);
    const items = await all(file, 'prompt-completion');
    expect(examples(items).map((e) => e.messages[0]!.content)).toEqual(['a', 'b']);
    expect(rejected(items)).toEqual([
      { line: 2, reason: 'the line is longer than the limit of 8388608 bytes', excerpt: expect.stringMatching(/^\{"prompt": "x+$/) },
    ]);
  });

  it('an empty file yields nothing; a binary file is rejected line by line, not crashed on', async () => {
    expect(await all(write('empty.jsonl', ''), 'openai')).toEqual([]);
    const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 73 + 11) % 256));
    const items = await all(write('blob.jsonl', binary), 'openai');
    expect(examples(items)).toEqual([]);
    expect(rejected(items).length).toBeGreaterThan(0);
    for (const r of rejected(items)) expect(r.reason).toMatch(/not valid UTF-8|not valid JSON|must be/);
  });

  it('line numbers stay right across read chunks (1 MiB) and a final line without newline', async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `{"prompt": "${String(i).padStart(40, '0')}"}`);
    const file = write('many.jsonl', lines.join('\n'));
    let count = 0;
    let last = 0;
    for await (const r of readLines(file)) {
      count++;
      last = r.line;
      if ('text' in r && r.line % 7919 === 0) expect(r.text).toBe(lines[r.line - 1]);
    }
    expect(count).toBe(30_000);
    expect(last).toBe(30_000);
  });
});
