/**
 * The C side of the native path: koffi declarations of the llama.cpp / ggml structs and functions it calls, for the
 * llama.cpp node-llama-cpp 3.22.1 ships (tag in node_modules/node-llama-cpp/llama/llama.cpp.info.json, pinned exactly
 * in package.json). Every struct is declared ONCE here; test/native/layout.test.ts compiles a C program against the
 * bundled llama.h / ggml.h and fails when a size or a field offset differs from these declarations.
 *
 * Only the engine host child process (engine-host.ts) loads the libraries (`openLibrary`): a GGML_ASSERT there kills the
 * child, never the app. The structs can be declared anywhere (the layout test does it without loading anything).
 *
 * Types: `void *` for every pointer (koffi External objects; `koffi.view(ptr, bytes)` gives a zero-copy ArrayBuffer
 * onto C memory), `int` for C enums, `bool` for C bool; function pointers are `void *` (null) except the log callback.
 */
import koffi, { type LibraryHandle } from 'koffi';

/** GGML_MAX_N_THREADS in ggml.h: the length of ggml_threadpool_params.cpumask. */
export const GGML_MAX_N_THREADS = 512;

export const llama_model_params = koffi.struct('llama_model_params', {
  devices: 'void *',
  tensor_buft_overrides: 'void *',
  n_gpu_layers: 'int32_t',
  split_mode: 'int',
  load_mode: 'int',
  lazy_mode: 'int',
  main_gpu: 'int32_t',
  tensor_split: 'void *',
  progress_callback: 'void *',
  progress_callback_user_data: 'void *',
  kv_overrides: 'void *',
  vocab_only: 'bool',
  check_tensors: 'bool',
  use_extra_bufts: 'bool',
  no_host: 'bool',
  no_alloc: 'bool',
  load_mtp: 'bool',
});

export const llama_context_params = koffi.struct('llama_context_params', {
  n_ctx: 'uint32_t',
  n_batch: 'uint32_t',
  n_ubatch: 'uint32_t',
  n_seq_max: 'uint32_t',
  n_rs_seq: 'uint32_t',
  n_outputs_max: 'uint32_t',
  n_outputs_max_per_seq: 'uint32_t',
  n_threads: 'int32_t',
  n_threads_batch: 'int32_t',
  ctx_type: 'int',
  rope_scaling_type: 'int',
  pooling_type: 'int',
  attention_type: 'int',
  flash_attn_type: 'int',
  rope_freq_base: 'float',
  rope_freq_scale: 'float',
  yarn_ext_factor: 'float',
  yarn_attn_factor: 'float',
  yarn_beta_fast: 'float',
  yarn_beta_slow: 'float',
  yarn_orig_ctx: 'uint32_t',
  defrag_thold: 'float',
  cb_eval: 'void *',
  cb_eval_user_data: 'void *',
  type_k: 'int',
  type_v: 'int',
  abort_callback: 'void *',
  abort_callback_data: 'void *',
  embeddings: 'bool',
  offload_kqv: 'bool',
  no_perf: 'bool',
  op_offload: 'bool',
  swa_full: 'bool',
  kv_unified: 'bool',
  samplers: 'void *',
  n_samplers: 'size_t',
  ctx_other: 'void *',
});

export const llama_batch = koffi.struct('llama_batch', {
  n_tokens: 'int32_t',
  token: 'void *',
  embd: 'void *',
  pos: 'void *',
  n_seq_id: 'void *',
  seq_id: 'void *',
  logits: 'void *',
});

export const ggml_threadpool_params = koffi.struct('ggml_threadpool_params', {
  cpumask: koffi.array('bool', GGML_MAX_N_THREADS),
  n_threads: 'int',
  prio: 'int',
  poll: 'uint32_t',
  strict_cpu: 'bool',
  paused: 'bool',
});

export const llama_sampler_chain_params = koffi.struct('llama_sampler_chain_params', {
  no_perf: 'bool',
});

export const llama_token_data = koffi.struct('llama_token_data', {
  id: 'int32_t',
  logit: 'float',
  p: 'float',
});

export const llama_token_data_array = koffi.struct('llama_token_data_array', {
  data: 'void *',
  size: 'size_t',
  selected: 'int64_t',
  sorted: 'bool',
});

export const llama_model_quantize_params = koffi.struct('llama_model_quantize_params', {
  nthread: 'int32_t',
  ftype: 'int',
  output_tensor_type: 'int',
  token_embedding_type: 'int',
  allow_requantize: 'bool',
  quantize_output_tensor: 'bool',
  only_copy: 'bool',
  pure: 'bool',
  keep_split: 'bool',
  dry_run: 'bool',
  imatrix: 'void *',
  kv_overrides: 'void *',
  tt_overrides: 'void *',
  prune_layers: 'void *',
  max_buf_size: 'size_t',
});

