import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../../helpers/workspace.js';
import { fixtureModel, fixtureSpec, llamaCppSourceDir } from '../../fixtures/models.js';
import { writeSyntheticLlama } from '../../../src-main/core/gguf/synthetic.js';
import { scoreAnswer } from '../../../src-main/core/evaluate/metrics/index.js';
import { isAppError } from '../../../src-shared/errors.js';

/**
 * Evaluation runs on the fixture models (real inference on the native path, real SQLite): a student against its
 * teacher on a frozen test split — answers, metrics with intervals, divergence, systems, routing, the per-example
 * table, predictions files and stored answers, cancel and resume.
 */
let ws: Workspace;
let student: number;
let teacher: number;
const TEST = 6;

beforeAll(async () => {
  ws = makeWorkspace();
  student = (await ws.client.call('models.add', { path: await fixtureModel('student') })).id;
  teacher = (await ws.client.call('models.add', { path: await fixtureModel('teacher') })).id;
  const file = path.join(tempDir(), 'support.jsonl');
  const rows = Array.from({ length: 10 }, (_, i) => ({
    prompt: `Question ${i + 1}: what does error E-${i} on the printer mean?`,
    completion: i % 2 ? `Error E-${i} means the paper tray is empty.` : `It means the toner is low.`,
  }));
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
  await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'support' })).runId);
  await ws.client.call('datasets.split', { name: 'support', counts: { test: TEST }, seed: 3 });
  await ws.client.call('datasets.commit', { name: 'support', message: 'split' });
});

afterAll(async () => {
  await ws?.close();
});

