import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureModel } from '../fixtures/models.js';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../helpers/workspace.js';
import { dataStart, ggufTensors, peftConfigText, startTrainer, writeStudentPeft, type Trainer } from './peft-folder.js';
import { nowIso } from '../../src-main/core/store/db.js';
import type { JobKindName } from '../../src-shared/contract/index.js';
import type { RunDetail } from '../../src-shared/domain/runs.js';
import { TRAINING_MANIFEST, type TrainingManifest } from '../../src-shared/domain/training.js';

// `adapters.watch` on real folders, a real SQLite library and the real PEFT importer (no inference): the trainer is a
// child process writing the adapter in pieces, one step at a time when the test says so.
const W = 'adapter_model.safetensors';
const open: Workspace[] = [];
const trainers: Trainer[] = [];
afterEach(async () => {
  for (const t of trainers.splice(0)) t.proc.kill();
  for (const ws of open.splice(0)) await ws.close();
});

async function fresh(): Promise<{ ws: Workspace; student: number }> {
  const ws = makeWorkspace();
  open.push(ws);
  return { ws, student: (await ws.client.call('models.add', { path: await fixtureModel('student') })).id };
}

const detail = (ws: Workspace, id: number) => ws.client.call('runs.get', { id });
/** Until the run's progress message or one of its logs matches (the watcher has looked at the folder as it is now). */
async function until(ws: Workspace, id: number, re: RegExp): Promise<RunDetail> {
  let last: RunDetail | null = null;
  await waitUntil(
    async () => {
      last = await detail(ws, id);
      return re.test(last.progress.message) || last.logs.some((l) => re.test(l.message));
    },
    30_000,
    `run ${id} to show ${re}`,
  );
  return last!;
}
const bytes = (n: number) => `${n.toLocaleString('en-US')} bytes`;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('adapters.watch', () => {
  it('imports an adapter a trainer writes in pieces only once it is complete, exactly once, equal to a direct import', async () => {
    const { ws, student } = await fresh();
    const finished = writeStudentPeft(path.join(tempDir(), 'finished'));
    const out = path.join(tempDir(), 'outputs');
    fs.mkdirSync(out);
    const { runId } = await ws.client.call('adapters.watch', { dir: out, baseModelId: student });
    await until(ws, runId, /waiting for adapter_config\.json and adapter_model\.safetensors in/);

    const size = fs.statSync(path.join(finished, W)).size;
    const start = dataStart(path.join(finished, W));
    const config = Buffer.byteLength(peftConfigText());
    const trainer = startTrainer(finished, out, [
      { file: 'adapter_config.json', from: 0, to: 20 },
      { file: 'adapter_config.json', from: 20, to: config },
      { file: W, from: 0, to: start - 40 },
      { file: W, from: start - 40, to: start + 1000, pieces: 3 },
      { file: W, from: start + 1000, to: size - 7, pieces: 4 },
      { file: W, from: size - 7, to: size },
    ]);
    trainers.push(trainer);
    const seen = [
      /outputs\/adapter_config\.json is not a complete JSON object yet/,
      /outputs: waiting for adapter_model\.safetensors/,
      new RegExp(`outputs/${esc(W)} has ${bytes(start - 40)} of at least ${bytes(start)}: its header is not complete`),
      new RegExp(`has ${bytes(start + 1000)} of the ${bytes(size)} its header declares`),
      new RegExp(`has ${bytes(size - 7)} of the ${bytes(size)} its header declares`),
    ];
    for (const re of seen) {
      await trainer.step();
      const run = await until(ws, runId, re);
      expect(run.status).toBe('running');
      expect(await ws.client.call('adapters.list', {})).toEqual([]);
    }
    await trainer.step();
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('succeeded');

    const run = await detail(ws, runId);
    const list = await ws.client.call('adapters.list', {});
    expect(list).toHaveLength(1);
    const a = list[0]!;
    expect(a).toMatchObject({ name: 'outputs', source: { format: 'peft', path: out }, tensorCount: 4, rank: 4, alpha: 8, targets: ['attn_q'] });
    expect(run.itemsDone).toBe(1);
    expect(run.logs.filter((l) => l.message.startsWith('Imported ')).map((l) => l.message)).toEqual([
      `Imported ${out} as adapter ${a.id} (outputs): 4 tensors, rank 4, alpha 8.`,
    ]);
    // each kind of wait was logged once, however often the watcher looked
    expect(run.logs.filter((l) => /its header declares/.test(l.message))).toHaveLength(1);
    expect(run.lineage).toEqual(
      expect.arrayContaining([
        { direction: 'input', kind: 'file', ref: out, label: 'outputs' },
        { direction: 'input', kind: 'model', ref: String(student), label: expect.any(String) },
        { direction: 'output', kind: 'adapter', ref: String(a.id), label: 'outputs' },
      ]),
    );
    expect(run.lineage.filter((l) => l.kind === 'run' || l.kind === 'dataset')).toEqual([]);
    expect(a.note).toBe(`Trained outside the app; imported by watch run ${runId} from ${out}.`);
    expect(run.metrics).toEqual([{ name: 'adapter_bytes', value: size, unit: 'bytes', step: null }]);

    const direct = await ws.client.call('adapters.import', { path: finished, baseModelId: student, name: 'direct' });
    expect(ggufTensors(a.path)).toEqual(ggufTensors(direct.path));
    expect(ggufTensors(a.path)).toHaveLength(4);
  });

  it('never imports a torn safetensors file (its header declares more data): waits, and imports it once it is completed', async () => {
    const { ws, student } = await fresh();
    const finished = writeStudentPeft(path.join(tempDir(), 'finished'), 7);
    const full = fs.readFileSync(path.join(finished, W));
    const out = path.join(tempDir(), 'torn');
    fs.mkdirSync(out);
    fs.copyFileSync(path.join(finished, 'adapter_config.json'), path.join(out, 'adapter_config.json'));
    fs.writeFileSync(path.join(out, W), full.subarray(0, full.length - 100));
    const { runId } = await ws.client.call('adapters.watch', { dir: out, baseModelId: student, name: 'mended' });
    const torn = new RegExp(`torn/${esc(W)} has ${bytes(full.length - 100)} of the ${bytes(full.length)} its header declares`);
    let run = await until(ws, runId, torn);
    expect(run.status).toBe('running');
    expect(run.logs.map((l) => l.message)).toContain(`Waiting: ${run.progress.message}.`);
    // and one byte too many is no more complete than one too few
    fs.writeFileSync(path.join(out, W), Buffer.concat([full, Buffer.from([0])]));
    run = await until(ws, runId, new RegExp(`has ${bytes(full.length + 1)}, more than the ${bytes(full.length)} its header declares`));
    expect(run.status).toBe('running');
    expect(await ws.client.call('adapters.list', {})).toEqual([]);

    fs.writeFileSync(path.join(out, W), full); // the trainer saves again, completely
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const [a, ...rest] = await ws.client.call('adapters.list', {});
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ name: 'mended', tensorCount: 4 });
    const direct = await ws.client.call('adapters.import', { path: finished, baseModelId: student, name: 'direct' });
    expect(ggufTensors(a!.path)).toEqual(ggufTensors(direct.path));
  });

  it('refuses a .bin adapter, fails with the importer’s reason on the wrong base, gives up at its timeout, stops on cancel', async () => {
    const { ws, student } = await fresh();
    const bin = path.join(tempDir(), 'bin-only');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'adapter_config.json'), peftConfigText());
    fs.writeFileSync(path.join(bin, 'adapter_model.bin'), 'PK\x03\x04 a torch pickle');
    const r1 = await ws.client.call('adapters.watch', { dir: bin, baseModelId: student });
    expect(await ws.app.runner.waitFor(r1.runId)).toMatchObject({
      status: 'failed',
      error: 'bin-only/adapter_model.bin: only safetensors adapters are imported; save it with safe_serialization=True (adapter_model.safetensors)',
    });

    const teacher = (await ws.client.call('models.add', { path: await fixtureModel('teacher') })).id;
    const forStudent = writeStudentPeft(path.join(tempDir(), 'for-student'));
    const r2 = await ws.client.call('adapters.watch', { dir: forStudent, baseModelId: teacher });
    const wrong = await ws.app.runner.waitFor(r2.runId);
    expect(wrong.status).toBe('failed');
    expect(wrong.error).toMatch(/^adapter_model\.safetensors: .* in teacher\.gguf has ne \[512, 512\] \(wrong base model\?\)$/);
    // the importer's own reason, word for word
    await expect(ws.client.call('adapters.import', { path: forStudent, baseModelId: teacher })).rejects.toMatchObject({ message: wrong.error });

    const empty = tempDir();
    const r3 = await ws.client.call('adapters.watch', { dir: empty, baseModelId: student, timeoutMinutes: 0.002 });
    expect(await ws.app.runner.waitFor(r3.runId)).toMatchObject({
      status: 'failed',
      error: `no complete adapter appeared in ${empty} in the time given; the last look: waiting for adapter_config.json and adapter_model.safetensors in ${empty} or a subfolder`,
    });

    const r4 = await ws.client.call('adapters.watch', { dir: path.join(empty, 'not-yet'), baseModelId: student });
    await until(ws, r4.runId, /waiting for the folder .*not-yet to appear/);
    await ws.client.call('runs.cancel', { id: r4.runId });
    expect((await ws.app.runner.waitFor(r4.runId)).status).toBe('cancelled');
    expect(await ws.client.call('adapters.list', {})).toEqual([]);
  });

  it('refuses at once a relative path, a file, a folder with no parent (outside a training folder), a taken name', async () => {
    const { ws, student } = await fresh();
    const call = (input: Record<string, unknown>) => ws.client.call('adapters.watch', { baseModelId: student, ...input } as never);
    await expect(call({ dir: 'outputs/adapter' })).rejects.toMatchObject({ code: 'invalid_input', field: 'dir' });
    const file = path.join(tempDir(), 'notes.txt');
    fs.writeFileSync(file, 'x');
    await expect(call({ dir: file })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'dir',
      message: `${file} is a file: give the trainer's output folder`,
    });
    await expect(call({ dir: path.join(tempDir(), 'a', 'b') })).rejects.toMatchObject({ code: 'file_missing', field: 'dir' });
    // below a training folder the trainer makes outputs/adapter itself: watching it before training starts is accepted
    const exported = tempDir();
    fs.writeFileSync(path.join(exported, 'distillery-export.json'), '{}');
    const { runId } = await call({ dir: path.join(exported, 'outputs', 'adapter') });
    await ws.client.call('runs.cancel', { id: runId });
    await ws.client.call('adapters.import', { path: writeStudentPeft(path.join(tempDir(), 'x')), baseModelId: student, name: 'taken' });
    await expect(call({ dir: tempDir(), name: 'taken' })).rejects.toMatchObject({ code: 'conflict', field: 'name' });
  });
});

