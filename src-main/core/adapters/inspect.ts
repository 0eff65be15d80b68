import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.js';
import { GGML_TYPES } from '../gguf/ggml-types.js';
import { readGgufHeader, type GgufHeader, type TensorInfo } from '../gguf/header.js';

/** What a GGUF LoRA adapter holds, from its header alone. */
export interface AdapterInfo {
  /** general.name, if any. */
  name: string | null;
  /** general.architecture: llama.cpp loads the adapter only onto a base of the same architecture. */
  arch: string;
  /** adapter.lora.alpha; null when absent, in which case llama.cpp applies the user's scale without alpha / rank. */
  alpha: number | null;
  /** The rank (lora_b ne[0]); the largest one if the tensors differ (PEFT's rank_pattern). 0 without pairs. */
  rank: number;
  /** The adapted base tensors by kind, in file order, e.g. ['attn_q', 'attn_v'] or ['output']. */
  targets: string[];
  /** The block indices (blk.N) the adapter touches, ascending. */
  layers: number[];
  tensorCount: number;
  sizeBytes: number;
}

/**
 * ggml types a LoRA tensor may have. llama.cpp's adapter loader (src/llama-adapter.cpp) takes whatever the GGUF reader
 * accepts and only uses the pairs at inference: `ggml_mul_mat(lora_b, ggml_mul_mat(lora_a, x))` (build_lora_mm) and
 * `ggml_get_rows(lora_a, tokens)` for token_embd. Integer and F64 tensors have no matrix product in ggml's CPU backend
 * (it aborts), llama-export-lora refuses quantized pairs, and convert_lora_to_gguf.py writes f32, f16, bf16 or q8_0:
 * those four are the types every tool of llama.cpp handles, and the only ones accepted here. (A Q8_0 row must also be
 * whole blocks of 32, which the GGUF reader checks for every tensor: see readGgufHeader.)
 */
const LORA_TYPES = new Set([0, 1, 8, 30]);
const loraTypeProblem = (t: TensorInfo): string | null =>
  LORA_TYPES.has(t.type)
    ? null
    : `tensor "${t.name}" is ${GGML_TYPES[t.type]?.name ?? `type ${t.type}`}; llama.cpp applies LoRA tensors of type F32, F16, BF16 or Q8_0 only`;

const SCALAR_SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/**
 * The GGUF value type of one metadata key. The header reader keeps values, not types, and llama.cpp aborts the whole
 * process (GGML_ASSERT in gguf_get_val_f32) when adapter.lora.alpha is not a float32: that must be caught here.
 */
function metadataType(file: string, header: GgufHeader, key: string): number | undefined {
  const buf = Buffer.alloc(Math.min(header.dataOffset, header.fileSize));
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, buf, 0, buf.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  let p = 16; // magic, version, tensor count (the header reader has validated all of it)
  const u64 = () => {
    const v = Number(buf.readBigUInt64LE(p));
    p += 8;
    return v;
  };
  const skip = (type: number): void => {
    if (type === 8) {
      const len = u64(); // (not `p += u64()`: that adds to p's value from before the read)
      p += len;
    } else if (type === 9) {
      const itemType = buf.readUInt32LE(p);
      p += 4;
      const count = u64();
      if (itemType === 8 || itemType === 9) for (let i = 0; i < count; i++) skip(itemType);
      else p += count * SCALAR_SIZES[itemType]!;
    } else p += SCALAR_SIZES[type]!;
  };
  const kvCount = u64();
  for (let i = 0; i < kvCount; i++) {
    const len = u64();
    const k = buf.toString('utf8', p, p + len);
    p += len;
    const type = buf.readUInt32LE(p);
    p += 4;
    if (k === key) return type;
    skip(type);
  }
  return undefined;
}

interface LoraPair {
  /** The base tensor the pair adapts, e.g. blk.0.attn_q.weight. */
  base: string;
  a?: TensorInfo;
  b?: TensorInfo;
}

interface ReadAdapter {
  header: GgufHeader;
  info: AdapterInfo;
  pairs: LoraPair[];
}

function readAdapter(file: string, label: string): ReadAdapter {
  const header = readGgufHeader(file);
  const m = header.metadata;
  const refuse = (why: string): never => {
    throw new AppError('invalid_input', `${label} is not a LoRA adapter: ${why}`);
  };
  // llama.cpp reads these three as strings and aborts on any other type.
  for (const key of ['general.type', 'general.architecture', 'adapter.type']) {
    const v = m.get(key);
    if (v !== undefined && typeof v !== 'string') refuse(`${key} is not a string`);
  }
  const type = m.get('general.type');
  if (type !== 'adapter') refuse(type === undefined ? 'it has no general.type' : `its general.type is "${type}", not "adapter"`);
  const adapterType = m.get('adapter.type');
  if (adapterType !== 'lora') refuse(adapterType === undefined ? 'it has no adapter.type' : `its adapter.type is "${adapterType}", not "lora"`);
  const arch = m.get('general.architecture');
  if (typeof arch !== 'string' || arch === '') refuse('it has no general.architecture');
  let alpha: number | null = null;
  if (m.has('adapter.lora.alpha')) {
    if (metadataType(file, header, 'adapter.lora.alpha') !== 6) refuse('adapter.lora.alpha is not a float32 (llama.cpp would abort on it)');
    alpha = m.get('adapter.lora.alpha') as number;
  }

  const pairs = new Map<string, LoraPair>();
  const targets: string[] = [];
  const layers = new Set<number>();
  let rank = 0;
  for (const t of header.tensors) {
    const match = /^(.+)\.lora_([ab])$/.exec(t.name);
    if (!match) continue; // other suffixes are checked by checkCompatibility
    const typeProblem = loraTypeProblem(t);
    if (typeProblem) throw new AppError('invalid_input', `${label} cannot be used by llama.cpp: ${typeProblem}`);
    const base = match[1]!;
    const pair = pairs.get(base) ?? { base };
    pairs.set(base, pair);
    pair[match[2] as 'a' | 'b'] = t;
    if (match[2] === 'b') rank = Math.max(rank, t.shape[0] ?? 0);
    const kind = base.replace(/^blk\.\d+\./, '').replace(/\.weight$/, '');
    if (!targets.includes(kind)) targets.push(kind);
    const layer = /^blk\.(\d+)\./.exec(base);
    if (layer) layers.add(Number(layer[1]));
  }
  const name = m.get('general.name');
  const info: AdapterInfo = {
    name: typeof name === 'string' ? name : null,
    arch: arch as string,
    alpha,
    rank,
    targets,
    layers: [...layers].sort((x, y) => x - y),
    tensorCount: header.tensors.length,
    sizeBytes: header.fileSize,
  };
  return { header, info, pairs: [...pairs.values()] };
}

