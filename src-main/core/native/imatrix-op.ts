/**
 * The importance matrix in the engine host: llama-imatrix's statistics (tools/imatrix/imatrix.cpp), collected through
 * the context's eval callback (`cb_eval`, a koffi-registered function llama.cpp calls on the decoding thread):
 *
 * - ask phase: the scheduler offers every graph node; we want MUL_MAT_ID nodes (all of them), and MUL_MAT nodes whose
 *   activations (src[1]) are F32 with at least 16 rows and whose weight (src[0]) is a block weight `blk.*` (or
 *   `output.weight` with `processOutput`, llama-imatrix's --process-output);
 * - collect phase: Σ x² per input column of src[1], per weight matrix (experts of a MUL_MAT_ID weight separately), in
 *   float32 as llama.cpp accumulates, and `counts` += activation rows (per expert for MUL_MAT_ID). Activations in
 *   memory that is not the host's are copied with ggml_backend_tensor_get.
 *
 * Chunks as llama-imatrix cuts them: n_chunk = floor(tokens / contextSize) (at most maxChunks); floor(batchSize /
 * contextSize) chunks per decode, each its own sequence from an empty KV cache, its first token replaced by BOS when
 * the vocabulary adds one; every position an output (so the last layer sees every row, as in the tool). The chunk
 * count written is llama-imatrix's: the largest count over chunk size.
 */
import koffi from 'koffi';
import { AppError } from '../../../src-shared/errors.js';
import type { HostContext } from './engine-host.js';
import { GGML_ENUMS, ggml_backend_sched_eval_callback, ggml_tensor, type LlamaLib, type Ptr } from './ffi.js';
import { Batch, type NativeContext } from './llama.js';
import { int } from './score.js';
import type { ModelRef } from './protocol.js';

export interface ImatrixArgs {
  model: ModelRef;
  /** The text, tokenized as llama-imatrix does (BOS when the vocabulary adds one)... */
  text?: string;
  /** ...special-token text parsed as such (llama-imatrix's --parse-special; chat-rendered text). */
  parseSpecial?: boolean;
  /** ...or the token stream itself. */
  tokens?: Int32Array | number[];
  /** Tokens per chunk (llama-imatrix's -c). */
  contextSize: number;
  /** llama-imatrix's -b (default 2048): floor(batchSize / contextSize) chunks per decode. */
  batchSize?: number;
  maxChunks?: number;
  threads: number;
  /** Collect output.weight too (--process-output). */
  processOutput?: boolean;
}

export interface ImatrixStat {
  name: string;
  /** Σ x² per column, matrix after matrix (n_mat × ne0). */
  sums: Float32Array;
  /** Activation rows per matrix (one for a dense weight, one per expert for MUL_MAT_ID). */
  counts: number[];
}

export interface ImatrixResult {
  entries: ImatrixStat[];
  /** llama-imatrix's chunk_count: the largest count over the chunk size. */
  chunks: number;
  chunkSize: number;
  /** Tokens in the stream, and those decoded (chunks × contextSize). */
  tokens: number;
  processedTokens: number;
  seconds: number;
  tokensPerSecond: number;
}

export interface ImatrixProgress {
  done: number;
  total: number;
}

const DEFAULT_BATCH = 2048;
/** ggml_tensor's field offsets, from its one declaration in ffi.ts (test/native/layout.test.ts checks it against ggml.h). */
const off = (field: string) => koffi.offsetof(ggml_tensor, field);
const T = {
  type: off('type'),
  buffer: off('buffer'),
  ne: off('ne'),
  nb: off('nb'),
  op: off('op'),
  src: off('src'),
  data: off('data'),
  name: off('name'),
  size: koffi.sizeof(ggml_tensor),
} as const;

interface TensorView {
  ptr: Ptr;
  dv: DataView;
}

function view(ptr: Ptr): TensorView {
  return { ptr, dv: new DataView(koffi.view(ptr, T.size)) };
}
const i64 = (t: TensorView, off: number) => Number(t.dv.getBigInt64(off, true));
const ne = (t: TensorView, i: number) => i64(t, T.ne + 8 * i);
const nb = (t: TensorView, i: number) => i64(t, T.nb + 8 * i);
const src = (t: TensorView, i: number): Ptr => koffi.decode(t.ptr, T.src + 8 * i, 'void *') as Ptr;

/** `CUDA0#blk.0.attn_k.weight#0` → `blk.0.attn_k.weight` (imatrix.cpp's filter_tensor_name). */
function weightName(t: TensorView): string {
  const bytes = new Uint8Array(t.dv.buffer, T.name, 64);
  let end = bytes.indexOf(0);
  if (end < 0) end = 64;
  const name = Buffer.from(bytes.subarray(0, end)).toString('utf8');
  const p = name.indexOf('#');
  if (p < 0) return name;
  const q = name.indexOf('#', p + 1);
  return q < 0 ? name.slice(p + 1) : name.slice(p + 1, q);
}

