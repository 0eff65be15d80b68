// Over 400 lines for a reason: PEFT conversion and GGUF adapter inspection share the safetensors, adapter_config.json
// and fixture-model builders defined here (architectures, permutations, ranks, refusals, compatibility).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCompatibility, inspectAdapter } from '../../src-main/core/adapters/inspect.js';
import { convertPeftAdapter, mapPeftTensor } from '../../src-main/core/adapters/peft.js';
import { writeSafetensors, type SafetensorsTensorSpec } from '../../src-main/core/adapters/safetensors.js';
import { readGgufHeader } from '../../src-main/core/gguf/header.js';
import { GgmlType, f32, str, u32, type GgufTensorSpec, type GgufValue } from '../../src-main/core/gguf/writer.js';
import { writeGguf } from '../../src-main/core/gguf/stream-writer.js';
import { mulberry32 } from '../../src-main/core/random.js';
import { fixtureAdapter, fixtureModel, fixtureSpec } from '../fixtures/models.js';
import { tempDir } from '../helpers/tmp.js';
import { permuteByHand } from './permute.js';

const P = 'base_model.model.model.layers';

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: rows * cols }, () => next() * 2 - 1);
}

/** A PEFT adapter folder as trainers save it. */
function writePeft(config: Record<string, unknown>, tensors: SafetensorsTensorSpec[], dir = path.join(tempDir(), 'my-adapter')): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', target_modules: ['q_proj'], ...config }));
  writeSafetensors(path.join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  return dir;
}

/** lora_A [r, in] and lora_B [out, r] (torch order) for one module. */
function loraPair(module: string, nIn: number, nOut: number, r: number, seed: number, dtype: 'F32' | 'F16' | 'BF16' = 'F32'): SafetensorsTensorSpec[] {
  return [
    { name: `${module}.lora_A.weight`, dtype, shape: [r, nIn], data: randomMatrix(r, nIn, seed) },
    { name: `${module}.lora_B.weight`, dtype, shape: [nOut, r], data: randomMatrix(nOut, r, seed + 1) },
  ];
}

/** An F32 tensor's values from a GGUF file. */
function ggufTensor(file: string, name: string): { shape: number[]; data: Float32Array } {
  const t = readGgufHeader(file).tensors.find((x) => x.name === name);
  if (!t) throw new Error(`${name} not in ${file}`);
  expect(t.type).toBe(GgmlType.F32);
  const buf = Buffer.alloc(t.byteSize);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, buf, 0, t.byteSize, t.offset);
  fs.closeSync(fd);
  return { shape: t.shape, data: new Float32Array(buf.buffer, 0, t.byteSize / 4) };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal');
}

