import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../helpers/workspace.js';
import { fixtureModel } from '../fixtures/models.js';
import type { DistillStreamEvent } from '../../src-shared/domain/distill.js';

const open: Workspace[] = [];
afterEach(async () => {
  for (const ws of open.splice(0)) await ws.close().catch(() => undefined);
});

/** A workspace with a teacher model and a dataset of `n` prompts. */
async function setup(n: number, dataDir?: string) {
  const ws = makeWorkspace(dataDir ? { dataDir } : {});
  open.push(ws);
  if (dataDir) return { ws, teacherId: (await ws.client.call('models.list', {}))[0]!.id };
  const teacher = await ws.client.call('models.add', { path: await fixtureModel('student'), roles: ['teacher'] });
  const file = path.join(tempDir(), 'prompts.jsonl');
  fs.writeFileSync(
    file,
    Array.from({ length: n }, (_, i) => JSON.stringify({ prompt: `Question ${i + 1}: how do I fix error E-${i}?`, completion: `old answer ${i}` })).join('\n'),
  );
  await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'prompts' })).runId);
  return { ws, teacherId: teacher.id };
}

const greedy = { temperature: 0, maxTokens: 12, seed: 1, samples: 1 };
const keepAll = { truncated: false, refusals: false };

describe('distillation with a local GGUF teacher', () => {
  it('answers every prompt, several at once, and writes the answers as a new dataset linked to the run', async () => {
    const { ws, teacherId } = await setup(6);
    const before = await ws.client.call('distill.estimate', { dataset: 'prompts', teacher: { modelId: teacherId }, generation: { ...greedy, samples: 2 } });
    expect(before).toEqual({ prompts: 6, answers: 12, maxTokens: 144, tokensPerSecond: null, measuredBy: null, maxSeconds: null });
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { modelId: teacherId },
      generation: greedy,
      filters: keepAll,
      template: { system: 'You are a support expert.', user: 'Answer briefly: {{prompt}}' },
      parallel: 3,
      outName: 'distilled',
    });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.error).toBeNull();
    expect(end.status).toBe('succeeded');
    const answers = await ws.client.call('distill.answers', { runId, limit: 100 });
    expect(answers).toMatchObject({ total: 6, included: 6, rejected: 0 });
    expect(answers.rows.map((r) => r.position)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(answers.rows[0]!.prompt).toEqual([
      { role: 'system', content: 'You are a support expert.' },
      { role: 'user', content: 'Answer briefly: Question 1: how do I fix error E-0?' },
    ]);
    for (const r of answers.rows) {
      expect(r.completionTokens).toBeGreaterThan(0);
      expect(r.answer.length).toBeGreaterThan(0);
    }
    // the training set: the example's own prompt (template output 'original') + the teacher's answer
    const out = await ws.client.call('datasets.examples', { name: 'distilled', offset: 0, limit: 10 });
    expect(out.total).toBe(6);
    expect(out.rows[0]!.messages).toEqual([
      { role: 'user', content: 'Question 1: how do I fix error E-0?' },
      { role: 'assistant', content: answers.rows[0]!.answer },
    ]);
    const run = await ws.client.call('runs.get', { id: runId });
    expect(run.lineage).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ direction: 'input', kind: 'dataset', label: 'prompts@1' }),
        expect.objectContaining({ direction: 'output', kind: 'dataset', label: 'distilled@1' }),
      ]),
    );
    expect(run.metrics.map((m) => m.name)).toEqual(expect.arrayContaining(['answers', 'tokens_per_second']));
    // the next estimate uses the speed this run measured
    const after = await ws.client.call('distill.estimate', { dataset: 'prompts', teacher: { modelId: teacherId }, generation: greedy, limit: 4 });
    const tps = run.metrics.find((m) => m.name === 'tokens_per_second')!.value;
    expect(after).toMatchObject({ prompts: 4, answers: 4, maxTokens: 48, tokensPerSecond: tps, measuredBy: `distillation run ${runId}` });
    expect(after.maxSeconds).toBeCloseTo(48 / tps, 6);

    // greedy decoding: answering one at a time gives the same answers
    const seq = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { modelId: teacherId },
      generation: greedy,
      filters: keepAll,
      template: { system: 'You are a support expert.', user: 'Answer briefly: {{prompt}}' },
      parallel: 1,
      outName: 'distilled-seq',
    });
    await ws.app.runner.waitFor(seq.runId);
    const one = await ws.client.call('distill.answers', { runId: seq.runId, limit: 100 });
    expect(one.rows.map((r) => r.answer)).toEqual(answers.rows.map((r) => r.answer));
  });

  it('keeps rejected answers with their reason; a run that keeps none fails saying why and what to change', async () => {
    const { ws, teacherId } = await setup(4);
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { modelId: teacherId },
      generation: { ...greedy, maxTokens: 4 },
      filters: { truncated: true, refusals: false },
      parallel: 2,
      outName: 'strict',
    });
    // 4 tokens of random weights never reach an end of generation: every answer is truncated
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('failed');
    expect(end.error).toBe("all 4 answers hit max tokens 4; raise it or untick 'reject truncated' (CLI: --keep-truncated)");
    expect(end.progress.message).toBe('4 of 4 answers (0 kept, 4 rejected) · stopped');
    const answers = await ws.client.call('distill.answers', { runId, only: 'rejected' });
    expect(answers).toMatchObject({ total: 4, rejected: 4, included: 0 });
    expect(answers.rows[0]!.rejected).toBe('truncated: the answer hit the token limit');
    // no empty dataset is left behind
    await expect(ws.client.call('datasets.get', { name: 'strict' })).rejects.toMatchObject({ code: 'not_found' });
    expect(await ws.client.call('distill.counts', { runIds: [runId] })).toEqual([{ runId, total: 4, included: 0, rejected: 4 }]);

    // re-included by hand, then resumed: the run writes what the user kept
    const inc = await ws.client.call('distill.include', { runId, position: 3 });
    expect(inc).toEqual({ label: `Re-included answer 3 of run ${runId}`, outName: 'strict', addedToWorkingCopy: false });
    await expect(ws.client.call('distill.include', { runId, position: 3 })).rejects.toThrow(/already in strict/);
    await ws.client.call('runs.resume', { id: runId });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const out = await ws.client.call('datasets.examples', { name: 'strict', offset: 0, limit: 10 });
    expect(out.rows.map((r) => r.messages.at(-1)!.content)).toEqual([answers.rows.find((r) => r.position === 3)!.answer]);
    // and out again: from the output's working copy, undoable
    await ws.client.call('distill.exclude', { runId, position: 3 });
    expect((await ws.client.call('datasets.examples', { name: 'strict', offset: 0, limit: 10 })).total).toBe(0);
    await ws.client.call('datasets.undo', { name: 'strict' });
    expect((await ws.client.call('datasets.examples', { name: 'strict', offset: 0, limit: 10 })).total).toBe(1);
  });

  it('stops as soon as its first answers are all rejected for one reason, without answering the rest', async () => {
    const { ws, teacherId } = await setup(40);
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { modelId: teacherId },
      generation: { ...greedy, maxTokens: 3 },
      filters: { truncated: true, refusals: false },
      parallel: 2,
      outName: 'early',
    });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('failed');
    expect(end.error).toBe(
      "the first 8 answers all hit max tokens 3; raise it or untick 'reject truncated' (CLI: --keep-truncated) (stopped early; resume the run to answer the rest anyway)",
    );
    const answers = await ws.client.call('distill.answers', { runId, limit: 100 });
    // the answers in flight when the check ran may have been committed; the other 30 prompts were never sent
    expect(answers.total).toBeGreaterThanOrEqual(8);
    expect(answers.total).toBeLessThan(11);
    expect(answers.rejected).toBe(answers.total);
    expect(end.progress.message).not.toMatch(/left/);
  });

  it('an empty output fails even when any reject rate is allowed, naming the filter', async () => {
    const { ws, teacherId } = await setup(4);
    // a pattern random text cannot match rejects every answer; a max reject rate of 1 does not save an empty output
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { modelId: teacherId },
      generation: { ...greedy, maxTokens: 6 },
      filters: { ...keepAll, mustMatch: '^NEVER$' },
      maxRejectRate: 1,
      parallel: 2,
      outName: 'regex',
    });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.status).toBe('failed');
    expect(end.error).toBe('all 4 answers failed the patterns (must match /^NEVER$/); check the patterns against a few answers');
  });

  it('streams the answers in flight as they are generated; after a cancel, no time left is shown', async () => {
    const { ws, teacherId } = await setup(24);
    const events: DistillStreamEvent[] = [];
    const off = ws.client.on('distill.stream', (e) => events.push(e));
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { modelId: teacherId },
      generation: { ...greedy, maxTokens: 40 },
      filters: keepAll,
      parallel: 2,
      outName: 'streamed',
    });
    // a partial answer arrives before that answer is committed
    await waitUntil(() => events.some((e) => e.inFlight.length > 0), 60_000, 'a partial answer');
    const first = events.find((e) => e.inFlight.length > 0)!.inFlight[0]!;
    expect(first.tokens).toBeGreaterThan(0);
    await waitUntil(() => (ws.app.db.prepare(`SELECT count(*) FROM distill_answers WHERE run_id = ?`).pluck().get(runId) as number) >= 4, 60_000, 'answers');
    await ws.client.call('runs.cancel', { id: runId });
    const end = await ws.app.runner.waitFor(runId);
    off();
    expect(end.status).toBe('cancelled');
    expect(end.progress.message).toMatch(/^\d+ of 24 answers \(\d+ kept, 0 rejected\) · cancelled$/);
    expect(events.filter((e) => e.runId !== runId)).toEqual([]);
    expect(events.at(-1)!.inFlight).toEqual([]); // nothing left in flight
    const answers = await ws.client.call('distill.answers', { runId, limit: 100 });
    const done = answers.rows.find((r) => r.position === first.position && r.sample === first.sample)!;
    // the partial text was the start of the answer, with fewer tokens
    expect(first.tokens).toBeLessThan(done.completionTokens!);
    expect(done.answer.startsWith(first.text.trim())).toBe(true);
  });

  it('resumes after the app stops mid-run: no answer lost or duplicated', async () => {
    const { ws, teacherId } = await setup(24);
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { modelId: teacherId },
      generation: { ...greedy, maxTokens: 24 },
      filters: keepAll,
      parallel: 2,
      outName: 'resumed',
    });
    await waitUntil(() => (ws.app.db.prepare(`SELECT count(*) FROM distill_answers WHERE run_id = ?`).pluck().get(runId) as number) >= 4, 60_000, 'answers');
    await ws.close();
    open.splice(open.indexOf(ws), 1);
    const again = await setup(24, ws.dir);
    expect((await again.ws.client.call('runs.get', { id: runId })).status).toBe('interrupted');
    await again.ws.client.call('runs.resume', { id: runId });
    expect((await again.ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const answers = await again.ws.client.call('distill.answers', { runId, limit: 100 });
    expect(answers.total).toBe(24);
    expect(new Set(answers.rows.map((r) => r.position)).size).toBe(24);
    expect((await again.ws.client.call('datasets.get', { name: 'resumed' })).version.exampleCount).toBe(24);
    expect(again.ws.app.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it("a local teacher is shown the example's tools and tool turns through the model's chat template", async () => {
    const { ws, teacherId } = await setup(1);
    const sample = path.join(path.dirname(fileURLToPath(import.meta.url)), '../datasets/samples/sharegpt-tools.jsonl');
    const records = fs
      .readFileSync(sample, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const bare = path.join(tempDir(), 'bare.jsonl'); // the same conversations without their tools
    fs.writeFileSync(bare, records.map(({ tools: _, ...r }) => JSON.stringify(r)).join('\n'));
    await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: sample, name: 'tools' })).runId);
    await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: bare, name: 'bare' })).runId);
    const answers = async (dataset: string) => {
      const { runId } = await ws.client.call('distill.start', {
        dataset,
        teacher: { modelId: teacherId },
        generation: { ...greedy, maxTokens: 2 },
        filters: keepAll,
        outName: `${dataset}-out`,
      });
      expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
      return new Map((await ws.client.call('distill.answers', { runId })).rows.map((r) => [r.position, r]));
    };
    const withTools = new Map([...(await answers('tools'))].map(([p, r]) => [p, r.promptTokens!]));
    const bareAnswers = await answers('bare');
    const without = new Map([...bareAnswers].map(([p, r]) => [p, r.promptTokens!]));
    // the two tool schemas of example 1 and the one of example 3 are in the prompt; example 2 has none ("tools": "[]")
    expect(withTools.get(1)! - without.get(1)!).toBeGreaterThan(60);
    expect(withTools.get(3)! - without.get(3)!).toBeGreaterThan(30);
    expect(withTools.get(2)).toBe(without.get(2));
    // the earlier call and its result are sent either way: tools or not, they are turns of the conversation
    expect(bareAnswers.get(1)!.prompt.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
  });

  it('with a JSON schema, a local teacher writes only JSON that fits it (grammar)', async () => {
    const { ws, teacherId } = await setup(3);
    // closed choices only: random weights would write a free string forever, so every answer can finish here
    const schema = { type: 'object', properties: { severity: { enum: ['low', 'high'] }, urgent: { type: 'boolean' } }, required: ['severity', 'urgent'] };
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { modelId: teacherId },
      generation: { temperature: 0.8, maxTokens: 200, seed: 3 },
      filters: keepAll,
      jsonSchema: schema,
      parallel: 3,
      outName: 'structured',
    });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const answers = await ws.client.call('distill.answers', { runId });
    expect(answers.total).toBe(3);
    for (const r of answers.rows) {
      expect(r.finishReason).toBe('stop');
      const parsed = JSON.parse(r.answer) as { severity: unknown; urgent: unknown };
      expect(['low', 'high']).toContain(parsed.severity);
      expect(typeof parsed.urgent).toBe('boolean');
      expect(r.rejected).toBeNull();
    }
  });

  it('keeps the top-k probabilities of every generated token as soft labels', async () => {
    const { ws, teacherId } = await setup(2);
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { modelId: teacherId },
      generation: { temperature: 1, topK: 0, topP: 1, minP: 0, maxTokens: 10, seed: 4 },
      filters: keepAll,
      logprobs: 4,
      parallel: 2,
      outName: 'soft',
    });
    expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
    const answers = await ws.client.call('distill.answers', { runId });
    for (const a of answers.rows) {
      const soft = (await ws.client.call('distill.logprobs', { runId, position: a.position }))!;
      expect(soft.k).toBe(4);
      expect(soft.tokens).toHaveLength(a.completionTokens!);
      for (const t of soft.tokens) {
        expect(t.top).toHaveLength(4);
        expect(t.logprob).toBeLessThanOrEqual(0);
        expect(t.logprob).toBeGreaterThan(-Infinity);
        const lp = t.top.map((x) => x.logprob);
        expect([...lp].sort((x, y) => y - x)).toEqual(lp); // highest first
        expect(lp[0]).toBeGreaterThanOrEqual(t.logprob); // nothing is likelier than the best
      }
    }
  });

  it('a local judge scores every answer that passed the filters, through a grammar, and rejects those below the pass mark', async () => {
    const { ws, teacherId } = await setup(6);
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { modelId: teacherId },
      generation: greedy,
      filters: { ...keepAll, mustNotMatch: '^$' },
      judge: { teacher: { modelId: teacherId }, rubric: 'The answer fixes the error.', threshold: 5, maxTokens: 48 },
      parallel: 2,
      outName: 'judged',
    });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.error).toBeNull();
    const { rows, included } = await ws.client.call('distill.answers', { runId });
    expect(rows).toHaveLength(6);
    for (const r of rows) {
      // the grammar allows only an integer 1..10 as the score: the synthetic judge's verdicts are readable
      expect(r.judgeScore).toBeGreaterThanOrEqual(1);
      expect(r.judgeScore).toBeLessThanOrEqual(10);
      expect(Number.isInteger(r.judgeScore)).toBe(true);
      expect(r.included).toBe(r.judgeScore! >= 5);
      if (!r.included) expect(r.rejected).toMatch(new RegExp(`^judge: ${r.judgeScore}/10 < 5`));
    }
    expect((await ws.client.call('datasets.examples', { name: 'judged', offset: 0, limit: 10 })).total).toBe(included);
    const run = await ws.client.call('runs.get', { id: runId });
    expect(run.logs.map((l) => l.message)).toContainEqual(expect.stringMatching(/Judging 6 answer\(s\)/));
  });

  it('refuses bad input before starting', async () => {
    const { ws, teacherId } = await setup(2);
    await expect(ws.client.call('distill.start', { dataset: 'prompts', teacher: { modelId: teacherId }, outName: 'prompts' })).rejects.toThrow(
      /already exists/,
    );
    await expect(
      ws.client.call('distill.start', { dataset: 'prompts', teacher: { modelId: teacherId }, template: { user: '{{question}}' }, outName: 'x' }),
    ).rejects.toThrow(/unknown placeholder \{\{question\}\}/);
    await expect(
      ws.client.call('distill.start', { dataset: 'prompts', teacher: { modelId: teacherId }, filters: { mustMatch: '(' }, outName: 'x' }),
    ).rejects.toThrow(/filters.mustMatch/);
    await expect(ws.client.call('distill.start', { dataset: 'prompts', split: 'test', teacher: { modelId: teacherId }, outName: 'x' })).rejects.toThrow(
      /no test examples/,
    );
    await expect(ws.client.call('distill.start', { dataset: 'prompts', teacher: { modelId: 999 }, outName: 'x' })).rejects.toThrow(/no model 999/);
  });
});