export const ggml_init_params = koffi.struct('ggml_init_params', {
  mem_size: 'size_t',
  mem_buffer: 'void *',
  no_alloc: 'bool',
});

export const ggml_cplan = koffi.struct('ggml_cplan', {
  work_size: 'size_t',
  work_data: 'void *',
  n_threads: 'int',
  threadpool: 'void *',
  abort_callback: 'void *',
  abort_callback_data: 'void *',
  use_ref: 'bool',
});

/**
 * ggml's tensor (ggml.h), read in an eval callback (imatrix-op.ts): the fields used are type, buffer, ne, nb, op,
 * src, data and name. Declared whole so the layout test checks every offset.
 */
export const ggml_tensor = koffi.struct('ggml_tensor', {
  type: 'int',
  buffer: 'void *',
  ne: koffi.array('int64_t', 4),
  nb: koffi.array('size_t', 4),
  op: 'int',
  op_params: koffi.array('int32_t', 16),
  flags: 'int32_t',
  src: koffi.array('void *', 10),
  view_src: 'void *',
  view_offs: 'size_t',
  data: 'void *',
  name: koffi.array('char', 64),
  extra: 'void *',
  padding: koffi.array('char', 8),
});

/** Values of ggml.h's `enum ggml_op` and `enum ggml_type` this binding compares against (checked by the layout test). */
export const GGML_ENUMS = { GGML_OP_MUL_MAT: 29, GGML_OP_MUL_MAT_ID: 30, GGML_TYPE_F32: 0 } as const;

/** Every struct the binding declares, by its C name: what the layout test compares against the C compiler. */
export const STRUCTS = {
  llama_model_params,
  llama_context_params,
  llama_batch,
  ggml_threadpool_params,
  llama_sampler_chain_params,
  llama_token_data,
  llama_token_data_array,
  llama_model_quantize_params,
  ggml_init_params,
  ggml_cplan,
  ggml_tensor,
} as const;

/** `void (*ggml_log_callback)(enum ggml_log_level level, const char * text, void * user_data)` */
export const ggml_log_callback = koffi.proto('void ggml_log_callback(int level, const char *text, void *user_data)');
/** `bool (*ggml_backend_sched_eval_callback)(struct ggml_tensor * t, bool ask, void * user_data)`: the context's cb_eval. */
export const ggml_backend_sched_eval_callback = koffi.proto('bool ggml_backend_sched_eval_callback(void *t, bool ask, void *user_data)');

/** A C pointer as koffi hands it over (an External); null for NULL. */
export type Ptr = unknown;
/** A decoded llama_batch: its arrays are C memory (see batch.ts). */
export interface LlamaBatchStruct {
  n_tokens: number;
  token: Ptr;
  embd: Ptr;
  pos: Ptr;
  n_seq_id: Ptr;
  seq_id: Ptr;
  logits: Ptr;
}
type Fn = ReturnType<LibraryHandle['func']>;

