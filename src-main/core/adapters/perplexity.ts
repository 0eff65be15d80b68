import fs from 'node:fs';
import path from 'node:path';
import type { ControlledEvaluateInputItem, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { llamaCpp } from '../llm/llama-cpp.js';
import { AppError, isAppError } from '../../../src-shared/errors.js';
import { checkCompatibility } from './inspect.js';
import type { PerplexityResult as PerplexityFigures } from '../../../src-shared/domain/adapters.js';

export interface PerplexityAdapter {
  filePath: string;
  /** As `--lora-scaled FILE SCALE`: 1 is the adapter as trained, 0 the base; negative values are allowed. */
  scale: number;
}

export interface PerplexityOptions {
  /** Tokens per chunk (llama-perplexity's `-c`). Default 512, llama-perplexity's default. */
  contextSize?: number;
  /** LoRA adapters applied while evaluating (none: the base model). */
  adapters?: PerplexityAdapter[];
  /**
   * The model's GGUF file (node-llama-cpp does not expose it). When given, each adapter is checked against it before
   * llama.cpp loads it (`checkCompatibility`): some mismatches make llama.cpp assert and take the process down.
   */
  modelFile?: string;
  threads: number;
  /** At most this many chunks (llama-perplexity's `--chunks`). Default: all. */
  maxChunks?: number;
  /**
   * Tokens per decode (llama-perplexity's `-b`, default 2048). As there, floor(batchSize / contextSize) chunks are
   * evaluated side by side in one batch, each in its own sequence; that is also what it costs in KV cache.
   */
  batchSize?: number;
  /** Checked between batches of chunks: at most batchSize tokens are evaluated after a cancel. */
  signal?: AbortSignal;
  /** After each chunk, in order: chunks done, chunks in all, the running perplexity (llama-perplexity's `[i]ppl`). */
  onChunk?(done: number, total: number, ppl: number): void;
}

/** The figures (domain/adapters.ts: ppl, its ±, tokens, chunks, scored tokens, tokens/s), and the time they took. */
export interface PerplexityResult extends PerplexityFigures {
  seconds: number;
}

/** llama-perplexity's default `-b`. */
const DEFAULT_BATCH = 2048;

/**
 * The text as llama-perplexity tokenizes it (`common_tokenize(ctx, text, add_special = true, parse_special = false)`):
 * a BOS first when the vocabulary says to add one, no EOS, and special-token text such as "<s>" taken literally.
 * Note that llama-perplexity's `-f` drops one trailing newline from the file; the caller passes the text as meant.
 */
export function tokenizeForPerplexity(model: LlamaModel, text: string): Token[] {
  const tokens = model.tokenize(text, false);
  const bos = model.tokens.bos;
  return model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens;
}

/**
 * Perplexity of `model` (optionally with LoRA adapters at given scales) on `text`, computed exactly as llama.cpp's
 * `llama-perplexity -f FILE -c N` does (tools/perplexity/perplexity.cpp, `perplexity()`), so the two figures can be
 * compared directly: see `perplexityOfTokens`.
 */
export async function perplexity(model: LlamaModel, text: string, opts: PerplexityOptions): Promise<PerplexityResult> {
  return perplexityOfTokens(model, tokenizeForPerplexity(model, text), opts);
}

/**
 * Perplexity over a token stream as `tokenizeForPerplexity` makes it, the llama-perplexity way:
 * - the stream is cut into n_chunk = floor(tokens / contextSize) chunks (at most `maxChunks`), the tail is dropped;
 *   like llama-perplexity it refuses a stream shorter than 2 × contextSize tokens;
 * - each chunk is evaluated from an empty KV cache, its first token replaced by BOS when the model adds BOS;
 * - only the second half is scored: the logits at positions first = contextSize / 2 … contextSize − 2 predict the
 *   next token, NLL = −log_softmax, so every scored token has at least contextSize / 2 tokens of context;
 * - ppl = exp(Σ NLL / count); the ± is sqrt((mean(NLL²) − mean(NLL)²) / (count − 1)) × ppl, as it prints.
 *
 * How the log-softmax is obtained: llama.cpp reads all n_vocab logits of each scored position. node-llama-cpp 3.22 has
 * no API that returns a position's logits as an array; `generateNext.logits: true` returns a Map of all of them (a JS
 * object per vocabulary entry: measured 12 ms per position on a 32k vocabulary, ~25 s for 4k tokens). Instead each
 * scored position asks the native sampler for a greedy token with `logits.filter = [target]` + `includeSelected` and
 * `totalLogitWeight`: that returns the target's logit, the greedy (= maximum) logit and Σ exp(logit − max) over the
 * whole vocabulary, computed in C++ (~0.3 ms per position). log_softmax(target) = (logit − max) − log(Σ), the same
 * formula as llama.cpp's, except that node-llama-cpp sums the exponentials in float where llama.cpp sums in double.
 * Measured on the fixture: within 2e-5 relative of llama-perplexity (with and without adapters), the rest of the gap
 * being batch-composition noise of the same order as llama-perplexity's own between `-b` settings.
 */
export async function perplexityOfTokens(model: LlamaModel, tokens: readonly Token[], opts: PerplexityOptions): Promise<PerplexityResult> {
  const nCtx = opts.contextSize ?? 512;
  const { signal } = opts;
  if (!Number.isInteger(nCtx) || nCtx < 4) {
    throw new AppError('invalid_input', `the context size must be a whole number of at least 4 tokens, not ${nCtx}`, 'contextSize');
  }
  if (!Number.isInteger(opts.threads) || opts.threads < 1) {
    throw new AppError('invalid_input', `threads must be a whole number of at least 1, not ${opts.threads}`, 'threads');
  }
  if (opts.maxChunks !== undefined && (!Number.isInteger(opts.maxChunks) || opts.maxChunks < 1)) {
    throw new AppError('invalid_input', `the chunk limit must be a whole number of at least 1, not ${opts.maxChunks}`, 'maxChunks');
  }
  const batch = opts.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new AppError('invalid_input', `the batch size must be a whole number of at least 1, not ${batch}`, 'batchSize');
  }
  const adapters = opts.adapters ?? [];
  const { modelFile } = opts;
  for (const [i, a] of adapters.entries()) {
    if (!Number.isFinite(a.scale)) throw new AppError('invalid_input', `${path.basename(a.filePath)}: the scale must be a number`, `adapters.${i}.scale`);
    if (!fs.statSync(a.filePath, { throwIfNoEntry: false })?.isFile()) throw new AppError('file_missing', `there is no adapter file at ${a.filePath}`);
    // Before llama.cpp sees it: several mismatches make it assert and take the process down.
    if (modelFile) checkCompatibility(a.filePath, modelFile);
  }
  if (tokens.length < 2 * nCtx) {
    throw new AppError(
      'invalid_input',
      `the text is only ${tokens.length} tokens long; perplexity with a ${nCtx}-token context needs at least ${2 * nCtx} tokens ` +
        `(two contexts, as llama-perplexity requires): give a longer text or a context of at most ${Math.floor(tokens.length / 2)} tokens`,
      'text',
    );
  }
  if (signal?.aborted) throw cancelledError();

  const nChunk = Math.min(Math.floor(tokens.length / nCtx), opts.maxChunks ?? Infinity);
  // llama-perplexity: n_seq = max(1, n_batch / n_ctx) chunks per decode; a context longer than the batch is decoded
  // in several batches (node-llama-cpp splits the sequence's tokens at batchSize the same way).
  const nSeq = Math.min(Math.max(1, Math.floor(batch / nCtx)), nChunk);
  const context = await createContext(model, nCtx, nSeq, Math.min(batch, nSeq * nCtx), opts.threads, adapters);
  try {
    const sequences = Array.from({ length: nSeq }, () => context.getSequence());
    const addBos = model.tokens.shouldPrependBosToken && model.tokens.bos !== null;
    const bos = model.tokens.bos;
    const first = Math.floor(nCtx / 2);
    let nll = 0;
    let nll2 = 0;
    let count = 0;
    const start = performance.now();
    for (let i = 0; i < nChunk; i += nSeq) {
      if (signal?.aborted) throw cancelledError();
      const n = Math.min(nSeq, nChunk - i);
      const results = await Promise.all(sequences.slice(0, n).map((seq, j) => scoreChunk(seq, tokens, (i + j) * nCtx, nCtx, first, addBos ? bos : null)));
      for (const [j, r] of results.entries()) {
        nll += r.nll;
        nll2 += r.nll2;
        count += r.count;
        opts.onChunk?.(i + j + 1, nChunk, Math.exp(nll / count));
      }
    }
    const seconds = (performance.now() - start) / 1000;
    const mean = nll / count;
    const ppl = Math.exp(mean);
    const variance = nll2 / count - mean * mean;
    const stderr = variance > 0 && count > 1 ? Math.sqrt(variance / (count - 1)) * ppl : NaN;
    return { ppl, stderr, tokens: tokens.length, chunks: nChunk, scoredTokens: count, tokensPerSecond: (nChunk * nCtx) / seconds, seconds };
  } catch (e) {
    if (isAppError(e)) throw e;
    throw new AppError('engine_error', `perplexity evaluation failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await context.dispose();
  }
}

function cancelledError(): AppError {
  return new AppError('cancelled', 'the perplexity evaluation was cancelled');
}

async function createContext(
  model: LlamaModel,
  nCtx: number,
  sequences: number,
  batchSize: number,
  threads: number,
  adapters: PerplexityAdapter[],
): Promise<LlamaContext> {
  const name = path.basename(model.filename ?? 'model');
  try {
    const context = await model.createContext({
      // One cell more than a chunk: node-llama-cpp keeps a sequence below its context size and would otherwise shift
      // the context (drop tokens) on the chunk's last token.
      contextSize: nCtx + 1,
      sequences,
      batchSize,
      threads,
      ...(adapters.length > 0 ? { lora: { adapters: adapters.map((a) => ({ filePath: a.filePath, scale: a.scale })) } } : {}),
    });
    if (context.contextSize < nCtx + 1) {
      await context.dispose();
      throw new AppError('engine_error', `${name} got a ${context.contextSize}-token context where ${nCtx + 1} were asked for`);
    }
    return context;
  } catch (e) {
    if (isAppError(e)) throw e;
    if (e instanceof llamaCpp().InsufficientMemoryError) {
      throw new AppError('out_of_memory', `${name} cannot get ${sequences} × ${nCtx}-token contexts for perplexity: ${e.message}`);
    }
    throw new AppError('engine_error', `${name} could not create a context for perplexity: ${e instanceof Error ? e.message : String(e)}`);
  }
}

interface ChunkScore {
  nll: number;
  nll2: number;
  count: number;
}

/** Evaluates tokens[start, start + nCtx) from an empty sequence and sums −log p(token | prefix) over its second half. */
async function scoreChunk(
  seq: LlamaContextSequence,
  tokens: readonly Token[],
  start: number,
  nCtx: number,
  first: number,
  bos: Token | null,
): Promise<ChunkScore> {
  await seq.clearHistory();
  const input: ControlledEvaluateInputItem[] = [];
  for (let k = 0; k < nCtx; k++) {
    const token = k === 0 && bos !== null ? bos : tokens[start + k]!;
    if (k < first || k === nCtx - 1) {
      input.push(token);
      continue;
    }
    const target = tokens[start + k + 1]!;
    input.push([
      token,
      {
        generateNext: {
          token: true, // greedy: the selected token is the one with the largest logit
          logits: { filter: { tokens: [target], includeSelected: true } },
          totalLogitWeight: true, // Σ exp(logit − max logit) over the vocabulary
          options: { temperature: 0 },
        },
      },
    ]);
  }
  const out = await seq.controlledEvaluate(input);
  let nll = 0;
  let nll2 = 0;
  let count = 0;
  for (let k = first; k < nCtx - 1; k++) {
    const next = out[k]?.next;
    const target = tokens[start + k + 1]!;
    const logit = next?.logits?.get(target);
    const max = next?.token != null ? next.logits?.get(next.token) : undefined;
    const weight = next?.totalLogitWeight;
    if (logit === undefined || max === undefined || weight === undefined) {
      throw new AppError('engine_error', `the engine returned no logits for position ${k} of the chunk at token ${start}`);
    }
    // perplexity.cpp: logits[tok] - max_logit - log(sum_exp), the difference taken in float.
    const v = -(Math.fround(logit - max) - Math.log(weight));
    nll += v;
    nll2 += v * v;
    count++;
  }
  return { nll, nll2, count };
}
