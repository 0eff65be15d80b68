import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../helpers/workspace.js';
import { REPO } from '../helpers/server.js';
import { fixtureModel } from '../fixtures/models.js';
import { example, makeDataset } from './fixture.js';
import { harness, kdWriter } from './harness.js';
import { contract, type OpInput } from '../../src-shared/contract/index.js';
import { TRAINING_MANIFEST, type TrainingManifest } from '../../src-shared/domain/training.js';

const HF = 'Qwen/Qwen2.5-0.5B-Instruct';
let ws: Workspace;
beforeAll(async () => {
  ws = makeWorkspace();
  await makeDataset(
    ws,
    'support',
    Array.from({ length: 12 }, (_, i) => example(i)),
    { validation: 3, test: 1 },
  );
});
afterAll(() => ws.close());

const start = (input: Partial<OpInput<'training.export'>>) =>
  ws.client.call('training.export', { dataset: 'support', trainer: 'trl', studentHfId: HF, outDir: '', ...input });

describe('training export refuses bad input', () => {
  it('refuses an output folder that exists and is not empty, unless force; force replaces it whole', async () => {
    const dir = path.join(tempDir(), 'taken');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    await expect(start({ outDir: dir })).rejects.toMatchObject({
      code: 'file_exists',
      field: 'outDir',
      message: `${dir} exists and is not empty; choose another folder or replace it (--force)`,
    });
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
    const { runId } = await start({ outDir: dir, force: true });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    expect(fs.existsSync(path.join(dir, 'notes.txt'))).toBe(false);
    expect((JSON.parse(fs.readFileSync(path.join(dir, TRAINING_MANIFEST), 'utf8')) as TrainingManifest).runId).toBe(runId);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['taken']); // nothing moved aside left behind
    // an empty folder is used as it is
    const empty = path.join(tempDir(), 'empty');
    fs.mkdirSync(empty);
    expect((await ws.app.runner.waitFor((await start({ outDir: empty })).runId)).status).toBe('succeeded');
  });

  it('a run resumed after its folder was in place writes it again; another run may not', async () => {
    const dir = path.join(tempDir(), 'resumed');
    const { runId } = await start({ outDir: dir });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    // as if the process died after the rename, before the run was marked succeeded
    ws.app.db.prepare(`UPDATE runs SET status = 'interrupted' WHERE id = ?`).run(runId);
    await ws.client.call('runs.resume', { id: runId });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    expect((JSON.parse(fs.readFileSync(path.join(dir, TRAINING_MANIFEST), 'utf8')) as TrainingManifest).runId).toBe(runId);
    await expect(start({ outDir: dir })).rejects.toMatchObject({ code: 'file_exists' });
  });

  it('refuses a relative folder, a missing parent, a file, and the data folder', async () => {
    await expect(start({ outDir: 'out/here' })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'outDir',
      message: expect.stringContaining('absolute path'),
    });
    const missing = path.join(tempDir(), 'no', 'such');
    await expect(start({ outDir: missing })).rejects.toMatchObject({
      code: 'file_missing',
      message: `the folder ${path.dirname(missing)} does not exist; create it first`,
    });
    const file = path.join(tempDir(), 'file.txt');
    fs.writeFileSync(file, 'x');
    await expect(start({ outDir: file, force: true })).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('is not a folder') });
    await expect(start({ outDir: path.join(ws.dir, 'export') })).rejects.toMatchObject({ message: expect.stringContaining("inside Distillery's data folder") });
    await expect(start({ outDir: path.join(tempDir(), 'x'), studentHfId: 'qwen' })).rejects.toMatchObject({ field: 'studentHfId' });
  });

  it('refuses KD with another trainer than Axolotl, saying why', async () => {
    await expect(start({ outDir: path.join(tempDir(), 'kd'), kd: { studentModelId: 1 } })).rejects.toMatchObject({
      field: 'kd',
      message: expect.stringContaining('only Axolotl has a KD trainer reading offline logprobs'),
    });
  });

  it('fails a version with no training example, saying so', async () => {
    // prompts only: nothing to learn from, the run fails and makes no folder
    await makeDataset(ws, 'prompts', [{ prompt: 'Why?' }, { prompt: 'How?' }]);
    const dir = path.join(tempDir(), 'prompts');
    const { runId } = await ws.client.call('training.export', { dataset: 'prompts', trainer: 'axolotl', studentHfId: HF, outDir: dir });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('failed');
    expect(end.error).toBe('prompts@1 has 0 training examples (left out: 2 no assistant answer to learn from); nothing to train on');
    expect(fs.readdirSync(path.dirname(dir))).toEqual([]);
    // a split with no train example is refused before a run starts
    await makeDataset(ws, 'alltest', [example(1), example(2)], { validation: 1, test: 1 });
    await expect(ws.client.call('training.export', { dataset: 'alltest', trainer: 'trl', studentHfId: HF, outDir: dir })).rejects.toMatchObject({
      message: 'alltest@2 has 0 examples in its train split; nothing to train on',
    });
  });

  it('leaves out, and names, conversations LLaMA-Factory would skip', async () => {
    const both = {
      messages: [
        { role: 'user', content: 'Order A-1?' },
        { role: 'assistant', content: 'Let me look.', tool_calls: [{ id: 'c', type: 'function', function: { name: 'get_order', arguments: '{"id":"A-1"}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'shipped' },
        { role: 'assistant', content: 'Shipped.' },
      ],
    };
    await makeDataset(ws, 'mixed', [both, example(1)]);
    const dir = path.join(tempDir(), 'mixed');
    const { runId } = await ws.client.call('training.export', { dataset: 'mixed', trainer: 'llamafactory', studentHfId: HF, outDir: dir });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const m = JSON.parse(fs.readFileSync(path.join(dir, TRAINING_MANIFEST), 'utf8')) as TrainingManifest;
    expect(m.counts).toEqual({ train: 1, validation: 0, kd: null });
    expect(m.skipped).toEqual([{ reason: expect.stringContaining('LLaMA-Factory needs turns alternating'), count: 1 }]);
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('Left out: 1 example(s): LLaMA-Factory needs turns alternating');
    // no record has tools: the column is not declared (LLaMA-Factory's converter reads every declared column)
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'data/dataset_info.json'), 'utf8')) as Record<string, { columns: Record<string, string> }>;
    expect(info.distillery_train!.columns).toEqual({ messages: 'conversations', system: 'system' });
  });
});

