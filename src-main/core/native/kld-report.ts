/**
 * The full report of a model against a base scored in lockstep (score.ts with `perPosition`): every figure
 * `llama-perplexity --kl-divergence` prints, computed as tools/perplexity/perplexity.cpp's kl_divergence() does —
 * the sums and ± from the fold (fold.ts: mean_and_uncertainty, covariance), the percentiles over the per-position
 * KLD and Δp values sorted as floats, with the tool's float interpolation and its median. The quality gate of a
 * quantize ladder, `distillery kld` and Evaluate all take their figures from here.
 */
import { AppError } from '../../../src-shared/errors.js';
import type { GateFigures, Percentile } from '../../../src-shared/domain/quantize.js';
import type { KldFigures } from './fold.js';

/** The fractions llama-perplexity prints KLD percentiles at (1 = maximum, 0.5 = median, 0 = minimum), in its order. */
export const KLD_PERCENTILES = [1, 0.999, 0.99, 0.95, 0.9, 0.5, 0.1, 0.05, 0.01, 0.001, 0] as const;
/** ...and Δp percentiles. */
export const DP_PERCENTILES = [1, 0.999, 0.99, 0.95, 0.9, 0.75, 0.5, 0.25, 0.1, 0.05, 0.01, 0.001, 0] as const;

const f = Math.fround;

/** perplexity.cpp's `percentile(values, fraction)` over sorted floats, in float arithmetic; 0.5 is its median. */
export function percentileOf(sorted: Float32Array, fraction: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (fraction === 0.5) return n % 2 === 0 ? f(0.5 * f(sorted[n / 2]! + sorted[n / 2 - 1]!)) : sorted[(n - 1) / 2]!;
  if (fraction <= 0) return sorted[0]!;
  if (fraction >= 1) return sorted[n - 1]!;
  let p = f(f(fraction) * f(n - 1));
  const ip = Math.floor(p);
  p = f(p - ip);
  return f(f(f(1 - p) * sorted[ip]!) + f(p * sorted[Math.min(ip + 1, n - 1)]!));
}

function percentiles(values: Float32Array, at: readonly number[]): Percentile[] {
  const sorted = Float32Array.from(values).sort();
  return at.map((p) => ({ p, value: percentileOf(sorted, p) }));
}

export interface LockstepScore {
  /** The model's PPL (its own ± is recomputed with the tool's rule, kl.pplStderr). */
  ppl: number;
  chunks: number;
  scoredTokens: number;
  tokensPerSecond: number;
  kl?: KldFigures;
  kld?: Float32Array;
  dp?: Float32Array;
}

/** GateFigures from a lockstep score with per-position arrays. */
export function kldReport(r: LockstepScore, what: { sourceLabel: string; contextSize: number }): GateFigures {
  const kl = r.kl;
  if (!kl || !r.kld || !r.dp) throw new AppError('internal', 'a KLD report needs a lockstep score with per-position KLD and Δp');
  const pplRatio = Math.exp(kl.logPplRatio);
  // perplexity.cpp: ppl_cov = ppl · ppl_base · log_ppl_cov; the difference's ± takes it into account
  const pplCov = r.ppl * kl.pplBase * kl.logPplCov;
  return {
    sourceLabel: what.sourceLabel,
    contextSize: what.contextSize,
    chunks: r.chunks,
    scoredTokens: r.scoredTokens,
    ppl: r.ppl,
    pplStderr: kl.pplStderr,
    pplBase: kl.pplBase,
    pplBaseStderr: kl.pplBaseStderr,
    pplCorrelation: kl.logPplCorrelation,
    lnPplRatio: kl.logPplRatio,
    lnPplRatioStderr: kl.logPplRatioStderr,
    pplRatio,
    pplRatioStderr: pplRatio * kl.logPplRatioStderr,
    pplDiff: r.ppl - kl.pplBase,
    pplDiffStderr: Math.sqrt(Math.max(0, kl.pplStderr ** 2 + kl.pplBaseStderr ** 2 - 2 * pplCov)),
    kld: kl.kld,
    kldStderr: kl.kldStderr,
    kldPercentiles: percentiles(r.kld, KLD_PERCENTILES),
    meanDp: kl.meanDp,
    meanDpStderr: kl.meanDpStderr,
    dpPercentiles: percentiles(r.dp, DP_PERCENTILES),
    rmsDp: kl.rmsDp,
    rmsDpStderr: kl.rmsDpStderr,
    sameTop: kl.sameTop,
    sameTopStderr: kl.sameTopStderr,
    tokensPerSecond: r.tokensPerSecond,
  };
}

const pctLabel = (p: number, what: string) =>
  p === 1 ? `Maximum ${what}` : p === 0 ? `Minimum ${what}` : p === 0.5 ? `Median  ${what}` : `${(100 * p).toFixed(1).padStart(4)}%   ${what}`;
const num = (x: number, w = 10, d = 6) => x.toFixed(d).padStart(w);
const pct = (x: number, w = 6) => (100 * x).toFixed(3).padStart(w);

/** The report as llama-perplexity prints its three sections (probabilities in percent there too). */
export function formatKldReport(g: GateFigures): string {
  const lines = [
    `${g.sourceLabel}: ${g.chunks} chunks of ${g.contextSize} tokens, ${g.scoredTokens} scored positions, ${g.tokensPerSecond.toFixed(0)} tokens/s`,
    '',
    '====== Perplexity statistics ======',
    `Mean PPL(Q)                   : ${num(g.ppl)} ± ${num(g.pplStderr)}`,
    `Mean PPL(base)                : ${num(g.pplBase)} ± ${num(g.pplBaseStderr)}`,
    `Cor(ln(PPL(Q)), ln(PPL(base))): ${(100 * g.pplCorrelation).toFixed(2).padStart(6)}%`,
    `Mean ln(PPL(Q)/PPL(base))     : ${num(g.lnPplRatio)} ± ${num(g.lnPplRatioStderr)}`,
    `Mean PPL(Q)/PPL(base)         : ${num(g.pplRatio)} ± ${num(g.pplRatioStderr)}`,
    `Mean PPL(Q)-PPL(base)         : ${num(g.pplDiff)} ± ${num(g.pplDiffStderr)}`,
    '',
    '====== KL divergence statistics ======',
    `Mean    KLD: ${num(g.kld)} ± ${num(g.kldStderr)}`,
    ...g.kldPercentiles.map((p) => `${pctLabel(p.p, 'KLD')}: ${num(p.value)}`),
    '',
    '====== Token probability statistics ======',
    `Mean    Δp: ${pct(g.meanDp)} ± ${(100 * g.meanDpStderr).toFixed(3).padStart(5)} %`,
    ...g.dpPercentiles.map((p) => `${pctLabel(p.p, 'Δp')}: ${pct(p.value)}%`),
    `RMS Δp    : ${pct(g.rmsDp)} ± ${(100 * g.rmsDpStderr).toFixed(3).padStart(5)} %`,
    `Same top p: ${pct(g.sameTop)} ± ${(100 * g.sameTopStderr).toFixed(3).padStart(5)} %`,
  ];
  return lines.join('\n');
}
