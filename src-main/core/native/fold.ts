/**
 * The folds of scored positions (score.ts): running sums for perplexity and, against a base decoded in lockstep,
 * llama-perplexity's KLD statistics; optional per-position arrays and top-k. Rows are logits in C memory (views), the
 * softmaxes computed in C where the library has ggml's CPU graph API (softmax.ts), else exactly in JS.
 */
import { RowSoftmax, SOFTMAX_ROWS } from './softmax.js';

export interface KldFigures {
  /** Mean KLD(base‖model) and its uncertainty, as llama-perplexity prints them. */
  kld: number;
  kldStderr: number;
  maxKld: number;
  /** The base's perplexity on the same tokens. */
  pplBase: number;
  pplBaseStderr: number;
  /** Mean ln(PPL(model)/PPL(base)) and its uncertainty. */
  logPplRatio: number;
  logPplRatioStderr: number;
  /** Cov(ln PPL(model), ln PPL(base)) and the correlation, as llama-perplexity computes them (the ratio's ± uses it). */
  logPplCov: number;
  logPplCorrelation: number;
  /** The model's PPL ± with llama-perplexity's kl_divergence() rule (0 for at most 10 positions). */
  pplStderr: number;
  /** Fraction of positions where both models' most likely token is the same, and its uncertainty. */
  sameTop: number;
  sameTopStderr: number;
  /** Mean Δp = p_model(target) − p_base(target) and its uncertainty, RMS Δp and its uncertainty, max |Δp|. */
  meanDp: number;
  meanDpStderr: number;
  rmsDp: number;
  rmsDpStderr: number;
  maxAbsDp: number;
}

/** What a fold adds up to (score.ts adds the counts and times). */
export interface FoldResult {
  ppl: number;
  stderr: number;
  kl?: KldFigures;
  /** Per scored position, in order (chunk by chunk): NLL, KLD and Δp when a base was given. */
  nll?: Float32Array;
  kld?: Float32Array;
  dp?: Float32Array;
  /** Per scored position, k ids and k log-probabilities, most likely first. */
  topIds?: Int32Array;
  topLogprobs?: Float32Array;
}

/**
 * NLL = −log softmax(row)[target], the softmax computed in C (RowSoftmax, sums in double). Where the target's
 * probability underflows float (logit more than ~87 below the maximum), that row's NLL is redone exactly in JS.
 * With a base, its softmax too, and KLD(base‖model) = Σ p_b (log p_b − log p_m) without a log per entry:
 * log p = logit − lse with lse = logit(target) + NLL, so KLD = Σ p_b (logit_b − logit_m) − (lse_b − lse_m).
 */
export function foldInC(
  softmax: RowSoftmax,
  softmaxBase: RowSoftmax | null,
  fold: Fold,
  lm: Float32Array,
  lb: Float32Array | undefined,
  offs: number[],
  targets: number[],
  nVocab: number,
): void {
  const nllOf = (p: Float32Array, r: number, logits: Float32Array, off: number, tok: number) => {
    const pt = p[r * nVocab + tok]!;
    return pt > 1e-30 ? -Math.log(pt) : exactNll(logits, off, tok, nVocab);
  };
  for (let b = 0; b < offs.length; b += SOFTMAX_ROWS) {
    const block = offs.slice(b, b + SOFTMAX_ROWS);
    const p = softmax.run(lm, block);
    const pb = softmaxBase && lb ? softmaxBase.run(lb, block) : null;
    for (let r = 0; r < block.length; r++) {
      const tok = targets[b + r]!;
      const off = block[r]!;
      const nll = nllOf(p, r, lm, off, tok);
      if (pb && lb) fold.addPair(nll, nllOf(pb, r, lb, off, tok), lm, lb, off, tok, pb, r * nVocab);
      else fold.addNll(nll, lm, off, tok);
    }
  }
}

function argmax(row: Float32Array, off: number, n: number): number {
  let best = 0;
  let max = row[off]!;
  for (let i = 1; i < n; i++) {
    if (row[off + i]! > max) {
      max = row[off + i]!;
      best = i;
    }
  }
  return best;
}

/** perplexity.cpp's log_softmax: (logit[tok] − max) in float, minus log Σ exp(logit − max) summed in double. */
function exactNll(lm: Float32Array, off: number, tok: number, nVocab: number): number {
  let max = lm[off]!;
  for (let i = off + 1; i < off + nVocab; i++) if (lm[i]! > max) max = lm[i]!;
  let sum = 0;
  for (let i = off; i < off + nVocab; i++) sum += Math.exp(lm[i]! - max);
  return -(Math.fround(lm[off + tok]! - max) - Math.log(sum));
}

