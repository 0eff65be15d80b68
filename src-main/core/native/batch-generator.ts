/**
 * Batched generation in the engine host (child side): many sequences of one context decoded together, one
 * `llama_decode` per step, like llama.cpp's examples/parallel. Every step's batch holds each generating sequence's
 * next token plus chunks of the prompts still to prefill (up to the context's n_batch); each sequence samples from its
 * own logits row with its own `llama_sampler` chain, checks its own stop texts and token limit, and when it ends its
 * KV cells are freed (`llama_memory_seq_rm`) so a queued sequence takes its place (continuous batching).
 *
 * Top-k log-probabilities are computed here from the logits row (never sent across the process boundary): a
 * log-softmax over the whole vocabulary of logits / T, T the sequence's temperature (1 when greedy), before any
 * top-k/top-p/min-p truncation and repeat penalty.
 */
import { AppError } from '../../../src-shared/errors.js';
import type { LlamaLib, Ptr } from './ffi.js';
import { Batch, type NativeContext, type NativeModel } from './llama.js';
import type { NativeGenerateProgress, NativeGenerateResult, NativeGenerateSpec, NativeTokenLogprob } from './generate-types.js';
import { buildSamplerChain } from './sampler-chain.js';
import { topLogprobs } from './logprobs.js';

/** Streamed text is sent at most this often per batch. */
const PROGRESS_MS = 250;

interface Sequence {
  id: number;
  spec: NativeGenerateSpec;
  seq: number;
  chain: Ptr;
  /** Prompt tokens decoded so far; the sequence generates once all are in. */
  prefilled: number;
  /** Next position in the sequence's KV cells. */
  pos: number;
  /** The token sampled last, not decoded yet (null while prefilling). */
  pending: number | null;
  out: number[];
  logprobs: NativeTokenLogprob[] | null;
  longestStop: number;
  steps: number;
  cancelAtStep: number | null;
  firstTokenAt: number | null;
  /** Characters of text already streamed. */
  sent: number;
  emit(p: NativeGenerateProgress): void;
  resolve(r: NativeGenerateResult): void;
  reject(e: Error): void;
}

interface Queued {
  id: number;
  spec: NativeGenerateSpec;
  emit(p: NativeGenerateProgress): void;
  resolve(r: NativeGenerateResult): void;
  reject(e: Error): void;
}

export interface GeneratorContext {
  lib: LlamaLib;
  /** A context of `parallel` sequences (its n_seq_max, separate KV streams) of `perSequence` tokens each. */
  context: NativeContext;
  parallel: number;
  perSequence: number;
}

export class BatchGenerator {
  private readonly lib: LlamaLib;
  private readonly model: NativeModel;
  private readonly nVocab: number;
  private readonly batch: Batch;
  private readonly free: number[];
  private readonly active = new Map<number, Sequence>();
  private readonly queue: Queued[] = [];
  private running: Promise<void> | null = null;
  private lastProgress = 0;
  private closed = false;
  /** Decode steps run so far (tests count them). */
  steps = 0;

  constructor(private readonly g: GeneratorContext) {
    this.lib = g.lib;
    this.model = g.context.model;
    this.nVocab = this.model.nVocab;
    this.batch = new Batch(g.lib, g.context.nBatch);
    this.free = Array.from({ length: g.parallel }, (_, i) => g.parallel - 1 - i);
  }

  /** Queues one sequence; it joins the batch as soon as a sequence is free. */
  generate(id: number, spec: NativeGenerateSpec, emit: (p: NativeGenerateProgress) => void): Promise<NativeGenerateResult> {
    if (this.closed) return Promise.reject(new Error('the batch is closed'));
    this.check(spec);
    return new Promise((resolve, reject) => {
      this.queue.push({ id, spec, emit, resolve, reject });
      // the loop starts after the current task, so sequences queued together share the first step
      this.running ??= Promise.resolve()
        .then(() => this.loop())
        .finally(() => (this.running = null));
    });
  }

  /** Ends a sequence before the next step (queued ones at once). */
  cancel(id: number): void {
    const q = this.queue.findIndex((x) => x.id === id);
    if (q >= 0) {
      const [x] = this.queue.splice(q, 1);
      x!.resolve(this.result(x!.spec, [], 'cancelled', null, 0, 0, null));
      return;
    }
    for (const s of this.active.values()) if (s.id === id && s.cancelAtStep === null) s.cancelAtStep = this.steps;
  }

