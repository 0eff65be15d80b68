import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';
import { example, makeDataset, readBack, splitExamples, type Chat } from './fixture.js';
import { TRAINERS, TRAINING_MANIFEST, type Trainer, type TrainingManifest } from '../../src-shared/domain/training.js';

let ws: Workspace;
let train: Chat[];
let validation: Chat[];
beforeAll(async () => {
  ws = makeWorkspace();
  await makeDataset(
    ws,
    'support',
    Array.from({ length: 15 }, (_, i) => example(i)),
    { validation: 4, test: 2 },
  );
  train = await splitExamples(ws, 'support', 'train');
  validation = await splitExamples(ws, 'support', 'validation');
});
afterAll(() => ws.close());

async function exportFor(trainer: Trainer, extra: Record<string, unknown> = {}): Promise<{ dir: string; manifest: TrainingManifest; runId: number }> {
  const dir = path.join(tempDir(), `support-${trainer}`);
  const { runId } = await ws.client.call('training.export', { dataset: 'support', trainer, studentHfId: 'Qwen/Qwen2.5-0.5B-Instruct', outDir: dir, ...extra });
  const end = await ws.app.runner.waitFor(runId);
  expect(end.error ?? null).toBeNull();
  expect(end.status).toBe('succeeded');
  return { dir, runId, manifest: JSON.parse(fs.readFileSync(path.join(dir, TRAINING_MANIFEST), 'utf8')) as TrainingManifest };
}

/** The data files a recipe names, relative to the folder. */
function namedFiles(trainer: Trainer, dir: string): string[] {
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  switch (trainer) {
    case 'axolotl': {
      const y = parse(read('axolotl.yaml')) as { datasets: { path: string }[]; test_datasets?: { path: string }[]; output_dir: string };
      return [...y.datasets, ...(y.test_datasets ?? [])].map((d) => d.path);
    }
    case 'llamafactory': {
      const y = parse(read('llamafactory.yaml')) as { dataset_dir: string; dataset: string; eval_dataset?: string };
      const info = JSON.parse(read(path.join(y.dataset_dir, 'dataset_info.json'))) as Record<string, { file_name: string; columns: Record<string, string> }>;
      return [y.dataset, ...(y.eval_dataset ? [y.eval_dataset] : [])].map((name) => {
        expect(info[name], `dataset_info.json declares ${name}`).toBeDefined();
        const file = path.posix.join(y.dataset_dir, info[name]!.file_name);
        // every column it declares is a field of the file's records
        const fields = new Set(
          read(file)
            .trim()
            .split('\n')
            .flatMap((l) => Object.keys(JSON.parse(l) as object)),
        );
        for (const column of Object.values(info[name]!.columns)) expect(fields.has(column), `${file} has ${column}`).toBe(true);
        expect(Object.keys(info[name]!.columns).sort()).toEqual(['messages', 'system', 'tools']);
        return file;
      });
    }
    case 'trl':
    case 'unsloth': {
      const script = read(trainer === 'trl' ? 'train_trl.py' : 'train_unsloth.py');
      return ['TRAIN_FILE', 'VALIDATION_FILE'].map((k) => JSON.parse(new RegExp(`^${k} = (".*")$`, 'm').exec(script)![1]!) as string);
    }
  }
}

/**
 * An example as LLaMA-Factory's ShareGPT holds it: tool-call ids are not part of it (function_call turns carry name and
 * arguments only), and the results of parallel calls are one observation turn holding a JSON list of them.
 */
const asShareGpt = (examples: Chat[]) =>
  examples.map((e) => {
    const messages: Chat['messages'] = [];
    for (let i = 0; i < e.messages.length; i++) {
      const { tool_call_id: _, ...m } = e.messages[i]!;
      if (m.role === 'tool' && e.messages[i + 1]?.role === 'tool') {
        const results = [m.content];
        while (e.messages[i + 1]?.role === 'tool') results.push(e.messages[++i]!.content);
        messages.push({ role: 'tool', content: JSON.stringify(results) });
      } else messages.push({ ...m, ...(m.tool_calls ? { tool_calls: m.tool_calls.map(({ id: _id, ...c }) => c) } : {}) });
    }
    return { ...e, messages };
  });

