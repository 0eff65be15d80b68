import { describe, expect, it } from 'vitest';
import type { NormalizedExample } from '../../../src-shared/domain/datasets.js';
import {
  CLUSTER_BAND_WEIGHTS,
  estimatedJaccard,
  exactDuplicateGroups,
  exactKey,
  exampleText,
  MinHasher,
  NearDupIndex,
  nearDuplicateClusters,
  normalizeText,
  optimalBands,
} from '../../../src-main/core/datasets/curation/dedupe.js';
import { editWords, randomText, rng, syntheticCorpus, vocabulary } from './corpus.js';

const ex = (user: string, assistant: string | null, system?: string): NormalizedExample => ({
  messages: [
    ...(system === undefined ? [] : [{ role: 'system' as const, content: system }]),
    { role: 'user', content: user },
    ...(assistant === null ? [] : [{ role: 'assistant' as const, content: assistant }]),
  ],
  reference: assistant,
});

/** Exact Jaccard similarity of the character 5-shingle sets of the normalized texts. */
function exactJaccard(a: string, b: string): number {
  const shingles = (t: string) => {
    const n = normalizeText(t);
    const s = new Set<string>();
    for (let i = 0; i + 5 <= n.length; i++) s.add(n.slice(i, i + 5));
    return s;
  };
  const x = shingles(a);
  const y = shingles(b);
  let both = 0;
  for (const v of x) if (y.has(v)) both++;
  return both / (x.size + y.size - both);
}

describe('normalizeText', () => {
  it('applies NFKC, lowercases and collapses whitespace', () => {
    expect(normalizeText('  Hello\t\tWORLD \n\n again  ')).toBe('hello world again');
    expect(normalizeText('ＡＢＣ１２３')).toBe('abc123'); // full-width forms
    expect(normalizeText('ﬁnd the café')).toBe('find the café'); // ligature; é composed
    expect(normalizeText('cafe\u0301')).toBe('café'); // combining accent composed
    expect(normalizeText('zero\u200Bwidth\u00ADsoft')).toBe('zerowidthsoft');
  });

  it('strips quotes and sentence punctuation but keeps intra-word punctuation, ? and symbols', () => {
    expect(normalizeText("Hello, world. “Quoted” and 'single' and `code`!")).toBe('hello world quoted and single and code');
    expect(normalizeText('Pi is 3.14, not 3,15; it is 10:30 at example.com.')).toBe('pi is 3.14 not 3,15 it is 10:30 at example.com');
    expect(normalizeText('Use std::vector<int> (see §2) & a+b=c')).toBe('use std::vector<int> (see §2) & a+b=c');
    expect(normalizeText('Is it raining?')).toBe('is it raining?');
    expect(normalizeText('Wait... what!!')).toBe('wait what');
    expect(normalizeText('你好，世界。「引号」')).toBe('你好世界引号');
    expect(normalizeText("don't")).toBe('dont');
  });

  it('is idempotent', () => {
    for (const s of ['Hello, world.', 'a . b', '3.14 x.y z', '“x” — y', 'ＡＢ。ｃ']) expect(normalizeText(normalizeText(s))).toBe(normalizeText(s));
  });
});

describe('exampleText and exactKey', () => {
  it('tags each message with its role', () => {
    expect(exampleText(ex('Hi', 'Hello!', 'Be nice.'))).toBe('[system] Be nice.\n[user] Hi\n[assistant] Hello!');
    expect(exampleText(ex('Hi', null))).toBe('[user] Hi');
    // A reference that is not the last assistant message is appended.
    expect(exampleText({ messages: [{ role: 'user', content: 'Hi' }], reference: 'Hey' })).toBe('[user] Hi\n[reference] Hey');
  });

  it('gives the same key to case, whitespace and punctuation variants only', () => {
    const a = exactKey(ex('What is the capital of France?', 'Paris.'));
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(exactKey(ex('  what IS the capital   of france?', 'PARIS'))).toBe(a);
    expect(exactKey(ex('What is the capital of France?\n', '“Paris”.'))).toBe(a);
    expect(exactKey(ex('What is the capital of France?', 'Lyon.'))).not.toBe(a);
    expect(exactKey(ex('What is the capital of France', 'Paris.'))).not.toBe(a); // the question mark matters
    // The role is part of the key: the same words said by someone else are different.
    expect(
      exactKey({
        messages: [
          { role: 'system', content: 'What is the capital of France?' },
          { role: 'assistant', content: 'Paris.' },
        ],
        reference: 'Paris.',
      }),
    ).not.toBe(a);
  });

  it('groups exact duplicates', () => {
    const items = [ex('A', 'x'), ex('b', 'y'), ex('a ', 'X'), ex('c', 'z'), ex('B', 'Y.')].map((e, i) => ({ id: 10 - i, key: exactKey(e) }));
    expect(exactDuplicateGroups(items)).toEqual([
      [6, 9],
      [8, 10],
    ]);
  });
});