  /** Cancels everything and frees the batch (the context is the caller's). */
  async close(): Promise<void> {
    this.closed = true;
    for (const x of this.queue.splice(0)) x.resolve(this.result(x.spec, [], 'cancelled', null, 0, 0, null));
    for (const s of this.active.values()) s.cancelAtStep ??= this.steps;
    await this.running;
    this.batch.free();
  }

  /** Inputs are checked here, before anything reaches C. */
  private check(spec: NativeGenerateSpec): void {
    const bad = (field: string, message: string) => new AppError('invalid_input', `${field}: ${message}`, field);
    if (!Array.isArray(spec.tokens) || spec.tokens.length === 0) throw bad('tokens', 'the prompt is empty');
    if (spec.tokens.length >= this.g.perSequence)
      throw bad('tokens', `the prompt has ${spec.tokens.length} tokens; a sequence's context holds ${this.g.perSequence} (prompt and answer)`);
    for (const t of spec.tokens)
      if (!Number.isInteger(t) || t < 0 || t >= this.nVocab) throw bad('tokens', `token id ${t} is not in the vocabulary (${this.nVocab} tokens)`);
    if (!Number.isInteger(spec.maxTokens) || spec.maxTokens < 1) throw bad('maxTokens', 'must be a positive whole number');
    if (!Number.isInteger(spec.logprobs) || spec.logprobs < 0 || spec.logprobs > 100) throw bad('logprobs', 'must be a whole number from 0 to 100');
    if (!Array.isArray(spec.stops) || spec.stops.some((x) => typeof x !== 'string' || x === '')) throw bad('stops', 'must be non-empty texts');
    const s = spec.sampling;
    for (const k of ['temperature', 'topK', 'topP', 'minP', 'repeatPenalty', 'repeatLastN', 'seed'] as const) {
      if (typeof s?.[k] !== 'number' || !Number.isFinite(s[k])) throw bad(`sampling.${k}`, 'must be a finite number');
    }
    if (s.repeatPenalty <= 0) throw bad('sampling.repeatPenalty', 'must be above 0');
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0 || this.active.size > 0) {
      this.admit();
      this.finishCancelled();
      if (this.active.size === 0) continue;
      try {
        this.step();
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        for (const s of [...this.active.values()]) this.end(s, null, error);
      }
      this.progress();
      // let the host read its messages (cancels, new sequences) between steps
      await new Promise((r) => setImmediate(r));
    }
  }

  private admit(): void {
    while (this.queue.length > 0 && this.free.length > 0) {
      const q = this.queue.shift()!;
      const seq = this.free.pop()!;
      let chain: Ptr;
      try {
        chain = buildSamplerChain(this.lib, this.model.vocab, this.nVocab, q.spec.sampling, q.spec.grammar ?? null);
      } catch (e) {
        this.free.push(seq);
        q.reject(e instanceof Error ? e : new Error(String(e)));
        continue;
      }
      this.g.context.removeTokens(seq);
      this.active.set(seq, {
        ...q,
        seq,
        chain,
        prefilled: 0,
        pos: 0,
        pending: null,
        out: [],
        logprobs: q.spec.logprobs > 0 ? [] : null,
        longestStop: Math.max(0, ...q.spec.stops.map((s) => Buffer.byteLength(s))),
        steps: 0,
        cancelAtStep: null,
        firstTokenAt: null,
        sent: 0,
      });
    }
  }

  private finishCancelled(): void {
    for (const s of [...this.active.values()]) if (s.cancelAtStep !== null) this.end(s, 'cancelled');
  }

  /** One llama_decode: every generating sequence's pending token, then prompt chunks while room is left. */
  private step(): void {
    const b = this.batch;
    b.clear();
    const rows: [Sequence, number][] = [];
    const touched = new Set<Sequence>();
    const add = (s: Sequence, token: number, logits: boolean) => {
      touched.add(s);
      const i = b.add(token, s.pos++, s.seq, logits);
      if (logits) rows.push([s, i]);
    };
    for (const s of this.active.values()) if (s.pending !== null) add(s, s.pending, true);
    for (const s of this.active.values()) {
      const prompt = s.spec.tokens;
      while (s.prefilled < prompt.length && b.n < b.capacity) {
        add(s, prompt[s.prefilled]!, s.prefilled === prompt.length - 1);
        s.prefilled++;
      }
    }
    this.g.context.decode(b);
    this.steps++;
    for (const s of touched) s.steps++;
    for (const [s, row] of rows) this.sample(s, row);
  }

  private sample(s: Sequence, row: number): void {
    const { spec } = s;
    const token = this.lib.llama_sampler_sample(s.chain, this.g.context.ptr, row) as number;
    s.firstTokenAt ??= performance.now();
    if (s.logprobs) {
      const logits = this.g.context.logitsRow(row);
      const t = spec.sampling.temperature > 0 ? spec.sampling.temperature : 1;
      const { chosen, top } = topLogprobs(logits, t, spec.logprobs, token);
      s.logprobs.push({ token: this.pieceText(token), logprob: chosen, top: top.map((x) => ({ token: this.pieceText(x.token), logprob: x.logprob })) });
    }
    if (!spec.ignoreEog && this.model.isEog(token)) {
      s.logprobs?.pop(); // the end token is not part of the answer
      return this.end(s, 'stop');
    }
    s.out.push(token);
    if (spec.stops.length) {
      // a stop text may span tokens: the last few tokens' text (a token is at least one byte)
      const tail = this.detokenize(s.out.slice(-(s.longestStop + 2)));
      const hit = spec.stops.find((x) => tail.includes(x));
      if (hit) return this.end(s, 'stop', null, hit);
    }
    if (spec.stopAtJson) {
      // the JSON grammar is satisfied once the value is complete (it would only allow whitespace after)
      const end = this.detokenize([token]).trimEnd().at(-1);
      if (end === '}' || end === ']' || end === '"') {
        try {
          JSON.parse(this.detokenize(s.out));
          return this.end(s, 'stop');
        } catch {
          /* not complete yet */
        }
      }
    }
    if (s.out.length >= spec.maxTokens || s.pos + 1 >= this.g.perSequence) return this.end(s, 'length');
    s.pending = token;
  }

  /** Frees the sequence's sampler and KV cells and settles its promise. */
  private end(s: Sequence, reason: NativeGenerateResult['finishReason'] | null, error?: Error | null, stop?: string): void {
    this.active.delete(s.seq);
    this.lib.llama_sampler_free(s.chain);
    this.g.context.removeTokens(s.seq);
    this.free.push(s.seq);
    if (error || reason === null) return s.reject(error ?? new Error('generation failed'));
    const full = this.detokenize(s.out);
    const text = stop ? full.slice(0, full.lastIndexOf(stop)) : full;
    const afterCancel = s.cancelAtStep === null ? null : this.steps - s.cancelAtStep;
    const r = this.result(s.spec, s.out, reason, s.logprobs, s.steps, afterCancel, s.firstTokenAt, text);
    s.resolve(r);
  }

  private result(
    spec: NativeGenerateSpec,
    tokens: number[],
    finishReason: NativeGenerateResult['finishReason'],
    logprobs: NativeTokenLogprob[] | null,
    steps: number,
    stepsAfterCancel: number | null,
    firstTokenAt: number | null,
    text = '',
  ): NativeGenerateResult {
    return { tokens, text, finishReason, promptTokens: spec.tokens.length, logprobs, steps, stepsAfterCancel, firstTokenAt, endedAt: performance.now() };
  }

  /** Each generating sequence's new text, a few times a second (held back while it ends inside a character). */
  private progress(): void {
    const now = performance.now();
    if (now - this.lastProgress < PROGRESS_MS) return;
    this.lastProgress = now;
    for (const s of this.active.values()) {
      if (s.out.length === 0) continue;
      const text = this.detokenize(s.out);
      const complete = text.endsWith('\uFFFD') ? text.slice(0, text.lastIndexOf('\uFFFD')) : text;
      if (complete.length <= s.sent) continue;
      s.emit({ tokens: s.out.length, text: complete.slice(s.sent) });
      s.sent = complete.length;
    }
  }

  /**
   * A soft label's token text: the token's piece as llama-server's logprobs print it (special tokens rendered). Not
   * llama_detokenize of the token alone, which drops a SentencePiece token's leading space ("▁the" → "the"), so the
   * text would name another token (training/kd.ts maps these texts back to ids).
   */
  private pieceText(token: number): string {
    return this.model.piece(token, true).toString('utf8');
  }

  /** As node-llama-cpp's model.detokenize: llama_detokenize without removing or rendering special tokens. */
  private detokenize(tokens: number[]): string {
    return tokens.length === 0 ? '' : this.model.detokenize(tokens);
  }
}
