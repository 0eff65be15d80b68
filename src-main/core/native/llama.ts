/**
 * The native API the engine host's request handlers build on (runs ONLY in the engine host child, engine-host.ts):
 *
 *   const llama = new NativeLlama(openLibrary(files));       // once per process
 *   const model = llama.openModel('/m.gguf', { gpuLayers: 0 });
 *   const tokens = model.tokenize('text', { addSpecial: true, parseSpecial: false });
 *   const ctx = llama.createContext(model, { nCtx: 512, nBatch: 2048, nSeqMax: 4, threads: 2,
 *                                          adapters: [{ path: '/lora.gguf', scale: 0.5 }] });
 *   const batch = new Batch(llama.lib, 2048);                 // C arrays, written through typed-array views
 *   batch.clear(); batch.add(token, pos, seq, wantLogits); ...
 *   ctx.decode(batch);                                        // throws AppError on failure
 *   const row = ctx.logitsRow(i);                             // Float32Array over C memory: i-th output of the batch
 *   ctx.clearMemory(); ctx.free(); batch.free();
 *
 * Every context gets the persistent ggml threadpool for its thread count (created once per count and kept: ggml
 * otherwise starts and joins fresh threads at every decode, see llm/threads.ts). Inputs are checked here before they
 * reach C (token ids < n_vocab, positions, batch capacity, sizes): llama.cpp aborts the process on some bad inputs.
 * Views onto C memory (logits) are valid until the next decode on that context.
 */
import koffi from 'koffi';
import { AppError } from '../../../src-shared/errors.js';
import { ggml_log_callback, type LlamaBatchStruct, type LlamaLib, type Ptr } from './ffi.js';

const LLAMA_MAX_SEQ = 256; // src/llama-cparams.h

export interface ModelOptions {
  /** Layers offloaded to the GPU (node-llama-cpp picked the backend); 0 on the CPU, -1 all. */
  gpuLayers?: number;
}

export interface AdapterSpec {
  path: string;
  /** As llama.cpp's `--lora-scaled FILE SCALE`: 0 is the base, negative allowed. */
  scale: number;
}

export interface ContextOptions {
  nCtx: number;
  /** Tokens per llama_decode at most. */
  nBatch: number;
  /** The physical batch (llama.cpp's n_ubatch); default min(512, nBatch) as llama.cpp's tools. */
  nUbatch?: number;
  /** Sequences (separate KV streams) in this context. Default 1. */
  nSeqMax?: number;
  threads: number;
  adapters?: AdapterSpec[];
  /** The context's cb_eval: a `koffi.register`ed ggml_backend_sched_eval_callback (imatrix-op.ts), called during decode. */
  evalCallback?: Ptr;
}

export class NativeLlama {
  private readonly pools = new Map<number, Ptr>();
  /** The last warning/error lines llama.cpp logged: the reason behind a NULL it returns. */
  private readonly logTail: string[] = [];
  private logLine = '';
  private lastLevel = 0;

  constructor(readonly lib: LlamaLib) {
    // Only warnings and errors: to stderr (the client keeps the last lines as a crash's reason) and to logTail.
    const cb = koffi.register((level: number, text: string) => {
      const lv = level === 5 ? this.lastLevel : level; // GGML_LOG_LEVEL_CONT continues the previous message
      this.lastLevel = lv;
      if (lv < 3) return;
      this.logLine += text;
      if (!this.logLine.endsWith('\n')) return;
      const line = this.logLine.trimEnd();
      this.logLine = '';
      process.stderr.write(`${line}\n`);
      this.logTail.push(line);
      if (this.logTail.length > 8) this.logTail.shift();
    }, koffi.pointer(ggml_log_callback));
    lib.llama_log_set(cb, null);
  }

  /** llama.cpp's last logged complaints (cleared when read), for an error message. */
  takeLog(): string {
    const s = this.logTail.join(' | ');
    this.logTail.length = 0;
    return s;
  }

