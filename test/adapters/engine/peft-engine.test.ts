import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLlama, type ControlledEvaluateInputItem, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import { checkCompatibility } from '../../../src-main/core/adapters/inspect.js';
import { convertPeftAdapter } from '../../../src-main/core/adapters/peft.js';
import { writeSafetensors, type SafetensorsTensorSpec } from '../../../src-main/core/adapters/safetensors.js';
import { GgmlType, f32, str, type GgufTensorSpec, type GgufValue } from '../../../src-main/core/gguf/writer.js';
import { writeGguf } from '../../../src-main/core/gguf/stream-writer.js';
import { mulberry32 } from '../../../src-main/core/random.js';
import { fixtureModel, fixtureSpec } from '../../fixtures/models.js';
import { tempDir } from '../../helpers/tmp.js';
import { permuteByHand } from '../permute.js';

/**
 * The real proof: a PEFT adapter (HF order, torch layout) converted by convertPeftAdapter must make llama.cpp produce
 * the same logits as the same weights written directly in llama.cpp's layout, and q/k must be permuted for that.
 */
const spec = fixtureSpec('student');
const E = spec.embedding;
const KV = (E / spec.heads) * spec.kvHeads;
const R = 8;
const ALPHA = 16;
const MODULES = [
  { hf: 'self_attn.q_proj', gguf: 'attn_q', out: E, heads: spec.heads },
  { hf: 'self_attn.k_proj', gguf: 'attn_k', out: KV, heads: spec.kvHeads },
  { hf: 'self_attn.v_proj', gguf: 'attn_v', out: KV, heads: 0 },
  { hf: 'self_attn.o_proj', gguf: 'attn_output', out: E, heads: 0 },
];

let llama: Llama;
let student: LlamaModel;
const files = { converted: '', direct: '', unpermuted: '' };

beforeAll(async () => {
  const dir = tempDir();
  const next = mulberry32(7);
  const random = (n: number) => Float32Array.from({ length: n }, () => (next() * 2 - 1) * 0.2);
  const peft: SafetensorsTensorSpec[] = [];
  const direct: GgufTensorSpec[] = [];
  const unpermuted: GgufTensorSpec[] = [];
  for (let l = 0; l < spec.layers; l++) {
    for (const m of MODULES) {
      const a = random(R * E); // torch [r, in] = ggml ne [in, r]: the same bytes
      const b = random(m.out * R); // torch [out, r] = ggml ne [r, out]
      const prefix = `base_model.model.model.layers.${l}.${m.hf}`;
      peft.push(
        { name: `${prefix}.lora_A.weight`, dtype: 'F32', shape: [R, E], data: a },
        { name: `${prefix}.lora_B.weight`, dtype: 'F32', shape: [m.out, R], data: b },
      );
      const name = `blk.${l}.${m.gguf}.weight`;
      const lora = (data: Float32Array): GgufTensorSpec[] => [
        { name: `${name}.lora_a`, shape: [E, R], type: GgmlType.F32, data: a },
        { name: `${name}.lora_b`, shape: [R, m.out], type: GgmlType.F32, data },
      ];
      direct.push(...lora(m.heads ? permuteByHand(b, m.out, R, m.heads) : b));
      unpermuted.push(...lora(b));
    }
  }
  const peftDir = path.join(dir, 'peft');
  fs.mkdirSync(peftDir);
  fs.writeFileSync(
    path.join(peftDir, 'adapter_config.json'),
    JSON.stringify({ peft_type: 'LORA', r: R, lora_alpha: ALPHA, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] }),
  );
  writeSafetensors(path.join(peftDir, 'adapter_model.safetensors'), peft);

  const base = await fixtureModel('student');
  files.converted = path.join(dir, 'converted.gguf');
  convertPeftAdapter(peftDir, files.converted, { file: base });
  const meta: [string, GgufValue][] = [
    ['general.architecture', str('llama')],
    ['general.type', str('adapter')],
    ['adapter.type', str('lora')],
    ['adapter.lora.alpha', f32(ALPHA)],
  ];
  files.direct = path.join(dir, 'direct.gguf');
  writeGguf(files.direct, meta, direct);
  files.unpermuted = path.join(dir, 'unpermuted.gguf');
  writeGguf(files.unpermuted, meta, unpermuted);
  for (const f of Object.values(files)) checkCompatibility(f, base); // what the app does before the engine sees an adapter

  llama = await getLlama({ gpu: false });
  student = await llama.loadModel({ modelPath: base });
});
afterAll(async () => {
  await llama?.dispose();
});

async function nextLogits(prompt: string, adapter: string | null): Promise<Map<Token, number>> {
  const lora = adapter === null ? undefined : { adapters: [{ filePath: adapter, scale: 1 }] };
  const context = await student.createContext({ contextSize: 256, threads: 1, ...(lora ? { lora } : {}) });
  try {
    const tokens = student.tokenize(prompt);
    const input = tokens.map((t, i): ControlledEvaluateInputItem => (i === tokens.length - 1 ? [t, { generateNext: { logits: true } }] : t));
    const out = await context.getSequence().controlledEvaluate(input);
    return out.at(-1)!.next.logits!;
  } finally {
    await context.dispose();
  }
}

const maxDiff = (x: Map<Token, number>, y: Map<Token, number>) => Math.max(...[...x.keys()].map((t) => Math.abs(x.get(t)! - y.get(t)!)));

describe('PEFT adapter on the engine', () => {
  it('the converted adapter gives the logits of the same weights written in llama.cpp layout; without the q/k permutation they differ', async () => {
    const prompt = 'Small models learn from their teachers';
    const base = await nextLogits(prompt, null);
    const converted = await nextLogits(prompt, files.converted);
    const direct = await nextLogits(prompt, files.direct);
    const unpermuted = await nextLogits(prompt, files.unpermuted);
    expect(converted.size).toBe(base.size);
    expect(maxDiff(converted, direct)).toBeLessThan(1e-4);
    expect(maxDiff(converted, base)).toBeGreaterThan(0.5);
    expect(maxDiff(unpermuted, direct)).toBeGreaterThan(0.5);
  });
});
