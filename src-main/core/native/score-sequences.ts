/**
 * Teacher-forced scoring of SEQUENCES in the engine host (score.ts scores llama-perplexity's chunks of one text): each
 * sequence is a token array and `from`, and the predictions of tokens[from..end) are scored — for an evaluation, the
 * answer's tokens after the chat-rendered prompt. One model, or two in LOCKSTEP (the `base`, e.g. the teacher, decodes
 * the same batches; KLD(base‖model), same top token and NLL come from the same fold as score.ts: Fold / foldInC).
 *
 * Packing (continuous batching): the context holds `parallel` sequences of `contextSize` cells each (separate KV
 * streams, as llama-perplexity's chunks); each llama_decode takes up to `batchSize` tokens from the sequences in the
 * slots, a sequence may span several decodes, and a finished sequence's slot is emptied and given the next one. Only
 * positions from−1 … len−2 ask for logits (their logits predict tokens from … len−1); the last token is never fed.
 * Equal-length sequences with contextSize = their length and the default parallelism pack exactly as llama-perplexity.
 *
 * Per sequence: positions scored, the model's NLL (sum and mean), with a base the mean and max KLD and the share of
 * positions where both models' most likely tokens agree; without a base the share where the model's most likely token
 * is the target. Optional `labels`: per scored position, ids whose model log-probabilities are returned (soft labels:
 * evaluate/soft-labels.ts). Progress after each finished sequence; a cancel is seen between decodes.
 */
import { AppError } from '../../../src-shared/errors.js';
import type { HostContext } from './engine-host.js';
import { Fold, foldInC, type FoldResult } from './fold.js';
import type { NativeModel } from './llama.js';
import { int, withLockstep, type ScoreModel } from './score.js';
import { checkSameVocabulary } from './vocab.js';

export interface SequenceToScore {
  tokens: number[] | Int32Array;
  /** The first scored token: the predictions of tokens[from … length − 1] are scored (1 ≤ from < length). */
  from: number;
  /** Per scored position (length − from of them), the ids whose model log-probabilities to return. */
  labels?: (number[] | Int32Array)[];
}

export interface ScoreSequencesArgs extends ScoreModel {
  /** The reference decoded in lockstep (KLD(base‖model)); it must share the model's vocabulary. */
  base?: ScoreModel;
  sequences: SequenceToScore[];
  threads: number;
  /** KV cells per sequence (default: the longest sequence's length); at most the model's training context. */
  contextSize?: number;
  /** Tokens per llama_decode at most (llama-perplexity's -b; default 2048). */
  batchSize?: number;
  /**
   * Sequences in the context at once (≤ 256). Default: batchSize / the mean length (llama-perplexity's batchSize /
   * contextSize for equal lengths), at most 2 × batchSize / contextSize so the KV cache stays within two batches.
   */
  parallel?: number;
  /** Also return per sequence its per-position NLL (and KLD with a base). */
  perPosition?: boolean;
}

export interface SequenceFigures {
  /** Positions scored: length − from. */
  scored: number;
  /** The model's NLL of the scored tokens: sum and mean (nats). */
  nll: number;
  meanNll: number;
  /** With a base: mean and max KLD(base‖model) over the scored positions; null without. */
  kld: number | null;
  maxKld: number | null;
  /** With a base: share of positions where both most likely tokens agree; without: where the model's is the target. */
  top1: number;
  /** With labels: the model's log-probabilities at the labels' ids, position after position, concatenated. */
  labelLogprobs?: Float32Array;
  /** With labels: per scored position the model's most likely token. */
  argmax?: Int32Array;
  nllPerPosition?: Float32Array;
  kldPerPosition?: Float32Array;
}

export interface ScoreSequencesResult {
  /** In the order given. */
  sequences: SequenceFigures[];
  /** Over every scored position: perplexity and, with a base, llama-perplexity's KLD figures (score.ts's fold). */
  aggregate: Pick<FoldResult, 'ppl' | 'stderr' | 'kl'>;
  /** Σ sequence lengths (as llama-perplexity counts n_ctx per chunk), positions scored, time and tokens/s. */
  tokens: number;
  scoredTokens: number;
  seconds: number;
  tokensPerSecond: number;
}

export interface ScoreSequencesProgress {
  done: number;
  total: number;
  /** The sequence just finished (index into `sequences`) and its figures (without the arrays). */
  index: number;
  figures: SequenceFigures;
}

const DEFAULT_BATCH = 2048;
const MAX_SEQUENCES = 1_000_000;
/** Label ids in one request at most (a whole vocabulary at a few hundred positions: the soft-label tests use k = n_vocab). */
const MAX_LABELS = 1 << 24;

interface Checked {
  tokens: Int32Array;
  from: number;
  labels: Int32Array[] | null;
  labelCount: number;
}