  threadpoolSizes(): number[] {
    return [...this.pools.keys()];
  }

  /** The persistent threadpool for `threads` (null when the CPU backend has none: llama.cpp then makes its own). */
  threadpool(threads: number): Ptr {
    const { ggml_threadpool_new, ggml_threadpool_params_default } = this.lib;
    if (!ggml_threadpool_new) return null;
    let pool = this.pools.get(threads);
    if (!pool) {
      const params = ggml_threadpool_params_default(threads) as Record<string, unknown>;
      pool = ggml_threadpool_new(params);
      if (!pool) throw new AppError('engine_error', `ggml could not start a pool of ${threads} threads: ${this.takeLog()}`);
      this.pools.set(threads, pool);
    }
    return pool;
  }

  openModel(file: string, opts: ModelOptions = {}): NativeModel {
    const params = this.lib.llama_model_default_params() as Record<string, unknown>;
    params['n_gpu_layers'] = opts.gpuLayers ?? 0;
    this.takeLog();
    const ptr = this.lib.llama_model_load_from_file(file, params);
    if (!ptr) throw new AppError('engine_error', `${basename(file)} could not be loaded: ${this.takeLog() || 'llama.cpp gave no reason'}`);
    return new NativeModel(this, ptr, file);
  }

  createContext(model: NativeModel, opts: ContextOptions): NativeContext {
    const nSeqMax = opts.nSeqMax ?? 1;
    checkInt(opts.nCtx, 'nCtx', 1, 1 << 24);
    checkInt(opts.nBatch, 'nBatch', 1, 1 << 24);
    checkInt(nSeqMax, 'nSeqMax', 1, LLAMA_MAX_SEQ);
    checkInt(opts.threads, 'threads', 1, 512);
    const p = this.lib.llama_context_default_params() as Record<string, unknown>;
    p['n_ctx'] = opts.nCtx;
    p['n_batch'] = opts.nBatch;
    p['n_ubatch'] = opts.nUbatch ?? Math.min(512, opts.nBatch);
    p['n_seq_max'] = nSeqMax;
    p['n_threads'] = opts.threads;
    p['n_threads_batch'] = opts.threads;
    p['no_perf'] = true;
    if (opts.evalCallback) p['cb_eval'] = opts.evalCallback;
    this.takeLog();
    const ptr = this.lib.llama_init_from_model(model.ptr, p);
    if (!ptr) {
      throw new AppError(
        'engine_error',
        `${model.name} could not get a context of ${opts.nCtx} tokens × ${nSeqMax} sequence(s): ${this.takeLog() || 'llama.cpp gave no reason'}`,
      );
    }
    const ctx = new NativeContext(this, model, ptr);
    const pool = this.threadpool(opts.threads);
    if (pool) this.lib.llama_attach_threadpool(ptr, pool, pool);
    try {
      if (opts.adapters?.length) ctx.setAdapters(opts.adapters);
    } catch (e) {
      ctx.free();
      throw e;
    }
    return ctx;
  }
}

export class NativeModel {
  readonly vocab: Ptr;
  readonly nVocab: number;
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nCtxTrain: number;
  readonly bos: number;
  readonly eos: number;
  readonly addBos: boolean;
  readonly name: string;
  private readonly adapters = new Map<string, Ptr>();
  private freed = false;

  constructor(
    private readonly llama: NativeLlama,
    readonly ptr: Ptr,
    readonly file: string,
  ) {
    const l = llama.lib;
    this.vocab = l.llama_model_get_vocab(ptr);
    this.nVocab = l.llama_vocab_n_tokens(this.vocab) as number;
    this.nEmbd = l.llama_model_n_embd(ptr) as number;
    this.nLayer = l.llama_model_n_layer(ptr) as number;
    this.nCtxTrain = l.llama_model_n_ctx_train(ptr) as number;
    this.bos = l.llama_vocab_bos(this.vocab) as number;
    this.eos = l.llama_vocab_eos(this.vocab) as number;
    this.addBos = l.llama_vocab_get_add_bos(this.vocab) as boolean;
    this.name = basename(file);
  }