describe('PEFT → GGUF LoRA conversion', () => {
  it('converts an adapter for the student (llama) in HF order: names, shapes, metadata, q/k permutation', async () => {
    const spec = fixtureSpec('student');
    const e = spec.embedding;
    const kv = (e / spec.heads) * spec.kvHeads;
    const r = 4;
    const modules: [string, number, number][] = [
      ['self_attn.q_proj', e, e],
      ['self_attn.k_proj', e, kv],
      ['self_attn.v_proj', e, kv],
      ['self_attn.o_proj', e, e],
      ['mlp.gate_proj', e, spec.feedForward],
      ['mlp.up_proj', e, spec.feedForward],
      ['mlp.down_proj', spec.feedForward, e],
    ];
    const tensors: SafetensorsTensorSpec[] = [];
    let seed = 10;
    for (let l = 0; l < spec.layers; l++) {
      for (const [m, nIn, nOut] of modules) tensors.push(...loraPair(`${P}.${l}.${m}`, nIn, nOut, r, (seed += 2), m === 'mlp.up_proj' ? 'BF16' : 'F32'));
    }
    const dir = writePeft({ r, lora_alpha: 8, base_model_name_or_path: 'acme/student-hf' }, tensors);
    const out = path.join(tempDir(), 'student-lora.gguf');
    const student = await fixtureModel('student');

    const result = convertPeftAdapter(dir, out, { file: student });
    expect(result).toEqual({
      arch: 'llama',
      rank: 4,
      alpha: 8,
      targets: ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'],
      tensors: 28,
    });

    const header = readGgufHeader(out);
    expect(Object.fromEntries(header.metadata)).toEqual({
      'general.architecture': 'llama',
      'general.type': 'adapter',
      'general.name': 'my-adapter',
      'general.base_model.count': 1,
      'general.base_model.0.name': 'acme/student-hf',
      'general.base_model.0.repo_url': 'https://huggingface.co/acme/student-hf',
      'adapter.type': 'lora',
      'adapter.lora.alpha': 8,
      'general.quantization_version': 2,
    });
    const shapes = Object.fromEntries(header.tensors.filter((t) => t.name.startsWith('blk.1.')).map((t) => [t.name, t.shape]));
    expect(shapes).toEqual({
      'blk.1.attn_q.weight.lora_a': [e, r],
      'blk.1.attn_q.weight.lora_b': [r, e],
      'blk.1.attn_k.weight.lora_a': [e, r],
      'blk.1.attn_k.weight.lora_b': [r, kv],
      'blk.1.attn_v.weight.lora_a': [e, r],
      'blk.1.attn_v.weight.lora_b': [r, kv],
      'blk.1.attn_output.weight.lora_a': [e, r],
      'blk.1.attn_output.weight.lora_b': [r, e],
      'blk.1.ffn_gate.weight.lora_a': [e, r],
      'blk.1.ffn_gate.weight.lora_b': [r, spec.feedForward],
      'blk.1.ffn_up.weight.lora_a': [e, r],
      'blk.1.ffn_up.weight.lora_b': [r, spec.feedForward],
      'blk.1.ffn_down.weight.lora_a': [spec.feedForward, r],
      'blk.1.ffn_down.weight.lora_b': [r, e],
    });
    expect(header.tensors.filter((t) => t.type !== GgmlType.F32).map((t) => t.name)).toEqual([]);

    const src = new Map(tensors.map((t) => [t.name, t.data]));
    for (const l of [0, 1]) {
      // lora_A: the same bytes; lora_B of q/k: rows permuted by n_head / n_head_kv; v: untouched.
      expect(ggufTensor(out, `blk.${l}.attn_q.weight.lora_a`).data).toEqual(src.get(`${P}.${l}.self_attn.q_proj.lora_A.weight`));
      const qB = src.get(`${P}.${l}.self_attn.q_proj.lora_B.weight`)!;
      const kB = src.get(`${P}.${l}.self_attn.k_proj.lora_B.weight`)!;
      expect(ggufTensor(out, `blk.${l}.attn_q.weight.lora_b`).data).toEqual(permuteByHand(qB, e, r, spec.heads));
      expect(ggufTensor(out, `blk.${l}.attn_k.weight.lora_b`).data).toEqual(permuteByHand(kB, kv, r, spec.kvHeads));
      expect(ggufTensor(out, `blk.${l}.attn_q.weight.lora_b`).data).not.toEqual(qB);
      expect(ggufTensor(out, `blk.${l}.attn_v.weight.lora_b`).data).toEqual(src.get(`${P}.${l}.self_attn.v_proj.lora_B.weight`));
      // BF16 in, F32 out: the values are the BF16 ones.
      const upB = ggufTensor(out, `blk.${l}.ffn_up.weight.lora_b`).data;
      const upSrc = src.get(`${P}.${l}.mlp.up_proj.lora_B.weight`)!;
      upB.forEach((v, i) => expect(Math.abs(v - upSrc[i]!)).toBeLessThanOrEqual(Math.abs(upSrc[i]!) * 2 ** -8));
    }

    expect(inspectAdapter(out)).toEqual({
      name: 'my-adapter',
      arch: 'llama',
      alpha: 8,
      rank: 4,
      targets: ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'],
      layers: [0, 1],
      tensorCount: 28,
      sizeBytes: fs.statSync(out).size,
    });
    expect(() => checkCompatibility(out, student)).not.toThrow();
    expect(fs.readdirSync(path.dirname(out))).toEqual(['student-lora.gguf']); // no temporary file left
  });

  it('permutes k by n_head_kv when it differs from n_head (the teacher: 8 heads, 4 kv heads)', async () => {
    const spec = fixtureSpec('teacher');
    const e = spec.embedding;
    const kv = (e / spec.heads) * spec.kvHeads;
    const tensors = [...loraPair(`${P}.2.self_attn.q_proj`, e, e, 2, 50), ...loraPair(`${P}.2.self_attn.k_proj`, e, kv, 2, 60)];
    const out = path.join(tempDir(), 'teacher-lora.gguf');
    convertPeftAdapter(writePeft({ r: 2, lora_alpha: 2 }, tensors), out, { file: await fixtureModel('teacher') }, { name: 'teacher qk' });
    const kB = tensors[3]!.data;
    expect(ggufTensor(out, 'blk.2.attn_k.weight.lora_b').data).toEqual(permuteByHand(kB, kv, 2, spec.kvHeads));
    expect(ggufTensor(out, 'blk.2.attn_k.weight.lora_b').data).not.toEqual(permuteByHand(kB, kv, 2, spec.heads));
    expect(ggufTensor(out, 'blk.2.attn_q.weight.lora_b').data).toEqual(permuteByHand(tensors[1]!.data, e, 2, spec.heads));
    expect(inspectAdapter(out)).toMatchObject({ name: 'teacher qk', targets: ['attn_q', 'attn_k'], layers: [2], rank: 2 });
  });

  it('rsLoRA: alpha becomes lora_alpha × sqrt(r); a module with its own rank (rank_pattern) keeps its PEFT scale', async () => {
    const e = 256;
    const tensors = [...loraPair(`${P}.0.self_attn.v_proj`, e, e, 4, 70), ...loraPair(`${P}.0.self_attn.o_proj`, e, e, 2, 80)];
    const out = path.join(tempDir(), 'rs.gguf');
    const result = convertPeftAdapter(writePeft({ r: 4, lora_alpha: 8, use_rslora: true, rank_pattern: { o_proj: 2 } }, tensors), out, {
      file: await fixtureModel('student'),
    });
    expect(result.alpha).toBe(16); // 8 × sqrt(4): llama.cpp's alpha / r then equals PEFT's alpha / sqrt(r)
    expect(readGgufHeader(out).metadata.get('adapter.lora.alpha')).toBe(16);
    expect(ggufTensor(out, 'blk.0.attn_v.weight.lora_b').data).toEqual(tensors[1]!.data);
    // o_proj: PEFT scale 8 / sqrt(2); llama.cpp's 16 / 2 = 8; so lora_b carries sqrt(2) / 2 = sqrt(2 / 4).
    const oB = ggufTensor(out, 'blk.0.attn_output.weight.lora_b').data;
    oB.forEach((v, i) => expect(v).toBeCloseTo(tensors[3]!.data[i]! * Math.sqrt(0.5), 6));
  });

  it('converts token embeddings (lora_a stored transposed) and lm_head → output', async () => {
    const spec = fixtureSpec('student');
    const vocab = 32000;
    const r = 2;
    const embA = randomMatrix(r, vocab, 90); // PEFT Embedding: lora_embedding_A [r, n_vocab], lora_embedding_B [n_embd, r]
    const embB = randomMatrix(spec.embedding, r, 91);
    const tensors: SafetensorsTensorSpec[] = [
      { name: 'base_model.model.model.embed_tokens.lora_embedding_A', dtype: 'F32', shape: [r, vocab], data: embA },
      { name: 'base_model.model.model.embed_tokens.lora_embedding_B', dtype: 'F32', shape: [spec.embedding, r], data: embB },
      ...loraPair('base_model.model.lm_head', spec.embedding, vocab, r, 92),
    ];
    const out = path.join(tempDir(), 'emb.gguf');
    const student = await fixtureModel('student');
    expect(convertPeftAdapter(writePeft({ r, lora_alpha: 4 }, tensors), out, { file: student }).targets).toEqual(['token_embd', 'output']);
    const a = ggufTensor(out, 'token_embd.weight.lora_a');
    expect(a.shape).toEqual([r, vocab]);
    for (const [v, k] of [
      [0, 0],
      [123, 1],
      [31999, 0],
    ] as const)
      expect(a.data[v * r + k]).toBe(embA[k * vocab + v]);
    expect(ggufTensor(out, 'token_embd.weight.lora_b')).toEqual({ shape: [r, spec.embedding], data: embB });
    expect(ggufTensor(out, 'output.weight.lora_a').shape).toEqual([spec.embedding, r]);
    expect(ggufTensor(out, 'output.weight.lora_b').shape).toEqual([r, vocab]);
    expect(() => checkCompatibility(out, student)).not.toThrow();
  });

  it('maps each family with convert_hf_to_gguf names: llama/mistral permute q/k, qwen2/qwen3/gemma do not, phi3 stays fused', () => {
    const n = (m: string, part = 'lora_A.weight') => `${P}.3.${m}.${part}`;
    expect(mapPeftTensor('llama', n('self_attn.q_proj'))).toEqual({ base: 'blk.3.attn_q.weight', part: 'a', permute: 'q' });
    expect(mapPeftTensor('llama', n('self_attn.k_proj', 'lora_B.weight'))).toEqual({ base: 'blk.3.attn_k.weight', part: 'b', permute: 'k' });
    expect(mapPeftTensor('llama', n('self_attn.v_proj'))).toEqual({ base: 'blk.3.attn_v.weight', part: 'a', permute: null });
    expect(mapPeftTensor('llama', n('self_attn.o_proj'))?.base).toBe('blk.3.attn_output.weight');
    expect(mapPeftTensor('llama', n('mlp.gate_proj'))?.base).toBe('blk.3.ffn_gate.weight');
    expect(mapPeftTensor('llama', n('mlp.up_proj'))?.base).toBe('blk.3.ffn_up.weight');
    expect(mapPeftTensor('llama', n('mlp.down_proj'))?.base).toBe('blk.3.ffn_down.weight');
    expect(mapPeftTensor('llama', 'base_model.model.lm_head.lora_B.weight')).toEqual({ base: 'output.weight', part: 'b', permute: null });
    expect(mapPeftTensor('llama', 'base_model.model.model.embed_tokens.lora_embedding_A')).toEqual({ base: 'token_embd.weight', part: 'a', permute: null });
    expect(mapPeftTensor('llama', 'base_model.model.model.language_model.layers.1.self_attn.q_proj.lora_A.weight')?.base).toBe('blk.1.attn_q.weight');
    expect(mapPeftTensor('llama', n('self_attn.q_proj.base_layer', 'weight'))).toBeNull();
    for (const arch of ['qwen2', 'qwen3', 'gemma', 'gemma2']) {
      expect(mapPeftTensor(arch, n('self_attn.q_proj', 'lora_B.weight'))).toEqual({ base: 'blk.3.attn_q.weight', part: 'b', permute: null });
      expect(mapPeftTensor(arch, n('self_attn.k_proj', 'lora_B.weight'))).toEqual({ base: 'blk.3.attn_k.weight', part: 'b', permute: null });
      expect(mapPeftTensor(arch, n('mlp.down_proj'))?.base).toBe('blk.3.ffn_down.weight');
    }
    expect(mapPeftTensor('qwen2', 'base_model.model.lm_head.lora_A.weight')?.base).toBe('output.weight');
    expect(mapPeftTensor('phi3', n('self_attn.qkv_proj', 'lora_B.weight'))).toEqual({ base: 'blk.3.attn_qkv.weight', part: 'b', permute: null });
    expect(mapPeftTensor('phi3', n('mlp.gate_up_proj'))).toEqual({ base: 'blk.3.ffn_up.weight', part: 'a', permute: null });
    expect(mapPeftTensor('phi3', n('self_attn.o_proj'))?.base).toBe('blk.3.attn_output.weight');
    expect(mapPeftTensor('phi3', n('mlp.down_proj'))?.base).toBe('blk.3.ffn_down.weight');

    expect(thrown(() => mapPeftTensor('phi3', n('self_attn.q_proj')))).toMatchObject({
      code: 'invalid_input',
      message: `adapter_model.safetensors: tensor "${n('self_attn.q_proj')}" (module "model.layers.3.self_attn.q_proj") has no GGUF tensor in a phi3 model, so it cannot be converted`,
    });
    expect(() => mapPeftTensor('llama', n('self_attn.qkv_proj'))).toThrow('has no GGUF tensor in a llama model');
    expect(() => mapPeftTensor('gemma', 'base_model.model.lm_head.lora_A.weight')).toThrow('adapts lm_head, which gemma ties to the token embeddings');
    expect(() => mapPeftTensor('gemma2', 'base_model.model.lm_head.lora_A.weight')).toThrow('which gemma2 ties');
    expect(() => mapPeftTensor('gpt2', n('self_attn.q_proj'))).toThrow(
      'PEFT adapters for "gpt2" models are not supported (supported: llama, qwen2, qwen3, gemma, gemma2, phi3)',
    );
    expect(() => mapPeftTensor('llama', n('self_attn.q_proj', 'lora_magnitude_vector'))).toThrow('is a DoRA magnitude: DoRA adapters are not supported');
    expect(() => mapPeftTensor('llama', 'base_model.model.score.weight', ['score'])).toThrow(
      'tensor "base_model.model.score.weight" holds full weights of "score" (modules_to_save "score"): a GGUF LoRA carries only lora_A/lora_B pairs, so this is not supported',
    );
    expect(() => mapPeftTensor('llama', n('self_attn.q_proj.lora_B', 'bias'))).toThrow(
      'is not a lora_A/lora_B tensor (biases, norms and other full weights are not supported)',
    );
  });

  it('refuses what it cannot convert, with the reason, and leaves no output file', async () => {
    const student = await fixtureModel('student');
    const out = path.join(tempDir(), 'never.gguf');
    const q = loraPair(`${P}.0.self_attn.q_proj`, 256, 256, 4, 100);
    const refusal = (dir: string, base = student) => thrown(() => convertPeftAdapter(dir, out, { file: base }));

    const missing = path.join(tempDir(), 'nothing-here');
    expect(refusal(missing)).toMatchObject({ code: 'file_missing', message: `${missing} does not exist` });
    const empty = path.join(tempDir(), 'empty');
    fs.mkdirSync(empty);
    expect(refusal(empty)).toMatchObject({ code: 'file_missing', message: 'empty has no adapter_config.json: it is not a PEFT adapter folder' });
    fs.writeFileSync(path.join(empty, 'adapter_config.json'), '{"r": 4, "lora_alpha": 8}');
    expect(refusal(empty)).toMatchObject({ code: 'file_missing', message: 'empty has no adapter_model.safetensors' });
    fs.writeFileSync(path.join(empty, 'adapter_model.bin'), 'pickle');
    expect(refusal(empty)).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('adapter_model.bin (a PyTorch pickle)') });

    const cases: [Record<string, unknown>, SafetensorsTensorSpec[], string][] = [
      [{ lora_alpha: 8 }, q, 'adapter_config.json: has no "r" (the LoRA rank)'],
      [{ r: 4 }, q, 'adapter_config.json: has no "lora_alpha"'],
      [{ r: 4, lora_alpha: 0 }, q, 'adapter_config.json: "lora_alpha" is 0, not a positive number'],
      [{ r: 4, lora_alpha: 8, use_dora: true }, q, 'adapter_config.json: use_dora is true: DoRA adapters are not supported'],
      [{ r: 4, lora_alpha: 8, fan_in_fan_out: true }, q, 'adapter_config.json: fan_in_fan_out is true'],
      [{ r: 4, lora_alpha: 8, alpha_pattern: { q_proj: 4 } }, q, 'adapter_config.json: alpha_pattern gives some modules their own alpha'],
      [{ r: 4, lora_alpha: 8, peft_type: 'IA3' }, q, 'adapter_config.json: peft_type is "IA3"; only LORA adapters convert'],
      [{ r: 4, lora_alpha: 8 }, [], 'adapter_model.safetensors holds no lora_A/lora_B tensors'],
      [
        { r: 4, lora_alpha: 8 },
        loraPair(`${P}.0.mlp.fc1`, 256, 256, 4, 1),
        `adapter_model.safetensors: tensor "${P}.0.mlp.fc1.lora_A.weight" (module "model.layers.0.mlp.fc1") has no GGUF tensor in a llama model`,
      ],
      [{ r: 4, lora_alpha: 8 }, [q[0]!], `adapter_model.safetensors: tensor "${P}.0.self_attn.q_proj.lora_A.weight" has no matching lora_B tensor`],
      [
        { r: 4, lora_alpha: 8 },
        [q[0]!, { ...q[1]!, shape: [128, 8], data: new Float32Array(128 * 8) }],
        `adapter_model.safetensors: rank mismatch: "${P}.0.self_attn.q_proj.lora_A.weight" is [4, 256] (rank 4) but "${P}.0.self_attn.q_proj.lora_B.weight" is [128, 8] (rank 8)`,
      ],
      [
        { r: 4, lora_alpha: 8, modules_to_save: ['lm_head'] },
        [...q, { name: 'base_model.model.lm_head.weight', dtype: 'F32', shape: [4], data: new Float32Array(4) }],
        'holds full weights of "lm_head" (modules_to_save "lm_head")',
      ],
      [
        { r: 4, lora_alpha: 8 },
        loraPair(`${P}.5.self_attn.q_proj`, 256, 256, 4, 1),
        `adapter_model.safetensors: tensor "${P}.5.self_attn.q_proj.lora_A.weight" adapts "blk.5.attn_q.weight", which student.gguf does not have (wrong base model?)`,
      ],
      [
        { r: 4, lora_alpha: 8 },
        loraPair(`${P}.0.self_attn.q_proj`, 512, 512, 4, 1),
        `adapter_model.safetensors: "${P}.0.self_attn.q_proj.lora_A.weight" [4, 512] and "${P}.0.self_attn.q_proj.lora_B.weight" [512, 4] adapt a [512, 512] matrix, but "blk.0.attn_q.weight" in student.gguf has ne [256, 256] (wrong base model?)`,
      ],
    ];
    for (const [config, tensors, message] of cases) {
      expect(refusal(writePeft(config, tensors)), message).toMatchObject({ code: 'invalid_input', message: expect.stringContaining(message) });
    }
    expect(refusal(writePeft({ r: 4, lora_alpha: 8 }, q), await fixtureAdapter('student-lora'))).toMatchObject({
      code: 'invalid_input',
      message: 'student-lora.gguf is an adapter, not a base model',
    });
    const deep = writePeft({ r: 4, lora_alpha: 8 }, q);
    fs.writeFileSync(path.join(deep, 'adapter_config.json'), `{"r": 4, "lora_alpha": 8, "x": ${'['.repeat(30_000)}${']'.repeat(30_000)}}`);
    expect(refusal(deep)).toMatchObject({ code: 'invalid_input', message: 'adapter_config.json: nests deeper than 64 levels (the limit for JSON)' });
    expect(fs.readdirSync(path.dirname(out))).toEqual([]);
  });
});