describe('MinHasher', () => {
  it('is deterministic for a seed, and normalizes by default', () => {
    const a = new MinHasher().signature('The quick brown fox jumps over the lazy dog.');
    expect(a).toBeInstanceOf(Uint32Array);
    expect(a).toHaveLength(128);
    expect(new MinHasher({ seed: 1 }).signature('the quick  brown FOX jumps over the lazy dog')).toEqual(a);
    expect(new MinHasher({ seed: 2 }).signature('The quick brown fox jumps over the lazy dog.')).not.toEqual(a);
    expect(new MinHasher({ numPerm: 20 }).signature('abc')).toHaveLength(20); // not a multiple of 8
    expect(new MinHasher({ normalize: false }).signature('ABC def')).not.toEqual(new MinHasher().signature('ABC def'));
  });

  it('handles empty and short texts', () => {
    const h = new MinHasher();
    expect([...h.signature('')].filter((v) => v !== 0x7fffffff)).toEqual([]);
    expect(estimatedJaccard(h.signature('abc'), h.signature('ABC'))).toBe(1);
    expect(estimatedJaccard(h.signature('abc'), h.signature('abd'))).toBeLessThan(0.1);
  });

  it('estimates the Jaccard similarity within the binomial error', () => {
    const random = rng(3);
    const vocab = vocabulary(random, 3000);
    const h = new MinHasher();
    let sq = 0;
    let n = 0;
    for (let i = 0; i < 60; i++) {
      const a = randomText(random, vocab, 600);
      const b = editWords(random, a, [0.01, 0.05, 0.1, 0.2, 0.4, 1][i % 6]!, vocab);
      const truth = exactJaccard(a, b);
      const est = estimatedJaccard(h.signature(a), h.signature(b));
      // 128 slots: standard deviation ≤ 0.045; 5 sigma.
      expect(Math.abs(est - truth)).toBeLessThan(0.22);
      sq += (est - truth) ** 2;
      n++;
    }
    expect(Math.sqrt(sq / n)).toBeLessThan(0.045);
  });
});

describe('optimalBands', () => {
  it('gives the standard banding for common thresholds', () => {
    expect(optimalBands(0.8, 128)).toEqual({ bands: 9, rows: 13 });
    for (const t of [0.5, 0.7, 0.85, 0.9, 0.95]) {
      const { bands, rows } = optimalBands(t, 128);
      expect(bands * rows).toBeLessThanOrEqual(128);
      // The S-curve's midpoint (1/b)^(1/r) sits near the threshold.
      expect(Math.abs(Math.pow(1 / bands, 1 / rows) - t)).toBeLessThan(0.1);
    }
    // Weighting false negatives more gives more, shorter bands (higher recall): what clustering uses.
    expect(optimalBands(0.8, 128, CLUSTER_BAND_WEIGHTS)).toEqual({ bands: 14, rows: 9 });
    expect(() => optimalBands(0, 128)).toThrow(/threshold/);
    expect(() => optimalBands(1.5, 128)).toThrow(/threshold/);
  });
});

