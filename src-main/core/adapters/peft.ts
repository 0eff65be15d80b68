import fs from 'node:fs';
import path from 'node:path';
import { withFileErrors } from '../files/errors.js';
import { AppError } from '../../../src-shared/errors.js';
import { readGgufHeader, type TensorInfo } from '../gguf/header.js';
import { GgmlType, f32, str, u32, type GgufTensorSpec, type GgufValue } from '../gguf/writer.js';
import { writeGguf } from '../gguf/stream-writer.js';
import { checkCompatibility } from './inspect.js';
import { jsonTextDepth, MAX_JSON_DEPTH, TOO_DEEP } from '../json-depth.js';
import { readSafetensorsHeader, readTensor, type SafetensorsHeader } from './safetensors.js';

/**
 * Hugging Face PEFT LoRA adapters (a folder with adapter_config.json and adapter_model.safetensors) converted to the
 * GGUF LoRA files llama.cpp loads, the way llama.cpp's convert_lora_to_gguf.py does it (v0.5.0 checkout), without
 * Python: the base model classes of convert_hf_to_gguf.py decide the tensor names and, for llama, permute the q/k rows.
 */

/** GGUF architectures (the base's general.architecture) whose PEFT adapters convert. HF Mistral models are "llama". */
export const PEFT_ARCHES = ['llama', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'phi3'] as const;
export type PeftArch = (typeof PEFT_ARCHES)[number];

const WEIGHTS = 'adapter_model.safetensors';

/** Per-layer modules (HF names under model.layers.N.) → GGUF tensor kinds (gguf-py tensor_mapping.py). */
const SPLIT_MODULES: Record<string, string> = {
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
};
/** Phi-3 fuses q/k/v into qkv_proj and gate/up into gate_up_proj; llama.cpp keeps them fused (attn_qkv, ffn_up). */
const PHI3_MODULES: Record<string, string> = {
  'self_attn.qkv_proj': 'attn_qkv',
  'self_attn.o_proj': 'attn_output',
  'mlp.gate_up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
};
const LAYER_MODULES: Record<PeftArch, Record<string, string>> = {
  llama: SPLIT_MODULES,
  qwen2: SPLIT_MODULES,
  qwen3: SPLIT_MODULES,
  gemma: SPLIT_MODULES,
  gemma2: SPLIT_MODULES,
  phi3: PHI3_MODULES,
};

export interface PeftTensorTarget {
  /** The base GGUF tensor the pair adapts, e.g. `blk.3.attn_q.weight`. */
  base: string;
  /** Which half of the pair this PEFT tensor is: lora_A → `.lora_a`, lora_B → `.lora_b`. */
  part: 'a' | 'b';
  /**
   * llama only: convert_hf_to_gguf (LlamaModel.permute) reorders the rows of q_proj (by n_head) and k_proj (by
   * n_head_kv) in the base GGUF for its rotary layout, so lora_B's rows must be reordered the same way.
   */
  permute: 'q' | 'k' | null;
}

const isPeftArch = (arch: string): arch is PeftArch => (PEFT_ARCHES as readonly string[]).includes(arch);

/**
 * Maps one PEFT tensor name (e.g. `base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight`) to its GGUF
 * LoRA tensor for a base of architecture `arch`. Returns null for tensors convert_lora_to_gguf skips
 * (`.base_layer.weight`). Refuses (invalid_input, naming the tensor) DoRA magnitudes, full weights (modules_to_save,
 * biases, norms) and modules without a llama.cpp tensor for that architecture.
 */
