/**
 * Scoring in the engine host: llama-perplexity's chunking (tools/perplexity/perplexity.cpp, `perplexity()`), one model
 * or two in LOCKSTEP (two contexts decode the same batches; their logits rows are folded side by side, no logits
 * file). The folds run over the C logits buffers (Float32Array views, no JS object per vocabulary entry):
 *
 * - NLL of the target token, summed like llama-perplexity: v = (logit[tok] − max) − log Σ exp(logit − max), the
 *   difference in float, the sum in double → ppl = exp(Σv/n), ± = sqrt((Σv²/n − (Σv/n)²)/(n − 1)) · ppl;
 * - per position (optional): the NLL, and the top-k token ids with their log-probabilities;
 * - against `base` (the reference, llama-perplexity's `--kl-divergence-base` model): KLD(base‖model) =
 *   Σ p_base (log p_base − log p_model), Δp = p_model(tok) − p_base(tok), same top token, and the base's NLL: the
 *   figures `llama-perplexity --kl-divergence` prints, computed from the exact base distribution (llama.cpp stores it
 *   in 16 bits per entry and skips log p_base ≤ −16, hence tiny differences, e.g. not exactly 0 for a model against
 *   itself).
 *
 * Chunks: n_chunk = floor(tokens / contextSize) (at most maxChunks); each chunk from an empty KV cache, its first token
 * replaced by BOS when the vocabulary adds one; floor(batchSize / contextSize) chunks per decode, each its own sequence;
 * positions contextSize/2 … contextSize − 2 are scored (their logits predict the next token).
 */
import { AppError } from '../../../src-shared/errors.js';
import type { HostContext } from './engine-host.js';
import { Batch, type AdapterSpec, type NativeContext, type NativeModel } from './llama.js';
import type { ModelRef } from './protocol.js';
import { RowSoftmax, SOFTMAX_ROWS } from './softmax.js';

export interface ScoreModel {
  model: ModelRef;
  adapters?: AdapterSpec[];
}

export interface ScoreArgs extends ScoreModel {
  /** The text, tokenized as llama-perplexity does (BOS when the vocabulary adds one, special text taken literally)... */
  text?: string;
  /** ...or the token stream itself (ids checked against both vocabularies). */
  tokens?: Int32Array | number[];
  /** The reference scored in lockstep (KLD(base‖model), Δp, same top). Same vocabulary. */
  base?: ScoreModel;
  /** Tokens per chunk (llama-perplexity's -c). */
  contextSize: number;
  /** llama-perplexity's -b (default 2048). */
  batchSize?: number;
  maxChunks?: number;
  threads: number;
  /** Return per scored position its NLL (and KLD, Δp with a base). */
  perPosition?: boolean;
  /** Return per scored position the model's k most likely tokens and their log-probabilities (k ≤ 64). */
  topK?: number;
}

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
  /** Fraction of positions where both models' most likely token is the same, and its uncertainty. */
  sameTop: number;
  sameTopStderr: number;
  /** Mean Δp = p_model(target) − p_base(target), RMS Δp and its uncertainty, max |Δp|. */
  meanDp: number;
  rmsDp: number;
  rmsDpStderr: number;
  maxAbsDp: number;
}

export interface ScoreResult {
  tokens: number;
  chunks: number;
  scoredTokens: number;
  ppl: number;
  stderr: number;
  seconds: number;
  tokensPerSecond: number;
  kl?: KldFigures;
  /** Per scored position, in order (chunk by chunk): NLL, KLD and Δp when a base was given. */
  nll?: Float32Array;
  kld?: Float32Array;
  dp?: Float32Array;
  /** Per scored position, k ids and k log-probabilities, most likely first. */
  topIds?: Int32Array;
  topLogprobs?: Float32Array;
}

export interface ScoreProgress {
  done: number;
  total: number;
  ppl: number;
}

const DEFAULT_BATCH = 2048;

function int(v: unknown, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new AppError('invalid_input', `${field} must be a whole number of at least ${min}, not ${String(v)}`, field);
  return v;
}

