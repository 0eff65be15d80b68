import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, type Workspace } from '../../helpers/workspace.js';
import { fixtureAdapter, fixtureModel, fixtureSpec } from '../../fixtures/models.js';
import { writeSyntheticLora } from '../../../src-main/core/gguf/synthetic.js';
import { writeSafetensors } from '../../../src-main/core/adapters/safetensors.js';
import { recordPlaygroundEvents } from '../../playground/recorder.js';
import { mulberry32 } from '../../../src-main/core/random.js';

// The Adapters area through the contract, as the UI and the CLI use it: a real SQLite library, real node-llama-cpp on
// the fixture student with real LoRA files (GGUF, and PEFT converted in the app).
let ws: Workspace;
let student: number;
let teacher: number;
let loraA: number;
let loraB: number;
let textFile: string;

/** Deterministic English-ish text, long enough for several 128-token chunks. */
function sampleText(words: number, seed: number): string {
  const vocab = 'the printer paper tray error toner page driver cable network update firmware jam fix check replace restart setting color scan'.split(' ');
  const next = mulberry32(seed);
  return Array.from({ length: words }, (_, i) => vocab[Math.floor(next() * vocab.length)]! + (i % 12 === 11 ? '.\n' : ' ')).join('');
}

async function waitRun(runId: number) {
  const end = await ws.app.runner.waitFor(runId);
  expect(end.error).toBeNull();
  return ws.client.call('runs.get', { id: runId });
}
const metric = (run: { metrics: { name: string; value: number }[] }, name: string) => run.metrics.find((m) => m.name === name)!.value;

beforeAll(async () => {
  ws = makeWorkspace();
  student = (await ws.client.call('models.add', { path: await fixtureModel('student'), roles: ['student'] })).id;
  teacher = (await ws.client.call('models.add', { path: await fixtureModel('teacher'), roles: ['teacher'] })).id;
  const b = path.join(tempDir(), 'lora-b.gguf');
  writeSyntheticLora(b, { base: fixtureSpec('student'), rank: 4, alpha: 4, targets: ['attn_k', 'attn_output'], seed: 11, scale: 0.2 });
  loraA = (await ws.client.call('adapters.import', { path: await fixtureAdapter('student-lora'), baseModelId: student, name: 'A' })).id;
  loraB = (await ws.client.call('adapters.import', { path: b, baseModelId: student, name: 'B' })).id;
  textFile = path.join(tempDir(), 'text.txt');
  fs.writeFileSync(textFile, sampleText(1500, 5));
});
afterAll(async () => {
  await ws?.close();
});

