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
import { RowSoftmax } from './softmax.js';
import { Fold, foldInC, type FoldResult } from './fold.js';
import { checkSameVocabulary } from './vocab.js';

export type { KldFigures } from './fold.js';

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

export interface ScoreResult extends FoldResult {
  tokens: number;
  chunks: number;
  scoredTokens: number;
  seconds: number;
  tokensPerSecond: number;
}

export interface ScoreProgress {
  done: number;
  total: number;
  ppl: number;
}

const DEFAULT_BATCH = 2048;

/** A whole-number argument of a host op, checked before it reaches C. */
export function int(v: unknown, field: string, min: number): number {
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
  if (base) checkSameVocabulary(ctx.llama.lib, model, base, 'base');
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

  return withLockstep(
    ctx,
    { model, base, adapters: a.adapters, baseAdapters: a.base?.adapters, nSeq, nCtx, nBatch, threads },
    async ({ contexts, cm, cb, batch, softmax, softmaxBase }) => {
      const fold = new Fold(model.nVocab, base !== null, a.perPosition ? nScored : 0, topK ? nScored : 0, topK);
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
          if (softmax) foldInC(softmax, softmaxBase, fold, lm, lb, offs, targets, model.nVocab);
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
    },
  );
}

/** What a lockstep scoring op runs on: the model's context and the base's (same shape), one batch, C softmaxes. */
export interface Lockstep {
  contexts: NativeContext[];
  cm: NativeContext;
  cb: NativeContext | undefined;
  batch: Batch;
  /** null where the library has no ggml CPU graph API (llama.cpp's own build opened without `cpu`): fold in JS. */
  softmax: RowSoftmax | null;
  softmaxBase: RowSoftmax | null;
}

/**
 * Opens a model's context (and its base's) of `nSeq` sequences × `nCtx` cells, a batch and the softmaxes (one per
 * model: a run's output lives until its next run), runs `work` on them and frees them all, whatever happens.
 */
export async function withLockstep<T>(
  ctx: HostContext,
  o: {
    model: NativeModel;
    base: NativeModel | null;
    adapters: AdapterSpec[] | undefined;
    baseAdapters: AdapterSpec[] | undefined;
    nSeq: number;
    nCtx: number;
    nBatch: number;
    threads: number;
  },
  work: (r: Lockstep) => Promise<T>,
): Promise<T> {
  const contexts: NativeContext[] = [];
  const batch = new Batch(ctx.llama.lib, o.nBatch);
  let softmax: RowSoftmax | null = null;
  let softmaxBase: RowSoftmax | null = null;
  try {
    const open = (m: NativeModel, adapters: AdapterSpec[] | undefined) =>
      ctx.llama.createContext(m, { nCtx: o.nSeq * o.nCtx, nBatch: o.nBatch, nSeqMax: o.nSeq, threads: o.threads, adapters: adapters ?? [] });
    contexts.push(open(o.model, o.adapters));
    if (o.base) contexts.push(open(o.base, o.baseAdapters));
    if (ctx.llama.lib.ggml_graph_compute) {
      const pool = ctx.llama.threadpool(o.threads);
      softmax = new RowSoftmax(ctx.llama.lib, o.model.nVocab, o.threads, pool);
      if (o.base) softmaxBase = new RowSoftmax(ctx.llama.lib, o.model.nVocab, o.threads, pool);
    }
    return await work({ contexts, cm: contexts[0]!, cb: contexts[1], batch, softmax, softmaxBase });
  } finally {
    for (const c of contexts) c.free();
    batch.free();
    softmax?.free();
    softmaxBase?.free();
  }
}