describe('adapters.watch lineage', () => {
  function manifest(runId: number, adapterDir = 'outputs/adapter'): TrainingManifest {
    return {
      format: 'distillery-training-export',
      formatVersion: 1,
      runId,
      createdAt: nowIso(),
      trainer: 'axolotl',
      dataset: { name: 'support', version: 2, versionId: 7 },
      distillRunId: null,
      studentHfId: 'tiny/student',
      counts: { train: 10, validation: 2, kd: null },
      adapterDir,
      versionRunId: null,
      recipe: {
        loraRank: 4,
        loraAlpha: 8,
        loraDropout: 0,
        targetModules: ['q_proj'],
        epochs: 1,
        learningRate: 1e-4,
        maxLength: 256,
        microBatchSize: 1,
        gradientAccumulation: 1,
        seed: 1,
      },
      command: 'axolotl train axolotl.yaml',
      kd: null,
      files: [],
    };
  }
  /** A finished `training.export` run in the library, as the export job leaves one. */
  function exportRun(ws: Workspace): number {
    const store = ws.app.runner.store;
    const id = store.insert('training.export' as JobKindName, 'Export support@2 for axolotl', {}, nowIso());
    store.finish(id, 'succeeded', null, nowIso());
    return id;
  }

  it('links the adapter to the export run and dataset version of the training folder, skipping intermediate checkpoints', async () => {
    const { ws, student } = await fresh();
    const exportId = exportRun(ws);
    const training = path.join(tempDir(), 'support-axolotl');
    fs.mkdirSync(training);
    fs.writeFileSync(path.join(training, TRAINING_MANIFEST), JSON.stringify(manifest(exportId)));
    const ckpt = writeStudentPeft(path.join(training, 'outputs', 'adapter', 'checkpoint-1'), 4);
    fs.writeFileSync(path.join(ckpt, 'trainer_state.json'), JSON.stringify({ global_step: 1, max_steps: 2 }));
    const { runId } = await ws.client.call('adapters.watch', { dir: path.join(training, 'outputs'), baseModelId: student });
    await until(ws, runId, /adapter\/checkpoint-1 is an intermediate checkpoint \(step 1 of 2\): waiting for the final adapter/);
    const final = writeStudentPeft(path.join(tempDir(), 'final'), 5);
    fs.cpSync(final, path.join(training, 'outputs', 'adapter'), { recursive: true });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');

    const run = await detail(ws, runId);
    const [a] = await ws.client.call('adapters.list', {});
    expect(a).toMatchObject({
      name: 'support-v2-axolotl',
      source: { path: path.join(training, 'outputs', 'adapter') },
      note: `Trained by axolotl from export run ${exportId} (support@2); imported by watch run ${runId} from ${path.join(training, 'outputs', 'adapter')}.`,
    });
    expect(run.lineage).toEqual(
      expect.arrayContaining([
        { direction: 'input', kind: 'run', ref: String(exportId), label: `training export run ${exportId} (axolotl)` },
        { direction: 'input', kind: 'dataset', ref: 'support', label: 'support@2' },
        { direction: 'input', kind: 'file', ref: path.join(training, 'outputs'), label: 'outputs' },
        { direction: 'input', kind: 'model', ref: String(student), label: expect.any(String) },
        { direction: 'output', kind: 'adapter', ref: String(a!.id), label: 'support-v2-axolotl' },
      ]),
    );
    expect(run.lineage).toHaveLength(5);
    expect(ggufTensors(a!.path)).toEqual(ggufTensors((await ws.client.call('adapters.import', { path: final, baseModelId: student, name: 'd' })).path));
  });

  it('imports the last checkpoint when the trainer saved only checkpoints; a manifest naming another library’s run links nothing', async () => {
    const { ws, student } = await fresh();
    const out = path.join(tempDir(), 'trl-out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, TRAINING_MANIFEST), JSON.stringify(manifest(999)));
    const state = (dir: string, step: number) => fs.writeFileSync(path.join(dir, 'trainer_state.json'), JSON.stringify({ global_step: step, max_steps: 4 }));
    state(writeStudentPeft(path.join(out, 'checkpoint-2'), 8), 2);
    const { runId } = await ws.client.call('adapters.watch', { dir: out, baseModelId: student });
    await until(ws, runId, /checkpoint-2 is an intermediate checkpoint \(step 2 of 4\)/);
    const last = writeStudentPeft(path.join(tempDir(), 'checkpoint-4'), 9);
    state(last, 4);
    fs.cpSync(last, path.join(out, 'checkpoint-4'), { recursive: true });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const run = await detail(ws, runId);
    const [a] = await ws.client.call('adapters.list', {});
    expect(a).toMatchObject({ name: 'support-v2-axolotl-checkpoint-4', source: { path: path.join(out, 'checkpoint-4') } });
    expect(run.logs.map((l) => l.message)).toContain(
      `${path.join(out, TRAINING_MANIFEST)} names export run 999, which is not in this library: the adapter is not linked to it.`,
    );
    expect(run.lineage.map((l) => `${l.direction} ${l.kind}`).sort()).toEqual(['input file', 'input model', 'output adapter']);
    expect(ggufTensors(a!.path)).toEqual(ggufTensors((await ws.client.call('adapters.import', { path: last, baseModelId: student, name: 'd' })).path));
  });
});