describe('adapters through the contract', () => {
  it('lists what an adapter is, and refuses one that does not fit a base with the tensor and shapes named', async () => {
    const list = await ws.client.call('adapters.list', {});
    expect(list.map((a) => a.name)).toEqual(['A', 'B']);
    expect(list[0]).toMatchObject({
      arch: 'llama',
      rank: 8,
      alpha: 16,
      targets: ['attn_q', 'attn_v'],
      layers: 2,
      source: { format: 'gguf' },
      base: { modelId: student },
      status: 'ok',
    });
    await expect(ws.client.call('adapters.check', { id: loraA, modelId: teacher })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/blk\.0\.attn_q\.weight.*\[512, 512\].*\[256, 8\]/),
    });
    const copy = path.join(tempDir(), 'copy-of-a.gguf');
    fs.copyFileSync(await fixtureAdapter('student-lora'), copy);
    await expect(ws.client.call('adapters.import', { path: copy, baseModelId: teacher, name: 'A-on-teacher' })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(ws.client.call('adapters.import', { path: await fixtureAdapter('student-lora'), name: 'again' })).rejects.toMatchObject({ code: 'conflict' });
    expect((await ws.client.call('adapters.list', {})).map((a) => a.name)).toEqual(['A', 'B']);
    await expect(
      ws.client.call('playground.generate', { modelId: teacher, mode: 'completion', prompt: 'x', adapters: [{ id: loraA, scale: 1 }] }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(ws.client.call('adapters.import', { path: await fixtureModel('student'), name: 'not-an-adapter' })).rejects.toThrow(
      /not a LoRA adapter|general\.type/,
    );
  });

  it('converts a PEFT folder in the app, and removing it deletes only the file the app made', async () => {
    const spec = fixtureSpec('student');
    const dir = path.join(tempDir(), 'peft-adapter');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'adapter_config.json'),
      JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj'], base_model_name_or_path: 'tiny/student' }),
    );
    const next = mulberry32(3);
    const rand = (n: number) => Float32Array.from({ length: n }, () => (next() - 0.5) * 0.2);
    writeSafetensors(
      path.join(dir, 'adapter_model.safetensors'),
      [0, 1].flatMap((l) => [
        {
          name: `base_model.model.model.layers.${l}.self_attn.q_proj.lora_A.weight`,
          dtype: 'F32' as const,
          shape: [4, spec.embedding],
          data: rand(4 * spec.embedding),
        },
        {
          name: `base_model.model.model.layers.${l}.self_attn.q_proj.lora_B.weight`,
          dtype: 'F32' as const,
          shape: [spec.embedding, 4],
          data: rand(4 * spec.embedding),
        },
      ]),
    );
    await expect(ws.client.call('adapters.import', { path: dir })).rejects.toMatchObject({ code: 'invalid_input', field: 'baseModelId' });
    const peft = await ws.client.call('adapters.import', { path: dir, baseModelId: student, name: 'peft-q' });
    expect(peft).toMatchObject({ source: { format: 'peft', path: dir }, rank: 4, alpha: 8, targets: ['attn_q'], layers: 2 });
    expect(peft.path.startsWith(path.join(ws.dir, 'adapters'))).toBe(true);
    expect(fs.existsSync(peft.path)).toBe(true);
    await ws.client.call('adapters.remove', { id: peft.id });
    expect(fs.existsSync(peft.path)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'adapter_model.safetensors'))).toBe(true);
  });

  it('attaches adapters in the playground: scale 0 is the base, and switching keeps the base model loaded', async () => {
    const rec = recordPlaygroundEvents();
    const off = ws.app.subscribe((e) => rec.emit(e.name as never, e.payload as never));
    try {
      const gen = async (adapters: { id: number; scale: number }[]) => {
        const { generationId } = await ws.client.call('playground.generate', {
          modelId: student,
          mode: 'completion',
          prompt: 'The printer',
          sampling: { temperature: 0, maxTokens: 16, seed: 1 },
          adapters,
        });
        const end = await rec.end(generationId);
        if (end.type !== 'done') throw new Error(JSON.stringify(end));
        return end;
      };
      const base = await gen([]);
      const loadsAfterBase = (await ws.client.call('system.info', {})).engine.modelLoads;
      const zero = await gen([{ id: loraA, scale: 0 }]);
      const full = await gen([{ id: loraA, scale: 1 }]);
      const both = await gen([
        { id: loraA, scale: 1 },
        { id: loraB, scale: -1.5 },
      ]);
      expect(zero.text).toBe(base.text);
      expect(full.text).not.toBe(base.text);
      expect(both.text).not.toBe(full.text);
      // the base model was loaded once: attaching and switching adapters loads no model again
      expect((await ws.client.call('system.info', {})).engine.modelLoads).toBe(loadsAfterBase);
    } finally {
      off();
    }
  });

  it('compares three variants with identical seeds, keeps votes and a tally', async () => {
    const { runId } = await ws.client.call('adapters.compare', {
      variants: [
        { modelId: student },
        { modelId: student, adapters: [{ id: loraA, scale: 1 }] },
        { modelId: student, adapters: [{ id: loraA, scale: 0 }], label: 'A off' },
      ],
      prompts: { texts: ['The printer shows', 'Replace the toner'] },
      generation: { maxTokens: 12 },
      mode: 'completion',
    });
    await waitRun(runId);
    const r = await ws.client.call('adapters.compareResults', { runId });
    expect(r.variants.map((v) => v.label)).toEqual(['student', 'student + A', 'A off']);
    for (const p of r.prompts) {
      expect(p.answers.filter((a) => a === null || a.tokens <= 0)).toEqual([]);
      expect(p.answers[2]!.text).toBe(p.answers[0]!.text); // scale 0 = the base, same seed and settings
      expect(p.answers[1]!.text).not.toBe(p.answers[0]!.text);
    }
    expect(await ws.client.call('adapters.vote', { runId, prompt: 0, winner: 1 })).toEqual([0, 1, 0]);
    expect(await ws.client.call('adapters.vote', { runId, prompt: 1, winner: -1 })).toEqual([0, 1, 0]);
    expect(await ws.client.call('adapters.vote', { runId, prompt: 1, winner: 2 })).toEqual([0, 1, 1]);
    expect((await ws.client.call('adapters.compareResults', { runId })).prompts.map((p) => p.winner)).toEqual([1, 2]);
    await expect(ws.client.call('adapters.vote', { runId, prompt: 5, winner: 0 })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('takes text and prompts from a dataset version: perplexity on a split, a comparison on its prompts', async () => {
    const file = path.join(tempDir(), 'tickets.jsonl');
    const lines = sampleText(1200, 8)
      .split('.\n')
      .filter((l) => l.trim());
    fs.writeFileSync(file, lines.map((l, i) => JSON.stringify({ prompt: `Ticket ${i}: ${l}?`, completion: `Answer: ${l}.` })).join('\n'));
    await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'tickets' })).runId);
    const run = await waitRun(
      (await ws.client.call('adapters.perplexity', { variant: { modelId: student }, source: { dataset: 'tickets' }, contextSize: 64 })).runId,
    );
    expect(metric(run, 'perplexity')).toBeGreaterThan(1);
    expect(run.lineage).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'dataset', label: 'tickets@1' })]));
    const { runId } = await ws.client.call('adapters.compare', {
      variants: [{ modelId: student }, { modelId: student, adapters: [{ id: loraB, scale: 2 }] }],
      prompts: { dataset: 'tickets', limit: 2 },
      generation: { maxTokens: 8 },
      mode: 'completion',
    });
    await waitRun(runId);
    const r = await ws.client.call('adapters.compareResults', { runId });
    expect(r.prompts.map((p) => p.prompt)).toEqual([`Ticket 0: ${lines[0]}?`, `Ticket 1: ${lines[1]}?`]);
    await expect(ws.client.call('adapters.perplexity', { variant: { modelId: student }, source: { dataset: 'no-such' } })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('records how many chunks a perplexity scored, and warns when they are too few for a meaningful figure', async () => {
    const few = await waitRun(
      (await ws.client.call('adapters.perplexity', { variant: { modelId: student }, source: { textFile }, contextSize: 128, maxChunks: 3 })).runId,
    );
    expect(metric(few, 'chunks')).toBe(3);
    expect(few.logs.find((l) => l.level === 'warn')?.message).toMatch(
      /^Only 3 chunk\(s\) of 128 tokens were scored: too little text for a meaningful perplexity/,
    );
    const enough = await waitRun(
      (await ws.client.call('adapters.perplexity', { variant: { modelId: student }, source: { textFile }, contextSize: 128 })).runId,
    );
    expect(metric(enough, 'chunks')).toBeGreaterThanOrEqual(10);
    expect(enough.logs.filter((l) => l.level === 'warn')).toEqual([]);
    const sweep = await waitRun(
      (await ws.client.call('adapters.sweep', { modelId: student, adapterId: loraA, scales: [0, 1], source: { textFile }, contextSize: 128, maxChunks: 2 }))
        .runId,
    );
    expect(metric(sweep, 'chunks')).toBe(2);
    expect(sweep.logs.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('perplexity: scale 0 equals the base, a sweep charts every scale, and a merged model scores like the attached variant', async () => {
    const ppl = async (adapters: { id: number; scale: number }[]) =>
      metric(
        await waitRun((await ws.client.call('adapters.perplexity', { variant: { modelId: student, adapters }, source: { textFile }, contextSize: 128 })).runId),
        'perplexity',
      );
    const base = await ppl([]);
    expect(await ppl([{ id: loraA, scale: 0 }])).toBe(base);
    const withA = await ppl([{ id: loraA, scale: 0.7 }]);
    expect(withA).not.toBe(base);

    const sweep = await ws.client.call('adapters.sweep', { modelId: student, adapterId: loraA, scales: [0, 0.7, 1.5], source: { textFile }, contextSize: 128 });
    const run = await waitRun(sweep.runId);
    const points = await ws.client.call('adapters.sweepPoints', { runId: sweep.runId });
    expect(points.map((p) => p.scale)).toEqual([0, 0.7, 1.5]);
    expect(points[0]!.ppl).toBe(base);
    expect(points[1]!.ppl).toBe(withA);
    expect(run.metrics.filter((m) => m.name === 'perplexity')).toHaveLength(3);

    const out = path.join(tempDir(), 'student-merged.gguf');
    const merge = await ws.client.call('adapters.merge', { modelId: student, adapters: [{ id: loraA, scale: 0.7 }], out, type: 'f32' });
    const merged = await waitRun(merge.runId);
    const link = merged.lineage.find((l) => l.direction === 'output' && l.kind === 'model')!;
    expect(merged.lineage).toEqual(expect.arrayContaining([expect.objectContaining({ direction: 'input', kind: 'adapter', ref: String(loraA) })]));
    const mergedPpl = metric(
      await waitRun((await ws.client.call('adapters.perplexity', { variant: { modelId: Number(link.ref) }, source: { textFile }, contextSize: 128 })).runId),
      'perplexity',
    );
    expect(Math.abs(mergedPpl - withA) / withA).toBeLessThan(0.001);
    await expect(ws.client.call('adapters.merge', { modelId: student, adapters: [{ id: loraA, scale: 1 }], out, type: 'f32' })).rejects.toMatchObject({
      code: 'file_exists',
    });
  });
});
