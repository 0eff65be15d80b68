import { describe, expect, it } from 'vitest';
import { answerSentence, compareLadders, formatMetric, paretoFront, pickWithin, type GatedType } from '../../src-shared/domain/quantize-answer.js';

const MB = 1_000_000;
const row = (type: string, mb: number, kld: number | null, sameTop = 0.9, pplRatio = 1.01): GatedType => ({
  type,
  bytes: mb * MB,
  gate: kld === null ? null : { kld, sameTop, pplRatio },
});
// a ladder like llama.cpp's README measures on Llama-3-8B (KLD, same top), sizes of an 8B model, out of size order
const ladder = [
  row('Q8_0', 8540, 0.00136, 0.977, 1.0003),
  row('Q6_K', 6600, 0.00545, 0.96, 1.002),
  row('Q5_K_M', 5730, 0.0108, 0.945, 1.006),
  row('Q4_K_S', 4690, 0.04, 0.91, 1.02),
  row('Q4_0', 4680, 0.06, 0.9, 1.03),
  row('Q4_K_M', 4920, 0.0313, 0.919, 1.017),
  row('Q3_K_M', 4020, 0.102, 0.86, 1.06),
  row('Q2_K', 3180, 0.445, 0.711, 1.35),
];

describe('the Pareto front of size against KLD', () => {
  it('keeps only the types no other type beats on both size and KLD, smallest first', () => {
    expect(paretoFront(ladder).map((r) => r.type)).toEqual(['Q2_K', 'Q3_K_M', 'Q4_0', 'Q4_K_S', 'Q4_K_M', 'Q5_K_M', 'Q6_K', 'Q8_0']);
    // a type larger and worse than another is off the front
    const worse = [...ladder, row('Q5_K_S', 5600, 0.05)];
    expect(paretoFront(worse).map((r) => r.type)).not.toContain('Q5_K_S');
    const dominated = [row('A', 10, 0.01), row('B', 12, 0.02), row('C', 10, 0.03), row('D', 8, null)];
    expect(paretoFront(dominated).map((r) => r.type)).toEqual(['A']);
  });
  it('is empty without gate figures', () => {
    expect(paretoFront([row('Q8_0', 10, null)])).toEqual([]);
  });
});

describe('the pick within a budget', () => {
  it('is the smallest file whose mean KLD is at most the value, with the next smaller type that is not', () => {
    const p = pickWithin(ladder, { metric: 'kld', value: 0.05 });
    expect(p.kind).toBe('within');
    if (p.kind !== 'within') return;
    expect(p.picked.type).toBe('Q4_K_S');
    expect(p.nextSmaller?.type).toBe('Q4_0');
    const tight = pickWithin(ladder, { metric: 'kld', value: 0.005 });
    expect(tight.kind === 'within' && tight.picked.type).toBe('Q8_0');
  });
  it('reads same top as at least the value and the PPL ratio as at most it', () => {
    const top = pickWithin(ladder, { metric: 'sameTop', value: 0.95 });
    expect(top.kind === 'within' && [top.picked.type, top.nextSmaller?.type]).toEqual(['Q6_K', 'Q5_K_M']);
    const ppl = pickWithin(ladder, { metric: 'pplRatio', value: 1.06 });
    expect(ppl.kind === 'within' && [ppl.picked.type, ppl.nextSmaller?.type]).toEqual(['Q3_K_M', 'Q2_K']);
  });
  it('picks the smallest type of all with no smaller one to name when every type fits', () => {
    const p = pickWithin(ladder, { metric: 'kld', value: 1 });
    expect(p).toEqual({ kind: 'within', picked: ladder.at(-1), nextSmaller: null });
  });
  it('names the type that comes closest when none is within', () => {
    expect(pickWithin(ladder, { metric: 'kld', value: 0.001 })).toEqual({ kind: 'none', closest: ladder[0] });
    expect(pickWithin(ladder, { metric: 'sameTop', value: 0.99 })).toEqual({ kind: 'none', closest: ladder[0] });
  });
  it('ignores types not scored yet, and says when none is', () => {
    const p = pickWithin([row('Q2_K', 3180, null), row('Q8_0', 8540, 0.001)], { metric: 'kld', value: 0.5 });
    expect(p.kind === 'within' && p.picked.type).toBe('Q8_0');
    expect(pickWithin([row('Q2_K', 3180, null)], { metric: 'kld', value: 0.5 })).toEqual({ kind: 'unmeasured' });
  });
});

describe('the answer sentence', () => {
  const source = 15_320 * MB;
  it('says which type is within the budget, how much smaller it is, and why the next smaller one is not', () => {
    const p = pickWithin(ladder, { metric: 'kld', value: 0.035 });
    expect(answerSentence(p, { metric: 'kld', value: 0.035 }, { sourceBytes: source, withImatrix: true })).toBe(
      'Q4_K_M with your imatrix is within your budget and 3.1× smaller than the source; Q4_K_S is not (KLD 0.040 > 0.035).',
    );
    const top = pickWithin(ladder, { metric: 'sameTop', value: 0.95 });
    expect(answerSentence(top, { metric: 'sameTop', value: 0.95 }, { sourceBytes: source, withImatrix: false, pending: 2 })).toBe(
      'Q6_K is within your budget and 2.3× smaller than the source; Q5_K_M is not (same top 94.5% < 95.0%) (2 types still to measure).',
    );
  });
  it('names the closest type when none is within, and says when nothing was scored', () => {
    const b = { metric: 'pplRatio' as const, value: 1.0001 };
    expect(answerSentence(pickWithin(ladder, b), b, { sourceBytes: source, withImatrix: false })).toBe(
      'No type is within your budget (PPL ratio ≤ 1.000); the closest is Q8_0 (PPL ratio 1.000).',
    );
    expect(answerSentence({ kind: 'unmeasured' }, b, { sourceBytes: source, withImatrix: false })).toBe(
      'No type of this ladder was scored against its source.',
    );
    expect(answerSentence({ kind: 'unmeasured' }, b, { sourceBytes: source, withImatrix: false, pending: 3 })).toBe(
      'No type has been scored yet (3 types still to measure).',
    );
  });
  it('writes small KLDs with two significant digits', () => {
    expect([formatMetric('kld', 0.1), formatMetric('kld', 0.00136), formatMetric('kld', 0.445), formatMetric('sameTop', 0.919)]).toEqual([
      '0.10',
      '0.0014',
      '0.45',
      '91.9%',
    ]);
  });
});

describe('two ladders side by side', () => {
  it('pairs the types in the ladder order, with B − A where both have them', () => {
    const a = [row('Q8_0', 10, 0.002, 0.97, 1.001), row('Q4_K_M', 5, 0.03, 0.92, 1.02)];
    const b = [row('Q4_K_M', 5, 0.02, 0.93, 1.01), row('IQ3_XXS', 3, null)];
    const pairs = compareLadders(a, b, ['Q8_0', 'Q4_K_M', 'IQ3_XXS']);
    expect(pairs.map((p) => p.type)).toEqual(['Q8_0', 'Q4_K_M', 'IQ3_XXS']);
    expect(pairs[0]).toMatchObject({ b: null, diff: null });
    expect(pairs[1]!.diff!.bytes).toBe(0);
    expect(pairs[1]!.diff!.kld).toBeCloseTo(-0.01, 12);
    expect(pairs[1]!.diff!.sameTop).toBeCloseTo(0.01, 12);
    expect(pairs[2]).toMatchObject({ a: null, b: { bytes: 3 * MB, kld: null } });
  });
});
