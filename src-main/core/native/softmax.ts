/**
 * Softmax of logits rows in C: a tiny ggml graph (one GGML_OP_SOFT_MAX over a [n_vocab, rows] F32 tensor) computed by
 * the CPU backend node-llama-cpp loaded, with its SIMD exp and several threads, the sum in double as llama.cpp's own
 * perplexity does. A JS loop over a 32k vocabulary costs ~0.5 ms per position (Math.exp is not vectorized); this costs
 * a few tens of microseconds, which is what lets scoring keep up with llama-perplexity. Engine host only.
 *
 *   const sm = new RowSoftmax(lib, nVocab, threads);
 *   const p = sm.run(logits, [off0, off1, …]);   // p[r * nVocab + i] = softmax(row r)[i], valid until the next run
 *   sm.free();
 */
import koffi from 'koffi';
import { AppError } from '../../../src-shared/errors.js';
import type { LlamaLib, Ptr } from './ffi.js';

/** Rows per graph: 64 × 32k floats × 2 tensors = 16 MB. */
export const SOFTMAX_ROWS = 64;
const GGML_TYPE_F32 = 0;

interface Graph {
  ctx: Ptr;
  graph: Ptr;
  /** ggml_cplan with its work buffer (allocated once in ctx) and the persistent threadpool. */
  plan: Record<string, unknown>;
  x: Float32Array;
  p: Float32Array;
}

export class RowSoftmax {
  private readonly graphs = new Map<number, Graph>();

  /** `pool`: the persistent threadpool of `threads` threads (NativeLlama.threadpool), or null for ggml's own. */
  constructor(
    private readonly lib: LlamaLib,
    private readonly nVocab: number,
    private readonly threads: number,
    private readonly pool: Ptr,
  ) {
    if (!lib.ggml_graph_plan || !lib.ggml_graph_compute) throw new AppError('engine_error', 'the CPU backend has no graph compute: cannot fold logits in C');
  }

  /** Softmax of the rows of `src` starting at the given offsets (at most SOFTMAX_ROWS). */
  run(src: Float32Array, offsets: readonly number[]): Float32Array {
    const rows = offsets.length;
    if (rows < 1 || rows > SOFTMAX_ROWS) throw new AppError('internal', `softmax of ${rows} rows`);
    const g = this.graph(rows);
    const v = this.nVocab;
    for (let r = 0; r < rows; r++) g.x.set(src.subarray(offsets[r]!, offsets[r]! + v), r * v);
    const status = this.lib.ggml_graph_compute!(g.graph, g.plan) as number;
    if (status !== 0) throw new AppError('engine_error', `ggml could not compute a softmax (status ${status})`);
    return g.p;
  }

  private graph(rows: number): Graph {
    let g = this.graphs.get(rows);
    if (g) return g;
    const l = this.lib;
    const bytes = rows * this.nVocab * 4;
    // two tensors, a graph, and the compute's work buffer (n_threads × n_vocab floats for a softmax) with margin
    const work = (this.threads + 2) * this.nVocab * 4 + (1 << 16);
    const memSize = 2 * bytes + 4 * (l.ggml_tensor_overhead() as number) + (l.ggml_graph_overhead() as number) + work + (1 << 20);
    const ctx = l.ggml_init({ mem_size: memSize, mem_buffer: null, no_alloc: false });
    if (!ctx) throw new AppError('engine_error', `ggml could not allocate ${Math.round(memSize / 2 ** 20)} MB for a softmax`);
    const x = l.ggml_new_tensor_2d(ctx, GGML_TYPE_F32, this.nVocab, rows);
    const p = l.ggml_soft_max(ctx, x);
    const graph = l.ggml_new_graph(ctx);
    l.ggml_build_forward_expand(graph, p);
    const plan = l.ggml_graph_plan!(graph, this.threads, this.pool) as Record<string, unknown>;
    const workSize = Number(plan['work_size']);
    if (workSize > work) throw new AppError('internal', `a softmax needs ${workSize} bytes of work buffer, ${work} were reserved`);
    plan['work_data'] = workSize > 0 ? l.ggml_get_data(l.ggml_new_tensor_1d(ctx, GGML_TYPE_F32, Math.ceil(workSize / 4))) : null;
    g = {
      ctx,
      graph,
      plan,
      x: new Float32Array(koffi.view(l.ggml_get_data(x), bytes)),
      p: new Float32Array(koffi.view(l.ggml_get_data(p), bytes)),
    };
    this.graphs.set(rows, g);
    return g;
  }

  free(): void {
    for (const g of this.graphs.values()) this.lib.ggml_free(g.ctx);
    this.graphs.clear();
  }
}
