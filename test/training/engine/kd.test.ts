import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../../helpers/workspace.js';
import { fixtureModel, fixtureSpec, llamaCppSourceDir } from '../../fixtures/models.js';
import { writeSyntheticLlama } from '../../../src-main/core/gguf/synthetic.js';
import { DatasetsService } from '../../../src-main/core/datasets/service.js';
import { DistillStore } from '../../../src-main/core/distill/store.js';
import { SoftLabelMapper } from '../../../src-main/core/evaluate/soft-labels.js';
import { answerSpan, FILLER_LOGPROB } from '../../../src-main/core/training/kd-records.js';
import { makeKd } from '../../../src-main/core/training/kd.js';
import type { KdSource, KdStudent, KdSummary } from '../../../src-main/core/training/kd-types.js';
import { isAppError } from '../../../src-shared/errors.js';
import { parse as parseYaml } from 'yaml';

/**
 * KD soft labels from REAL distillation runs on the fixture models (the teacher and the student share llama-spm's
 * vocabulary; the student has no chat template, so the rows follow Axolotl's ChatML): every exported record is read
 * back and checked against the run's stored top-k (DistillStore.logprobs mapped to the student's ids), the student's
 * own tokenization of the conversation (right alignment as Axolotl's ChatTemplateStrategyWithKDv2 reads it), the
 * probability mass of each row and the shapes; then the refusals and the skips.
 */
let ws: Workspace;
let kd: ReturnType<typeof makeKd>;
let distill: DistillStore;
let datasets: DatasetsService;
let student: KdStudent;
let mapper: SoftLabelMapper;
let teacherId: number;

const EPS = 1e-5;

async function distillRun(outName: string, extra: { logprobs?: number; temperature?: number; server?: string }) {
  const { runId } = await ws.client.call('distill.start', {
    dataset: 'prompts',
    teacher: extra.server ? { baseUrl: extra.server, model: 'teacher' } : { modelId: teacherId },
    generation: { temperature: extra.temperature ?? 0, topK: 0, topP: 1, minP: 0, maxTokens: 10, seed: 3 },
    filters: { truncated: false, refusals: false },
    ...(extra.logprobs ? { logprobs: extra.logprobs } : {}),
    parallel: 2,
    outName,
  });
  const end = await ws.app.runner.waitFor(runId);
  expect(end.error).toBeNull();
  return runId;
}

const sourceOf = (name: string, version?: number): KdSource => {
  const v = datasets.resolve(name, version).version;
  return { versionId: v.id, dataset: name, version: v.number, split: 'all' };
};

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!isAppError(e)) throw new Error(`expected a refusal, got ${String(e)}`);
  return e;
};

const tokenize = async (text: string) =>
  Array.from((await ws.app.engine.native().request('tokenize', { model: { path: student.path }, text, addSpecial: false, parseSpecial: true })).tokens);

const lines = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  ws = makeWorkspace();
  teacherId = (await ws.client.call('models.add', { path: await fixtureModel('teacher'), roles: ['teacher'] })).id;
  student = { path: await fixtureModel('student'), name: 'fixture-student' };
  const file = path.join(tempDir(), 'prompts.jsonl');
  const words = ['error', 'printer', 'network', 'login', 'update', 'disk', 'battery', 'screen'];
  fs.writeFileSync(file, words.map((w, i) => JSON.stringify({ prompt: `Question ${i + 1}: how do I fix the ${w}?` })).join('\n'));
  await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'prompts' })).runId);
  datasets = new DatasetsService(ws.app.db, ws.app.runner, ws.dir);
  distill = new DistillStore(ws.app.db);
  kd = makeKd({ datasets, distill, runs: ws.app.runner.store, engine: ws.app.engine });
  mapper = new SoftLabelMapper(await ws.app.engine.native().request('vocabulary', { model: { path: student.path } }));
});

