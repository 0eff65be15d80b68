import { describe, expect, it } from 'vitest';
import { contamination, ContaminationIndex } from '../../src-main/core/evaluate/metrics/index.js';
import { mulberry32 } from '../../src-main/core/random.js';

// lm-evaluation-harness's Janitor.normalize_string + word_ngrams (lm_eval/decontamination/janitor.py), written out
// with strings: ASCII letters lowercased, string.punctuation deleted, split on whitespace, n words joined by spaces.
const PUNCT = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
const normalize = (s: string) =>
  [...s]
    .filter((c) => !PUNCT.has(c))
    .map((c) => (c >= 'A' && c <= 'Z' ? c.toLowerCase() : c))
    .join('');
const ngrams = (s: string, n: number) => {
  const w = normalize(s)
    // eslint-disable-next-line no-control-regex -- Python's whitespace includes U+001C..U+001F
    .split(/[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/)
    .filter(Boolean);
  return Array.from({ length: Math.max(0, w.length - n + 1) }, (_, i) => w.slice(i, i + n).join(' '));
};

describe('n-gram contamination', () => {
  it("normalizes as lm-eval's janitor does and counts each example's n-grams found", () => {
    const rows = contamination(
      ["Don't PANIC: the answer is forty two.", 'Completely fresh words here today', 'too short', 'ÉCOLE été x y'],
      ['dont panic the answer is unknown', 'école été X y', 'whatever'],
      { n: 3 },
    );
    // "dont panic the", "panic the answer", "the answer is" found; "answer is forty", "is forty two" not
    expect(rows[0]).toEqual({ ngrams: 5, found: 3, share: 0.6, flagged: true });
    expect(rows[1]).toEqual({ ngrams: 3, found: 0, share: 0, flagged: false });
    expect(rows[2]).toEqual({ ngrams: 0, found: 0, share: 0, flagged: false }); // shorter than n: never flagged
    // non-ASCII letters are not lowercased (janitor's translation table is ASCII only): "ÉCOLE" ≠ "école"
    expect(rows[3]).toEqual({ ngrams: 2, found: 1, share: 0.5, flagged: true });
  });

  it('flags from a configurable number of found n-grams and defaults to 13-grams', () => {
    const text = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
    const index = new ContaminationIndex([text], { minFound: 3 });
    expect(index.n).toBe(13);
    index.add(text.split(' ').slice(0, 14).join(' ')); // 2 of its 8 13-grams
    expect(index.rows()).toEqual([{ ngrams: 8, found: 2, share: 0.25, flagged: false }]);
    index.add(text.split(' ').slice(7).join(' ')); // its last 13-gram too
    expect(index.rows()[0]).toMatchObject({ found: 3, flagged: true });
  });

  it('agrees with a plain string-set implementation on a random corpus', () => {
    const rng = mulberry32(99);
    const vocab = Array.from({ length: 40 }, (_, i) => (i % 7 === 0 ? `Word${i},` : `w${i}`));
    const text = (len: number) => Array.from({ length: len }, () => vocab[Math.floor(rng() * vocab.length)]).join(rng() < 0.5 ? ' ' : '\n');
    const refs = Array.from({ length: 3000 }, () => text(5 + Math.floor(rng() * 40)));
    const evals = Array.from({ length: 300 }, () => text(3 + Math.floor(rng() * 30)));
    const n = 4;
    const set = new Set(refs.flatMap((r) => ngrams(r, n)));
    const expected = evals.map((e) => {
      const g = ngrams(e, n);
      const found = g.filter((x) => set.has(x)).length;
      return { ngrams: g.length, found, share: g.length ? found / g.length : 0, flagged: found >= 1 };
    });
    expect(expected.some((r) => r.flagged) && expected.some((r) => !r.flagged && r.ngrams > 0)).toBe(true);
    expect(contamination(evals, refs, { n })).toEqual(expected);
  });

  it('refuses a bad n or threshold, naming it', () => {
    expect(() => new ContaminationIndex([], { n: 0 })).toThrow(/^n: /);
    expect(() => new ContaminationIndex([], { minFound: 0.5 })).toThrow(/^minFound: /);
  });
});