describe('nearDuplicateClusters', () => {
  it('finds planted near-duplicate groups exactly and leaves unrelated texts alone', () => {
    // 1,500 conversations of ~600 characters; 36 groups of 2–4 copies, each copy with 3% of its words edited
    // (replaced, deleted or inserted): pairwise Jaccard about 0.8–0.95; unrelated texts share < 0.1.
    const corpus = [2, 3, 4].map((size, k) => syntheticCorpus({ seed: 100 + k, count: 500, groups: 14 - 2 * k, groupSize: size, editFraction: 0.03 }));
    const items = corpus.flatMap((c, k) => c.items.map((i) => ({ id: i.id + k * 1000, text: i.text })));
    const planted = corpus.flatMap((c, k) => c.planted.map((g) => g.map((id) => id + k * 1000)));
    const progress: number[] = [];
    const { clusters } = nearDuplicateClusters(items, { threshold: 0.8, onProgress: (n) => progress.push(n) });
    expect(clusters.map((c) => c.ids)).toEqual(planted);
    for (const c of clusters) expect(c.similarity).toBeGreaterThan(0.7);
    expect(progress).toEqual([1000, 1500]);
  });

  it('with the classic 0.5/0.5 banding (9 × 13 at 0.8), light edits are still found', () => {
    const { items, planted } = syntheticCorpus({ seed: 12, count: 1000, groups: 30, groupSize: 2, editFraction: 0.01 });
    const { clusters } = nearDuplicateClusters(items, { threshold: 0.8, fpWeight: 0.5, fnWeight: 0.5 });
    expect(clusters.map((c) => c.ids)).toEqual(planted);
  });

  it('reports the minimum estimated similarity to the first id, ids sorted, clusters by first id', () => {
    const random = rng(5);
    const vocab = vocabulary(random, 2000);
    const base = randomText(random, vocab, 600);
    const other = randomText(random, vocab, 600);
    const items = [
      { id: 50, text: editWords(random, base, 0.01, vocab) },
      { id: 7, text: other },
      { id: 20, text: base },
      { id: 3, text: `${other} ` }, // an exact duplicate after normalization
      { id: 90, text: randomText(random, vocab, 600) },
    ];
    const { clusters } = nearDuplicateClusters(items, { threshold: 0.8 });
    expect(clusters.map((c) => c.ids)).toEqual([
      [3, 7],
      [20, 50],
    ]);
    expect(clusters[0]!.similarity).toBe(1);
    const h = new MinHasher();
    expect(clusters[1]!.similarity).toBe(estimatedJaccard(h.signature(base), h.signature(items[0]!.text)));
  });

  it('works on text without spaces (character shingles)', () => {
    const a = '北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有三千多年的建城史，拥有故宫、天坛和长城等世界文化遗产。';
    const b = a.replace('三千多年', '三千年');
    const c = '上海位于长江入海口，是中国最大的经济中心和国际化大都市之一，以外滩、东方明珠和繁忙的港口而闻名于世。';
    const { clusters } = nearDuplicateClusters(
      [
        { id: 1, text: a },
        { id: 2, text: b },
        { id: 3, text: c },
      ],
      { threshold: 0.8 },
    );
    expect(clusters.map((k) => k.ids)).toEqual([[1, 2]]);
  });

  it('verifies every candidate: LSH with one-row bands equals brute force over all pairs', () => {
    const { items } = syntheticCorpus({ seed: 21, count: 300, groups: 20, groupSize: 3, editFraction: 0.08, vocabularySize: 300 });
    const index = new NearDupIndex();
    for (const i of items) index.add(i.id, i.text);
    for (const threshold of [0.5, 0.7, 0.8]) {
      // Brute force: union of all pairs with estimated Jaccard ≥ threshold.
      const sigs = items.map((i) => index.signatureOf(i.id)!);
      const parent = items.map((_, k) => k);
      const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
      for (let x = 0; x < items.length; x++) {
        for (let y = x + 1; y < items.length; y++) if (estimatedJaccard(sigs[x]!, sigs[y]!) >= threshold) parent[find(x)] = find(y);
      }
      const groups = new Map<number, number[]>();
      items.forEach((item, k) => groups.set(find(k), [...(groups.get(find(k)) ?? []), item.id]));
      const expected = [...groups.values()]
        .filter((g) => g.length > 1)
        .map((g) => g.sort((a, b) => a - b))
        .sort((a, b) => a[0]! - b[0]!);
      expect(expected.length).toBeGreaterThan(0);
      expect(index.clusters(threshold, { bands: 128, rows: 1 }).map((c) => c.ids)).toEqual(expected);
    }
  });

  it('streams: feeding pages to NearDupIndex gives the one-shot result, for any threshold', () => {
    const { items } = syntheticCorpus({ seed: 31, count: 400, groups: 15, groupSize: 3, editFraction: 0.03 });
    const index = new NearDupIndex();
    for (let page = 0; page < items.length; page += 64) for (const i of items.slice(page, page + 64)) index.add(i.id, i.text);
    expect(index.size).toBe(400);
    for (const threshold of [0.7, 0.85]) expect(index.clusters(threshold)).toEqual(nearDuplicateClusters(items, { threshold }).clusters);
    // Signatures computed elsewhere can be added as they are.
    const copy = new NearDupIndex();
    for (const i of items) copy.addSignature(i.id, index.signatureOf(i.id)!);
    expect(copy.clusters(0.8)).toEqual(index.clusters(0.8));
    expect(index.signatureOf(123456)).toBeNull();
  });

  it('puts thousands of items sharing a template in one cluster (its speed: npm run bench -- curation)', () => {
    const random = rng(9);
    const vocab = vocabulary(random, 1000);
    const template = randomText(random, vocab, 560);
    const items = Array.from({ length: 6000 }, (_, id) => ({ id, text: `${template} ${id % 2 === 0 ? 'yes' : `answer ${id}`}` }));
    const { clusters } = nearDuplicateClusters(items, { threshold: 0.8 });
    expect(clusters).toHaveLength(1);
    expect(clusters[0]!.ids).toHaveLength(6000);
  });

  it('rejects bad input', () => {
    expect(() => nearDuplicateClusters([], { threshold: 0 })).toThrow(/threshold/);
    expect(nearDuplicateClusters([], { threshold: 0.8 }).clusters).toEqual([]);
    const index = new NearDupIndex();
    index.add(1, 'a');
    expect(() => index.add(1, 'b')).toThrow(/id 1 was already added/);
    expect(() => index.clusters(0.8, { bands: 20, rows: 10 })).toThrow(/bands \(20\) × rows \(10\)/);
    expect(() => new MinHasher({ numPerm: 0 })).toThrow(/numPerm/);
    expect(() => index.addSignature(2, new Uint32Array(5))).toThrow(/5 slots, not 128/);
  });
});