const servers: ChildProcess[] = [];
afterAll(async () => {
  await ws?.close();
  for (const s of servers) s.kill('SIGTERM');
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

/** llama.cpp's llama-server (test/fixtures/llama-tools-setup.ts builds it) serving `model` on 127.0.0.1: its /v1 URL. */
async function serve(model: string): Promise<string> {
  const port = await freePort();
  const args = ['-m', model, '--host', '127.0.0.1', '--port', String(port), '-c', '2048', '-np', '2', '-t', '1', '--alias', 'teacher'];
  const server = spawn(inject('llamaServer'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(server);
  let log = '';
  server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok === true, 60_000, `llama-server:\n${log.slice(-2000)}`);
  return `http://127.0.0.1:${port}/v1`;
}

/** Reads back every record of both files and checks them against the run (see the file's comment). */
async function verify(dir: string, s: KdSummary, runId: number, examples: number) {
  const compact = lines(path.join(dir, s.compactFile));
  const axolotl = lines(path.join(dir, s.file));
  expect(compact).toHaveLength(s.records);
  expect(axolotl).toHaveLength(s.records);
  expect(s.records + s.skipped.length).toBe(examples);
  for (const [i, c] of compact.entries()) {
    const a = axolotl[i]!;
    const messages = c.messages as { role: string; content: string }[];
    const answer = messages.at(-1)!.content;
    expect(a.messages).toEqual(messages);
    expect(c.k).toBe(s.k);
    expect(c.temperature).toBe(s.temperature);
    expect(a.temperature).toBe(s.temperature);
    // the run's stored labels of this answer, the answer's part, in the student's ids
    const stored = distill.logprobs(runId, c.run_position as number, c.sample as number)!;
    const found = answerSpan(stored.tokens, answer)!;
    expect(found).not.toBeNull();
    const { span, trimmed } = found;
    const tokens = c.tokens as number[];
    const ids = c.ids as number[][];
    const logprobs = c.logprobs as number[][];
    expect(tokens).toHaveLength(span.length);
    expect(ids).toHaveLength(tokens.length);
    expect(logprobs).toHaveLength(tokens.length);
    // the chosen tokens are the teacher's, and they are how the student's tokenizer writes the answer after the prompt
    expect(tokens).toEqual(span.map((t, j) => mapper.id(j === 0 && trimmed ? t.token.trimStart() : t.token)));
    expect(c.hard).toEqual(trimmed ? [0] : []);
    const prompt = messages
      .slice(0, -1)
      .map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`)
      .join('');
    const promptText = `${prompt}<|im_start|>assistant\n`;
    const withAnswer = await tokenize(promptText + answer);
    const promptTokens = await tokenize(promptText);
    expect(withAnswer.slice(promptTokens.length)).toEqual(tokens);
    span.forEach((t, j) => {
      if (j === 0 && trimmed) {
        // its distribution was over tokens after the whitespace the answer lost: the hard label
        expect(ids[0]).toEqual([tokens[0]]);
        expect(logprobs[0]).toEqual([0]);
        return;
      }
      // the top-k: each stored alternative the student has, probabilities of one id added up
      const want = new Map<number, number>();
      for (const alt of t.top) {
        const id = mapper.id(alt.token);
        if (id !== undefined) want.set(id, (want.get(id) ?? 0) + Math.exp(alt.logprob));
      }
      if (want.size === 0) {
        expect(ids[j]).toEqual([tokens[j]]); // no alternative the student has: the chosen token alone
        return;
      }
      expect(new Set(ids[j])).toEqual(new Set(want.keys()));
      ids[j]!.forEach((id, n) => expect(Math.abs(logprobs[j]![n]! - Math.log(want.get(id)!))).toBeLessThan(1e-5));
      expect([...logprobs[j]!].sort((x, y) => y - x)).toEqual(logprobs[j]);
      expect(ids[j]!.length).toBeLessThanOrEqual(s.k);
      expect(logprobs[j]!.reduce((sum, lp) => sum + Math.exp(lp), 0)).toBeLessThanOrEqual(1 + EPS);
    });
    // Axolotl's rows: k wide, right-aligned to the conversation as ChatML writes it; the row at position p predicts p + 1
    const full = await tokenize(`${promptText}${answer}<|im_end|>\n`);
    const tIds = a.target_token_ids as number[][];
    const tLp = a.logprobs as number[][];
    expect(tLp).toHaveLength(tIds.length);
    expect(tIds).toHaveLength(tokens.length + (full.length - withAnswer.length) + 1);
    const padding = full.length - tIds.length;
    expect(padding).toBe(promptTokens.length - 1);
    tIds.forEach((row, r) => {
      expect(row).toHaveLength(s.k);
      expect(tLp[r]).toHaveLength(s.k);
      expect(new Set(row).size).toBe(s.k);
      expect(tLp[r]!.reduce((sum, lp) => sum + Math.exp(lp), 0)).toBeLessThanOrEqual(1 + EPS);
      const next = full[padding + r + 1];
      if (r < tokens.length) {
        expect(next).toBe(tokens[r]);
        expect(row.slice(0, ids[r]!.length)).toEqual(ids[r]);
        expect(tLp[r]!.slice(0, ids[r]!.length)).toEqual(logprobs[r]);
        expect(tLp[r]!.slice(ids[r]!.length).every((lp) => lp === FILLER_LOGPROB)).toBe(true);
      } else {
        // after the answer: one-hot on the template's next token; the last row (nothing follows) on end-of-sequence
        expect(row[0]).toBe(next ?? mapper.id('</s>'));
        expect(tLp[r]![0]).toBe(0);
      }
    });
  }
}

describe('KD soft labels from a local teacher', () => {
  let runId: number;
  beforeAll(async () => {
    runId = await distillRun('soft', { logprobs: 5, temperature: 0.8 });
  });

  it('writes every answer with its top-k in the student ids, aligned as Axolotl reads them, and reads back the same', async () => {
    const source = sourceOf('soft');
    await kd.check(source, student);
    const dir = tempDir();
    const seen: number[] = [];
    const s = await kd.write(source, student, dir, { signal: new AbortController().signal, onProgress: (d) => seen.push(d) });
    console.log(`local teacher: ${s.records} records, skipped ${JSON.stringify(s.skipped)}`);
    expect(s).toMatchObject({ file: 'data/kd.jsonl', compactFile: 'data/kd-compact.jsonl', k: 5, temperature: 0.8, distillRunId: runId });
    expect(s.chatTemplate).toMatch(/<\|im_start\|>/);
    expect(s.records).toBeGreaterThanOrEqual(4);
    expect(seen.at(-1)).toBe(8);
    await verify(dir, s, runId, 8);
  });

  it('training.export --kd through the contract: an Axolotl folder whose recipe trains on the KD file, with the template its rows are aligned to', async () => {
    const studentId = (await ws.client.call('models.add', { path: student.path, roles: ['student'] })).id;
    const base = { dataset: 'soft', studentHfId: 'org/tiny-student', kd: { studentModelId: studentId } };
    // only Axolotl reads offline soft labels: refused before a run starts
    await expect(ws.client.call('training.export', { ...base, trainer: 'trl', outDir: path.join(tempDir(), 'trl') })).rejects.toMatchObject({ field: 'kd' });
    const outDir = path.join(tempDir(), 'axolotl-kd');
    const { runId: exportRun } = await ws.client.call('training.export', { ...base, trainer: 'axolotl', outDir });
    const end = await ws.app.runner.waitFor(exportRun);
    expect(end.error).toBeNull();
    const manifest = await ws.client.call('training.manifest', { runId: exportRun });
    expect(manifest.kd).toMatchObject({ file: 'data/kd.jsonl', k: 5, temperature: 0.8, distillRunId: runId });
    const records = lines(path.join(outDir, 'data/kd.jsonl'));
    expect(records.length).toBe(manifest.counts.kd);
    const recipe = parseYaml(fs.readFileSync(path.join(outDir, 'axolotl.yaml'), 'utf8')) as Record<string, unknown>;
    expect(recipe).toMatchObject({ plugins: ['axolotl.integrations.kd.KDPlugin'], kd_trainer: true, chat_template: 'jinja', base_model: 'org/tiny-student' });
    expect(recipe['chat_template_jinja']).toMatch(/<\|im_start\|>/);
    const [dataset] = recipe['datasets'] as Record<string, unknown>[];
    expect(dataset).toMatchObject({ path: 'data/kd.jsonl', type: 'axolotl.integrations.kd.chat_template', temperature: 0.8 });
    // the manifest's checksums are the files'
    for (const f of manifest.files) expect(fs.statSync(path.join(outDir, f.path)).size).toBe(f.bytes);
  });

  it('skips an example whose answer was edited in a later version, and one added after the run, with the reasons', async () => {
    const v1 = datasets.examplesAfter(sourceOf('soft', 1).versionId, Number.MIN_SAFE_INTEGER, 100, 'all');
    const edited = v1[1]!;
    const messages = edited.messages.map((m, i) => (i === edited.messages.length - 1 ? { ...m, content: `${m.content} (edited)` } : m));
    await ws.client.call('datasets.edit', { name: 'soft', position: edited.position, messages });
    const promptEdited = v1[2]!;
    await ws.client.call('datasets.edit', {
      name: 'soft',
      position: promptEdited.position,
      messages: promptEdited.messages.map((m) => (m.role === 'user' ? { ...m, content: `${m.content} Please.` } : m)),
    });
    await ws.client.call('datasets.curate', { name: 'soft', selection: { positions: [v1[3]!.position] }, action: { kind: 'delete' } });
    datasets.addToWorkingCopy(
      datasets.resolve('soft', 1).datasetId,
      [{ messages: [...edited.messages.slice(0, -1), { role: 'assistant', content: 'new' }], reference: 'new' }],
      'add',
    );
    const v2 = await ws.client.call('datasets.commit', { name: 'soft', message: 'curated' });
    const source = sourceOf('soft', v2.number);
    const dir = tempDir();
    const s = await kd.write(source, student, dir, { signal: new AbortController().signal });
    const reasons = new Map(s.skipped.map((x) => [x.position, x.reason]));
    expect(reasons.get(edited.position)).toMatch(new RegExp(`its answer was edited after distillation run ${runId}`));
    expect(reasons.get(promptEdited.position)).toMatch(/its conversation was edited after distillation run/);
    expect(reasons.get(v1.at(-1)!.position + 1)).toMatch(/not an answer of distillation run .* \(added to the dataset after it\)/);
    expect(reasons.has(v1[3]!.position)).toBe(false); // deleted: not in the version at all
    await verify(dir, s, runId, 8);
  });

  it('refuses a version no distillation run made, and a run that kept no soft labels', async () => {
    const none = await refusal(kd.check(sourceOf('prompts'), student));
    expect(none).toMatchObject({ code: 'invalid_input', field: 'kd' });
    expect(none.message).toMatch(/^prompts@1 was not made by a distillation run \(prompts@1 came from a datasets\.import run\)/);
    const hard = await distillRun('hard', {});
    const r = await refusal(kd.check(sourceOf('hard'), student));
    expect(r).toMatchObject({ code: 'invalid_input', field: 'kd' });
    expect(r.message).toBe(
      `distillation run ${hard}, which made hard, kept no soft labels: distill again with top-k log-probabilities (logprobs) to export for KD`,
    );
    await expect(kd.write(sourceOf('hard'), student, tempDir(), { signal: new AbortController().signal })).rejects.toThrow(/kept no soft labels/);
  });

  it('refuses a student whose vocabulary is not the teacher’s, naming the difference', async () => {
    const other = path.join(tempDir(), 'gpt2-student.gguf');
    writeSyntheticLlama(other, {
      ...fixtureSpec('student'),
      name: 'gpt2-student',
      vocabFile: path.join(llamaCppSourceDir(), 'models', 'ggml-vocab-gpt-2.gguf'),
    });
    const r = await refusal(kd.check(sourceOf('soft', 1), { path: other, name: 'gpt2-student' }));
    expect(r).toMatchObject({ code: 'invalid_input', field: 'student' });
    expect(r.message).toMatch(/^gpt2-student does not share .*'s vocabulary \(tokenizer gpt2 against llama\): the soft labels are the teacher's token ids/);
    // the writer refuses it too, when called without the check
    const stray = kd.write(sourceOf('soft', 1), { path: other, name: 'gpt2-student' }, tempDir(), { signal: new AbortController().signal });
    await expect(stray).rejects.toMatchObject({ code: 'invalid_input', field: 'student' });
  });
});

describe('KD soft labels from a server teacher (llama-server)', () => {
  it('maps the served token texts to the student ids, at temperature 1 (a server gives the raw distribution)', async () => {
    const runId = await distillRun('served', { logprobs: 4, temperature: 0.7, server: await serve(await fixtureModel('teacher')) });
    const source = sourceOf('served');
    await kd.check(source, student);
    const dir = tempDir();
    const s = await kd.write(source, student, dir, { signal: new AbortController().signal });
    console.log(`server teacher: ${s.records} records, skipped ${JSON.stringify(s.skipped)}`);
    expect(s).toMatchObject({ k: 4, temperature: 1, distillRunId: runId });
    expect(s.records).toBeGreaterThanOrEqual(4);
    await verify(dir, s, runId, 8);
  });

  it('refuses a server teacher whose top-k holds a token the student does not have, naming the token and the example', async () => {
    // a teacher with GPT-2's vocabulary: its token texts are mostly not pieces of the student's llama vocabulary
    const other = path.join(tempDir(), 'gpt2-teacher.gguf');
    writeSyntheticLlama(other, {
      ...fixtureSpec('student'),
      name: 'gpt2-teacher',
      vocabFile: path.join(llamaCppSourceDir(), 'models', 'ggml-vocab-gpt-2.gguf'),
    });
    await distillRun('gpt2-served', { logprobs: 4, server: await serve(other) });
    const r = await refusal(kd.check(sourceOf('gpt2-served'), student));
    expect(r).toMatchObject({ code: 'invalid_input', field: 'student' });
    expect(r.message).toMatch(
      /^fixture-student has no token ".+", which teacher at 127\.0\.0\.1:\d+ gave at answer token \d+ of example \d+: the soft labels cannot be put in the student's vocabulary$/,
    );
    await expect(kd.write(sourceOf('gpt2-served'), student, tempDir(), { signal: new AbortController().signal })).rejects.toMatchObject({ message: r.message });
  });
});
