import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectGguf } from '../../src-main/core/gguf/inspect.js';
import { readGgufHeader } from '../../src-main/core/gguf/header.js';
import { fixtureAdapter, fixtureBadFiles, fixtureModel } from '../fixtures/models.js';
import { tempDir } from '../helpers/tmp.js';

describe('GGUF inspection', () => {
  it('summarizes the fixture teacher exactly', async () => {
    const file = await fixtureModel('teacher');
    const { sizeBytes, summary } = await inspectGguf(file);
    expect(sizeBytes).toBe(fs.statSync(file).size);
    // 2 × 32000×512 (embeddings, output) + norm + 4 × (q 512² + k,v 512×256 + o 512² + 3 × 512×1024 + 2 norms)
    const perLayer = 512 * 512 * 2 + 512 * 256 * 2 + 3 * 512 * 1024 + 2 * 512;
    expect(summary).toEqual({
      ggufVersion: 3,
      architecture: 'llama',
      name: 'distillery-fixture-teacher',
      parameterCount: 2 * 32000 * 512 + 512 + 4 * perLayer,
      fileType: 'F16',
      tensorTypes: { F16: 2 + 4 * 7, F32: 1 + 4 * 2 },
      tensorCount: 3 + 4 * 9,
      contextLength: 2048,
      blockCount: 4,
      headCount: 8,
      headCountKv: 4,
      embeddingLength: 512,
      feedForwardLength: 1024,
      vocabSize: 32000,
      tokenizerModel: 'llama',
      hasChatTemplate: true,
      fileKind: 'model',
    });
  });

  it('knows the student has no chat template and the adapter is an adapter', async () => {
    expect((await inspectGguf(await fixtureModel('student'))).summary).toMatchObject({
      embeddingLength: 256,
      blockCount: 2,
      headCountKv: 4,
      hasChatTemplate: false,
    });
    const adapter = await inspectGguf(await fixtureAdapter('student-lora'));
    expect(adapter.summary).toMatchObject({ fileKind: 'adapter', architecture: 'llama', tensorCount: 8, vocabSize: null });
    const header = readGgufHeader(await fixtureAdapter('student-lora'));
    const a = header.tensors.find((t) => t.name === 'blk.0.attn_q.weight.lora_a')!;
    const b = header.tensors.find((t) => t.name === 'blk.0.attn_q.weight.lora_b')!;
    expect(a.shape).toEqual([256, 8]);
    expect(b.shape).toEqual([8, 256]);
    expect(header.metadata.get('adapter.lora.alpha')).toBe(16);
  });

  it('refuses bad files with the reason and the file name', async () => {
    const bad = await fixtureBadFiles(tempDir());
    await expect(inspectGguf(bad.text)).rejects.toMatchObject({ code: 'not_gguf', message: "notes.txt is not a GGUF file: it starts with bytes 'hell'" });
    await expect(inspectGguf(bad.empty)).rejects.toMatchObject({ code: 'not_gguf', message: 'empty.gguf is empty (0 bytes), not a GGUF file' });
    await expect(inspectGguf(bad.truncated)).rejects.toMatchObject({
      code: 'not_gguf',
      message: expect.stringMatching(/^truncated\.gguf is truncated: tensor '[^']+' ends at byte \d+ but the file has \d+ bytes$/),
    });
    await expect(inspectGguf(bad.headerOnly)).rejects.toMatchObject({
      code: 'not_gguf',
      message: expect.stringMatching(/^header-only\.gguf is truncated: its header ends early/),
    });
    await expect(inspectGguf(bad.directory)).rejects.toMatchObject({ code: 'not_a_file', message: 'folder.gguf is a folder, not a GGUF file' });
    const missing = path.join(tempDir(), 'gone.gguf');
    await expect(inspectGguf(missing)).rejects.toMatchObject({ code: 'file_missing', message: `${missing} does not exist` });
  });

  it('refuses damaged headers without crashing', async () => {
    const dir = tempDir();
    const bytes = fs.readFileSync(await fixtureModel('student'));
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ['version.gguf', (b) => b.writeUInt32LE(9, 4), /version 9/],
      ['huge-count.gguf', (b) => b.writeBigUInt64LE(10n ** 12n, 8), /implausible header/],
      ['bad-type.gguf', (b) => b.writeUInt32LE(77, 24 + 8 + 'general.architecture'.length), /unknown value type 77/],
    ];
    for (const [name, damage, message] of cases) {
      const copy = Buffer.from(bytes.subarray(0, 4096));
      damage(copy);
      const file = path.join(dir, name);
      fs.writeFileSync(file, copy);
      await expect(inspectGguf(file), name).rejects.toMatchObject({ code: 'not_gguf', message: expect.stringMatching(message) });
    }
  });
});