describe('training export with soft labels, cancelled and killed', () => {
  let student: string;
  beforeAll(async () => {
    student = await fixtureModel('student');
  });

  it('writes the Axolotl KD recipe over the KD file, and refuses what the KD check refuses before a run', async () => {
    const dataDir = tempDir();
    const w = makeWorkspace({ dataDir });
    await makeDataset(
      w,
      'support',
      Array.from({ length: 12 }, (_, i) => example(i)),
      { validation: 3, test: 1 },
    );
    const model = await w.client.call('models.add', { path: student });
    await w.close();
    const k = harness(dataDir);
    try {
      const dir = path.join(tempDir(), 'kd');
      const input = contract['training.export'].input.parse({
        dataset: 'support',
        trainer: 'axolotl',
        studentHfId: HF,
        kd: { studentModelId: model.id },
        outDir: dir,
      });
      const { runId } = await k.training.start(input);
      const end = await k.runner.waitFor(runId);
      expect(end.error ?? null).toBeNull();
      const y = parse(fs.readFileSync(path.join(dir, 'axolotl.yaml'), 'utf8')) as Record<string, unknown>;
      expect(y).toMatchObject({
        plugins: ['axolotl.integrations.kd.KDPlugin'],
        kd_trainer: true,
        datasets: [
          { path: 'data/kd.jsonl', type: 'axolotl.integrations.kd.chat_template', field_messages: 'messages', logprobs_field: 'logprobs', temperature: 0.7 },
        ],
      });
      expect(fs.existsSync(path.join(dir, 'data/kd.jsonl'))).toBe(true);
      const m = JSON.parse(fs.readFileSync(path.join(dir, TRAINING_MANIFEST), 'utf8')) as TrainingManifest;
      expect(m.counts.kd).toBe(1);
      expect(m.kd).toMatchObject({ file: 'data/kd.jsonl', k: 2, temperature: 0.7, distillRunId: 42 });
      expect(m.files.find((f) => f.path === 'data/kd.jsonl')?.records).toBe(1);
      expect(k.runner.store.detail(runId).lineage).toEqual(
        expect.arrayContaining([{ direction: 'input', kind: 'model', ref: String(model.id), label: model.name }]),
      );
      // the KD check runs before a run is created: its refusal is the start's answer
      const broken = path.join(tempDir(), 'broken.gguf');
      fs.copyFileSync(student, broken);
      const brokenModel = await k.models.add(broken);
      fs.writeFileSync(broken, 'not a model any more');
      const before = k.runner.store.list({ limit: 100 }).length;
      await expect(k.training.start({ ...input, kd: { studentModelId: brokenModel.id }, outDir: path.join(tempDir(), 'kd2') })).rejects.toMatchObject({
        field: 'kd',
        message: `${brokenModel.name} is not a GGUF: no vocabulary to map the soft labels into`,
      });
      expect(k.runner.store.list({ limit: 100 })).toHaveLength(before);
    } finally {
      await k.close();
    }
  });

  it('a cancelled export leaves no folder and no partial folder', async () => {
    const dataDir = tempDir();
    const w = makeWorkspace({ dataDir });
    await makeDataset(
      w,
      'support',
      Array.from({ length: 6 }, (_, i) => example(i)),
    );
    const model = await w.client.call('models.add', { path: student });
    await w.close();
    let holding = false;
    const k = harness(dataDir, kdWriter({ hold: () => (holding = true) }));
    try {
      const parent = tempDir();
      const dir = path.join(parent, 'kd');
      const input = contract['training.export'].input.parse({
        dataset: 'support',
        trainer: 'axolotl',
        studentHfId: HF,
        kd: { studentModelId: model.id },
        outDir: dir,
      });
      const { runId } = await k.training.start(input);
      await waitUntil(() => holding, 20_000, 'the KD writer to hold');
      expect(fs.readdirSync(parent)).toEqual([`kd.partial-${runId}`]); // midway: the folder half assembled
      k.runner.cancel(runId);
      expect((await k.runner.waitFor(runId)).status).toBe('cancelled');
      expect(fs.readdirSync(parent)).toEqual([]);
    } finally {
      await k.close();
    }
  });

  it('a killed export leaves no partial folder once the app starts again', async () => {
    const dataDir = tempDir();
    const w = makeWorkspace({ dataDir });
    await makeDataset(
      w,
      'support',
      Array.from({ length: 6 }, (_, i) => example(i)),
    );
    const model = await w.client.call('models.add', { path: student });
    await w.close();
    const parent = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/training/kill-child.ts', dataDir, path.join(parent, 'kd'), String(model.id)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    await waitUntil(() => out.includes('HOLDING') || child.exitCode !== null, 60_000, 'the child to hold');
    expect(out).toContain('HOLDING');
    expect(fs.readdirSync(parent)).toEqual([expect.stringMatching(/^kd\.partial-\d+$/)]);
    child.kill('SIGKILL');
    await exited;
    expect(fs.readdirSync(parent)).toHaveLength(1); // still there: nobody cleaned up
    const again = makeWorkspace({ dataDir });
    try {
      expect(fs.readdirSync(parent)).toEqual([]);
      const runs = await again.client.call('runs.list', {});
      expect(runs.find((r) => r.kind === 'training.export')?.status).toBe('interrupted');
    } finally {
      await again.close();
    }
  });
});
