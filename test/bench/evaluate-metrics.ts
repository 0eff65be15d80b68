import {
  bootstrapMean,
  chrF,
  contains,
  ContaminationIndex,
  exactMatch,
  jsonValid,
  pairedDifference,
  prepareMetrics,
  regexMatch,
  rougeL,
  routingCurve,
  schemaMatch,
  scoreAnswer,
  tokenF1,
} from '../../src-main/core/evaluate/metrics/index.js';
import { mulberry32 } from '../../src-main/core/random.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const ms = (t0: number) => Number((performance.now() - t0).toFixed(1));
/** CPU milliseconds (user + system) of this process since `c0`: steadier than wall time on a shared machine. */
const cpuMs = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0);
  return Math.round((c.user + c.system) / 1000);
};

/** Text of 30–200 words from a Zipf-ish vocabulary with punctuation, and a reference that shares ~60 % of it. */
function pairs(count: number, seed: number): [string, string][] {
  const rng = mulberry32(seed);
  const vocab = Array.from({ length: 5000 }, (_, i) => (i < 100 ? ['the', 'of', 'and', 'a', 'to', 'in', 'is'][i % 7]! : `w${i.toString(36)}`));
  const word = () => vocab[Math.floor(vocab.length * rng() ** 3)]!;
  const sentence = (len: number) => Array.from({ length: len }, (_, i) => word() + (i % 12 === 11 ? '.' : rng() < 0.05 ? ',' : '')).join(' ');
  return Array.from({ length: count }, () => {
    const ref = sentence(30 + Math.floor(rng() * 171));
    const hyp = ref
      .split(' ')
      .map((w) => (rng() < 0.4 ? word() : w))
      .join(' ');
    return [hyp, ref];
  });
}

/**
 * `npm run bench -- evaluate [--pairs N] [--reference N]`: the Evaluate room's pure metrics in this process, one core.
 * - `text_metrics_ms`: scoreAnswer with all eight metrics (exact, contains, regex, token F1, ROUGE-L, chrF, JSON valid,
 *   schema) over N (default 10,000) generated pairs of 30–200 words; target < 2,000 ms. `per_metric_ms` times each
 *   metric's own function alone (those repeat the normalization scoreAnswer shares);
 * - `bootstrap_ms`: a 95 % interval of the mean of 10,000 values, 1,000 resamples; and the paired difference;
 * - `routing_ms`: the routing curve over 10,000 examples;
 * - `contamination_ms`: 10,000 evaluation texts against --reference (default 100,000) reference texts, 13-grams.
 */
export async function evaluateMetricsBench(args: string[]): Promise<void> {
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    const v = i >= 0 ? Number(args[i + 1]) : fallback;
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`${name} needs a positive whole number, not ${args[i + 1]}`);
    return v;
  };
  const count = arg('--pairs', 10_000);
  const refCount = arg('--reference', 100_000);
  const data = pairs(count, 1);
  const words = data.reduce((s, [h, r]) => s + h.split(' ').length + r.split(' ').length, 0) / (2 * count);

  const prepared = prepareMetrics({ metrics: ['regex', 'schema'], regex: '\\bw[0-9a-z]+\\.', schema: { type: 'object' } });
  const runs: [string, (h: string, r: string) => number][] = [
    ['exact', exactMatch],
    ['contains', contains],
    ['regex', (h) => regexMatch(h, prepared.regex!)],
    ['f1', tokenF1],
    ['rougeL', (h, r) => rougeL(h, r).fmeasure],
    ['chrf', chrF],
    ['json', jsonValid],
    ['schema', (h) => schemaMatch(h, prepared.schema!)],
  ];
  const spec = {
    metrics: ['exact', 'contains', 'regex', 'f1', 'rougeL', 'chrf', 'json', 'schema'] as const,
    regex: '\\bw[0-9a-z]+\\.',
    schema: { type: 'object' },
  };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const totals: Record<string, number> = {};
  for (const [h, r] of data) for (const [id, v] of Object.entries(scoreAnswer(h, r, spec))) totals[id] = (totals[id] ?? 0) + (v ?? 0);
  const total = ms(t0);
  const totalCpu = cpuMs(c0);
  const perMetric: Record<string, number> = {};
  const means: Record<string, number> = {};
  for (const [id, f] of runs) {
    const t = performance.now();
    let sum = 0;
    for (const [h, r] of data) sum += f(h, r);
    perMetric[id] = ms(t);
    means[id] = Number((sum / count).toFixed(4));
  }
  for (const id of Object.keys(means)) if (Math.abs(means[id]! - totals[id]! / count) > 1e-4) throw new Error(`scoreAnswer's ${id} differs`);
  print({
    metric: 'text_metrics_ms',
    value: total,
    cpu_ms: totalCpu,
    pairs: count,
    avg_words: Math.round(words),
    per_metric_ms: perMetric,
    means,
    target_ms: 2000,
  });

  const rng = mulberry32(2);
  const values = Array.from({ length: 10_000 }, () => rng());
  let t = performance.now();
  const ci = bootstrapMean(values, { seed: 1 });
  print({ metric: 'bootstrap_ms', value: ms(t), n: values.length, resamples: 1000, mean: ci.mean, low: ci.low, high: ci.high });
  const other = values.map((v) => v - 0.02 + (rng() - 0.5) * 0.1);
  t = performance.now();
  const d = pairedDifference(values, other, { seed: 1 });
  print({ metric: 'paired_difference_ms', value: ms(t), n: values.length, mean: d.mean, plus_minus: d.plusMinus });

  t = performance.now();
  const curve = routingCurve(values.map((v, i) => ({ student: v, teacher: other[i]! + 0.1, confidence: rng() })));
  print({ metric: 'routing_ms', value: ms(t), n: values.length, points: curve.points.length, apgr: curve.apgr });

  const evalTexts = data.map(([, r]) => r);
  const reference = pairs(refCount, 3).map(([, r]) => r);
  // plant 1 % of the evaluation texts in the reference corpus, so the count found can be checked
  for (let i = 0; i < count; i += 100) reference[(i * 7) % refCount] = `preamble words ${evalTexts[i]} and more`;
  t = performance.now();
  const c1 = process.cpuUsage();
  const index = new ContaminationIndex(evalTexts);
  for (const text of reference) index.add(text);
  const rows = index.rows();
  const heap = process.memoryUsage().heapUsed;
  print({
    metric: 'contamination_ms',
    value: ms(t),
    cpu_ms: cpuMs(c1),
    eval_examples: count,
    reference_examples: refCount,
    n: index.n,
    flagged: rows.filter((r) => r.flagged).length,
    planted: Math.ceil(count / 100),
    heap_mb: Math.round(heap / 2 ** 20),
  });
}
