/**
 * Percentile bootstrap confidence intervals for a mean, and for the paired mean difference of two variants scored on
 * the same examples. Seeded (mulberry32), so a rerun prints the same interval. Quantiles use numpy's default
 * ("linear", Hyndman–Fan type 7) on the sorted resampled means.
 */
import { AppError } from '../../../../src-shared/errors.js';
import { mulberry32 } from '../../random.js';

export interface BootstrapOptions {
  seed: number;
  /** Resampled means drawn (default 1000, at most MAX_RESAMPLES). */
  resamples?: number;
  /** Central coverage of the interval (default 0.95). */
  level?: number;
}

export interface Interval {
  /** The mean of the values themselves (not of the resamples); null when there are none. */
  mean: number | null;
  low: number | null;
  high: number | null;
  /** Half the interval's width: the "± x" of "2.1 ± 1.4". */
  plusMinus: number | null;
  n: number;
}

export const MAX_RESAMPLES = 100_000;

function check(values: readonly number[], opts: BootstrapOptions, field: string): { resamples: number; level: number } {
  const resamples = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1 || resamples > MAX_RESAMPLES)
    throw new AppError('invalid_input', `resamples: a whole number from 1 to ${MAX_RESAMPLES}, not ${resamples}`, 'resamples');
  if (!(level > 0 && level < 1)) throw new AppError('invalid_input', `level: a fraction between 0 and 1, not ${level}`, 'level');
  if (!Number.isFinite(opts.seed)) throw new AppError('invalid_input', `seed: a number, not ${opts.seed}`, 'seed');
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new AppError('invalid_input', `${field}[${bad}]: a finite number, not ${values[bad]}`, `${field}[${bad}]`);
  return { resamples, level };
}

/** numpy.quantile(sorted, q) with the default linear interpolation. */
export function quantileSorted(sorted: Float64Array | readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Mean with a percentile bootstrap interval. No values: everything null, n = 0. */
export function bootstrapMean(values: readonly number[], opts: BootstrapOptions, field = 'values'): Interval {
  const { resamples, level } = check(values, opts, field);
  const n = values.length;
  if (n === 0) return { mean: null, low: null, high: null, plusMinus: null, n: 0 };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  const rng = mulberry32(opts.seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rng() * n)]!;
    means[r] = s / n;
  }
  means.sort();
  const low = quantileSorted(means, (1 - level) / 2);
  const high = quantileSorted(means, 1 - (1 - level) / 2);
  return { mean, low, high, plusMinus: (high - low) / 2, n };
}

/**
 * The paired bootstrap of mean(a − b) over the same examples (a[i] and b[i] are one example's scores for two
 * variants): examples are resampled, not the variants separately, so what both find hard cancels out.
 */
export function pairedDifference(a: readonly number[], b: readonly number[], opts: BootstrapOptions): Interval {
  if (a.length !== b.length) throw new AppError('invalid_input', `b: ${b.length} scores for ${a.length} examples of a; pair them by example`, 'b');
  check(a, opts, 'a');
  check(b, opts, 'b');
  return bootstrapMean(
    a.map((v, i) => v - b[i]!),
    opts,
    'a-b',
  );
}
