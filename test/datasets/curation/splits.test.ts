import { describe, expect, it } from 'vitest';
import { assignSplits, mulberry32, type SplitItem, type SplitName } from '../../../src-main/core/datasets/curation/splits.js';
import { rng } from './corpus.js';

const keys = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ key: from + i }));
const tally = (m: Map<number, SplitName>, only?: Iterable<number>) => {
  const t = { train: 0, validation: 0, test: 0 };
  for (const k of only ?? m.keys()) t[m.get(k)!]++;
  return t;
};
const shuffled = <T>(list: T[], seed: number): T[] => {
  const random = rng(seed);
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

describe('assignSplits', () => {
  it('is reproducible across runs and independent of the input order', () => {
    const items: SplitItem[] = Array.from({ length: 500 }, (_, i) => ({ key: i * 3 + 7, stratum: ['a', 'b', null][i % 3]! }));
    const a = assignSplits(items, { seed: 42 });
    const b = assignSplits(items, { seed: 42 });
    const c = assignSplits(shuffled(items, 1), { seed: 42 });
    const d = assignSplits([...items].reverse(), { seed: 42 });
    expect([...b]).toEqual([...a]);
    expect([...c]).toEqual([...a]);
    expect([...d]).toEqual([...a]);
    // The result is in key order and covers every item.
    expect([...a.keys()]).toEqual(items.map((i) => i.key));
    // Another seed gives another assignment with the same totals.
    const e = assignSplits(items, { seed: 43 });
    expect([...e]).not.toEqual([...a]);
    expect(tally(e)).toEqual(tally(a));
  });

  it('shuffles: the assignment is not a block of keys', () => {
    const m = assignSplits(keys(1000), { seed: 5 });
    const testKeys = [...m].filter(([, s]) => s === 'test').map(([k]) => k);
    expect(testKeys).toHaveLength(100);
    // Test keys spread over the whole range.
    expect(Math.min(...testKeys)).toBeLessThan(100);
    expect(Math.max(...testKeys)).toBeGreaterThan(900);
  });

  it('applies ratios with largest-remainder rounding so the totals are exact', () => {
    expect(tally(assignSplits(keys(10), { seed: 1 }))).toEqual({ train: 8, validation: 1, test: 1 });
    // 7 × (0.8, 0.1, 0.1) = 5.6, 0.7, 0.7 → floors 5, 0, 0; the 2 units left go to the largest remainders.
    expect(tally(assignSplits(keys(7), { seed: 1, ratios: { train: 0.8, validation: 0.1, test: 0.1 } }))).toEqual({ train: 5, validation: 1, test: 1 });
    // 5 × (0.8, 0.1, 0.1) = 4, 0.5, 0.5: one unit left, the tie goes to validation (train, validation, test order).
    expect(tally(assignSplits(keys(5), { seed: 1 }))).toEqual({ train: 4, validation: 1, test: 0 });
    expect(tally(assignSplits(keys(1000), { seed: 9, ratios: { train: 0.7, validation: 0.2, test: 0.1 } }))).toEqual({
      train: 700,
      validation: 200,
      test: 100,
    });
    expect(tally(assignSplits(keys(3), { seed: 9, ratios: { train: 1 / 3, validation: 1 / 3, test: 1 / 3 } }))).toEqual({ train: 1, validation: 1, test: 1 });
    expect(tally(assignSplits(keys(4), { seed: 9, ratios: { train: 0, validation: 0, test: 1 } }))).toEqual({ train: 0, validation: 0, test: 4 });
    expect(assignSplits([], { seed: 1 }).size).toBe(0);
  });

  it('applies exact counts, the rest to train', () => {
    const m = assignSplits(keys(250), { seed: 3, counts: { validation: 17, test: 33 } });
    expect(tally(m)).toEqual({ train: 200, validation: 17, test: 33 });
    expect(tally(assignSplits(keys(10), { seed: 3, counts: { test: 10 } }))).toEqual({ train: 0, validation: 0, test: 10 });
    expect(tally(assignSplits(keys(10), { seed: 3, counts: {} }))).toEqual({ train: 10, validation: 0, test: 0 });
  });

  it('stratifies: each stratum gets the ratios, the global totals stay exact', () => {
    const items: SplitItem[] = [
      ...Array.from({ length: 50 }, (_, i) => ({ key: i, stratum: 'math' })),
      ...Array.from({ length: 30 }, (_, i) => ({ key: 100 + i, stratum: 'code' })),
      ...Array.from({ length: 20 }, (_, i) => ({ key: 200 + i, stratum: null })),
    ];
    const m = assignSplits(shuffled(items, 4), { seed: 11 });
    expect(tally(m)).toEqual({ train: 80, validation: 10, test: 10 });
    expect(
      tally(
        m,
        items.filter((i) => i.stratum === 'math').map((i) => i.key),
      ),
    ).toEqual({ train: 40, validation: 5, test: 5 });
    expect(
      tally(
        m,
        items.filter((i) => i.stratum === 'code').map((i) => i.key),
      ),
    ).toEqual({ train: 24, validation: 3, test: 3 });
    expect(
      tally(
        m,
        items.filter((i) => i.stratum === null).map((i) => i.key),
      ),
    ).toEqual({ train: 16, validation: 2, test: 2 });
  });

  it('stratified counts are the floor or ceiling of each stratum’s share, on random tables', () => {
    const random = rng(2024);
    for (let trial = 0; trial < 200; trial++) {
      const strata = 1 + Math.floor(random() * 12);
      const items: SplitItem[] = [];
      for (let s = 0; s < strata; s++) {
        const n = Math.floor(random() * 40);
        for (let i = 0; i < n; i++) items.push({ key: items.length, stratum: `s${s}` });
      }
      const a = random();
      const b = random() * (1 - a);
      const ratios = { train: a, validation: b, test: 1 - a - b };
      const useCounts = trial % 3 === 0;
      const counts = { validation: Math.floor(random() * items.length * 0.3), test: Math.floor(random() * items.length * 0.3) };
      const m = assignSplits(items, useCounts ? { seed: trial, counts } : { seed: trial, ratios });
      const F = items.length;
      const totals = tally(m);
      const shares = useCounts ? { train: (F - counts.validation - counts.test) / F, validation: counts.validation / F, test: counts.test / F } : ratios;
      if (useCounts) expect(totals).toEqual({ train: F - counts.validation - counts.test, validation: counts.validation, test: counts.test });
      for (const split of ['train', 'validation', 'test'] as const) {
        // Global totals: floor or ceiling of F × share.
        expect(Math.abs(totals[split] - F * shares[split])).toBeLessThan(1 + 1e-9);
        for (let s = 0; s < strata; s++) {
          const members = items.filter((i) => i.stratum === `s${s}`).map((i) => i.key);
          const got = tally(m, members)[split];
          expect(Math.abs(got - members.length * shares[split])).toBeLessThan(1 + 1e-9);
        }
      }
      expect(totals.train + totals.validation + totals.test).toBe(F);
    }
  });

  it('frozen test: fixed test items stay test, nothing else becomes test, the others split train:validation', () => {
    const items: SplitItem[] = keys(100).map(({ key }) => ({ key, fixed: key % 10 === 0 ? 'test' : key % 10 === 1 ? 'validation' : 'train' }));
    const m = assignSplits(items, { seed: 8, frozenTest: true, ratios: { train: 0.8, validation: 0.1, test: 0.1 } });
    const frozen = items.filter((i) => i.fixed === 'test').map((i) => i.key);
    for (const k of frozen) expect(m.get(k)).toBe('test');
    expect(tally(m)).toEqual({ train: 80, validation: 10, test: 10 });
    // 90 free items split 0.8 : 0.1 renormalized (8/9, 1/9) → 80 train, 10 validation.
    const free = items.filter((i) => i.fixed !== 'test').map((i) => i.key);
    expect(tally(m, free)).toEqual({ train: 80, validation: 10, test: 0 });
    // Re-splitting with another seed keeps the frozen test set exactly.
    const again = assignSplits(items, { seed: 99, frozenTest: true });
    expect([...again].filter(([, s]) => s === 'test').map(([k]) => k)).toEqual(frozen);
    // Counts: validation counted over the free items only.
    expect(tally(assignSplits(items, { seed: 8, frozenTest: true, counts: { validation: 30 } }))).toEqual({ train: 60, validation: 30, test: 10 });
    // Test ratio only: the free items all go to train.
    expect(tally(assignSplits(items, { seed: 8, frozenTest: true, ratios: { train: 0, validation: 0, test: 1 } }))).toEqual({
      train: 90,
      validation: 0,
      test: 10,
    });
  });

  it('without frozenTest, fixed (the current split) is ignored', () => {
    const items: SplitItem[] = keys(50).map(({ key }) => ({ key, fixed: 'test' as const }));
    expect(tally(assignSplits(items, { seed: 1 }))).toEqual({ train: 40, validation: 5, test: 5 });
    const plain = assignSplits(keys(50), { seed: 1 });
    expect([...assignSplits(items, { seed: 1 })]).toEqual([...plain]);
  });

  it('rejects bad ratios, counts, seeds and items with a message naming the field', () => {
    const items = keys(10);
    expect(() => assignSplits(items, { seed: 1, ratios: { train: 0.8, validation: 0.1, test: 0.2 } })).toThrow(/ratios must sum to 1/);
    expect(() => assignSplits(items, { seed: 1, ratios: { train: 0.5, validation: 0.1, test: 0.1 } })).toThrow(/ratios must sum to 1/);
    expect(() => assignSplits(items, { seed: 1, ratios: { train: 1.2, validation: -0.2, test: 0 } })).toThrow(
      /ratios\.validation must be a non-negative number/,
    );
    expect(() => assignSplits(items, { seed: 1, ratios: { train: Number.NaN, validation: 0.5, test: 0.5 } })).toThrow(/ratios\.train/);
    // Within 1e-9 of 1 is fine.
    expect(() => assignSplits(items, { seed: 1, ratios: { train: 0.7, validation: 0.2, test: 0.1 + 5e-10 } })).not.toThrow();
    expect(() => assignSplits(items, { seed: 1, counts: { validation: 11 } })).toThrow(/counts\.validation \(11\) exceeds the 10 examples available/);
    expect(() => assignSplits(items, { seed: 1, counts: { test: 12 } })).toThrow(/counts\.test \(12\) exceeds/);
    expect(() => assignSplits(items, { seed: 1, counts: { validation: 6, test: 6 } })).toThrow(/counts\.validation \+ counts\.test \(12\) exceed/);
    expect(() => assignSplits(items, { seed: 1, counts: { validation: -1 } })).toThrow(/counts\.validation must be a non-negative integer/);
    expect(() => assignSplits(items, { seed: 1, counts: { test: 1.5 } })).toThrow(/counts\.test must be a non-negative integer/);
    expect(() => assignSplits(items, { seed: 1, frozenTest: true, counts: { test: 2 } })).toThrow(/counts\.test must be 0 or absent with a frozen test split/);
    expect(() => assignSplits(items, { seed: 1, ratios: { train: 1, validation: 0, test: 0 }, counts: { test: 1 } })).toThrow(/either ratios or counts/);
    expect(() => assignSplits(items, { seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => assignSplits([{ key: 1 }, { key: 1 }], { seed: 1 })).toThrow(/duplicate key 1/);
    expect(() => assignSplits([{ key: 1, fixed: 'dev' as SplitName }], { seed: 1 })).toThrow(/fixed must be/);
    // Frozen items do not count as available.
    const frozen: SplitItem[] = keys(10).map(({ key }) => ({ key, fixed: key < 5 ? 'test' : null }));
    expect(() => assignSplits(frozen, { seed: 1, frozenTest: true, counts: { validation: 6 } })).toThrow(
      /exceeds the 5 examples available outside the frozen test split/,
    );
  });

  it('mulberry32 is a deterministic stream in [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.filter((x) => !(x >= 0 && x < 1))).toEqual([]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});
