import { mulberry32 } from '../random.js';
import { GgmlType, u32, f32, str, type GgufTensorSpec, type GgufValue } from './writer.js';
import { readRawMetadata, writeGguf } from './stream-writer.js';

/** A llama-architecture model with deterministic pseudo-random weights (for fixtures and the sample workspace). */
export interface SyntheticLlamaSpec {
  name: string;
  /** A GGUF whose `tokenizer.*` keys are copied (e.g. llama.cpp's models/ggml-vocab-llama-spm.gguf). */
  vocabFile: string;
  embedding: number;
  layers: number;
  heads: number;
  kvHeads: number;
  feedForward: number;
  contextLength: number;
  seed: number;
  /** Matrices as F16 (general.file_type 1) or F32 (0). Norms are always F32. */
  matrixType: 'f16' | 'f32';
  chatTemplate?: string;
}

const rng = mulberry32;

/** Uniform values in [-scale, scale]. */
function randomValues(n: number, scale: number, next: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}

export function vocabSizeOf(raw: Map<string, Buffer>): number {
  const tokens = raw.get('tokenizer.ggml.tokens');
  if (!tokens) throw new Error('the vocab file has no tokenizer.ggml.tokens');
  return Number(tokens.readBigUInt64LE(8)); // value type u32 (9 = array), item type u32, count u64
}

export function writeSyntheticLlama(file: string, spec: SyntheticLlamaSpec): void {
  const raw = readRawMetadata(spec.vocabFile);
  const vocab = vocabSizeOf(raw);
  const next = rng(spec.seed);
  const headDim = spec.embedding / spec.heads;
  const kvDim = headDim * spec.kvHeads;
  const matrix = spec.matrixType === 'f16' ? GgmlType.F16 : GgmlType.F32;
  const e = spec.embedding;
  // Scales keep activations in a sane range through the residual stream (roughly 1/sqrt(fan-in)).
  const w = (name: string, shape: number[], scale: number): GgufTensorSpec => ({
    name,
    shape,
    type: matrix,
    data: randomValues(shape[0]! * shape[1]!, scale, next),
  });
  const norm = (name: string): GgufTensorSpec => ({ name, shape: [e], type: GgmlType.F32, data: new Float32Array(e).fill(1) });
  // A separate output matrix: with tied embeddings a random model just repeats its input token.
  const tensors: GgufTensorSpec[] = [w('token_embd.weight', [e, vocab], 1), norm('output_norm.weight'), w('output.weight', [e, vocab], 4 / Math.sqrt(e))];
  for (let l = 0; l < spec.layers; l++) {
    const b = `blk.${l}`;
    tensors.push(
      norm(`${b}.attn_norm.weight`),
      w(`${b}.attn_q.weight`, [e, e], 1 / Math.sqrt(e)),
      w(`${b}.attn_k.weight`, [e, kvDim], 1 / Math.sqrt(e)),
      w(`${b}.attn_v.weight`, [e, kvDim], 1 / Math.sqrt(e)),
      w(`${b}.attn_output.weight`, [e, e], 1 / Math.sqrt(e)),
      norm(`${b}.ffn_norm.weight`),
      w(`${b}.ffn_gate.weight`, [e, spec.feedForward], 1 / Math.sqrt(e)),
      w(`${b}.ffn_up.weight`, [e, spec.feedForward], 1 / Math.sqrt(e)),
      w(`${b}.ffn_down.weight`, [spec.feedForward, e], 1 / Math.sqrt(spec.feedForward)),
    );
  }
  const metadata: [string, GgufValue][] = [
    ['general.architecture', str('llama')],
    ['general.type', str('model')],
    ['general.name', str(spec.name)],
    ['general.file_type', u32(spec.matrixType === 'f16' ? 1 : 0)],
    ['llama.context_length', u32(spec.contextLength)],
    ['llama.embedding_length', u32(e)],
    ['llama.block_count', u32(spec.layers)],
    ['llama.feed_forward_length', u32(spec.feedForward)],
    ['llama.attention.head_count', u32(spec.heads)],
    ['llama.attention.head_count_kv', u32(spec.kvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', f32(1e-5)],
    ['llama.rope.dimension_count', u32(headDim)],
    ['llama.vocab_size', u32(vocab)],
  ];
  for (const [key, bytes] of raw) {
    if (key.startsWith('tokenizer.') && key !== 'tokenizer.chat_template') metadata.push([key, { raw: bytes }]);
  }
  if (spec.chatTemplate) metadata.push(['tokenizer.chat_template', str(spec.chatTemplate)]);
  writeGguf(file, metadata, tensors);
}

export interface SyntheticLoraSpec {
  base: SyntheticLlamaSpec;
  rank: number;
  alpha: number;
  /** Which projections get an adapter, e.g. ['attn_q', 'attn_v']. */
  targets: ('attn_q' | 'attn_k' | 'attn_v' | 'attn_output')[];
  seed: number;
  /** Magnitude of A and B entries. */
  scale: number;
}

/**
 * A LoRA adapter GGUF as llama.cpp's convert_lora_to_gguf.py writes it: general.type=adapter, adapter.type=lora,
 * adapter.lora.alpha, and for a base weight W (ggml ne = [n_in, n_out]) `W.lora_a` with ne = [n_in, r] and
 * `W.lora_b` with ne = [r, n_out].
 */
export function writeSyntheticLora(file: string, spec: SyntheticLoraSpec): void {
  const next = rng(spec.seed);
  const { embedding: e, heads, kvHeads } = spec.base;
  const kvDim = (e / heads) * kvHeads;
  const outDim = { attn_q: e, attn_k: kvDim, attn_v: kvDim, attn_output: e } as const;
  const tensors: GgufTensorSpec[] = [];
  for (let l = 0; l < spec.base.layers; l++) {
    for (const t of spec.targets) {
      const name = `blk.${l}.${t}.weight`;
      tensors.push(
        { name: `${name}.lora_a`, shape: [e, spec.rank], type: GgmlType.F32, data: randomValues(e * spec.rank, spec.scale, next) },
        { name: `${name}.lora_b`, shape: [spec.rank, outDim[t]], type: GgmlType.F32, data: randomValues(spec.rank * outDim[t], spec.scale, next) },
      );
    }
  }
  writeGguf(
    file,
    [
      ['general.architecture', str('llama')],
      ['general.type', str('adapter')],
      ['general.name', str(`${spec.base.name}-lora`)],
      ['adapter.type', str('lora')],
      ['adapter.lora.alpha', f32(spec.alpha)],
    ],
    tensors,
  );
}
