import { describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors.js';
import { bootstrapMean, pairedDifference, quantileSorted } from '../../src-main/core/evaluate/metrics/index.js';
import { mulberry32 } from '../../src-main/core/random.js';

describe('bootstrap confidence intervals', () => {
  const rng = mulberry32(3);
  const scores = Array.from({ length: 200 }, () => (rng() < 0.6 ? 1 : 0));

  it('is reproducible with a seed and differs with another', () => {
    const a = bootstrapMean(scores, { seed: 1 });
    expect(bootstrapMean(scores, { seed: 1 })).toEqual(a);
    const b = bootstrapMean(scores, { seed: 2 });
    expect([b.low, b.high]).not.toEqual([a.low, a.high]);
    expect(a.mean).toBe(b.mean);
    expect(a.n).toBe(200);
    expect(a.low!).toBeLessThan(a.mean!);
    expect(a.high!).toBeGreaterThan(a.mean!);
    expect(a.plusMinus).toBeCloseTo((a.high! - a.low!) / 2, 15);
  });

  it("takes numpy's default (linear) quantiles", () => {
    // numpy.quantile([1, 2, 3, 4], [0.25, 0.975]) == [1.75, 3.925]
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 15);
    expect(quantileSorted([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 15);
  });

  it('covers the true mean in about 95 % of simulated samples', () => {
    // 400 samples of 100 answers each: 0/1 scores with P(1) = 0.7 (exact match), and Exp(1) (skewed, where percentile
    // intervals are weakest); seeded, so the counts are fixed: 381/400 and 375/400 at the time of writing
    const draw = mulberry32(2024);
    for (const [gen, truth] of [
      [() => (draw() < 0.7 ? 1 : 0), 0.7],
      [() => -Math.log(1 - draw()), 1],
    ] as const) {
      let covered = 0;
      for (let s = 0; s < 400; s++) {
        const ci = bootstrapMean(Array.from({ length: 100 }, gen), { seed: s });
        if (ci.low! <= truth && truth <= ci.high!) covered++;
      }
      expect(covered / 400).toBeGreaterThanOrEqual(0.9);
      expect(covered / 400).toBeLessThanOrEqual(0.99);
    }
  });

  it('gives a narrower interval at a lower level, and nulls for no values', () => {
    const wide = bootstrapMean(scores, { seed: 4, level: 0.99 });
    const narrow = bootstrapMean(scores, { seed: 4, level: 0.5 });
    expect(narrow.high! - narrow.low!).toBeLessThan(wide.high! - wide.low!);
    expect(bootstrapMean([], { seed: 1 })).toEqual({ mean: null, low: null, high: null, plusMinus: null, n: 0 });
  });

  it('refuses non-finite values and bad options, naming them', () => {
    expect(() => bootstrapMean([1, NaN], { seed: 1 })).toThrow(AppError);
    expect(() => bootstrapMean([1, NaN], { seed: 1 })).toThrow(/^values\[1\]/);
    expect(() => bootstrapMean([1], { seed: 1, resamples: 0 })).toThrow(/^resamples/);
    expect(() => bootstrapMean([1], { seed: 1, level: 1 })).toThrow(/^level/);
  });
});

describe('the paired difference', () => {
  it('is exact for a constant gap, and much tighter than the unpaired spread when examples vary', () => {
    const rng = mulberry32(11);
    const difficulty = Array.from({ length: 300 }, () => rng() * 100);
    const teacher = difficulty.map((d) => d + 5);
    const student = difficulty.map((d) => d + 5 - 2.1);
    const d = pairedDifference(student, teacher, { seed: 7 });
    expect(d.mean!).toBeCloseTo(-2.1, 10);
    expect(d.low!).toBeCloseTo(-2.1, 10);
    expect(d.high!).toBeCloseTo(-2.1, 10);
    // with noise per example, the paired interval still excludes 0 while each variant's own interval is ~±3 points wide
    const noisy = student.map((s) => s + (rng() - 0.5) * 10);
    const p = pairedDifference(noisy, teacher, { seed: 7 });
    expect(p.high!).toBeLessThan(0);
    expect(p.plusMinus!).toBeLessThan(bootstrapMean(noisy, { seed: 7 }).plusMinus! / 2);
  });

  it('refuses scores that cannot be paired', () => {
    expect(() => pairedDifference([1, 2], [1], { seed: 1 })).toThrow(/^b: 1 scores for 2 examples/);
  });
});