function checkSequences(a: ScoreSequencesArgs, model: NativeModel): Checked[] {
  if (!Array.isArray(a.sequences) || a.sequences.length === 0) throw new AppError('invalid_input', 'sequences must be a non-empty list', 'sequences');
  if (a.sequences.length > MAX_SEQUENCES) throw new AppError('invalid_input', `at most ${MAX_SEQUENCES} sequences per request`, 'sequences');
  let total = 0;
  return a.sequences.map((s, i) => {
    const field = `sequences.${i}`;
    if (!s || (!Array.isArray(s.tokens) && !(s.tokens instanceof Int32Array)))
      throw new AppError('invalid_input', `${field}.tokens must be a list of token ids`, `${field}.tokens`);
    const tokens = Int32Array.from(s.tokens);
    if (tokens.length < 2) throw new AppError('invalid_input', `${field} has ${tokens.length} token(s): at least 2 are needed to score one`, `${field}.tokens`);
    model.checkTokens(s.tokens, `${field}.tokens`);
    const from = int(s.from, `${field}.from`, 1);
    if (from >= tokens.length) {
      throw new AppError(
        'invalid_input',
        `${field}.from = ${from} is past its last token (${tokens.length} tokens: from must be 1 … ${tokens.length - 1})`,
        `${field}.from`,
      );
    }
    let labels: Int32Array[] | null = null;
    let labelCount = 0;
    if (s.labels !== undefined) {
      if (!Array.isArray(s.labels) || s.labels.length !== tokens.length - from) {
        throw new AppError('invalid_input', `${field}.labels must list ids for each of its ${tokens.length - from} scored positions`, `${field}.labels`);
      }
      labels = s.labels.map((ids, j) => {
        if (!Array.isArray(ids) && !(ids instanceof Int32Array))
          throw new AppError('invalid_input', `${field}.labels.${j} must be a list of ids`, `${field}.labels.${j}`);
        model.checkTokens(ids, `${field}.labels.${j}`);
        labelCount += ids.length;
        total += ids.length;
        if (total > MAX_LABELS) throw new AppError('invalid_input', `more than ${MAX_LABELS} label ids in one request: split the sequences`, `${field}.labels`);
        return Int32Array.from(ids);
      });
    }
    return { tokens, from, labels, labelCount };
  });
}

/** Per-sequence running figures while it is in a slot. */
interface Running {
  index: number;
  next: number;
  scored: number;
  nll: number;
  kld: number;
  maxKld: number;
  top: number;
  labelLp: Float32Array | null;
  labelAt: number;
  argmax: Int32Array | null;
  posNll: Float32Array | null;
  posKld: Float32Array | null;
}

