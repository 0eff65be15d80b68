import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTrainingManifest, lookForAdapter, safetensorsCompleteness } from '../../src-main/core/adapters/watch-folder.js';
import { tempDir } from '../helpers/tmp.js';
import { writeStudentPeft } from './peft-folder.js';

// Where `adapters.watch` looks, on real folders: its bounds (depth, hidden folders), which adapter wins, what a
// safetensors file must hold to be complete, and how far up a training manifest is found.
const W = 'adapter_model.safetensors';

describe('lookForAdapter', () => {
  it('looks 3 folders deep and never into hidden folders', () => {
    const dir = tempDir();
    writeStudentPeft(path.join(dir, 'a', 'b', 'c', 'd'));
    writeStudentPeft(path.join(dir, '.cache', 'adapter'));
    const look = lookForAdapter(dir);
    expect(look.found).toBeNull();
    expect(look.why).toBe(`waiting for adapter_config.json and adapter_model.safetensors in ${dir} or a subfolder`);
    expect(look.folders.map((f) => path.relative(dir, f))).toEqual(['', 'a', 'a/b', 'a/b/c']);
    writeStudentPeft(path.join(dir, 'a', 'b', 'c'));
    expect(lookForAdapter(dir).found).toMatchObject({ state: 'complete', folder: path.join(dir, 'a', 'b', 'c'), tensors: 4 });
  });

  it('takes the watched folder first, then the shallowest final adapter, before any checkpoint', () => {
    const dir = tempDir();
    const ckpt = writeStudentPeft(path.join(dir, 'checkpoint-9'));
    fs.writeFileSync(path.join(ckpt, 'trainer_state.json'), JSON.stringify({ global_step: 9, max_steps: 9 }));
    expect(lookForAdapter(dir).found?.folder).toBe(ckpt);
    writeStudentPeft(path.join(dir, 'runs', 'x', 'adapter'));
    writeStudentPeft(path.join(dir, 'out', 'adapter'));
    expect(lookForAdapter(dir).found?.folder).toBe(path.join(dir, 'out', 'adapter'));
    fs.writeFileSync(path.join(dir, 'adapter_config.json'), '{"peft_type": "LO');
    expect(lookForAdapter(dir).found).toMatchObject({
      state: 'waiting',
      folder: dir,
      why: `${path.basename(dir)}/adapter_config.json is not a complete JSON object yet`,
    });
  });
});

describe('safetensorsCompleteness', () => {
  it('is complete only at exactly 8 + header + declared data bytes', () => {
    const file = path.join(writeStudentPeft(path.join(tempDir(), 'p')), W);
    const full = fs.readFileSync(file);
    const cut = (n: number) => {
      fs.writeFileSync(file, full.subarray(0, n));
      return safetensorsCompleteness(file, n);
    };
    expect(cut(5)).toEqual({ complete: false, key: 'header', why: 'has 5 bytes: its header is not written yet' });
    expect(cut(100)).toMatchObject({ complete: false, key: 'header' });
    expect(cut(full.length - 1)).toMatchObject({ complete: false, key: 'torn' });
    expect(cut(full.length)).toEqual({ complete: true, tensors: 4 });
    const huge = Buffer.from(full);
    huge.writeBigUInt64LE(200n * 1024n * 1024n, 0);
    fs.writeFileSync(file, huge);
    expect(safetensorsCompleteness(file, huge.length)).toEqual({
      complete: false,
      key: 'bad-header',
      why: `declares a ${200 * 1024 * 1024}-byte header: not a safetensors file (yet)`,
    });
  });
});

describe('findTrainingManifest', () => {
  it('finds the manifest up to 3 folders above the watched one, and says why one does not read', () => {
    const root = tempDir();
    const dir = path.join(root, 'a', 'b', 'c', 'watched');
    const folder = path.join(dir, 'outputs', 'adapter');
    fs.mkdirSync(folder, { recursive: true });
    const manifest = { format: 'distillery-training-export', runId: 4, trainer: 'trl', dataset: { name: 'd', version: 1, versionId: 3 } };
    fs.writeFileSync(path.join(root, 'distillery-export.json'), JSON.stringify(manifest));
    expect(findTrainingManifest(folder, dir)).toBeNull(); // 4 folders above: out of reach
    fs.writeFileSync(path.join(root, 'a', 'distillery-export.json'), JSON.stringify(manifest));
    expect(findTrainingManifest(folder, dir)).toEqual({
      file: path.join(root, 'a', 'distillery-export.json'),
      manifest: { runId: 4, trainer: 'trl', dataset: { name: 'd', version: 1, versionId: 3 }, distillRunId: null },
    });
    fs.writeFileSync(path.join(dir, 'distillery-export.json'), JSON.stringify({ ...manifest, trainer: 'keras' }));
    expect(findTrainingManifest(folder, dir)).toMatchObject({ file: path.join(dir, 'distillery-export.json'), error: expect.stringMatching(/^trainer: /) });
  });
});
