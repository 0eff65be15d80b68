import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords } from '../../../src-main/core/datasets/formats/read.js';
import { readJsonl, type JsonlItem } from '../../../src-main/core/datasets/formats/jsonl.js';
import { all, examples, failure, lines, rejected, sample, SAMPLES, write } from './helpers.js';

describe('JSON array import', () => {
  it('reads a pretty-printed Alpaca array (alpaca_data.json style), with brackets and braces inside strings', async () => {
    const items = await all(sample('alpaca.json'), { container: 'json', record: 'alpaca' });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'ok'],
    ]);
    const ex = examples(items);
    expect(ex[0]).toEqual({
      messages: [
        { role: 'user', content: 'Give three tips for staying healthy.' },
        { role: 'assistant', content: '1. Eat a balanced diet.\n2. Exercise regularly.\n3. Get enough sleep.' },
      ],
      reference: '1. Eat a balanced diet.\n2. Exercise regularly.\n3. Get enough sleep.',
    });
    expect(ex[1]!.messages[0]!.content).toBe('Translate the sentence to French.\n\nThe cat sleeps.');
    expect(ex[2]!.messages).toEqual([
      { role: 'user', content: 'Write a short poem about autumn, [with brackets] and {braces}.' },
      { role: 'assistant', content: 'Leaves fall, gold and red }]' },
    ]);
  });

  it('reads a minified one-line array of OpenAI chat records (as pandas/HF to_json writes)', async () => {
    const ex = examples(await all(sample('openai.json'), { container: 'json', record: 'openai' }));
    expect(ex).toHaveLength(3);
    expect(ex[0]!.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(ex[1]!.reference).toBe('6');
    expect(ex[2]).toEqual({ messages: [{ role: 'user', content: 'Describe the Moon.' }], reference: null });
  });

  it('keeps the records before a file cut off mid-way, then rejects at the record being read and stops', async () => {
    const file = write('cut.json', '[\n  {"prompt": "a", "completion": "b"},\n  {"prompt": "c", "completion": "d"},\n  {"prompt": "e", "comp');
    const items = await all(file, { container: 'json', record: 'prompt-completion' });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'rejected'],
    ]);
    expect(rejected(items)[0]!.reason).toMatch(
      /^the JSON array is cut off after record 2: the file ends early \(.*\) \(near line 4 of the file\); the rest of the file was not read$/,
    );
    expect(rejected(items)[0]!.excerpt).toBe('{"prompt": "e", "comp');
    // cut right after a record, the missing `]` is reported too
    const bare = await all(write('bare.json', '[{"prompt": "a"},'), { container: 'json', record: 'prompt-completion' });
    expect(lines(bare)).toEqual([
      [1, 'ok'],
      [2, 'rejected'],
    ]);
  });

  it('stops at a syntax error in the middle of a one-line array, keeping every record before it', async () => {
    const file = write('bad.json', '[{"prompt":"a"},{"prompt":"b"},{"prompt": x},{"prompt":"d"}]');
    const items = await all(file, { container: 'json', record: 'prompt-completion' });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'rejected'],
    ]);
    expect(rejected(items)[0]).toEqual({
      line: 3,
      reason: 'not valid JSON in record 3: expected a value (near line 1 of the file); the rest of the file was not read',
      excerpt: '{"prompt": x}',
    });
  });

  it('rejects records of the wrong shape one by one and goes on', async () => {
    const file = write('mixed.json', '[1, {"prompt": "a"}, {"prompt": ""}, [], {"completion": "x"}, {"prompt": "b"}]');
    const items = await all(file, { container: 'json', record: 'prompt-completion' });
    expect(lines(items)).toEqual([
      [1, 'rejected'],
      [2, 'ok'],
      [3, 'rejected'],
      [4, 'rejected'],
      [5, 'rejected'],
      [6, 'ok'],
    ]);
    expect(rejected(items).map((r) => r.reason)).toEqual([
      'the record must be a JSON object, not number',
      'prompt is empty',
      'the record must be a JSON object, not an array',
      'prompt is missing',
    ]);
    expect(rejected(items)[2]!.excerpt).toBe('[]');
  });

  it('rejects a file that is a single object rather than an array', async () => {
    const items = await all(write('obj.json', '{\n  "prompt": "a"\n}\n'), { container: 'json', record: 'prompt-completion' });
    expect(lines(items)).toEqual([[1, 'rejected']]);
    expect(rejected(items)[0]!.reason).toMatch(/^the file holds a single JSON value, not an array of records/);
  });

  it('stops at invalid UTF-8, keeping the records before it', async () => {
    const file = write('latin1.json', Buffer.concat([Buffer.from('[{"prompt":"ok"},{"prompt":"caf'), Buffer.from([0xe9]), Buffer.from('"},{"prompt":"z"}]')]));
    const items = await all(file, { container: 'json', record: 'prompt-completion' });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'rejected'],
    ]);
    expect(rejected(items)[0]!.reason).toMatch(/^the file is not valid UTF-8 \(byte 31\)/);
  });

  it('stops at a record longer than the limit', async () => {
    const file = write('long.json', `[{"prompt":"a"},{"prompt":"${'x'.repeat(300)}"},{"prompt":"c"}]`);
    const items = await all(file, { container: 'json', record: 'prompt-completion' }, { maxLineBytes: 100 });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'rejected'],
    ]);
    expect(rejected(items)[0]!.reason).toMatch(/^record 2 is longer than the limit of 100 characters/);
  });

  it('reads objects of no known shape through a mapping ({question, answer} like GSM8K)', async () => {
    const file = write('gsm.json', '[{"question": "1+1?", "answer": 2}, {"question": "", "answer": "x"}]');
    const items = await all(file, { container: 'json', mapping: { prompt: 'question', response: 'answer' } });
    expect(examples(items)).toEqual([
      {
        messages: [
          { role: 'user', content: '1+1?' },
          { role: 'assistant', content: '2' },
        ],
        reference: '2',
      },
    ]);
    expect(rejected(items)).toEqual([{ line: 2, reason: 'column "question" (the prompt) is empty', excerpt: '{"question":"","answer":"x"}' }]);
  });

  it('yields nothing for an empty file, whitespace or an empty array', async () => {
    for (const content of ['', '  \n ', '[]', '\ufeff[ ]\n']) {
      expect(await all(write('e.json', content), { container: 'json', record: 'openai' })).toEqual([]);
    }
  });

  it('needs a record shape or a mapping', async () => {
    const e = await failure(readRecords(sample('openai.json'), { container: 'json' }).next());
    expect(e).toMatchObject({ code: 'invalid_input', field: 'record' });
  });
});

