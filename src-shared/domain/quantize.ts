// The GGUF types a model can be quantized to, as llama.cpp's llama-quantize names them (tools/quantize/quantize.cpp's
// QUANT_OPTIONS), with the `llama_ftype` each stands for (include/llama.h) and whether it needs an importance matrix
// (src/llama-quant.cpp: types whose tensors become IQ1_*, IQ2_*, IQ3_XXS, or Q2_K in a Q2_K_S file).

export interface QuantType {
  name: string;
  /** llama_ftype */
  ftype: number;
  /** Bits per weight of the type's main tensors, as llama.cpp describes them (the file's real figure is measured). */
  bpw: number;
  needsImatrix: boolean;
  /** What llama-quantize says of it. */
  note: string;
}

const q = (name: string, ftype: number, bpw: number, note: string, needsImatrix = false): QuantType => ({ name, ftype, bpw, needsImatrix, note });

/** The ladder, largest first: the types a user is offered. */
export const QUANT_TYPES: readonly QuantType[] = [
  q('F16', 1, 16, '16-bit float'),
  q('BF16', 32, 16, '16-bit bfloat'),
  q('Q8_0', 7, 8.5, '+0.0026 ppl @ Llama-3-8B'),
  q('Q6_K', 18, 6.56, '+0.0217 ppl @ Llama-3-8B'),
  q('Q5_K_M', 17, 5.69, '+0.0569 ppl @ Llama-3-8B'),
  q('Q5_K_S', 16, 5.54, '+0.1049 ppl @ Llama-3-8B'),
  q('Q4_K_M', 15, 4.89, '+0.1754 ppl @ Llama-3-8B'),
  q('Q4_K_S', 14, 4.58, '+0.2689 ppl @ Llama-3-8B'),
  q('Q4_0', 2, 4.5, '+0.4685 ppl @ Llama-3-8B'),
  q('IQ4_XS', 30, 4.25, 'non-linear'),
  q('IQ4_NL', 25, 4.5, 'non-linear'),
  q('Q3_K_L', 13, 4.27, '+0.5562 ppl @ Llama-3-8B'),
  q('Q3_K_M', 12, 3.91, '+0.6569 ppl @ Llama-3-8B'),
  q('Q3_K_S', 11, 3.5, '+1.6321 ppl @ Llama-3-8B'),
  q('IQ3_M', 27, 3.66, 'mix'),
  q('IQ3_XXS', 23, 3.06, '', true),
  q('Q2_K', 10, 2.96, '+3.5199 ppl @ Llama-3-8B'),
  q('Q2_K_S', 21, 2.96, '+3.1836 ppl @ Llama-3-8B', true),
  q('IQ2_M', 29, 2.7, '', true),
  q('IQ2_XS', 20, 2.31, '', true),
  q('IQ2_XXS', 19, 2.06, '', true),
  q('IQ1_M', 31, 1.75, '', true),
  q('IQ1_S', 24, 1.56, '', true),
];

export const QUANT_TYPE_NAMES = QUANT_TYPES.map((t) => t.name) as [string, ...string[]];

export function quantType(name: string): QuantType | undefined {
  return QUANT_TYPES.find((t) => t.name === name.toUpperCase());
}

/**
 * One percentile of a distribution as llama-perplexity prints it: `p` 1 is the maximum, 0 the minimum, 0.5 the median
 * (perplexity.cpp's `percentile()`: sorted values, linear interpolation between neighbours).
 */
export interface Percentile {
  p: number;
  value: number;
}

/**
 * A variant against its source on the same chunks (lockstep, no logits file): every figure `llama-perplexity
 * --kl-divergence` prints, computed as tools/perplexity/perplexity.cpp computes them. Probabilities (Δp, same top) are
 * fractions 0..1 here (the tool prints percent).
 */
export interface GateFigures {
  /** What was scored: the source's label (a file name, or `dataset@v (split)`), tokens per chunk, chunks, scored positions. */
  sourceLabel: string;
  contextSize: number;
  chunks: number;
  scoredTokens: number;
  /** Mean PPL(Q) and PPL(base), each ± its uncertainty. */
  ppl: number;
  pplStderr: number;
  pplBase: number;
  pplBaseStderr: number;
  /** Cor(ln(PPL(Q)), ln(PPL(base))). */
  pplCorrelation: number;
  /** Mean ln(PPL(Q)/PPL(base)), PPL(Q)/PPL(base) and PPL(Q)−PPL(base), each ± (the covariance taken into account). */
  lnPplRatio: number;
  lnPplRatioStderr: number;
  pplRatio: number;
  pplRatioStderr: number;
  pplDiff: number;
  pplDiffStderr: number;
  /** Mean KLD(base‖Q) ± and its percentiles (max, 99.9, 99, 95, 90, median, 10, 5, 1, 0.1, min). */
  kld: number;
  kldStderr: number;
  kldPercentiles: Percentile[];
  /** Mean Δp = p_Q(token) − p_base(token) ±, its percentiles, RMS Δp ±. */
  meanDp: number;
  meanDpStderr: number;
  dpPercentiles: Percentile[];
  rmsDp: number;
  rmsDpStderr: number;
  /** Fraction of positions where both models' most likely token is the same ±. */
  sameTop: number;
  sameTopStderr: number;
  /** Scoring speed of the lockstep pass (both models' tokens counted once). */
  tokensPerSecond: number;
}

/** A model's speed and memory as the gate measures them, each variant in a fresh engine process. */
export interface SpeedFigures {
  loadSeconds: number;
  promptTokensPerSecond: number;
  genTokensPerSecond: number;
  /** Peak resident memory of the process that loaded and ran the model. */
  peakRssBytes: number;
  /** Peak device memory where the backend reports it (GPU), else null. */
  peakDeviceBytes: number | null;
  threads: number;
}

/** What a budget bounds: mean KLD (≤), same-top fraction (≥) or PPL(Q)/PPL(base) (≤). */
export type BudgetMetric = 'kld' | 'sameTop' | 'pplRatio';
export interface Budget {
  metric: BudgetMetric;
  value: number;
}