/** ggml_nbytes of a tensor whose type has block size 1. */
function nbytes(t: TensorView, elementSize: number): number {
  let n = elementSize;
  for (let i = 0; i < 4; i++) {
    const e = ne(t, i);
    if (e <= 0) return 0;
    n += (e - 1) * nb(t, i);
  }
  return n;
}

/** The statistics, filled by the eval callback while llama_decode runs. */
class Collector {
  readonly stats = new Map<string, { sums: Float32Array; counts: number[] }>();
  error: unknown = null;
  private scratch = Buffer.alloc(0);

  constructor(
    private readonly lib: LlamaLib,
    private readonly processOutput: boolean,
  ) {}

  /** The callback: an exception cannot cross into C, so it is kept and rethrown after the decode. */
  readonly callback = (t: Ptr, ask: boolean): boolean => {
    try {
      return ask ? this.ask(view(t)) : this.collect(view(t));
    } catch (e) {
      this.error ??= e;
      return false;
    }
  };

  private ask(t: TensorView): boolean {
    const op = t.dv.getInt32(T.op, true);
    if (op === GGML_ENUMS.GGML_OP_MUL_MAT_ID) return true;
    if (op !== GGML_ENUMS.GGML_OP_MUL_MAT) return false;
    const src1 = view(src(t, 1));
    if (ne(src1, 1) < 16 || src1.dv.getInt32(T.type, true) !== GGML_ENUMS.GGML_TYPE_F32) return false;
    const w = weightName(view(src(t, 0)));
    return w.startsWith('blk.') || (this.processOutput && w === 'output.weight');
  }

  /** The tensor's data as floats (ints for the expert ids), copied when it is not in host memory. */
  private data(t: TensorView, bytes: number, copy = false): ArrayBuffer {
    const buffer = koffi.decode(t.ptr, T.buffer, 'void *') as Ptr;
    if (!copy && buffer && (this.lib.ggml_backend_buffer_is_host(buffer) as boolean)) {
      return koffi.view(koffi.decode(t.ptr, T.data, 'void *') as Ptr, bytes);
    }
    const out = Buffer.alloc(bytes);
    this.lib.ggml_backend_tensor_get(t.ptr, out, 0, bytes);
    return out.buffer.slice(out.byteOffset, out.byteOffset + bytes);
  }

  private entry(name: string, width: number, nMat: number, nCounts: number): { sums: Float32Array; counts: number[] } {
    let e = this.stats.get(name);
    if (!e) {
      e = { sums: new Float32Array(width * nMat), counts: new Array<number>(nCounts).fill(0) };
      this.stats.set(name, e);
    } else if (e.sums.length !== width * nMat || e.counts.length !== nCounts) {
      throw new AppError('engine_error', `inconsistent activation size for ${name} (${e.sums.length} vs ${width * nMat})`);
    }
    return e;
  }

  private collect(t: TensorView): boolean {
    const op = t.dv.getInt32(T.op, true);
    const src0 = view(src(t, 0));
    const src1 = view(src(t, 1));
    const name = weightName(src0);
    if (src1.dv.getInt32(T.type, true) !== GGML_ENUMS.GGML_TYPE_F32) throw new AppError('engine_error', `${name}: the activations are not F32`);
    if (nb(src1, 0) !== 4) throw new AppError('engine_error', `${name}: the activations are not contiguous rows`);
    const bytes = nbytes(src1, 4);
    if (bytes === 0) return true;
    const x = new Float32Array(this.data(src1, bytes), 0, bytes >> 2);
    const ne0 = ne(src1, 0);
    const [nb1, nb2, nb3] = [nb(src1, 1) >> 2, nb(src1, 2) >> 2, nb(src1, 3) >> 2];
    if (op === GGML_ENUMS.GGML_OP_MUL_MAT_ID) {
      // ids → [n_expert_used, n_tokens], src1 → [cols, n_expert_used (or 1), n_tokens]
      const ids = view(src(t, 2));
      const nAs = ne(src0, 2);
      const nIds = ne(ids, 0);
      const nTokens = ne(src1, 2);
      if (ne(ids, 1) !== nTokens) throw new AppError('engine_error', `${name}: expert ids for ${ne(ids, 1)} tokens, activations for ${nTokens}`);
      const idv = new DataView(this.data(ids, nbytes(ids, 4), true));
      const [inb0, inb1] = [nb(ids, 0), nb(ids, 1)];
      const ne1 = ne(src1, 1);
      const e = this.entry(name, ne0, nAs, nAs);
      for (let idx = 0; idx < nIds; idx++) {
        for (let row = 0; row < nTokens; row++) {
          const ex = idv.getInt32(row * inb1 + idx * inb0, true);
          if (ex < 0 || ex >= nAs) throw new AppError('engine_error', `${name}: expert id ${ex} outside 0 … ${nAs - 1}`);
          const base = (idx % ne1) * nb1 + row * nb2;
          const acc = ex * ne0;
          e.counts[ex]!++;
          for (let j = 0; j < ne0; j++) {
            const v = x[base + j]!;
            e.sums[acc + j]! += v * v;
          }
        }
      }
      return true;
    }
    const s0ne2 = ne(src0, 2);
    const s0ne3 = ne(src0, 3);
    const nMat = s0ne2 * s0ne3;
    const e = this.entry(name, ne0, nMat, 1);
    const [ne1, ne2, ne3] = [ne(src1, 1), ne(src1, 2), ne(src1, 3)];
    const sums = e.sums;
    for (let i3 = 0; i3 < ne3; i3++) {
      for (let i2 = 0; i2 < ne2; i2++) {
        const acc = ((i3 % s0ne3) * s0ne2 + (i2 % s0ne2)) * ne0;
        for (let row = 0; row < ne1; row++) {
          const base = row * nb1 + i2 * nb2 + i3 * nb3;
          for (let j = 0; j < ne0; j++) {
            const v = x[base + j]!;
            sums[acc + j]! += v * v;
          }
        }
      }
    }
    e.counts[0]! += (ne1 * ne2 * ne3) / nMat;
    return true;
  }
}