const generation = { temperature: 0, maxTokens: 10, seed: 11 };

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; field?: string }> {
  try {
    await p;
  } catch (e) {
    if (isAppError(e)) return { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('an evaluation run', () => {
  let runId: number;

  it('scores a student and its teacher on the test split, with intervals, divergence, systems and routing', async () => {
    ({ runId } = await ws.client.call('evaluate.start', {
      dataset: 'support',
      variants: [
        { kind: 'model', modelId: student, label: 'student' },
        { kind: 'model', modelId: teacher, label: 'teacher' },
      ],
      teacher: 1,
      metrics: ['exact', 'f1', 'rougeL', 'chrf'],
      generation,
      parallel: 3,
    }));
    const end = await ws.app.runner.waitFor(runId);
    expect(end.error).toBeNull();
    expect(end.status).toBe('succeeded');

    const r = await ws.client.call('evaluate.report', { runId });
    expect(r.examples).toBe(TEST);
    expect(r.leaderboard.map((row) => [row.label, row.answered, row.failed, row.isTeacher])).toEqual([
      ['student', TEST, 0, false],
      ['teacher', TEST, 0, true],
    ]);
    for (const row of r.leaderboard) {
      for (const m of ['exact', 'f1', 'rougeL', 'chrf', 'length'] as const) {
        const iv = row.metrics[m]!;
        expect(iv.n).toBe(TEST);
        expect(iv.low).toBeLessThanOrEqual(iv.mean);
        expect(iv.high).toBeGreaterThanOrEqual(iv.mean);
      }
    }
    // the paired difference is the student's mean less the teacher's, over the same examples
    const s = r.leaderboard[0]!;
    const t = r.leaderboard[1]!;
    expect(s.vsTeacher.chrf!.mean).toBeCloseTo(s.metrics.chrf!.mean - t.metrics.chrf!.mean, 9);
    expect(r.sentences.some((x) => x.startsWith('student is ') && x.includes('teacher on chrF'))).toBe(true);

    // every stored value is the metric library's on the stored answer and the example's reference
    const page = await ws.client.call('evaluate.examples', { runId, limit: 50 });
    expect(page.total).toBe(TEST);
    for (const row of page.rows) {
      expect(row.answers).toHaveLength(2);
      for (const a of row.answers) {
        expect(a.text).not.toBeNull();
        const expected = scoreAnswer(a.text!, row.reference!, { metrics: ['exact', 'f1', 'rougeL', 'chrf'] });
        expect(a.metrics).toEqual(expected);
      }
      // teacher-forced divergence of the student on the teacher's answer
      expect(row.answers[0]!.divergence!.tokens).toBeGreaterThan(0);
      expect(row.answers[1]!.divergence).toBeNull();
    }

    expect(r.divergence).toHaveLength(1);
    expect(r.divergence[0]).toMatchObject({ variant: 0, method: 'full', examples: TEST });
    expect(r.divergence[0]!.kld).toBeGreaterThan(0);
    expect(r.divergence[0]!.histogram.counts.reduce((a, b) => a + b, 0)).toBe(TEST);

    // the systems table: figures from the files and measured in the run
    for (const row of r.systems) {
      expect(row.parameters).toBeGreaterThan(0);
      expect(row.fileBytes).toBe(fs.statSync(await fixtureModel(row.label === 'student' ? 'student' : 'teacher')).size);
      expect(row.loadSeconds).toBeGreaterThan(0);
      expect(row.genTokensPerSecond).toBeGreaterThan(0);
      expect(row.peakRssBytes).toBeGreaterThan(0);
      expect(row.ttftMs).not.toBeNull();
      if (row.energyJoulesPerAnswer === null) expect(row.energyNote).toMatch(/\S/);
    }

    // routing: from all-student to all-teacher
    expect(r.routing).toHaveLength(1);
    const route = r.routing[0]!;
    expect(route.curve[0]!.share).toBe(0);
    expect(route.curve[0]!.quality).toBeCloseTo(s.metrics[route.metric]!.mean, 9);
    expect(route.curve.at(-1)!.share).toBe(1);
    expect(route.curve.at(-1)!.quality).toBeCloseTo(t.metrics[route.metric]!.mean, 9);

    // export: the systems table as CSV and the report as Markdown
    const csv = await ws.client.call('evaluate.export', { runId, format: 'csv', table: 'systems' });
    expect(csv.text.split('\n')[0]).toContain('gen tok/s');
    expect(csv.text.trim().split('\n')).toHaveLength(3);
    const md = await ws.client.call('evaluate.export', { runId, format: 'md', table: 'all' });
    expect(md.text).toContain('| student |');
  }, 300_000);

  it('a rerun with the same seed gives the same answers; a predictions file and a distillation run are variants too', async () => {
    const first = await ws.client.call('evaluate.examples', { runId, limit: 50 });
    // predictions: the teacher's answers by id, with one id the split lacks and one example left out
    const file = path.join(tempDir(), 'preds.jsonl');
    const lines = first.rows.slice(1).map((row) => JSON.stringify({ id: row.position, prediction: row.answers[1]!.text }));
    fs.writeFileSync(file, [...lines, JSON.stringify({ id: 999, prediction: 'nope' }), '{not json'].join('\n'));
    // a distillation run of the same teacher on the same split, greedy with the same seed: its answers are the same
    const { runId: distilled } = await ws.client.call('distill.start', {
      dataset: 'support',
      split: 'test',
      teacher: { modelId: teacher },
      generation: { ...generation, samples: 1 },
      filters: { truncated: false, refusals: false },
      outName: 'support-distilled',
    });
    expect((await ws.app.runner.waitFor(distilled)).status).toBe('succeeded');
    const { runId: again } = await ws.client.call('evaluate.start', {
      dataset: 'support',
      variants: [
        { kind: 'model', modelId: teacher, label: 'teacher' },
        { kind: 'predictions', file },
        { kind: 'distill', runId: distilled },
      ],
      metrics: ['exact', 'chrf'],
      generation,
      divergence: false,
      systems: false,
    });
    const end = await ws.app.runner.waitFor(again);
    expect(end.status).toBe('succeeded');
    const detail = await ws.client.call('runs.get', { id: again });
    const warnings = detail.logs.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`preds\\.jsonl: line ${lines.length + 1}: id 999 is not an example of the split`)),
        expect.stringMatching(new RegExp(`preds\\.jsonl: line ${lines.length + 2}: not JSON`)),
        expect.stringMatching(/no prediction for 1 example\(s\)/),
      ]),
    );
    const second = await ws.client.call('evaluate.examples', { runId: again, limit: 50 });
    for (const [i, row] of second.rows.entries()) {
      expect(row.answers[0]!.text).toBe(first.rows[i]!.answers[1]!.text); // same seed, same answer
      if (i === 0) expect(row.answers[1]!.error).toMatch(/no answer for example/);
      else expect(row.answers[1]!.metrics).toEqual(row.answers[0]!.metrics);
      expect(row.answers[2]!.text).toBe(row.answers[0]!.text);
    }
    const board = (await ws.client.call('evaluate.report', { runId: again })).leaderboard;
    expect(board[1]).toMatchObject({ answered: TEST - 1, failed: 1 });
    expect(board[2]).toMatchObject({ label: `distill run ${distilled}`, answered: TEST, failed: 0 });
  }, 300_000);

  it('a cancelled run resumes without answering anything twice', async () => {
    const { runId: id } = await ws.client.call('evaluate.start', {
      dataset: 'support',
      variants: [{ kind: 'model', modelId: student }],
      metrics: ['f1'],
      generation: { ...generation, maxTokens: 24 },
      parallel: 1,
      divergence: false,
      systems: false,
    });
    await waitUntil(
      async () => (await ws.client.call('evaluate.examples', { runId: id, limit: 50 })).rows.some((r) => r.answers[0]!.text !== null),
      60_000,
      'a first answer',
    );
    await ws.client.call('runs.cancel', { id });
    const cancelled = await ws.app.runner.waitFor(id);
    expect(cancelled.status).toBe('cancelled');
    const stored = () => ws.app.db.prepare(`SELECT position, text, ms FROM eval_answers WHERE run_id = ? ORDER BY position`).all(id) as { position: number }[];
    const kept = stored();
    const before = kept.length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(TEST);
    await ws.client.call('runs.resume', { id });
    const end = await ws.app.runner.waitFor(id);
    expect(end.status).toBe('succeeded');
    const detail = await ws.client.call('runs.get', { id });
    expect(detail.logs.some((l) => l.message.includes(`Resuming: ${before} of ${TEST} answers`))).toBe(true);
    // the answers committed before the cancel were kept as they were (a regenerated one would have a new time)
    const after = stored();
    expect(after).toHaveLength(TEST);
    expect(after.filter((a) => kept.some((k) => k.position === a.position))).toEqual(kept);
  }, 300_000);

  it('refuses what cannot run, before it starts, naming the field', async () => {
    const base = { dataset: 'support', variants: [{ kind: 'model' as const, modelId: student }], generation };
    expect(await refusal(ws.client.call('evaluate.start', { ...base, split: 'validation' }))).toMatchObject({ code: 'conflict', field: 'split' });
    expect(await refusal(ws.client.call('evaluate.start', { ...base, metrics: ['schema'], jsonSchema: { type: 'no-such-type' } }))).toMatchObject({
      code: 'invalid_input',
    });
    expect(await refusal(ws.client.call('evaluate.start', { ...base, against: 'teacher' }))).toMatchObject({ code: 'invalid_input', field: 'against' });
    expect(await refusal(ws.client.call('evaluate.start', { ...base, metrics: ['regex'], regex: '(a+)+$' }))).toMatchObject({ code: 'invalid_input' });
    expect(
      await refusal(
        ws.client.call('evaluate.start', { ...base, variants: [...base.variants, { kind: 'predictions', file: path.join(tempDir(), 'missing.jsonl') }] }),
      ),
    ).toMatchObject({ code: 'file_missing', field: 'variants.1.file' });
    const bothKeys = { kind: 'server' as const, baseUrl: 'http://127.0.0.1:9/v1', model: 'm', apiKeyEnv: 'KEY', apiKeySecret: 'key' };
    expect(await refusal(ws.client.call('evaluate.start', { ...base, variants: [bothKeys] }))).toMatchObject({
      code: 'invalid_input',
      field: 'variants.0.apiKeySecret',
    });
    // a distillation run's answers are matched by position: only to the prompts of the dataset it answered
    const file = path.join(tempDir(), 'other.jsonl');
    fs.writeFileSync(file, JSON.stringify({ prompt: 'another question', completion: 'another answer' }));
    await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'other' })).runId);
    const { runId: elsewhere } = await ws.client.call('distill.start', {
      dataset: 'other',
      teacher: { modelId: student },
      generation: { ...generation, samples: 1 },
      filters: { truncated: false, refusals: false },
      outName: 'other-distilled',
    });
    await ws.app.runner.waitFor(elsewhere);
    expect(await refusal(ws.client.call('evaluate.start', { ...base, variants: [{ kind: 'distill', runId: elsewhere }] }))).toMatchObject({
      code: 'invalid_input',
      field: 'variants.0.runId',
      message: `distillation run ${elsewhere} answered other's prompts, not support's`,
    });
    // divergence compares distributions token by token: a student with another vocabulary is refused, with what differs
    const other = path.join(tempDir(), 'gpt2-student.gguf');
    writeSyntheticLlama(other, {
      ...fixtureSpec('student'),
      name: 'gpt2-student',
      vocabFile: path.join(llamaCppSourceDir(), 'models', 'ggml-vocab-gpt-2.gguf'),
    });
    const gpt2 = (await ws.client.call('models.add', { path: other })).id;
    const twoVocabs = {
      ...base,
      variants: [
        { kind: 'model' as const, modelId: gpt2, label: 'gpt2' },
        { kind: 'model' as const, modelId: teacher, label: 'teacher' },
      ],
      teacher: 1,
    };
    const refused = await refusal(ws.client.call('evaluate.start', twoVocabs));
    expect(refused).toMatchObject({ code: 'invalid_input', field: 'variants.0' });
    expect(refused.message).toMatch(/gpt2 does not share teacher's vocabulary \(tokenizer gpt2 against llama\)/);
    // without divergence the same pair is evaluated on its answers
    expect((await ws.client.call('evaluate.start', { ...twoVocabs, divergence: false, limit: 1, systems: false })).runId).toBeGreaterThan(0);
  });
});
