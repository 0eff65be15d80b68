import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';
import { fixtureModel, fixtureSpec } from '../fixtures/models.js';
import { writeSyntheticLora } from '../../src-main/core/gguf/synthetic.js';

// Issue 10, point 7: a LoRA whose tensor type llama.cpp cannot apply passed import and failed only when used. The
// type is checked when the adapter is read, with or without a base, naming the tensor and its type.
let ws: Workspace;
let student: number;
beforeAll(async () => {
  ws = makeWorkspace();
  student = (await ws.client.call('models.add', { path: await fixtureModel('student') })).id;
});
afterAll(() => ws.close());

/** A rank-8 F32 LoRA of the student with one tensor's ggml type rewritten in the header (the data is left as is). */
function loraWithType(tensor: string, type: number): string {
  const file = path.join(tempDir(), `lora-${type}.gguf`);
  writeSyntheticLora(file, { base: fixtureSpec('student'), rank: 8, alpha: 16, targets: ['attn_q'], seed: 7, scale: 0.1 });
  const bytes = fs.readFileSync(file);
  const name = Buffer.from(tensor);
  const at = bytes.indexOf(name);
  expect(at).toBeGreaterThan(0);
  const dims = bytes.readUInt32LE(at + name.length);
  bytes.writeUInt32LE(type, at + name.length + 4 + dims * 8);
  fs.writeFileSync(file, bytes);
  return file;
}

describe('LoRA tensor types', () => {
  it('refuses a type llama.cpp cannot apply, with or without a base, naming the tensor and the type', async () => {
    const file = loraWithType('blk.1.attn_q.weight.lora_a', 26); // I32: same size as F32, so the file stays whole
    const why = 'tensor "blk.1.attn_q.weight.lora_a" is I32; llama.cpp applies LoRA tensors of type F32, F16, BF16 or Q8_0 only';
    await expect(ws.client.call('adapters.import', { path: file, name: 'no-base' })).rejects.toMatchObject({
      code: 'invalid_input',
      message: `${path.basename(file)} cannot be used by llama.cpp: ${why}`,
    });
    await expect(ws.client.call('adapters.import', { path: file, name: 'with-base', baseModelId: student })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining(why),
    });
    expect(await ws.client.call('adapters.list', {})).toEqual([]);
  });

  it('refuses a Q8_0 tensor whose rows are not whole blocks, as llama.cpp does when it loads the file', async () => {
    const file = loraWithType('blk.0.attn_q.weight.lora_b', 8); // lora_b rows are the rank: 8 values, a Q8_0 block is 32
    await expect(ws.client.call('adapters.import', { path: file, name: 'q8' })).rejects.toMatchObject({
      code: 'not_gguf',
      message: `${path.basename(file)} has tensor 'blk.0.attn_q.weight.lora_b' of type Q8_0 with 8 values per row, not a multiple of its block size 32`,
    });
  });

  it('still imports the types llama.cpp applies', async () => {
    const file = path.join(tempDir(), 'fine.gguf');
    writeSyntheticLora(file, { base: fixtureSpec('student'), rank: 8, alpha: 16, targets: ['attn_q'], seed: 7, scale: 0.1 });
    expect(await ws.client.call('adapters.import', { path: file, name: 'fine', baseModelId: student })).toMatchObject({
      name: 'fine',
      base: { modelId: student },
    });
  });
});