/** The `scoreSequences` operation. */
export async function scoreSequencesOp(raw: unknown, ctx: HostContext): Promise<ScoreSequencesResult> {
  const a = raw as ScoreSequencesArgs;
  const threads = int(a.threads, 'threads', 1);
  const nBatchArg = int(a.batchSize ?? DEFAULT_BATCH, 'batchSize', 1);
  const model = ctx.model(a.model);
  const base = a.base ? ctx.model(a.base.model) : null;
  if (base) checkSameVocabulary(ctx.llama.lib, model, base, 'base');
  const seqs = checkSequences(a, model);
  const longest = seqs.reduce((m, s) => Math.max(m, s.tokens.length), 0);
  const nCtx = a.contextSize === undefined ? longest : int(a.contextSize, 'contextSize', 2);
  const train = Math.min(model.nCtxTrain > 0 ? model.nCtxTrain : Infinity, base && base.nCtxTrain > 0 ? base.nCtxTrain : Infinity);
  if (nCtx > train) throw new AppError('invalid_input', `contextSize ${nCtx} is more than the ${train} tokens the model was trained on`, 'contextSize');
  seqs.forEach((s, i) => {
    if (s.tokens.length > nCtx) {
      throw new AppError(
        'invalid_input',
        `sequences.${i} is ${s.tokens.length} tokens long: more than the ${nCtx}-token context` +
          (nCtx === train ? ` (the model was trained on ${train})` : '') +
          '; shorten it or give a larger contextSize',
        `sequences.${i}.tokens`,
      );
    }
  });
  // llama-perplexity's n_seq = n_batch / n_ctx for equal lengths; for shorter sequences as many as fill a batch on
  // average, while the KV cache (slots × contextSize cells) stays within two batches' worth
  const mean = seqs.reduce((n, s) => n + s.tokens.length, 0) / seqs.length;
  const nSeq =
    a.parallel === undefined
      ? Math.min(Math.max(1, Math.floor(nBatchArg / mean)), Math.max(1, Math.floor((2 * nBatchArg) / nCtx)), seqs.length, 256)
      : int(a.parallel, 'parallel', 1);
  if (nSeq > 256) throw new AppError('invalid_input', `parallel must be at most 256, not ${nSeq}`, 'parallel');
  const nBatch = Math.min(nBatchArg, nSeq * nCtx);
  const nVocab = model.nVocab;
  const totalScored = seqs.reduce((n, s) => n + s.tokens.length - s.from, 0);

  return withLockstep(
    ctx,
    { model, base, adapters: a.adapters, baseAdapters: a.base?.adapters, nSeq, nCtx, nBatch, threads },
    async ({ contexts, cm, cb, batch, softmax, softmaxBase }) => {
      // every position's figures are kept (per-sequence sums are read back from them after each decode)
      const fold = new Fold(nVocab, base !== null, totalScored, 0, 0);
      const results: SequenceFigures[] = new Array<SequenceFigures>(seqs.length);
      const slots: (Running | null)[] = new Array<Running | null>(nSeq).fill(null);
      let queued = 0;
      let done = 0;
      const start = performance.now();
      while (done < seqs.length) {
        await ctx.checkpoint();
        for (let s = 0; s < nSeq && queued < seqs.length; s++) {
          if (slots[s]) continue;
          const q = seqs[queued]!;
          const n = q.tokens.length - q.from;
          slots[s] = {
            index: queued++,
            next: 0,
            scored: 0,
            nll: 0,
            kld: 0,
            maxKld: 0,
            top: 0,
            labelLp: q.labels ? new Float32Array(q.labelCount) : null,
            labelAt: 0,
            argmax: q.labels ? new Int32Array(n) : null,
            posNll: a.perPosition ? new Float32Array(n) : null,
            posKld: a.perPosition && base ? new Float32Array(n) : null,
          };
        }
        // fill the batch slot by slot; each slot's rows are contiguous (a segment)
        batch.clear();
        const offs: number[] = [];
        const targets: number[] = [];
        const segments: { slot: number; rows: number }[] = [];
        let budget = nBatch;
        for (let s = 0; s < nSeq && budget > 0; s++) {
          const r = slots[s];
          if (!r) continue;
          const q = seqs[r.index]!;
          const take = Math.min(q.tokens.length - 1 - r.next, budget);
          let rows = 0;
          for (let p = r.next; p < r.next + take; p++) {
            const out = p >= q.from - 1;
            batch.add(q.tokens[p]!, p, s, out);
            if (out) {
              offs.push(offs.length * nVocab);
              targets.push(q.tokens[p + 1]!);
              rows++;
            }
          }
          r.next += take;
          budget -= take;
          if (rows) segments.push({ slot: s, rows });
        }
        for (const c of contexts) c.decode(batch);
        if (offs.length) {
          const lm = cm.logits(offs.length);
          const lb = cb?.logits(offs.length);
          const c0 = fold.count;
          if (softmax) foldInC(softmax, softmaxBase, fold, lm, lb, offs, targets, nVocab);
          else for (let r = 0; r < offs.length; r++) fold.add(lm, lb, offs[r]!, targets[r]!);
          const pos = fold.positions();
          let row = 0;
          for (const seg of segments) {
            const r = slots[seg.slot]!;
            const q = seqs[r.index]!;
            for (let k = 0; k < seg.rows; k++, row++) {
              const idx = c0 + row;
              const nll = pos.nll![idx]!;
              const j = r.scored++;
              r.nll += nll;
              r.top += pos.top![idx]!;
              if (pos.kld) {
                const kld = pos.kld[idx]!;
                r.kld += kld;
                if (kld > r.maxKld) r.maxKld = kld;
                if (r.posKld) r.posKld[j] = kld;
              }
              if (r.posNll) r.posNll[j] = nll;
              if (q.labels && r.labelLp) {
                // log p(id) = logit(id) − lse, with lse = logit(target) + NLL (as Fold's top-k)
                const off = offs[row]!;
                const lse = lm[off + targets[row]!]! + nll;
                for (const id of q.labels[j]!) r.labelLp[r.labelAt++] = lm[off + id]! - lse;
                r.argmax![j] = argmax(lm, off, nVocab);
              }
            }
          }
        }
        for (let s = 0; s < nSeq; s++) {
          const r = slots[s];
          if (!r || r.next < seqs[r.index]!.tokens.length - 1) continue;
          const figures = finish(r, base !== null);
          results[r.index] = figures;
          done++;
          for (const c of contexts) c.removeTokens(s);
          slots[s] = null;
          const { labelLogprobs: _l, argmax: _a, nllPerPosition: _n, kldPerPosition: _k, ...light } = figures;
          ctx.progress({ done, total: seqs.length, index: r.index, figures: light } satisfies ScoreSequencesProgress);
        }
      }
      const seconds = (performance.now() - start) / 1000;
      const { ppl, stderr, kl } = fold.result();
      const tokens = seqs.reduce((n, s) => n + s.tokens.length, 0);
      return {
        sequences: results,
        aggregate: { ppl, stderr, ...(kl ? { kl } : {}) },
        tokens,
        scoredTokens: fold.count,
        seconds,
        tokensPerSecond: tokens / seconds,
      };
    },
  );
}

function argmax(row: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (row[off + i]! > row[off + best]!) best = i;
  return best;
}

function finish(r: Running, withBase: boolean): SequenceFigures {
  const f: SequenceFigures = {
    scored: r.scored,
    nll: r.nll,
    meanNll: r.nll / r.scored,
    kld: withBase ? r.kld / r.scored : null,
    maxKld: withBase ? r.maxKld : null,
    top1: r.top / r.scored,
  };
  if (r.labelLp) f.labelLogprobs = r.labelLp;
  if (r.argmax) f.argmax = r.argmax;
  if (r.posNll) f.nllPerPosition = r.posNll;
  if (r.posKld) f.kldPerPosition = r.posKld;
  return f;
}