/** The functions this path calls, bound to the libraries node-llama-cpp loaded (see `openLibrary`). */
export interface LlamaLib {
  llama_backend_init: Fn;
  llama_log_set: Fn;
  llama_model_default_params: Fn;
  llama_context_default_params: Fn;
  llama_model_load_from_file: Fn;
  llama_model_free: Fn;
  llama_init_from_model: Fn;
  llama_free: Fn;
  llama_model_get_vocab: Fn;
  llama_model_n_embd: Fn;
  llama_model_n_layer: Fn;
  llama_model_n_ctx_train: Fn;
  llama_vocab_n_tokens: Fn;
  llama_vocab_bos: Fn;
  llama_vocab_eos: Fn;
  llama_vocab_get_add_bos: Fn;
  llama_vocab_get_add_eos: Fn;
  llama_vocab_is_eog: Fn;
  llama_vocab_get_text: Fn;
  llama_vocab_get_attr: Fn;
  llama_tokenize: Fn;
  llama_token_to_piece: Fn;
  llama_detokenize: Fn;
  llama_n_ctx: Fn;
  llama_n_batch: Fn;
  llama_n_seq_max: Fn;
  llama_get_memory: Fn;
  llama_memory_clear: Fn;
  llama_memory_seq_rm: Fn;
  llama_batch_init: Fn;
  llama_batch_free: Fn;
  llama_decode: Fn;
  llama_synchronize: Fn;
  llama_get_logits: Fn;
  llama_get_logits_ith: Fn;
  llama_adapter_lora_init: Fn;
  llama_adapter_lora_free: Fn;
  llama_set_adapters_lora: Fn;
  llama_attach_threadpool: Fn;
  llama_detach_threadpool: Fn;
  llama_sampler_chain_default_params: Fn;
  llama_sampler_chain_init: Fn;
  llama_sampler_chain_add: Fn;
  llama_sampler_init_greedy: Fn;
  llama_sampler_init_dist: Fn;
  llama_sampler_init_top_k: Fn;
  llama_sampler_init_top_p: Fn;
  llama_sampler_init_min_p: Fn;
  llama_sampler_init_temp: Fn;
  llama_sampler_init_penalties: Fn;
  llama_sampler_init_grammar: Fn;
  llama_sampler_sample: Fn;
  llama_sampler_accept: Fn;
  llama_sampler_reset: Fn;
  llama_sampler_free: Fn;
  llama_model_quantize_default_params: Fn;
  llama_model_quantize: Fn;
  ggml_backend_load: Fn;
  ggml_threadpool_params_default: Fn;
  /** Plain ggml graphs on the CPU (softmax.ts: folding logits rows in C). */
  ggml_init: Fn;
  ggml_free: Fn;
  ggml_tensor_overhead: Fn;
  ggml_graph_overhead: Fn;
  ggml_new_tensor_1d: Fn;
  ggml_new_tensor_2d: Fn;
  ggml_soft_max: Fn;
  ggml_new_graph: Fn;
  ggml_build_forward_expand: Fn;
  ggml_get_data: Fn;
  /** Tensor data in any backend's memory (imatrix-op.ts: activations not in host memory). */
  ggml_backend_buffer_is_host: Fn;
  ggml_backend_tensor_get: Fn;
  /** From the CPU backend variant node-llama-cpp loaded (libggml-cpu-<arch>): null when it has none (a GPU-only build). */
  ggml_threadpool_new: Fn | null;
  ggml_threadpool_free: Fn | null;
  ggml_graph_plan: Fn | null;
  ggml_graph_compute: Fn | null;
}

/** The native libraries to open: what node-llama-cpp loaded in the app's process (see bins.ts). */
export interface LibraryFiles {
  /** libllama.* */
  llama: string;
  /** libggml.* (the backend registry) */
  ggml: string;
  /** libggml-base.* */
  ggmlBase: string;
  /** The backend libraries it loaded dynamically (CPU variant, CUDA, Vulkan...), in load order. */
  backends: string[];
  /**
   * The library exporting ggml's CPU API (threadpools, graph compute) when the CPU backend is linked in rather than
   * loaded (llama.cpp's own build, libggml-cpu). Default: the CPU backend among `backends`.
   */
  cpu?: string;
}

/**
 * Opens the libraries, registers the backends node-llama-cpp loaded (the same CPU variant, the same GPU backend) and
 * initializes llama.cpp. Call once per process.
 */
