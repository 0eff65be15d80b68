import { describe, expect, it } from 'vitest';
import { normalizeRecord, RecordError } from '../../../src-main/core/datasets/formats/normalize.js';
import { jsonTextDepth, jsonValueDepth, MAX_JSON_DEPTH } from '../../../src-main/core/json-depth.js';
import { all, examples, lines, rejected, write } from './helpers.js';

// A value nested 30,000 deep: JSON.parse and stream-json's tokenizer take it, but anything recursive after them
// (JSON.stringify of an excerpt, a walker over content parts) overflowed the stack and failed the whole import.
const DEEP = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
const TOO_DEEP = 'nests deeper than 64 levels (the limit for JSON)';

describe('records nested too deep', () => {
  it('JSON array: the deep record is one reject with the reason, the records around it are read', async () => {
    const file = write('deep.json', `[{"prompt": "a"}, {"prompt": ${DEEP}}, {"prompt": "c", "completion": {"x": ${DEEP}}}, {"prompt": "d"}]`);
    const items = await all(file, { container: 'json', record: 'prompt-completion' });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'rejected'],
      [3, 'rejected'],
      [4, 'ok'],
    ]);
    expect(rejected(items).map((r) => r.reason)).toEqual([`record 2 ${TOO_DEEP}`, `record 3 ${TOO_DEEP}`]);
    expect(rejected(items)[0]!.excerpt).toMatch(/^\{"prompt": \[\[\[/);
    expect(examples(items).map((e) => e.messages[0]!.content)).toEqual(['a', 'd']);
  });

  it('JSON array read through a mapping, and a deep record at the very end', async () => {
    const file = write('deep-mapped.json', `[{"q": "a", "r": "b"}, {"q": ${DEEP}}]`);
    const items = await all(file, { container: 'json', mapping: { prompt: 'q', response: 'r' } });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'rejected'],
    ]);
  });

  it('a record exactly at the limit is read; one level more is rejected', async () => {
    const nest = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    // the record object is level 1, so "x" holds MAX - 1 more levels at the limit
    const file = write('edge.json', `[{"prompt": "ok", "x": ${nest(MAX_JSON_DEPTH - 1)}}, {"prompt": "no", "x": ${nest(MAX_JSON_DEPTH)}}]`);
    const items = await all(file, { container: 'json', record: 'prompt-completion' });
    expect(lines(items)).toEqual([
      [1, 'ok'],
      [2, 'rejected'],
    ]);
  });

  it('JSON Lines: the deep line is one reject, with a record shape or a mapping', async () => {
    const text = `{"prompt": "a"}\n{"prompt": "b", "extra": ${DEEP}}\n{"prompt": "c"}\n`;
    const shaped = await all(write('deep.jsonl', text), { container: 'jsonl', record: 'prompt-completion' });
    expect(lines(shaped)).toEqual([
      [1, 'ok'],
      [2, 'rejected'],
      [3, 'ok'],
    ]);
    expect(rejected(shaped)[0]!.reason).toBe(`the record ${TOO_DEEP}`);
    const mapped = await all(write('deep-mapped.jsonl', text), { container: 'jsonl', mapping: { prompt: 'prompt' } });
    expect(rejected(mapped)).toEqual([{ line: 2, reason: `the record ${TOO_DEEP}`, excerpt: expect.stringMatching(/^\{"prompt": "b"/) }]);
  });

  it('the normalizer refuses a deep value itself (whoever calls it)', () => {
    const deep = JSON.parse(`{"messages": [{"role": "user", "content": ${DEEP}}]}`) as unknown;
    expect(() => normalizeRecord('openai', deep)).toThrow(RecordError);
    expect(() => normalizeRecord('openai', deep)).toThrow(`the record ${TOO_DEEP}`);
  });

  it('depth is measured without recursion, outside strings only', () => {
    expect(jsonTextDepth('{"a": "[[[[{{{{", "b": [1, {"c": []}]}')).toBe(4);
    expect(jsonTextDepth('"\\"[["')).toBe(0);
    expect(jsonTextDepth(DEEP)).toBe(MAX_JSON_DEPTH + 1);
    expect(jsonValueDepth({ a: [1, { b: [] }] })).toBe(4);
    expect(jsonValueDepth(JSON.parse(DEEP))).toBe(MAX_JSON_DEPTH + 1);
    expect(jsonValueDepth('text')).toBe(0);
  });
});