/** The `imatrix` operation. */
export async function imatrixOp(raw: unknown, ctx: HostContext): Promise<ImatrixResult> {
  const a = raw as ImatrixArgs;
  const nCtx = int(a.contextSize, 'contextSize', 16);
  const threads = int(a.threads, 'threads', 1);
  const nBatchArg = int(a.batchSize ?? DEFAULT_BATCH, 'batchSize', 1);
  if (a.maxChunks !== undefined) int(a.maxChunks, 'maxChunks', 1);
  const model = ctx.model(a.model);
  let tokens: Int32Array;
  if (a.tokens !== undefined) {
    tokens = Int32Array.from(a.tokens);
    model.checkTokens(tokens, 'tokens');
  } else if (typeof a.text === 'string') {
    tokens = model.tokenize(a.text, { addSpecial: true, parseSpecial: !!a.parseSpecial });
  } else {
    throw new AppError('invalid_input', 'give the text or the tokens', 'text');
  }
  if (tokens.length < nCtx) {
    throw new AppError(
      'invalid_input',
      `the text is only ${tokens.length} tokens long, shorter than one ${nCtx}-token chunk: nothing would be collected; give a longer text or a context of at most ${tokens.length} tokens`,
      'text',
    );
  }
  const nChunk = Math.min(Math.floor(tokens.length / nCtx), a.maxChunks ?? Infinity);
  const nSeq = Math.min(Math.max(1, Math.floor(nBatchArg / nCtx)), nChunk, 256);
  const nBatch = Math.min(nBatchArg, nSeq * nCtx);
  const collector = new Collector(ctx.llama.lib, !!a.processOutput);
  const cb = koffi.register(collector.callback, koffi.pointer(ggml_backend_sched_eval_callback));
  let c: NativeContext | null = null;
  const batch = new Batch(ctx.llama.lib, nBatch);
  try {
    c = ctx.llama.createContext(model, { nCtx: nSeq * nCtx, nBatch, nSeqMax: nSeq, threads, evalCallback: cb });
    const bos = model.addBos ? model.bos : -1;
    const numBatches = Math.ceil(nCtx / nBatch);
    const start = performance.now();
    for (let i = 0; i < nChunk; i += nSeq) {
      await ctx.checkpoint();
      const nSeqBatch = Math.min(nSeq, nChunk - i);
      c.clearMemory();
      for (let j = 0; j < numBatches; j++) {
        const batchStart = j * nBatch;
        const size = Math.min(nCtx - batchStart, nBatch);
        batch.clear();
        for (let s = 0; s < nSeqBatch; s++) {
          const chunk = (i + s) * nCtx;
          for (let k = 0; k < size; k++) {
            const pos = batchStart + k;
            batch.add(pos === 0 && bos >= 0 ? bos : tokens[chunk + pos]!, pos, s, true);
          }
        }
        if (j > 0) await ctx.checkpoint();
        c.decode(batch);
        if (collector.error) throw collector.error;
      }
      ctx.progress({ done: i + nSeqBatch, total: nChunk } satisfies ImatrixProgress);
    }
    const seconds = (performance.now() - start) / 1000;
    let chunks = 0;
    const entries: ImatrixStat[] = [];
    for (const [name, e] of [...collector.stats].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
      for (const v of e.sums) if (!Number.isFinite(v)) throw new AppError('engine_error', `non-finite values in the statistics of ${name}`);
      for (const n of e.counts) chunks = Math.max(chunks, Math.floor(n / nCtx));
      entries.push({ name, sums: e.sums, counts: e.counts });
    }
    const processed = nChunk * nCtx;
    return { entries, chunks, chunkSize: nCtx, tokens: tokens.length, processedTokens: processed, seconds, tokensPerSecond: processed / seconds };
  } finally {
    c?.free();
    batch.free();
    koffi.unregister(cb);
  }
}
