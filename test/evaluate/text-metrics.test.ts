import { describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors.js';
import {
  aggregateScores,
  compileAnswerSchema,
  compileRegex,
  contains,
  exactMatch,
  jsonValid,
  lcsLength,
  MAX_ROUGE_TOKENS,
  meanScore,
  normalizeAnswer,
  prepareMetrics,
  regexMatch,
  rougeL,
  schemaMatch,
  scoreAnswer,
  tokenF1,
} from '../../src-main/core/evaluate/metrics/index.js';

function refusal(run: () => unknown): AppError {
  try {
    run();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

describe('normalized text metrics', () => {
  it('normalizes case, punctuation and whitespace (Python whitespace included)', () => {
    expect(normalizeAnswer('  The  Answer:\tIs\n"42"!  ')).toBe('the answer is 42');
    expect(normalizeAnswer("Don't — stop¿ $5+2")).toBe('dont stop 52');
    expect(normalizeAnswer('a\x1cb\x85c\u3000d')).toBe('a b c d');
  });

  it('normalizes random unicode text as the one-line regular-expression definition does', () => {
    // eslint-disable-next-line no-control-regex -- Python's whitespace includes U+001C..U+001F
    const ws = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
    const reference = (s: string) =>
      s
        .toLowerCase()
        .replace(/[\p{P}$+<=>^`|~]/gu, '')
        .split(ws)
        .filter(Boolean)
        .join(' ');
    const pieces = ['Ab', ' ', '\t', '\x1c', '\u3000', '\ufeff', ',', '—', '«', '¿', '$', '€', '😀', '𝔸', '、', 'É', 'İ', 'x', "'", '\u2028'];
    let seed = 1;
    for (let k = 0; k < 500; k++) {
      let s = '';
      for (let j = 0; j < 30; j++) s += pieces[(seed = (Math.imul(seed, 48271) + 11) >>> 0) % pieces.length];
      expect(normalizeAnswer(s), JSON.stringify(s)).toBe(reference(s));
    }
  });

  it('scores exact match and contains on the normalized forms, contains on word boundaries', () => {
    expect(exactMatch('Paris.', 'paris')).toBe(1);
    expect(exactMatch('Paris, France', 'Paris')).toBe(0);
    expect(contains('The capital is Paris, France.', 'paris france')).toBe(1);
    expect(contains('concatenate', 'cat')).toBe(0);
    expect(contains('anything', '...')).toBe(0);
    expect(contains('!', '...')).toBe(1);
  });

  it("computes SQuAD's token F1", () => {
    // pred 4 tokens, ref 3, common 2 (the, cat): P = 1/2, R = 2/3, F = 4/7
    expect(tokenF1('the cat is here', 'The cat sat')).toBeCloseTo(4 / 7, 15);
    // multiplicity: one "the" in the reference matches one of two in the prediction
    expect(tokenF1('the the', 'the')).toBeCloseTo((2 * 0.5 * 1) / 1.5, 15);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('x', '')).toBe(0);
    expect(tokenF1('a b', 'c d')).toBe(0);
  });
});

describe('the regex metric', () => {
  it('matches the raw prediction', () => {
    expect(regexMatch('Answer: B', '^Answer: [A-D]$')).toBe(1);
    expect(regexMatch('answer: b', '^Answer: [A-D]$')).toBe(0);
  });

  it('refuses a pattern that does not compile, naming the field', () => {
    const e = refusal(() => compileRegex('(unclosed', 'metrics.regex'));
    expect(e.code).toBe('invalid_input');
    expect(e.field).toBe('metrics.regex');
    expect(e.message).toMatch(/^metrics\.regex: /);
  });

  it('refuses nested repetitions and over-long patterns, accepts ordinary ones', () => {
    for (const p of ['(a+)+$', '(\\w*\\s?)*x', '(?:x{1,9}){2,}', '((ab)*c)+'])
      expect(refusal(() => compileRegex(p)).message, p).toMatch(/repeats a repetition/);
    expect(refusal(() => compileRegex('a'.repeat(1001))).message).toMatch(/longer than 1000/);
    for (const p of ['(ab)+', '(a+b)?', '\\d+(\\.\\d+)?', '[(+*)]+', '(x{1})+', '\\(a+\\)+', '(foo|bar)*baz']) expect(() => compileRegex(p), p).not.toThrow();
  });
});

describe('the JSON metrics', () => {
  it('accepts a JSON text or one fenced block around one, nothing else', () => {
    expect(jsonValid(' {"a": 1} ')).toBe(1);
    expect(jsonValid('```json\n{"a": [1, 2]}\n```')).toBe(1);
    expect(jsonValid('```\n[1]\n```')).toBe(1);
    expect(jsonValid('Here it is: {"a": 1}')).toBe(0);
    expect(jsonValid('```json\n{"a": }\n```')).toBe(0);
    expect(jsonValid('')).toBe(0);
    expect(jsonValid('```json\n{"a": 1}\n```\nand\n```json\n{}\n```')).toBe(0); // two fences
    expect(jsonValid('```python\n{}\n```')).toBe(0);
    expect(jsonValid('```' + ' '.repeat(200_000))).toBe(0); // an unclosed fence over a long answer: linear time
    expect(jsonValid('['.repeat(100_000) + ']'.repeat(100_000))).toBe(0); // too deep: refused before parsing
  });

  it('matches a schema, and refuses a schema that does not compile naming the field', () => {
    const schema = compileAnswerSchema({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } });
    expect(schemaMatch('{"name": "x"}', schema)).toBe(1);
    expect(schemaMatch('```json\n{"name": "x"}\n```', schema)).toBe(1);
    expect(schemaMatch('{"name": 3}', schema)).toBe(0);
    expect(schemaMatch('not json', schema)).toBe(0);
    const bad = refusal(() => compileAnswerSchema({ type: 'objekt' }));
    expect([bad.code, bad.field]).toEqual(['invalid_input', 'metrics.schema']);
    expect(refusal(() => compileAnswerSchema('{type:')).message).toMatch(/^metrics\.schema: the schema is not valid JSON/);
    expect(refusal(() => compileAnswerSchema('[1]')).message).toMatch(/must be an object/);
  });
});

describe('scoreAnswer', () => {
  it('returns the asked metrics, null where not applicable', () => {
    const all = { metrics: ['exact', 'contains', 'regex', 'f1', 'rougeL', 'chrf', 'json', 'schema'] as const };
    const s = scoreAnswer('The cat sat.', 'the cat sat', all);
    expect(s).toEqual({ exact: 1, contains: 1, regex: null, f1: 1, rougeL: 1, chrf: expect.any(Number) as number, json: 0, schema: null });
    expect(s.chrf).toBeGreaterThan(70);
    const spec = { metrics: ['regex', 'schema'] as const, regex: '^\\{', schema: { type: 'object' } };
    expect(scoreAnswer('{"a": 1}', '', spec)).toEqual({ regex: 1, schema: 1 });
    expect(scoreAnswer('[1]', '', spec)).toEqual({ regex: 0, schema: 0 });
    expect(meanScore([1, null, 0, 0.5])).toBe(0.5);
    expect(meanScore([null])).toBeNull();
  });

  it('aggregates per metric over the answers where it applies, with a seeded interval', () => {
    const spec = { metrics: ['exact', 'regex', 'chrf'] as const };
    const rows = [
      ['Paris', 'paris'],
      ['Lyon', 'Paris'],
      ['paris.', 'Paris'],
      ['Nice', 'Paris'],
    ].map(([p, r]) => scoreAnswer(p!, r!, spec));
    const agg = aggregateScores(rows, { seed: 3 });
    expect(agg.exact).toMatchObject({ mean: 0.5, n: 4 });
    expect(agg.exact!.low!).toBeLessThanOrEqual(0.5);
    expect(agg.regex).toEqual({ mean: null, low: null, high: null, plusMinus: null, n: 0 });
    expect(agg.chrf!.mean).toBeCloseTo(rows.reduce((s, r) => s + r.chrf!, 0) / 4, 12);
    expect(aggregateScores(rows, { seed: 3 })).toEqual(agg);
  });

  it('refuses an unknown metric id and a bad pattern before scoring', () => {
    const e = refusal(() => prepareMetrics({ metrics: ['exact', 'bleu' as never] }));
    expect([e.field, e.message]).toEqual(['metrics.metrics[1]', expect.stringMatching(/unknown metric 'bleu'/) as string]);
    expect(refusal(() => scoreAnswer('x', 'y', { metrics: ['regex'], regex: '[' })).field).toBe('metrics.regex');
  });
});

describe('the LCS under ROUGE-L', () => {
  const naive = (a: string[], b: string[]) => {
    const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) t[i]![j] = a[i - 1] === b[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
    return t[a.length]![b.length]!;
  };

  it('equals the textbook table on random sequences across word boundaries (bit-parallel path)', () => {
    let seed = 5;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let k = 0; k < 200; k++) {
      const alpha = 2 + (next() % 6);
      const a = Array.from({ length: next() % 90 }, () => `w${next() % alpha}`);
      const b = Array.from({ length: next() % 90 }, () => `w${next() % alpha}`);
      expect(lcsLength(a, b)).toBe(naive(a, b));
    }
  });

  it('falls back to two DP rows when the mask table would be large, with the same answer', () => {
    // 20,000 distinct tokens → 20,000 masks of 625 words: over the mask budget
    const a = Array.from({ length: 20_000 }, (_, i) => `t${i}`);
    const b = ['x', ...a.filter((_, i) => i % 397 === 0), 't5', 'y'];
    expect(lcsLength(a, b)).toBe(a.filter((_, i) => i % 397 === 0).length);
  });

  it(`caps each side at ${MAX_ROUGE_TOKENS} tokens`, () => {
    const long = 'a '.repeat(MAX_ROUGE_TOKENS + 5000);
    expect(rougeL(long, 'a '.repeat(MAX_ROUGE_TOKENS))).toEqual({ precision: 1, recall: 1, fmeasure: 1 });
  });
});