/** The `score` operation. */
export async function scoreOp(raw: unknown, ctx: HostContext): Promise<ScoreResult> {
  const a = raw as ScoreArgs;
  const nCtx = int(a.contextSize, 'contextSize', 4);
  const threads = int(a.threads, 'threads', 1);
  const nBatchArg = int(a.batchSize ?? DEFAULT_BATCH, 'batchSize', 1);
  if (a.maxChunks !== undefined) int(a.maxChunks, 'maxChunks', 1);
  const topK = a.topK === undefined ? 0 : int(a.topK, 'topK', 0);
  if (topK > 64) throw new AppError('invalid_input', `topK must be at most 64, not ${topK}`, 'topK');
  const model = ctx.model(a.model);
  const base = a.base ? ctx.model(a.base.model) : null;
  if (base && base.nVocab !== model.nVocab) {
    throw new AppError('invalid_input', `${base.name} (${base.nVocab} tokens) and ${model.name} (${model.nVocab}) do not share a vocabulary`, 'base');
  }
  let tokens: Int32Array;
  if (a.tokens !== undefined) {
    tokens = Int32Array.from(a.tokens);
    model.checkTokens(tokens, 'tokens');
  } else if (typeof a.text === 'string') {
    tokens = model.tokenize(a.text, { addSpecial: true, parseSpecial: false });
  } else {
    throw new AppError('invalid_input', 'give the text or the tokens to score', 'text');
  }
  if (tokens.length < 2 * nCtx) {
    throw new AppError(
      'invalid_input',
      `the text is only ${tokens.length} tokens long; perplexity with a ${nCtx}-token context needs at least ${2 * nCtx} tokens ` +
        `(two contexts, as llama-perplexity requires): give a longer text or a context of at most ${Math.floor(tokens.length / 2)} tokens`,
      'text',
    );
  }
  const nChunk = Math.min(Math.floor(tokens.length / nCtx), a.maxChunks ?? Infinity);
  // llama-perplexity: n_seq = max(1, n_batch / n_ctx) sequences of n_ctx cells; n_batch = min(n_batch, n_seq · n_ctx).
  // Capped at the chunks there are (and llama.cpp's 256 sequences): more sequences would only hold KV cache.
  const nSeq = Math.min(Math.max(1, Math.floor(nBatchArg / nCtx)), nChunk, 256);
  const nBatch = Math.min(nBatchArg, nSeq * nCtx);
  const first = Math.floor(nCtx / 2);
  const perChunk = nCtx - 1 - first;
  const nScored = nChunk * perChunk;

  const contexts: NativeContext[] = [];
  const batch = new Batch(ctx.llama.lib, nBatch);
  let softmax: RowSoftmax | null = null;
  try {
    const open = (m: NativeModel, adapters: AdapterSpec[] | undefined) =>
      ctx.llama.createContext(m, { nCtx: nSeq * nCtx, nBatch, nSeqMax: nSeq, threads, adapters: adapters ?? [] });
    contexts.push(open(model, a.adapters));
    if (base) contexts.push(open(base, a.base!.adapters));
    const [cm, cb] = contexts as [NativeContext, NativeContext | undefined];
    const fold = new Fold(model.nVocab, base !== null, a.perPosition ? nScored : 0, topK ? nScored : 0, topK);
    // One model: its NLLs from a softmax in C. Against a base: the JS fold (KLD needs both full distributions).
    // (A library without ggml's CPU graph API, e.g. llama.cpp's own build opened without `cpu`: the JS fold.)
    softmax = base || !ctx.llama.lib.ggml_graph_compute ? null : new RowSoftmax(ctx.llama.lib, model.nVocab, threads, ctx.llama.threadpool(threads));
    const bos = model.addBos ? model.bos : -1;
    const numBatches = Math.ceil(nCtx / nBatch);
    const start = performance.now();
    for (let i = 0; i < nChunk; i += nSeq) {
      await ctx.checkpoint();
      const nSeqBatch = Math.min(nSeq, nChunk - i);
      for (const c of contexts) c.clearMemory();
      for (let j = 0; j < numBatches; j++) {
        const batchStart = j * nBatch;
        const size = Math.min(nCtx - batchStart, nBatch);
        batch.clear();
        let nOut = 0;
        for (let s = 0; s < nSeqBatch; s++) {
          const chunk = (i + s) * nCtx;
          for (let k = 0; k < size; k++) {
            const pos = batchStart + k;
            const out = pos >= first;
            batch.add(pos === 0 && bos >= 0 ? bos : tokens[chunk + pos]!, pos, s, out);
            if (out) nOut++;
          }
        }
        if (j > 0) await ctx.checkpoint();
        for (const c of contexts) c.decode(batch);
        if (nOut === 0) continue;
        const lm = cm.logits(nOut);
        const lb = cb?.logits(nOut);
        // Rows come in batch order: per sequence, its positions ≥ first of this batch.
        const rowsPerSeq = nOut / nSeqBatch;
        const offs: number[] = [];
        const targets: number[] = [];
        for (let s = 0; s < nSeqBatch; s++) {
          const chunk = (i + s) * nCtx;
          const p0 = Math.max(first, batchStart);
          for (let r = 0; r < rowsPerSeq; r++) {
            const pos = p0 + r;
            if (pos > nCtx - 2) continue; // the last position's logits predict past the chunk
            offs.push((s * rowsPerSeq + r) * model.nVocab);
            targets.push(tokens[chunk + pos + 1]!);
          }
        }
        if (softmax) foldInC(softmax, fold, lm, offs, targets, model.nVocab);
        else for (let r = 0; r < offs.length; r++) fold.add(lm, lb, offs[r]!, targets[r]!);
      }
      // As llama-perplexity prints it: after each chunk, the running perplexity.
      for (let s = 0; s < nSeqBatch; s++) {
        const done = i + s + 1;
        ctx.progress({ done, total: nChunk, ppl: Math.exp(fold.sumNllUpTo(done * perChunk) / (done * perChunk)) } satisfies ScoreProgress);
      }
    }
    const seconds = (performance.now() - start) / 1000;
    return { tokens: tokens.length, chunks: nChunk, scoredTokens: fold.count, seconds, tokensPerSecond: (nChunk * nCtx) / seconds, ...fold.result() };
  } finally {
    for (const c of contexts) c.free();
    batch.free();
    softmax?.free();
  }
}

