import fs from 'node:fs';
import path from 'node:path';
import type { LlamaModel, Token } from 'node-llama-cpp';
import { AppError, isAppError } from '../../../src-shared/errors.js';
import { checkCompatibility } from './inspect.js';
import type { EngineClient } from '../native/client.js';
import type { KldFigures } from '../native/score.js';
import type { PerplexityResult as PerplexityFigures } from '../../../src-shared/domain/adapters.js';

export interface PerplexityAdapter {
  filePath: string;
  /** As `--lora-scaled FILE SCALE`: 1 is the adapter as trained, 0 the base; negative values are allowed. */
  scale: number;
}

export interface PerplexityOptions {
  /** Tokens per chunk (llama-perplexity's `-c`). Default 512, llama-perplexity's default. */
  contextSize?: number;
  /** LoRA adapters applied while evaluating (none: the base model). Each is checked against the model file first. */
  adapters?: PerplexityAdapter[];
  threads: number;
  /** At most this many chunks (llama-perplexity's `--chunks`). Default: all. */
  maxChunks?: number;
  /**
   * Tokens per decode (llama-perplexity's `-b`, default 2048). As there, floor(batchSize / contextSize) chunks are
   * evaluated side by side in one batch, each in its own sequence; that is also what it costs in KV cache.
   */
  batchSize?: number;
  /**
   * A reference model (+ adapters) scored in lockstep on the same chunks: the result then has `kl`, the figures of
   * `llama-perplexity --kl-divergence` with this model as `--kl-divergence-base`, without any logits file.
   */
  base?: { modelFile: string; adapters?: PerplexityAdapter[] };
  /** Checked between batches of chunks: at most batchSize tokens are evaluated after a cancel. */
  signal?: AbortSignal;
  /** After each chunk, in order: chunks done, chunks in all, the running perplexity (llama-perplexity's `[i]ppl`). */
  onChunk?(done: number, total: number, ppl: number): void;
  /** The token stream to score instead of the text (tokenized once by the caller, e.g. for several variants). */
  tokens?: Int32Array;
  /** Return the per-position KLD and Δp arrays (with `base`): what percentiles are taken over (kld-report.ts). */
  perPosition?: boolean;
}

/** The figures (domain/adapters.ts: ppl, its ±, tokens, chunks, scored tokens, tokens/s), and the time they took. */
export interface PerplexityResult extends PerplexityFigures {
  seconds: number;
  /** Against `base`, when given. */
  kl?: KldFigures;
  /** With `perPosition` and `base`: per scored position, KLD(base‖model) and Δp. */
  kld?: Float32Array;
  dp?: Float32Array;
}

/**
 * The text as llama-perplexity tokenizes it (`common_tokenize(ctx, text, add_special = true, parse_special = false)`):
 * a BOS first when the vocabulary says to add one, no EOS, and special-token text such as "<s>" taken literally.
 * The native engine host tokenizes the same way (llama_tokenize with the same flags); this node-llama-cpp version is
 * for callers that hold a loaded model. Note that llama-perplexity's `-f` drops one trailing newline from the file;
 * the caller passes the text as meant.
 */
export function tokenizeForPerplexity(model: LlamaModel, text: string): Token[] {
  const tokens = model.tokenize(text, false);
  const bos = model.tokens.bos;
  return model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens;
}

/**
 * Perplexity of the model in `modelFile` (optionally with LoRA adapters at given scales) on `text`, computed exactly
 * as llama.cpp's `llama-perplexity -f FILE -c N` does, in the native engine host (native/score.ts: the same
 * chunking, the full log-softmax of every scored position from llama.cpp's logits buffer, the same sums), so the two
 * figures agree to float rounding:
 * - the stream is cut into n_chunk = floor(tokens / contextSize) chunks (at most `maxChunks`), the tail is dropped;
 *   like llama-perplexity it refuses a stream shorter than 2 × contextSize tokens;
 * - each chunk is evaluated from an empty KV cache, its first token replaced by BOS when the model adds BOS;
 * - only the second half is scored: the logits at positions first = contextSize / 2 … contextSize − 2 predict the
 *   next token, NLL = −log_softmax, so every scored token has at least contextSize / 2 tokens of context;
 * - ppl = exp(Σ NLL / count); the ± is sqrt((mean(NLL²) − mean(NLL)²) / (count − 1)) × ppl, as it prints.
 */
export async function perplexity(engine: EngineClient, modelFile: string, text: string, opts: PerplexityOptions): Promise<PerplexityResult> {
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
  const batch = opts.batchSize ?? 2048;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new AppError('invalid_input', `the batch size must be a whole number of at least 1, not ${batch}`, 'batchSize');
  }
  const adapters = checkedAdapters(opts.adapters ?? [], modelFile, 'adapters');
  const base = opts.base
    ? { model: { path: modelPath(opts.base.modelFile) }, adapters: checkedAdapters(opts.base.adapters ?? [], opts.base.modelFile, 'base.adapters') }
    : undefined;
  if (signal?.aborted) throw cancelledError();
  try {
    const r = await engine.request(
      'score',
      {
        model: { path: modelPath(modelFile) },
        adapters,
        ...(base ? { base } : {}),
        ...(opts.tokens ? { tokens: opts.tokens } : { text }),
        contextSize: nCtx,
        ...(opts.perPosition ? { perPosition: true } : {}),
        batchSize: batch,
        threads: opts.threads,
        ...(opts.maxChunks ? { maxChunks: opts.maxChunks } : {}),
      },
      { signal, onProgress: (p) => opts.onChunk?.(p.done, p.total, p.ppl) },
    );
    return {
      ppl: r.ppl,
      stderr: r.stderr,
      tokens: r.tokens,
      chunks: r.chunks,
      scoredTokens: r.scoredTokens,
      tokensPerSecond: r.tokensPerSecond,
      seconds: r.seconds,
      ...(r.kl ? { kl: r.kl } : {}),
      ...(r.kld && r.dp ? { kld: r.kld, dp: r.dp } : {}),
    };
  } catch (e) {
    if (isAppError(e) && e.code === 'cancelled') throw cancelledError();
    if (isAppError(e)) throw e;
    throw new AppError('engine_error', `perplexity evaluation failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function modelPath(file: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new AppError('file_missing', `${path.basename(file)}: there is no model file at ${file}`);
  if (!stat.isFile()) throw new AppError('not_a_file', `${path.basename(file)}: ${file} is a directory, not a model file`);
  return path.resolve(file);
}

/** Before llama.cpp sees them: several mismatches of an adapter with its model make it assert. */
function checkedAdapters(adapters: PerplexityAdapter[], modelFile: string, field: string): { path: string; scale: number }[] {
  return adapters.map((a, i) => {
    if (!Number.isFinite(a.scale)) throw new AppError('invalid_input', `${path.basename(a.filePath)}: the scale must be a number`, `${field}.${i}.scale`);
    if (!fs.statSync(a.filePath, { throwIfNoEntry: false })?.isFile()) throw new AppError('file_missing', `there is no adapter file at ${a.filePath}`);
    checkCompatibility(a.filePath, modelFile);
    return { path: path.resolve(a.filePath), scale: a.scale };
  });
}

function cancelledError(): AppError {
  return new AppError('cancelled', 'the perplexity evaluation was cancelled');
}