  /** llama_tokenize: addSpecial adds BOS/EOS as the vocabulary says; parseSpecial turns "<s>"-like text into its token. */
  tokenize(text: string, opts: { addSpecial: boolean; parseSpecial: boolean }): Int32Array {
    const bytes = Buffer.byteLength(text);
    let out = new Int32Array(bytes + 8);
    let n = this.llama.lib.llama_tokenize(this.vocab, text, bytes, out, out.length, opts.addSpecial, opts.parseSpecial) as number;
    if (n < 0) {
      if (n === -2147483648) throw new AppError('invalid_input', 'the text is too long to tokenize', 'text');
      out = new Int32Array(-n);
      n = this.llama.lib.llama_tokenize(this.vocab, text, bytes, out, out.length, opts.addSpecial, opts.parseSpecial) as number;
    }
    return out.subarray(0, n);
  }

  /** llama_detokenize of ids (checked < n_vocab); special tokens rendered when `special`. */
  detokenize(tokens: ArrayLike<number>, special = false): string {
    this.checkTokens(tokens, 'tokens');
    const ids = Int32Array.from(tokens);
    let buf = Buffer.alloc(ids.length * 8 + 16);
    let n = this.llama.lib.llama_detokenize(this.vocab, ids, ids.length, buf, buf.length, false, special) as number;
    if (n < 0) {
      buf = Buffer.alloc(-n);
      n = this.llama.lib.llama_detokenize(this.vocab, ids, ids.length, buf, buf.length, false, special) as number;
    }
    return buf.subarray(0, n).toString('utf8');
  }

  /** One token's bytes (a piece may be part of a UTF-8 character: join bytes before decoding). */
  piece(token: number, special = false): Buffer {
    this.checkTokens([token], 'token');
    let buf = Buffer.alloc(64);
    let n = this.llama.lib.llama_token_to_piece(this.vocab, token, buf, buf.length, 0, special) as number;
    if (n < 0) {
      buf = Buffer.alloc(-n);
      n = this.llama.lib.llama_token_to_piece(this.vocab, token, buf, buf.length, 0, special) as number;
    }
    return buf.subarray(0, n);
  }

  isEog(token: number): boolean {
    return this.llama.lib.llama_vocab_is_eog(this.vocab, token) as boolean;
  }