/**
 * Reads a GGUF LoRA adapter's header and says what it adapts. Refuses (invalid_input, naming the file) a GGUF that is
 * not a LoRA adapter, e.g. a base model picked by mistake.
 */
export function inspectAdapter(file: string): AdapterInfo {
  return readAdapter(file, path.basename(file)).info;
}

const dims = (shape: number[]) => `[${shape.join(', ')}]`;

/**
 * Checks that llama.cpp can apply `adapterFile` to `baseFile`, with the exact reason when it cannot: architectures
 * differ, a LoRA tensor adapts a base tensor that does not exist, shapes do not fit (for a base W with ne
 * [n_in, n_out], lora_a must be [n_in, r] and lora_b [r, n_out]; token_embd is stored flipped), a lora_a or lora_b
 * without its pair, or a tensor llama.cpp would reject. This runs before node-llama-cpp sees the adapter: several of
 * these mistakes make llama.cpp assert and take the whole process down instead of returning an error.
 * `adapterLabel` is how messages name the adapter (default: its file name).
 */
export function checkCompatibility(adapterFile: string, baseFile: string, adapterLabel = path.basename(adapterFile)): void {
  const { header, info, pairs } = readAdapter(adapterFile, adapterLabel);
  const baseLabel = path.basename(baseFile);
  const base = readGgufHeader(baseFile);
  const refuse = (why: string): never => {
    throw new AppError('invalid_input', `${adapterLabel} does not fit ${baseLabel}: ${why}`);
  };
  if (base.metadata.get('general.type') === 'adapter') {
    throw new AppError('invalid_input', `${baseLabel} is itself an adapter, not a base model for ${adapterLabel}`);
  }
  const baseArch = base.metadata.get('general.architecture');
  if (baseArch !== info.arch) refuse(`the adapter is for "${info.arch}" models but the base is a "${String(baseArch)}" model`);

  for (const t of header.tensors) {
    if (!/\.lora_[ab]$/.test(t.name) && !t.name.endsWith('_norm.weight')) {
      refuse(`tensor "${t.name}" is neither a .lora_a nor a .lora_b tensor (llama.cpp refuses the suffix)`);
    }
  }
  if (pairs.length === 0) refuse('the adapter holds no lora_a/lora_b tensors');

  const baseTensors = new Map(base.tensors.map((t) => [t.name, t]));
  for (const { base: name, a, b } of pairs) {
    if (!a || !b) refuse(`tensor "${name}.lora_${a ? 'a' : 'b'}" has no matching "${name}.lora_${a ? 'b' : 'a'}"`);
    for (const t of [a!, b!]) {
      if (t.shape.length !== 2) refuse(`tensor "${t.name}" has ${t.shape.length} dimensions ${dims(t.shape)}; LoRA tensors are matrices`);
      const typeProblem = loraTypeProblem(t);
      if (typeProblem) refuse(typeProblem);
    }
    const w = baseTensors.get(name);
    if (!w) refuse(`tensor "${a!.name}" adapts "${name}", which the base does not have (wrong base model?)`);
    if (w!.shape.length !== 2) refuse(`tensor "${a!.name}" adapts "${name}", which is not a matrix in the base (ne ${dims(w!.shape)})`);
    const [nIn, nOut] = w!.shape as [number, number];
    const [a0, a1] = a!.shape as [number, number];
    const [b0, b1] = b!.shape as [number, number];
    if (name === 'token_embd.weight') {
      // llm_build_inp_embd: get_rows(lora_a, tokens) then mul_mat(lora_b, ·), so lora_a is [r, n_vocab], lora_b [r, n_embd].
      if (a1 !== nOut || b1 !== nIn || a0 !== b0 || a0 === 0) {
        refuse(
          `"${name}" has ne ${dims(w!.shape)} in the base, so "${a!.name}" must be [r, ${nOut}] and "${b!.name}" [r, ${nIn}], ` +
            `but they are ${dims(a!.shape)} and ${dims(b!.shape)}`,
        );
      }
    } else if (a0 !== nIn || b1 !== nOut || a1 !== b0 || a1 === 0) {
      refuse(
        `"${name}" has ne ${dims(w!.shape)} in the base, so "${a!.name}" must be [${nIn}, r] and "${b!.name}" [r, ${nOut}], ` +
          `but they are ${dims(a!.shape)} and ${dims(b!.shape)}`,
      );
    }
  }
}