describe('training export', () => {
  for (const trainer of TRAINERS) {
    it(`writes a whole ${trainer} folder: recipe parses, names files that exist, data round-trips, manifest matches`, async () => {
      const { dir, manifest, runId } = await exportFor(trainer, { recipe: { loraRank: 8, epochs: 2 } });
      expect(fs.readdirSync(path.dirname(dir))).toEqual([path.basename(dir)]); // no partial folder beside it
      expect(manifest).toMatchObject({
        format: 'distillery-training-export',
        runId,
        trainer,
        dataset: { name: 'support', version: 2 },
        studentHfId: 'Qwen/Qwen2.5-0.5B-Instruct',
        counts: { train: train.length, validation: validation.length, kd: null },
        adapterDir: 'outputs/adapter',
        recipe: { loraRank: 8, loraAlpha: 32, epochs: 2, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
      });
      expect(train.length).toBe(9);
      // every file but the manifest is listed, with its size and hash; data files with their record counts
      const onDisk: string[] = [];
      const walk = (rel: string) => {
        for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
          const r = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) walk(r);
          else if (r !== TRAINING_MANIFEST) onDisk.push(r);
        }
      };
      walk('');
      expect(manifest.files.map((f) => f.path).sort()).toEqual(onDisk.sort());
      for (const f of manifest.files) {
        const bytes = fs.readFileSync(path.join(dir, f.path));
        expect(f.bytes).toBe(bytes.length);
        expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
        if (f.path.endsWith('.jsonl')) expect(f.records).toBe(bytes.toString('utf8').trim().split('\n').length);
      }
      // the recipe parses and names the data files, which exist and are the ones the manifest counts
      const named = namedFiles(trainer, dir);
      expect(named).toEqual(['data/train.jsonl', 'data/validation.jsonl']);
      for (const f of named) expect(fs.existsSync(path.join(dir, f))).toBe(true);
      expect(manifest.files.find((f) => f.path === 'data/train.jsonl')!.records).toBe(train.length);
      expect(manifest.files.find((f) => f.path === 'data/validation.jsonl')!.records).toBe(validation.length);
      for (const f of onDisk.filter((p) => p.endsWith('.py'))) execFileSync('python3', ['-m', 'py_compile', path.join(dir, f)]);
      for (const f of onDisk.filter((p) => p.endsWith('.yaml'))) {
        const y = parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
        expect(y.output_dir).toBe('outputs/adapter');
        expect(y[trainer === 'axolotl' ? 'lora_r' : 'lora_rank']).toBe(8);
      }
      // same conversations back, tool calls and tool definitions kept
      const back = named.map((f) => readBack(path.join(dir, f)));
      const form = trainer === 'llamafactory' ? asShareGpt : (x: Chat[]) => x;
      expect(form(back[0]!)).toEqual(form(train));
      expect(form(back[1]!)).toEqual(form(validation));
      expect(train.some((e) => e.messages.some((m) => (m.tool_calls?.length ?? 0) === 2) && e.tools?.length === 1)).toBe(true);
      // the README says the one command, where the adapter goes and how to bring it back
      const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
      expect(readme).toContain(manifest.command);
      expect(readme).toContain(`distillery adapters watch "${dir}/outputs/adapter"`);
      expect(readme).toMatch(/roughly \d+ GB of GPU memory/);
      expect((await ws.client.call('training.manifest', { runId })).files).toEqual(manifest.files);
      const run = await ws.client.call('runs.get', { id: runId });
      expect(run.lineage).toEqual(
        expect.arrayContaining([
          { direction: 'input', kind: 'dataset', ref: 'support', label: 'support@2' },
          { direction: 'output', kind: 'file', ref: dir, label: path.basename(dir) },
        ]),
      );
      expect(run.metrics.find((m) => m.name === 'examples_train')?.value).toBe(train.length);
    });
  }

  it('writes the recipe choices into the axolotl YAML and the TRL script', async () => {
    const recipe = {
      loraRank: 32,
      loraAlpha: 64,
      loraDropout: 0.1,
      targetModules: ['q_proj', 'v_proj'],
      epochs: 1,
      learningRate: 1e-4,
      maxLength: 1024,
      microBatchSize: 4,
      gradientAccumulation: 2,
      seed: 7,
    };
    const a = await exportFor('axolotl', { recipe, validation: 'none' });
    const y = parse(fs.readFileSync(path.join(a.dir, 'axolotl.yaml'), 'utf8')) as Record<string, unknown>;
    expect(y).toMatchObject({
      base_model: 'Qwen/Qwen2.5-0.5B-Instruct',
      adapter: 'lora',
      lora_r: 32,
      lora_alpha: 64,
      lora_dropout: 0.1,
      lora_target_modules: ['q_proj', 'v_proj'],
      num_epochs: 1,
      learning_rate: 1e-4,
      sequence_len: 1024,
      micro_batch_size: 4,
      gradient_accumulation_steps: 2,
      seed: 7,
      val_set_size: 0,
    });
    expect(y.test_datasets).toBeUndefined();
    expect(a.manifest.counts.validation).toBe(0);
    expect(fs.existsSync(path.join(a.dir, 'data/validation.jsonl'))).toBe(false);
    const t = await exportFor('trl', { recipe });
    const script = fs.readFileSync(path.join(t.dir, 'train_trl.py'), 'utf8');
    for (const line of [
      'LORA_RANK = 32',
      'LORA_ALPHA = 64',
      'LORA_DROPOUT = 0.1',
      'TARGET_MODULES = ["q_proj", "v_proj"]',
      'LEARNING_RATE = 0.0001',
      'MAX_LENGTH = 1024',
      'SEED = 7',
    ]) {
      expect(script).toContain(line);
    }
  });
});