  /** Throws invalid_input naming `field` when an id is not a token of this vocabulary. */
  checkTokens(tokens: ArrayLike<number>, field: string): void {
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= this.nVocab) {
        throw new AppError('invalid_input', `${field}[${i}] = ${t} is not a token of ${this.name} (0 … ${this.nVocab - 1})`, `${field}.${i}`);
      }
    }
  }

  /** The adapter at `path`, loaded once per model (the caller checked its shapes: llama.cpp asserts on some). */
  adapter(path: string): Ptr {
    let a = this.adapters.get(path);
    if (!a) {
      this.llama.takeLog();
      a = this.llama.lib.llama_adapter_lora_init(this.ptr, path);
      if (!a) throw new AppError('engine_error', `the adapter ${basename(path)} could not be loaded on ${this.name}: ${this.llama.takeLog()}`);
      this.adapters.set(path, a);
    }
    return a;
  }

  get disposed(): boolean {
    return this.freed;
  }

  /** Frees the model and its adapters; its contexts must be freed first. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const a of this.adapters.values()) this.llama.lib.llama_adapter_lora_free(a);
    this.adapters.clear();
    this.llama.lib.llama_model_free(this.ptr);
  }
}

export class NativeContext {
  readonly nCtx: number;
  readonly nBatch: number;
  readonly nSeqMax: number;
  private readonly memory: Ptr;
  private freed = false;

  constructor(
    private readonly llama: NativeLlama,
    readonly model: NativeModel,
    readonly ptr: Ptr,
  ) {
    const l = llama.lib;
    this.nCtx = l.llama_n_ctx(ptr) as number;
    this.nBatch = l.llama_n_batch(ptr) as number;
    this.nSeqMax = l.llama_n_seq_max(ptr) as number;
    this.memory = l.llama_get_memory(ptr);
  }

  /** Replaces the context's LoRA adapters (none: the base). Finite scales only. */
  setAdapters(adapters: AdapterSpec[]): void {
    for (const [i, a] of adapters.entries()) {
      if (!Number.isFinite(a.scale)) throw new AppError('invalid_input', `adapters[${i}]: the scale must be a finite number`, `adapters.${i}.scale`);
    }
    const ptrs = adapters.map((a) => this.model.adapter(a.path));
    const scales = Float32Array.from(adapters.map((a) => a.scale));
    const rc = this.llama.lib.llama_set_adapters_lora(this.ptr, ptrs.length ? ptrs : null, ptrs.length, ptrs.length ? scales : null) as number;
    if (rc !== 0) throw new AppError('engine_error', `llama.cpp refused the adapters (${rc}): ${this.llama.takeLog()}`);
  }

  /** Empties every sequence's KV cache. */
  clearMemory(): void {
    this.llama.lib.llama_memory_clear(this.memory, true);
  }

  /** Removes positions [p0, p1) of sequence `seq` (p1 < 0: to the end). */
  removeTokens(seq: number, p0 = 0, p1 = -1): boolean {
    return this.llama.lib.llama_memory_seq_rm(this.memory, seq, p0, p1) as boolean;
  }

  /** llama_decode; its tokens, positions and sequences were checked by Batch.add against this context. */
  decode(batch: Batch): void {
    if (batch.n === 0) return;
    if (batch.n > this.nBatch) throw new AppError('invalid_input', `a batch of ${batch.n} tokens exceeds the context's batch size ${this.nBatch}`, 'batch');
    if (batch.maxSeq >= this.nSeqMax) throw new AppError('invalid_input', `sequence ${batch.maxSeq} is outside this context's ${this.nSeqMax}`, 'batch');
    if (batch.maxPos >= this.nCtx) throw new AppError('invalid_input', `position ${batch.maxPos} is outside the ${this.nCtx}-token context`, 'batch');
    if (batch.maxToken >= this.model.nVocab) throw new AppError('invalid_input', `token ${batch.maxToken} is not in ${this.model.name}'s vocabulary`, 'batch');
    const rc = this.llama.lib.llama_decode(this.ptr, batch.struct()) as number;
    if (rc !== 0) {
      const why = rc === 1 ? 'no room left in the KV cache' : rc === 2 ? 'aborted' : `error ${rc}`;
      throw new AppError('engine_error', `llama_decode failed on ${this.model.name}: ${why} ${this.llama.takeLog()}`.trim());
    }
  }

  /** The logits of the last decode's outputs, row after row (n_outputs × n_vocab floats), over C memory. */
  logits(nOutputs: number): Float32Array {
    const ptr = this.llama.lib.llama_get_logits(this.ptr);
    return new Float32Array(koffi.view(ptr, nOutputs * this.model.nVocab * 4));
  }

  /** The logits of the batch's i-th token (it must have asked for them), over C memory. */
  logitsRow(i: number): Float32Array {
    const ptr = this.llama.lib.llama_get_logits_ith(this.ptr, i);
    if (!ptr) throw new AppError('engine_error', `no logits for batch token ${i}: ${this.llama.takeLog()}`);
    return new Float32Array(koffi.view(ptr, this.model.nVocab * 4));
  }

  get disposed(): boolean {
    return this.freed;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.llama.lib.llama_free(this.ptr);
  }
}