export function openLibrary(files: LibraryFiles): LlamaLib {
  const ggmlBase = koffi.load(files.ggmlBase);
  const ggml = koffi.load(files.ggml);
  const llama = koffi.load(files.llama);
  const f = (lib: LibraryHandle, decl: string): Fn => lib.func(decl);
  const lib: LlamaLib = {
    llama_backend_init: f(llama, 'void llama_backend_init()'),
    llama_log_set: f(llama, 'void llama_log_set(ggml_log_callback *cb, void *user_data)'),
    llama_model_default_params: f(llama, 'llama_model_params llama_model_default_params()'),
    llama_context_default_params: f(llama, 'llama_context_params llama_context_default_params()'),
    llama_model_load_from_file: f(llama, 'void *llama_model_load_from_file(const char *path, llama_model_params params)'),
    llama_model_free: f(llama, 'void llama_model_free(void *model)'),
    llama_init_from_model: f(llama, 'void *llama_init_from_model(void *model, llama_context_params params)'),
    llama_free: f(llama, 'void llama_free(void *ctx)'),
    llama_model_get_vocab: f(llama, 'void *llama_model_get_vocab(void *model)'),
    llama_model_n_embd: f(llama, 'int32_t llama_model_n_embd(void *model)'),
    llama_model_n_layer: f(llama, 'int32_t llama_model_n_layer(void *model)'),
    llama_model_n_ctx_train: f(llama, 'int32_t llama_model_n_ctx_train(void *model)'),
    llama_vocab_n_tokens: f(llama, 'int32_t llama_vocab_n_tokens(void *vocab)'),
    llama_vocab_bos: f(llama, 'int32_t llama_vocab_bos(void *vocab)'),
    llama_vocab_eos: f(llama, 'int32_t llama_vocab_eos(void *vocab)'),
    llama_vocab_get_add_bos: f(llama, 'bool llama_vocab_get_add_bos(void *vocab)'),
    llama_vocab_get_add_eos: f(llama, 'bool llama_vocab_get_add_eos(void *vocab)'),
    llama_vocab_is_eog: f(llama, 'bool llama_vocab_is_eog(void *vocab, int32_t token)'),
    llama_vocab_get_text: f(llama, 'const char *llama_vocab_get_text(void *vocab, int32_t token)'),
    llama_vocab_get_attr: f(llama, 'int llama_vocab_get_attr(void *vocab, int32_t token)'),
    llama_tokenize: f(
      llama,
      'int32_t llama_tokenize(void *vocab, const char *text, int32_t text_len, _Out_ int32_t *tokens, int32_t n_tokens_max, bool add_special, bool parse_special)',
    ),
    llama_token_to_piece: f(
      llama,
      'int32_t llama_token_to_piece(void *vocab, int32_t token, _Out_ uint8_t *buf, int32_t length, int32_t lstrip, bool special)',
    ),
    llama_detokenize: f(
      llama,
      'int32_t llama_detokenize(void *vocab, const int32_t *tokens, int32_t n_tokens, _Out_ uint8_t *text, int32_t text_len_max, bool remove_special, bool unparse_special)',
    ),
    llama_n_ctx: f(llama, 'uint32_t llama_n_ctx(void *ctx)'),
    llama_n_batch: f(llama, 'uint32_t llama_n_batch(void *ctx)'),
    llama_n_seq_max: f(llama, 'uint32_t llama_n_seq_max(void *ctx)'),
    llama_get_memory: f(llama, 'void *llama_get_memory(void *ctx)'),
    llama_memory_clear: f(llama, 'void llama_memory_clear(void *mem, bool data)'),
    llama_memory_seq_rm: f(llama, 'bool llama_memory_seq_rm(void *mem, int32_t seq_id, int32_t p0, int32_t p1)'),
    llama_batch_init: f(llama, 'llama_batch llama_batch_init(int32_t n_tokens, int32_t embd, int32_t n_seq_max)'),
    llama_batch_free: f(llama, 'void llama_batch_free(llama_batch batch)'),
    llama_decode: f(llama, 'int32_t llama_decode(void *ctx, llama_batch batch)'),
    llama_synchronize: f(llama, 'void llama_synchronize(void *ctx)'),
    llama_get_logits: f(llama, 'void *llama_get_logits(void *ctx)'),
    llama_get_logits_ith: f(llama, 'void *llama_get_logits_ith(void *ctx, int32_t i)'),
    llama_adapter_lora_init: f(llama, 'void *llama_adapter_lora_init(void *model, const char *path)'),
    llama_adapter_lora_free: f(llama, 'void llama_adapter_lora_free(void *adapter)'),
    llama_set_adapters_lora: f(llama, 'int32_t llama_set_adapters_lora(void *ctx, void **adapters, size_t n, float *scales)'),
    llama_attach_threadpool: f(llama, 'void llama_attach_threadpool(void *ctx, void *tp, void *tp_batch)'),
    llama_detach_threadpool: f(llama, 'void llama_detach_threadpool(void *ctx)'),
    llama_sampler_chain_default_params: f(llama, 'llama_sampler_chain_params llama_sampler_chain_default_params()'),
    llama_sampler_chain_init: f(llama, 'void *llama_sampler_chain_init(llama_sampler_chain_params params)'),
    llama_sampler_chain_add: f(llama, 'void llama_sampler_chain_add(void *chain, void *smpl)'),
    llama_sampler_init_greedy: f(llama, 'void *llama_sampler_init_greedy()'),
    llama_sampler_init_dist: f(llama, 'void *llama_sampler_init_dist(uint32_t seed)'),
    llama_sampler_init_top_k: f(llama, 'void *llama_sampler_init_top_k(int32_t k)'),
    llama_sampler_init_top_p: f(llama, 'void *llama_sampler_init_top_p(float p, size_t min_keep)'),
    llama_sampler_init_min_p: f(llama, 'void *llama_sampler_init_min_p(float p, size_t min_keep)'),
    llama_sampler_init_temp: f(llama, 'void *llama_sampler_init_temp(float t)'),
    llama_sampler_init_penalties: f(llama, 'void *llama_sampler_init_penalties(int32_t n_vocab, int32_t last_n, float repeat, float freq, float present)'),
    llama_sampler_init_grammar: f(llama, 'void *llama_sampler_init_grammar(void *vocab, const char *grammar, const char *root)'),
    llama_sampler_sample: f(llama, 'int32_t llama_sampler_sample(void *smpl, void *ctx, int32_t idx)'),
    llama_sampler_accept: f(llama, 'void llama_sampler_accept(void *smpl, int32_t token)'),
    llama_sampler_reset: f(llama, 'void llama_sampler_reset(void *smpl)'),
    llama_sampler_free: f(llama, 'void llama_sampler_free(void *smpl)'),
    llama_model_quantize_default_params: f(llama, 'llama_model_quantize_params llama_model_quantize_default_params()'),
    llama_model_quantize: f(llama, 'uint32_t llama_model_quantize(const char *fname_inp, const char *fname_out, const llama_model_quantize_params *params)'),
    ggml_backend_load: f(ggml, 'void *ggml_backend_load(const char *path)'),
    ggml_threadpool_params_default: f(ggmlBase, 'ggml_threadpool_params ggml_threadpool_params_default(int n_threads)'),
    ggml_init: f(ggmlBase, 'void *ggml_init(ggml_init_params params)'),
    ggml_free: f(ggmlBase, 'void ggml_free(void *ctx)'),
    ggml_tensor_overhead: f(ggmlBase, 'size_t ggml_tensor_overhead()'),
    ggml_graph_overhead: f(ggmlBase, 'size_t ggml_graph_overhead()'),
    ggml_new_tensor_1d: f(ggmlBase, 'void *ggml_new_tensor_1d(void *ctx, int type, int64_t ne0)'),
    ggml_new_tensor_2d: f(ggmlBase, 'void *ggml_new_tensor_2d(void *ctx, int type, int64_t ne0, int64_t ne1)'),
    ggml_soft_max: f(ggmlBase, 'void *ggml_soft_max(void *ctx, void *a)'),
    ggml_new_graph: f(ggmlBase, 'void *ggml_new_graph(void *ctx)'),
    ggml_build_forward_expand: f(ggmlBase, 'void ggml_build_forward_expand(void *graph, void *tensor)'),
    ggml_get_data: f(ggmlBase, 'void *ggml_get_data(void *tensor)'),
    ggml_backend_buffer_is_host: f(ggmlBase, 'bool ggml_backend_buffer_is_host(void *buffer)'),
    ggml_backend_tensor_get: f(ggmlBase, 'void ggml_backend_tensor_get(void *tensor, _Out_ uint8_t *data, size_t offset, size_t size)'),
    ggml_threadpool_new: null,
    ggml_threadpool_free: null,
    ggml_graph_plan: null,
    ggml_graph_compute: null,
  };
  for (const backend of files.backends) {
    // A backend built as a loadable module (GGML_BACKEND_DL, node-llama-cpp's prebuilt variants) exports
    // ggml_backend_init and is registered by loading it; one linked into libggml (a local source build) registered
    // itself when libggml loaded.
    if (!exportsSymbol(backend, 'ggml_backend_init')) continue;
    if (!lib.ggml_backend_load(backend)) throw new Error(`ggml could not load the backend ${backend}`);
  }
  // ggml_threadpool_new lives in the CPU backend (a variant library chosen for this CPU, e.g. libggml-cpu-haswell):
  // the same file the registry just loaded, so dlopen returns that very copy.
  const cpuFile = files.cpu ?? files.backends.find((b) => /ggml-cpu/.test(b.split(/[\\/]/).pop() ?? ''));
  if (cpuFile) {
    const cpu = koffi.load(cpuFile);
    lib.ggml_threadpool_new = f(cpu, 'void *ggml_threadpool_new(ggml_threadpool_params *params)');
    lib.ggml_threadpool_free = f(cpu, 'void ggml_threadpool_free(void *tp)');
    lib.ggml_graph_plan = f(cpu, 'ggml_cplan ggml_graph_plan(void *graph, int n_threads, void *threadpool)');
    lib.ggml_graph_compute = f(cpu, 'int ggml_graph_compute(void *graph, ggml_cplan *cplan)');
  }
  lib.llama_backend_init();
  return lib;
}

/** Whether a shared library exports `name` (koffi throws for a missing symbol). */
function exportsSymbol(file: string, name: string): boolean {
  try {
    koffi.load(file).func(`void *${name}()`);
    return true;
  } catch {
    return false;
  }
}
