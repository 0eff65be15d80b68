import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chrF, rougeL } from '../../src-main/core/evaluate/metrics/index.js';

// The pairs, and the numbers the reference tools give for them. Produced by test/evaluate/reference/expected.py (its
// docstring says how: sacrebleu @ f615c72 and google-research's rouge/ from source, PYTHONPATH pointing at them):
//   PYTHONPATH=/tmp/evref python3 test/evaluate/reference/expected.py
// chrF = sacrebleu.sentence_chrf(hyp, [ref]).score (defaults: chrF2); ROUGE-L = rouge_scorer.RougeScorer(['rougeL'])
// .score(ref, hyp)['rougeL'] (precision, recall, fmeasure).
const PAIRS = JSON.parse(readFileSync(new URL('./reference/pairs.json', import.meta.url), 'utf8')) as [string, string][];

// printed by expected.py: [chrF, rougeL precision, rougeL recall, rougeL fmeasure] per pair of pairs.json
const EXPECTED: [number, number, number, number][] = [
  [0.0, 0.0, 0.0, 0.0],
  [0.0, 0.0, 0.0, 0.0],
  [0.0, 0.0, 0.0, 0.0],
  [100.0, 1.0, 1.0, 1.0],
  [88.0862902423784, 1.0, 1.0, 1.0],
  [13.702688207217333, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666],
  [0.0, 0.0, 0.0, 0.0],
  [100.0, 1.0, 1.0, 1.0],
  [50.0, 0.0, 0.0, 0.0],
  [59.375, 0.0, 0.0, 0.0],
  [68.24291753114085, 0.5, 1.0, 0.6666666666666666],
  [74.24971405406188, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666],
  [45.68701322276926, 0.5, 0.5, 0.5],
  [25.0, 0.2, 1.0, 0.33333333333333337],
  [61.49193548387096, 0.0, 0.0, 0.0],
  [24.401709401709407, 0.0, 0.0, 0.0],
  [15.592850764163455, 0.0, 0.0, 0.0],
  [0.0, 0.0, 0.0, 0.0],
  [34.765234765234766, 0.5, 0.6666666666666666, 0.5714285714285715],
  [42.288359788359784, 0.0, 0.0, 0.0],
  [42.65937410801099, 1.0, 1.0, 1.0],
  [9.803921568627452, 0.0, 0.0, 0.0],
  [100.0, 1.0, 1.0, 1.0],
  [100.0, 1.0, 1.0, 1.0],
  [100.0, 0.0, 0.0, 0.0],
  [43.23387961659629, 0.0, 0.0, 0.0],
  [66.79452683692345, 1.0, 1.0, 1.0],
  [58.190163680660675, 0.7142857142857143, 0.7142857142857143, 0.7142857142857143],
  [57.97672297297438, 0.5555555555555556, 0.625, 0.5882352941176471],
  [75.35095646022366, 0.6, 1.0, 0.7499999999999999],
  [75.96883623199413, 0.6, 0.6, 0.6],
  [85.27062919871574, 0.801452784503632, 0.8033980582524272, 0.8024242424242425],
  [100.0, 1.0, 1.0, 1.0],
  [47.14883564767737, 0.2698412698412698, 0.27419354838709675, 0.272],
];

describe('chrF and ROUGE-L against the reference tools', () => {
  it('covers a varied fixed set (empty, unicode, punctuation, identical, disjoint, long)', () => {
    expect(PAIRS.length).toBe(EXPECTED.length);
    expect(PAIRS.length).toBeGreaterThanOrEqual(25);
  });

  it("gives sacrebleu's sentence_chrf score for every pair, to the last bit", () => {
    const got = PAIRS.map(([hyp, ref]) => chrF(hyp, ref));
    expect(got).toEqual(EXPECTED.map((e) => e[0]));
  });

  it("gives rouge-score's rougeL precision, recall and F-measure for every pair, to the last bit", () => {
    const got = PAIRS.map(([hyp, ref]) => {
      const r = rougeL(hyp, ref);
      return [r.precision, r.recall, r.fmeasure];
    });
    expect(got).toEqual(EXPECTED.map((e) => e.slice(1)));
  });

  it('scores the same pair the same way on repeated calls (the reused n-gram table is reset between calls)', () => {
    const first = PAIRS.map(([hyp, ref]) => chrF(hyp, ref));
    const again = [...PAIRS]
      .reverse()
      .map(([hyp, ref]) => chrF(hyp, ref))
      .reverse();
    expect(again).toEqual(first);
  });
});