describe('JSONL import through readRecords', () => {
  it('delegates to readJsonl for chat-shaped records', async () => {
    const file = path.join(SAMPLES, '..', '..', 'samples', 'sharegpt.jsonl');
    const direct: JsonlItem[] = [];
    for await (const item of readJsonl(file, 'sharegpt')) direct.push(item);
    expect(direct.length).toBeGreaterThan(0);
    expect(await all(file, { container: 'jsonl', record: 'sharegpt' })).toEqual(direct);
  });

  it('reads JSON Lines of no known shape through a mapping', async () => {
    const file = write('qa.jsonl', '{"question":"q1","answer":"a1","system":"s"}\n\n{"question":"q2"}\nnot json\n{"answer":"a3"}\n');
    const items = await all(file, { container: 'jsonl', mapping: { prompt: 'question', response: 'answer', system: 'system' } });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [3, 'ok'],
      [4, 'rejected'],
      [5, 'rejected'],
    ]);
    expect(examples(items)[0]!.messages).toEqual([
      { role: 'system', content: 's' },
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
    ]);
    expect(rejected(items)[1]!.reason).toBe('column "question" (the prompt) is missing');
  });

  it('yields nothing for an empty file', async () => {
    expect(await all(write('e.jsonl', ''), { container: 'jsonl', record: 'openai' })).toEqual([]);
  });
});

describe('plain text import', () => {
  it('makes each non-blank line a user prompt, with CRLF, blank lines and a last line without newline', async () => {
    const items = await all(sample('prompts.txt'), { container: 'text' });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [5, 'ok'],
      [6, 'ok'],
    ]);
    expect(examples(items)).toEqual([
      { messages: [{ role: 'user', content: 'Explain photosynthesis in one sentence.' }], reference: null },
      { messages: [{ role: 'user', content: 'What is the boiling point of water at sea level?' }], reference: null },
      { messages: [{ role: 'user', content: 'Give three synonyms for "happy".' }], reference: null },
      { messages: [{ role: 'user', content: 'Last line without a newline' }], reference: null },
    ]);
  });

  it('rejects lines with invalid UTF-8 or over the limit and reads the others', async () => {
    const file = write('t.txt', Buffer.concat([Buffer.from('\ufeffgood\ncaf'), Buffer.from([0xe9]), Buffer.from(`\n${'y'.repeat(50)}\nfine\n`)]));
    const items = await all(file, { container: 'text' }, { maxLineBytes: 20 });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'rejected'],
      [3, 'rejected'],
      [4, 'ok'],
    ]);
    expect(examples(items)[0]!.messages[0]!.content).toBe('good');
    expect(rejected(items).map((r) => r.reason)).toEqual(['the line is not valid UTF-8', 'the line is longer than the limit of 20 bytes']);
  });

  it('yields nothing for an empty file', async () => {
    expect(await all(write('e.txt', ''), { container: 'text' })).toEqual([]);
  });
});