/**
 * A llama_batch whose arrays are C memory (llama_batch_init) written through typed-array views: no copy per decode.
 * `seqPerToken` is how many sequences one token may belong to (a shared prompt prefix); default 1.
 */
export class Batch {
  n = 0;
  maxSeq = -1;
  maxPos = -1;
  maxToken = -1;
  readonly tokens: Int32Array;
  readonly pos: Int32Array;
  readonly nSeqId: Int32Array;
  readonly output: Int8Array;
  private readonly seqIds: Int32Array[];
  private readonly raw: LlamaBatchStruct;
  private freed = false;

  constructor(
    private readonly lib: LlamaLib,
    readonly capacity: number,
    readonly seqPerToken = 1,
  ) {
    checkInt(capacity, 'capacity', 1, 1 << 24);
    checkInt(seqPerToken, 'seqPerToken', 1, LLAMA_MAX_SEQ);
    this.raw = lib.llama_batch_init(capacity, 0, seqPerToken) as LlamaBatchStruct;
    this.tokens = new Int32Array(koffi.view(this.raw.token, capacity * 4));
    this.pos = new Int32Array(koffi.view(this.raw.pos, capacity * 4));
    this.nSeqId = new Int32Array(koffi.view(this.raw.n_seq_id, capacity * 4));
    this.output = new Int8Array(koffi.view(this.raw.logits, capacity));
    const ptrs = koffi.decode(this.raw.seq_id, 'void *', capacity) as Ptr[];
    this.seqIds = ptrs.map((p) => new Int32Array(koffi.view(p, seqPerToken * 4)));
  }

  clear(): void {
    this.n = 0;
    this.maxSeq = this.maxPos = this.maxToken = -1;
  }

  /** Appends a token at `pos` in sequence(s) `seq`; `output`: compute its logits. Returns its index in the batch. */
  add(token: number, pos: number, seq: number | readonly number[], output: boolean): number {
    const i = this.n;
    if (i >= this.capacity) throw new AppError('invalid_input', `the batch is full (${this.capacity} tokens)`, 'batch');
    if (!(token >= 0) || !Number.isInteger(token)) throw new AppError('invalid_input', `token ${token} is not a token id`, 'batch');
    if (!(pos >= 0) || !Number.isInteger(pos)) throw new AppError('invalid_input', `position ${pos} is not a position`, 'batch');
    this.tokens[i] = token;
    this.pos[i] = pos;
    this.output[i] = output ? 1 : 0;
    const ids = this.seqIds[i]!;
    if (typeof seq === 'number') {
      ids[0] = seq;
      this.nSeqId[i] = 1;
      if (seq > this.maxSeq) this.maxSeq = seq;
      if (!(seq >= 0)) throw new AppError('invalid_input', `sequence ${seq} is not a sequence id`, 'batch');
    } else {
      if (seq.length < 1 || seq.length > this.seqPerToken)
        throw new AppError('invalid_input', `a token in ${seq.length} sequences (at most ${this.seqPerToken})`, 'batch');
      for (let k = 0; k < seq.length; k++) {
        const s = seq[k]!;
        if (!(s >= 0)) throw new AppError('invalid_input', `sequence ${s} is not a sequence id`, 'batch');
        ids[k] = s;
        if (s > this.maxSeq) this.maxSeq = s;
      }
      this.nSeqId[i] = seq.length;
    }
    if (pos > this.maxPos) this.maxPos = pos;
    if (token > this.maxToken) this.maxToken = token;
    this.n = i + 1;
    return i;
  }

  /** The struct llama_decode takes by value. */
  struct(): LlamaBatchStruct {
    return { ...this.raw, n_tokens: this.n };
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.lib.llama_batch_free(this.raw);
  }
}

function checkInt(v: number, field: string, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new AppError('invalid_input', `${field} must be a whole number from ${min} to ${max}, not ${v}`, field);
}

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}