/**
 * NLL = −log softmax(row)[target], the softmax computed in C (RowSoftmax, sums in double). Where the target's
 * probability underflows float (logit more than ~87 below the maximum), that row is redone exactly in JS.
 */
function foldInC(softmax: RowSoftmax, fold: Fold, lm: Float32Array, offs: number[], targets: number[], nVocab: number): void {
  for (let b = 0; b < offs.length; b += SOFTMAX_ROWS) {
    const block = offs.slice(b, b + SOFTMAX_ROWS);
    const p = softmax.run(lm, block);
    for (let r = 0; r < block.length; r++) {
      const tok = targets[b + r]!;
      const pt = p[r * nVocab + tok]!;
      fold.addNll(pt > 1e-30 ? -Math.log(pt) : exactNll(lm, block[r]!, tok, nVocab), lm, block[r]!, tok);
    }
  }
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
class Fold {
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
      this.nllBase += nllB;
      this.nllBase2 += nllB * nllB;
      this.nllNllBase += nll * nllB;
      this.kld += kld;
      this.kld2 += kld * kld;
      if (kld > this.maxKld) this.maxKld = kld;
      if (imax - off === imaxB - off) this.sameTop++;
      const dp = Math.exp(-nll) - Math.exp(-nllB);
      this.dp += dp;
      this.dp2 += dp * dp;
      this.dp4 += dp * dp * dp * dp;
      if (Math.abs(dp) > this.maxDp) this.maxDp = Math.abs(dp);
      if (this.posKld) this.posKld[idx] = kld;
      if (this.posDp) this.posDp[idx] = dp;
    }
    this.count++;
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

  result(): Omit<ScoreResult, 'tokens' | 'chunks' | 'scoredTokens' | 'seconds' | 'tokensPerSecond'> {
    const n = this.count;
    const mean = this.nll / n;
    const ppl = Math.exp(mean);
    const variance = this.nll2 / n - mean * mean;
    const stderr = variance > 0 && n > 1 ? Math.sqrt(variance / (n - 1)) * ppl : NaN;
    const r: ReturnType<Fold['result']> = { ppl, stderr };
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
      sameTop: top,
      sameTopStderr: n > 1 ? Math.sqrt((top * (1 - top)) / (n - 1)) : 0,
      meanDp: this.dp / n,
      rmsDp: rms,
      rmsDpStderr: rms > 0 ? (0.5 / rms) * mseUnc : 0,
      maxAbsDp: this.maxDp,
    };
  }
}