/** A GGUF adapter written by hand, to break one rule at a time. */
function handAdapter(name: string, tensors: GgufTensorSpec[], meta: [string, GgufValue][] = []): string {
  const file = path.join(tempDir(), name);
  const base: [string, GgufValue][] = [
    ['general.architecture', str('llama')],
    ['general.type', str('adapter')],
    ['adapter.type', str('lora')],
    ['adapter.lora.alpha', f32(8)],
  ];
  const keys = new Set(meta.map(([k]) => k));
  writeGguf(file, [...base.filter(([k]) => !keys.has(k)), ...meta], tensors);
  return file;
}
const t = (name: string, shape: number[]): GgufTensorSpec => ({ name, shape, type: GgmlType.F32, data: new Float32Array(shape[0]! * shape[1]!) });

describe('GGUF adapter inspection and compatibility', () => {
  it('describes the fixture adapter and accepts it for the student', async () => {
    const adapter = await fixtureAdapter('student-lora');
    expect(inspectAdapter(adapter)).toEqual({
      name: 'distillery-fixture-student-lora',
      arch: 'llama',
      alpha: 16,
      rank: 8,
      targets: ['attn_q', 'attn_v'],
      layers: [0, 1],
      tensorCount: 8,
      sizeBytes: fs.statSync(adapter).size,
    });
    const student = await fixtureModel('student');
    expect(() => checkCompatibility(adapter, student)).not.toThrow();
  });

  it('refuses the student adapter on the teacher, naming the tensor and both shapes', async () => {
    const adapter = await fixtureAdapter('student-lora');
    const teacher = await fixtureModel('teacher');
    const error = thrown(() => checkCompatibility(adapter, teacher));
    expect(error).toMatchObject({
      code: 'invalid_input',
      message:
        'student-lora.gguf does not fit teacher.gguf: "blk.0.attn_q.weight" has ne [512, 512] in the base, so "blk.0.attn_q.weight.lora_a" must be [512, r] ' +
        'and "blk.0.attn_q.weight.lora_b" [r, 512], but they are [256, 8] and [8, 256]',
    });
  });

  it('refuses a model where an adapter is expected, and adapters llama.cpp would reject or crash on', async () => {
    const student = await fixtureModel('student');
    expect(thrown(() => inspectAdapter(student))).toMatchObject({
      code: 'invalid_input',
      message: 'student.gguf is not a LoRA adapter: its general.type is "model", not "adapter"',
    });
    expect(() => checkCompatibility(student, student)).toThrow('student.gguf is not a LoRA adapter');
    const q = [t('blk.0.attn_q.weight.lora_a', [256, 4]), t('blk.0.attn_q.weight.lora_b', [4, 256])];
    const cases: [string, string][] = [
      [
        handAdapter('qwen.gguf', q, [['general.architecture', str('qwen2')]]),
        'qwen.gguf does not fit student.gguf: the adapter is for "qwen2" models but the base is a "llama" model',
      ],
      [handAdapter('ia3.gguf', q, [['adapter.type', str('ia3')]]), 'ia3.gguf is not a LoRA adapter: its adapter.type is "ia3", not "lora"'],
      [
        handAdapter('alpha.gguf', q, [['adapter.lora.alpha', u32(8)]]),
        'alpha.gguf is not a LoRA adapter: adapter.lora.alpha is not a float32 (llama.cpp would abort on it)',
      ],
      [
        handAdapter('lonely.gguf', [q[0]!]),
        'lonely.gguf does not fit student.gguf: tensor "blk.0.attn_q.weight.lora_a" has no matching "blk.0.attn_q.weight.lora_b"',
      ],
      [
        handAdapter('deep.gguf', [t('blk.9.attn_q.weight.lora_a', [256, 4]), t('blk.9.attn_q.weight.lora_b', [4, 256])]),
        'deep.gguf does not fit student.gguf: tensor "blk.9.attn_q.weight.lora_a" adapts "blk.9.attn_q.weight", which the base does not have (wrong base model?)',
      ],
      [
        handAdapter('rank.gguf', [t('blk.0.attn_q.weight.lora_a', [256, 4]), t('blk.0.attn_q.weight.lora_b', [8, 256])]),
        'rank.gguf does not fit student.gguf: "blk.0.attn_q.weight" has ne [256, 256] in the base, so "blk.0.attn_q.weight.lora_a" must be [256, r] and "blk.0.attn_q.weight.lora_b" [r, 256], but they are [256, 4] and [8, 256]',
      ],
      [
        handAdapter('odd.gguf', [...q, t('blk.0.attn_q.weight.delta', [4, 4])]),
        'odd.gguf does not fit student.gguf: tensor "blk.0.attn_q.weight.delta" is neither a .lora_a nor a .lora_b tensor',
      ],
      [handAdapter('none.gguf', []), 'none.gguf does not fit student.gguf: the adapter holds no lora_a/lora_b tensors'],
    ];
    for (const [file, message] of cases)
      expect(
        thrown(() => checkCompatibility(file, student)),
        message,
      ).toMatchObject({ code: 'invalid_input', message: expect.stringContaining(message) });
    expect(() => checkCompatibility(handAdapter('ok.gguf', q), student)).not.toThrow();
  });
});