/** The running sums over scored positions (llama-perplexity's kl_divergence_result and perplexity sums). */
export class Fold {
  count = 0;
  private nll = 0;
  private nll2 = 0;
  private nllBase = 0;
  private nllBase2 = 0;
  private nllNllBase = 0;
  private kld = 0;
  private kld2 = 0;
  private maxKld = 0;
  private dp = 0;
  private dp2 = 0;
  private dp4 = 0;
  private maxDp = 0;
  private sameTop = 0;
  /** Σ NLL after each position: the progress of each chunk is exact even when chunks share a decode. */
  private readonly cumSums: number[] = [];
  private readonly posNll: Float32Array | null;
  private readonly posKld: Float32Array | null;
  private readonly posDp: Float32Array | null;
  private readonly topIds: Int32Array | null;
  private readonly topLp: Float32Array | null;
  /** Per position (with perPosition): 1 where the model's most likely token is the base's (with a base) or the target (without). */
  private readonly posTop: Uint8Array | null;

  constructor(
    private readonly nVocab: number,
    private readonly withBase: boolean,
    perPosition: number,
    topPositions: number,
    private readonly k: number,
  ) {
    this.posNll = perPosition ? new Float32Array(perPosition) : null;
    this.posKld = perPosition && withBase ? new Float32Array(perPosition) : null;
    this.posDp = perPosition && withBase ? new Float32Array(perPosition) : null;
    this.posTop = perPosition ? new Uint8Array(perPosition) : null;
    this.topIds = topPositions ? new Int32Array(topPositions * k) : null;
    this.topLp = topPositions ? new Float32Array(topPositions * k) : null;
  }

  sumNllUpTo(n: number): number {
    return this.cumSums[n - 1] ?? this.nll;
  }

  add(lm: Float32Array, lb: Float32Array | undefined, off: number, tok: number): void {
    const n = this.nVocab;
    const end = off + n;
    let max = lm[off]!;
    let imax = off;
    for (let i = off + 1; i < end; i++) {
      const v = lm[i]!;
      if (v > max) {
        max = v;
        imax = i;
      }
    }
    let sum = 0;
    for (let i = off; i < end; i++) sum += Math.exp(lm[i]! - max);
    const lse = Math.log(sum);
    // perplexity.cpp: logits[tok] - max_logit - log(sum_exp), the first difference in float
    const nll = -(Math.fround(lm[off + tok]! - max) - lse);
    const idx = this.count;
    this.record(nll, lm, off, tok);
    if (lb && this.withBase) {
      let maxB = lb[off]!;
      let imaxB = off;
      for (let i = off + 1; i < end; i++) {
        const v = lb[i]!;
        if (v > maxB) {
          maxB = v;
          imaxB = i;
        }
      }
      let sumB = 0;
      for (let i = off; i < end; i++) sumB += Math.exp(lb[i]! - maxB);
      const logSumB = Math.log(sumB);
      const lseB = maxB + logSumB;
      const lseM = max + lse;
      let kld = 0;
      for (let i = off; i < end; i++) {
        const lpb = lb[i]! - lseB;
        kld += Math.exp(lpb) * (lpb - (lm[i]! - lseM));
      }
      const nllB = -(Math.fround(lb[off + tok]! - maxB) - logSumB); // as the model's NLL, so a model against itself is exact
      this.pairFigures(idx, nll, nllB, kld, imax === imaxB);
    }
    this.count++;
  }

  /** A position of a lockstep pair whose softmaxes were computed in C: `pb` holds the base's probabilities at `pOff`. */
  addPair(nll: number, nllB: number, lm: Float32Array, lb: Float32Array, off: number, tok: number, pb: Float32Array, pOff: number): void {
    const idx = this.count;
    this.record(nll, lm, off, tok);
    let s = 0;
    let maxM = lm[off]!;
    let maxB = lb[off]!;
    let imaxM = 0;
    let imaxB = 0;
    for (let i = 0; i < this.nVocab; i++) {
      const xm = lm[off + i]!;
      const xb = lb[off + i]!;
      s += pb[pOff + i]! * (xb - xm);
      if (xm > maxM) {
        maxM = xm;
        imaxM = i;
      }
      if (xb > maxB) {
        maxB = xb;
        imaxB = i;
      }
    }
    const lseM = lm[off + tok]! + nll;
    const lseB = lb[off + tok]! + nllB;
    this.pairFigures(idx, nll, nllB, s - (lseB - lseM), imaxM === imaxB);
    this.count++;
  }

  private pairFigures(idx: number, nll: number, nllB: number, kld: number, sameTop: boolean): void {
    this.nllBase += nllB;
    this.nllBase2 += nllB * nllB;
    this.nllNllBase += nll * nllB;
    this.kld += kld;
    this.kld2 += kld * kld;
    if (kld > this.maxKld) this.maxKld = kld;
    if (sameTop) this.sameTop++;
    const dp = Math.exp(-nll) - Math.exp(-nllB);
    this.dp += dp;
    this.dp2 += dp * dp;
    this.dp4 += dp * dp * dp * dp;
    if (Math.abs(dp) > this.maxDp) this.maxDp = Math.abs(dp);
    if (this.posKld) this.posKld[idx] = kld;
    if (this.posDp) this.posDp[idx] = dp;
    if (this.posTop) this.posTop[idx] = sameTop ? 1 : 0;
  }