export function mapPeftTensor(arch: string, name: string, modulesToSave: string[] = []): PeftTensorTarget | null {
  const refuse = (why: string): never => {
    throw new AppError('invalid_input', `${WEIGHTS}: tensor "${name}" ${why}`);
  };
  if (!isPeftArch(arch)) throw new AppError('invalid_input', `PEFT adapters for "${arch}" models are not supported (supported: ${PEFT_ARCHES.join(', ')})`);
  // convert_lora_to_gguf.get_base_tensor_name, then ModelBase.filter_tensors (drops "language_model.")
  const stripped = name.replace(/^base_model\.model\./, '').replaceAll('language_model.', '');
  const m = /^(.+)\.(lora_A\.weight|lora_B\.weight|lora_embedding_A|lora_embedding_B)$/.exec(stripped);
  if (!m) {
    if (stripped.endsWith('.base_layer.weight')) return null;
    if (stripped.endsWith('.lora_magnitude_vector') || stripped.includes('.lora_magnitude_vector.'))
      refuse('is a DoRA magnitude: DoRA adapters are not supported');
    const module = stripped.replace(/\.(weight|bias)$/, '');
    const saved = modulesToSave.find((s) => module === s || module.endsWith(`.${s}`));
    if (saved !== undefined || /(^|\.)(lm_head|embed_tokens)$/.test(module)) {
      refuse(
        `holds full weights of "${module}" (modules_to_save${saved ? ` "${saved}"` : ''}): a GGUF LoRA carries only lora_A/lora_B pairs, so this is not supported`,
      );
    }
    return refuse('is not a lora_A/lora_B tensor (biases, norms and other full weights are not supported)');
  }
  const module = m[1]!;
  const part = m[2]!.includes('A') ? 'a' : 'b';
  const noMapping = (): never => refuse(`(module "${module}") has no GGUF tensor in a ${arch} model, so it cannot be converted`);

  const layer = /^(?:model\.)?layers\.(\d+)\.(.+)$/.exec(module);
  if (layer) {
    const kind = LAYER_MODULES[arch][layer[2]!] ?? noMapping();
    const permute = arch === 'llama' && (kind === 'attn_q' || kind === 'attn_k') ? (kind === 'attn_q' ? 'q' : 'k') : null;
    return { base: `blk.${layer[1]}.${kind}.weight`, part, permute };
  }
  if (module === 'lm_head') {
    // GemmaModel/Gemma2Model.filter_tensors drop lm_head: gemma ties its output to token_embd.
    if (arch === 'gemma' || arch === 'gemma2')
      return refuse(`adapts lm_head, which ${arch} ties to the token embeddings (llama.cpp has no output tensor for it)`);
    return { base: 'output.weight', part, permute: null };
  }
  if (module === 'model.embed_tokens' || module === 'embed_tokens') return { base: 'token_embd.weight', part, permute: null };
  return noMapping();
}

/**
 * convert_hf_to_gguf's LlamaModel.permute on the rows of a [rows, cols] row-major matrix:
 * reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2).reshape(rows, cols), i.e. within each head the two
 * halves of the rotary dimensions are interleaved.
 */