  /** A position whose NLL was computed in C (RowSoftmax); no base. */
  addNll(nll: number, lm: Float32Array, off: number, tok: number): void {
    this.record(nll, lm, off, tok);
    this.count++;
  }

  private record(nll: number, lm: Float32Array, off: number, tok: number): void {
    const idx = this.count;
    this.nll += nll;
    this.nll2 += nll * nll;
    this.cumSums.push(this.nll);
    if (this.posNll) this.posNll[idx] = nll;
    // without a base, "top" is the model's argmax against the target (with one, pairFigures overwrites it)
    if (this.posTop && !this.withBase) this.posTop[idx] = argmax(lm, off, this.nVocab) === tok ? 1 : 0;
    // log p(i) = logit(i) − lse, and lse = logit(tok) + nll
    if (this.topIds) this.topK(lm, off, lm[off + tok]! + nll, idx);
  }

  /** The k largest logits of the row (a small sorted insertion buffer), as log-probabilities. */
  private topK(lm: Float32Array, off: number, lse: number, idx: number): void {
    const k = this.k;
    const ids = this.topIds!;
    const lp = this.topLp!;
    const o = idx * k;
    let filled = 0;
    for (let i = 0; i < this.nVocab; i++) {
      const v = lm[off + i]!;
      if (filled === k && v <= lp[o + k - 1]!) continue;
      let j = filled < k ? filled++ : k - 1;
      while (j > 0 && lp[o + j - 1]! < v) {
        lp[o + j] = lp[o + j - 1]!;
        ids[o + j] = ids[o + j - 1]!;
        j--;
      }
      lp[o + j] = v;
      ids[o + j] = i;
    }
    for (let j = 0; j < k; j++) lp[o + j] = lp[o + j]! - lse;
  }

  /** The per-position arrays so far (perPosition), indexed in the order positions were added. */
  positions(): { nll: Float32Array | null; kld: Float32Array | null; top: Uint8Array | null } {
    return { nll: this.posNll, kld: this.posKld, top: this.posTop };
  }

  result(): FoldResult {
    const n = this.count;
    const mean = this.nll / n;
    const ppl = Math.exp(mean);
    const variance = this.nll2 / n - mean * mean;
    const stderr = variance > 0 && n > 1 ? Math.sqrt(variance / (n - 1)) * ppl : NaN;
    const r: FoldResult = { ppl, stderr };
    if (this.withBase) r.kl = this.kl();
    if (this.posNll) r.nll = this.posNll;
    if (this.posKld) r.kld = this.posKld;
    if (this.posDp) r.dp = this.posDp;
    if (this.topIds) {
      r.topIds = this.topIds;
      r.topLogprobs = this.topLp!;
    }
    return r;
  }

  /** llama-perplexity's kl_divergence() statistics (mean_and_uncertainty, covariance), same formulas. */
  private kl(): KldFigures {
    const n = this.count;
    const mu = (sum: number, sum2: number): [number, number] => {
      const f = sum / n;
      const df = sum2 / n - f * f;
      return [f, df > 0 && n > 10 ? Math.sqrt(df / (n - 1)) : 0];
    };
    const cov = n < 10 ? 0 : (this.nllNllBase / n - (this.nll / n) * (this.nllBase / n)) / (n - 1);
    const [lp, lpUnc] = mu(this.nll, this.nll2);
    const [lb, lbUnc] = mu(this.nllBase, this.nllBase2);
    const [kld, kldUnc] = mu(this.kld, this.kld2);
    const [mse, mseUnc] = mu(this.dp2, this.dp4);
    const [meanDp, meanDpUnc] = mu(this.dp, this.dp2);
    const rms = Math.sqrt(mse);
    const top = this.sameTop / n;
    return {
      kld,
      kldStderr: kldUnc,
      maxKld: this.maxKld,
      pplBase: Math.exp(lb),
      pplBaseStderr: Math.exp(lb) * lbUnc,
      logPplRatio: lp - lb,
      logPplRatioStderr: Math.sqrt(Math.max(0, lpUnc * lpUnc + lbUnc * lbUnc - 2 * cov)),
      logPplCov: cov,
      logPplCorrelation: cov / (lpUnc * lbUnc),
      pplStderr: Math.exp(lp) * lpUnc,
      sameTop: top,
      sameTopStderr: n > 1 ? Math.sqrt((top * (1 - top)) / (n - 1)) : 0,
      meanDp,
      meanDpStderr: meanDpUnc,
      rmsDp: rms,
      rmsDpStderr: rms > 0 ? (0.5 / rms) * mseUnc : 0,
      maxAbsDp: this.maxDp,
    };
  }
}