export function llamaPermute(data: Float32Array, rows: number, cols: number, nHead: number): Float32Array {
  const half = rows / nHead / 2;
  if (!Number.isInteger(half)) throw new AppError('invalid_input', `cannot permute ${rows} rows for ${nHead} heads: not a multiple of ${2 * nHead}`);
  const out = new Float32Array(data.length);
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const to = h * 2 * half + i * 2 + j;
        const from = h * 2 * half + j * half + i;
        out.set(data.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

interface PeftConfig {
  r: number;
  alpha: number;
  rslora: boolean;
  modulesToSave: string[];
  baseModel: string | null;
}

function readConfig(file: string): PeftConfig {
  const refuse = (why: string): never => {
    throw new AppError('invalid_input', `adapter_config.json: ${why}`);
  };
  let c: Record<string, unknown>;
  const text = withFileErrors(file, () => fs.readFileSync(file, 'utf8'));
  try {
    if (jsonTextDepth(text) > MAX_JSON_DEPTH) return refuse(TOO_DEEP);
    c = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof AppError) throw e;
    return refuse(`is not valid JSON (${(e as Error).message})`);
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) refuse('is not a JSON object');
  if (c.peft_type !== undefined && c.peft_type !== 'LORA') refuse(`peft_type is ${JSON.stringify(c.peft_type)}; only LORA adapters convert`);
  if (c.r === undefined) refuse('has no "r" (the LoRA rank)');
  if (typeof c.r !== 'number' || !Number.isInteger(c.r) || c.r <= 0) refuse(`"r" is ${JSON.stringify(c.r)}, not a positive integer`);
  if (c.lora_alpha === undefined) refuse('has no "lora_alpha"');
  // llama.cpp reads alpha 0 as "no alpha / rank scaling", not as PEFT's "scale 0".
  if (typeof c.lora_alpha !== 'number' || !(c.lora_alpha > 0) || !Number.isFinite(c.lora_alpha))
    refuse(`"lora_alpha" is ${JSON.stringify(c.lora_alpha)}, not a positive number`);
  if (c.use_dora === true) refuse('use_dora is true: DoRA adapters are not supported (llama.cpp has no DoRA)');
  if (c.fan_in_fan_out === true)
    refuse('fan_in_fan_out is true (Conv1D-style layers, transposed matrices): not supported for the llama.cpp architectures this converts');
  const alphaPattern = c.alpha_pattern;
  if (alphaPattern && typeof alphaPattern === 'object' && Object.keys(alphaPattern).length > 0) {
    refuse('alpha_pattern gives some modules their own alpha: not supported (a GGUF adapter has one alpha)');
  }
  const modulesToSave = Array.isArray(c.modules_to_save) ? c.modules_to_save.filter((s): s is string => typeof s === 'string') : [];
  const baseModel = typeof c.base_model_name_or_path === 'string' && c.base_model_name_or_path !== '' ? c.base_model_name_or_path : null;
  return { r: c.r as number, alpha: c.lora_alpha as number, rslora: c.use_rslora === true, modulesToSave, baseModel };
}

export interface PeftConversion {
  arch: PeftArch;
  /** The config's r. */
  rank: number;
  /** adapter.lora.alpha as written (lora_alpha, times sqrt(r) for rsLoRA). */
  alpha: number;
  /** GGUF kinds adapted, e.g. ['attn_q', 'attn_v']. */
  targets: string[];
  /** GGUF tensors written (two per adapted matrix). */
  tensors: number;
}

/** row-major [rows, cols] → [cols, rows]. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/**
 * Converts the PEFT adapter folder `dir` into a GGUF LoRA at `outFile` for the base GGUF `base.file`, which supplies
 * the architecture and, for llama, the head counts the q/k permutation needs. Output tensors are F32 (the script's
 * default --outtype). For a PEFT lora_A [r, in] and lora_B [out, r] (torch order) it writes `<base>.lora_a` with ggml
 * ne [in, r] and `<base>.lora_b` with ne [r, out] (the same bytes); for token embeddings lora_a is transposed.
 *
 * Differences from the script, on purpose: rsLoRA (PEFT scale alpha / sqrt(r)) is honoured by writing alpha * sqrt(r),
 * since llama.cpp always scales by alpha / r (the script ignores use_rslora); gemma lm_head tensors are refused instead
 * of silently dropped; everything is checked against the base before the file appears (written to a temporary name,
 * checked with checkCompatibility, then renamed).
 */
export function convertPeftAdapter(
  dir: string,
  outFile: string,
  base: { file: string },
  options: { name?: string; tempFile?: (file: string) => void; releaseTemp?: (file: string) => void } = {},
): PeftConversion {
  const dirLabel = path.basename(dir);
  if (!withFileErrors(dir, () => fs.existsSync(dir) && fs.statSync(dir))) throw new AppError('file_missing', `${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory())
    throw new AppError('not_a_file', `${dirLabel} is not a folder: a PEFT adapter is a folder with adapter_config.json and ${WEIGHTS}`);
  const configFile = path.join(dir, 'adapter_config.json');
  if (!fs.existsSync(configFile)) throw new AppError('file_missing', `${dirLabel} has no adapter_config.json: it is not a PEFT adapter folder`);
  const weightsFile = path.join(dir, WEIGHTS);
  if (!fs.existsSync(weightsFile)) {
    if (fs.existsSync(path.join(dir, 'adapter_model.bin'))) {
      throw new AppError('invalid_input', `${dirLabel} has adapter_model.bin (a PyTorch pickle) but no ${WEIGHTS}: only safetensors adapters are supported`);
    }
    throw new AppError('file_missing', `${dirLabel} has no ${WEIGHTS}`);
  }
  const config = readConfig(configFile);

  const baseLabel = path.basename(base.file);
  const baseHeader = readGgufHeader(base.file);
  const bm = baseHeader.metadata;
  if (bm.get('general.type') === 'adapter') throw new AppError('invalid_input', `${baseLabel} is an adapter, not a base model`);
  const archValue = bm.get('general.architecture');
  const arch = typeof archValue === 'string' ? archValue : '';
  if (!isPeftArch(arch)) {
    throw new AppError('invalid_input', `${baseLabel} is a "${arch || 'unknown'}" model: PEFT adapters convert only for ${PEFT_ARCHES.join(', ')} bases`);
  }
  let heads = { q: 0, k: 0 };
  if (arch === 'llama') {
    const nHead = bm.get('llama.attention.head_count');
    const nKv = bm.get('llama.attention.head_count_kv') ?? nHead;
    if (typeof nHead !== 'number' || typeof nKv !== 'number' || nHead <= 0 || nKv <= 0) {
      throw new AppError('invalid_input', `${baseLabel} has no usable llama.attention.head_count / head_count_kv, needed to permute q/k`);
    }
    heads = { q: nHead, k: nKv };
  }

  const st: SafetensorsHeader = readSafetensorsHeader(weightsFile);
  const pairs = new Map<string, { target: PeftTensorTarget; a?: string; b?: string }>();
  for (const name of st.tensors.keys()) {
    const target = mapPeftTensor(arch, name, config.modulesToSave);
    if (!target) continue;
    const pair = pairs.get(target.base) ?? { target };
    pairs.set(target.base, pair);
    if (pair[target.part]) {
      throw new AppError('invalid_input', `${WEIGHTS}: tensors "${pair[target.part]}" and "${name}" both map to "${target.base}.lora_${target.part}"`);
    }
    pair[target.part] = name;
  }
  if (pairs.size === 0) throw new AppError('invalid_input', `${WEIGHTS} holds no lora_A/lora_B tensors`);

  const ggufAlpha = config.rslora ? config.alpha * Math.sqrt(config.r) : config.alpha;
  const baseTensors = new Map<string, TensorInfo>(baseHeader.tensors.map((t) => [t.name, t]));
  const tensors: GgufTensorSpec[] = [];
  const targets: string[] = [];
  for (const [baseName, { target, a, b }] of pairs) {
    if (!a || !b) {
      const [have, missing] = a ? [a, 'lora_B'] : [b!, 'lora_A'];
      throw new AppError('invalid_input', `${WEIGHTS}: tensor "${have}" has no matching ${missing} tensor`);
    }
    const A = st.tensors.get(a)!;
    const B = st.tensors.get(b)!;
    const refuse = (why: string): never => {
      throw new AppError('invalid_input', `${WEIGHTS}: ${why}`);
    };
    if (A.shape.length !== 2) refuse(`tensor "${a}" has shape [${A.shape.join(', ')}]; lora_A must be a matrix [r, in]`);
    if (B.shape.length !== 2) refuse(`tensor "${b}" has shape [${B.shape.join(', ')}]; lora_B must be a matrix [out, r]`);
    const [rank, nIn] = A.shape as [number, number];
    const [nOut, rankB] = B.shape as [number, number];
    if (rank !== rankB || rank === 0) {
      refuse(`rank mismatch: "${a}" is [${A.shape.join(', ')}] (rank ${rank}) but "${b}" is [${B.shape.join(', ')}] (rank ${rankB})`);
    }
    const w = baseTensors.get(baseName);
    if (!w) refuse(`tensor "${a}" adapts "${baseName}", which ${baseLabel} does not have (wrong base model?)`);
    const embedding = baseName === 'token_embd.weight';
    // token_embd ne [n_embd, n_vocab]: PEFT's embedding A is [r, n_vocab], B [n_embd, r]; otherwise W is [out, in] in torch.
    const [wantIn, wantOut] = embedding ? [w!.shape[1], w!.shape[0]] : [w!.shape[0], w!.shape[1]];
    if (w!.shape.length !== 2 || nIn !== wantIn || nOut !== wantOut) {
      refuse(
        `"${a}" [${A.shape.join(', ')}] and "${b}" [${B.shape.join(', ')}] adapt a [${nOut}, ${nIn}] matrix, but "${baseName}" in ${baseLabel} ` +
          `has ne [${w!.shape.join(', ')}] (wrong base model?)`,
      );
    }

    let dataA = readTensor(weightsFile, st, a);
    let dataB = readTensor(weightsFile, st, b);
    if (target.permute) {
      const nHead = target.permute === 'q' ? heads.q : heads.k;
      if (nOut % (2 * nHead) !== 0) refuse(`"${b}" has ${nOut} rows, which do not split into ${nHead} heads of two rotary halves`);
      dataB = llamaPermute(dataB, nOut, rank, nHead);
    }
    // PEFT scales each module by alpha / r (rsLoRA: alpha / sqrt(r)) with the module's own r (rank_pattern); llama.cpp
    // by the file's alpha / this tensor's rank. Fold any difference into lora_B.
    const factor = config.rslora ? Math.sqrt(rank / config.r) : 1;
    if (factor !== 1) dataB = dataB.map((v) => v * factor);
    if (embedding) dataA = transpose(dataA, rank, nIn);
    tensors.push(
      { name: `${baseName}.lora_a`, shape: embedding ? [rank, nIn] : [nIn, rank], type: GgmlType.F32, data: dataA },
      { name: `${baseName}.lora_b`, shape: [rank, nOut], type: GgmlType.F32, data: dataB },
    );
    const kind = baseName.replace(/^blk\.\d+\./, '').replace(/\.weight$/, '');
    if (!targets.includes(kind)) targets.push(kind);
  }

  const metadata: [string, GgufValue][] = [
    ['general.architecture', str(arch)],
    ['general.type', str('adapter')],
    ['general.name', str(options.name ?? dirLabel)],
  ];
  if (config.baseModel) {
    metadata.push(['general.base_model.count', u32(1)], ['general.base_model.0.name', str(config.baseModel)]);
    if (/^[\w.-]+\/[\w.-]+$/.test(config.baseModel)) metadata.push(['general.base_model.0.repo_url', str(`https://huggingface.co/${config.baseModel}`)]);
  }
  metadata.push(['adapter.type', str('lora')], ['adapter.lora.alpha', f32(ggufAlpha)], ['general.quantization_version', u32(2)]);

  const tmp = `${outFile}.tmp-${process.pid}`;
  options.tempFile?.(tmp); // recorded first: if the process dies while writing, the next start-up removes it
  try {
    writeGguf(tmp, metadata, tensors);
    checkCompatibility(tmp, base.file, path.basename(outFile));
    fs.renameSync(tmp, outFile);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  } finally {
    options.releaseTemp?.(tmp);
  }
  return { arch, rank: config.r, alpha: ggufAlpha, targets, tensors: tensors.length };
}
