import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { divergence, type DivergenceExample } from '../../src-main/core/evaluate/divergence.js';
import { SoftLabelMapper, softLabelKld } from '../../src-main/core/evaluate/soft-labels.js';
import { teacherForcedTokens } from '../../src-main/core/evaluate/teacher-forcing.js';
import { readRawMetadata, writeGguf } from '../../src-main/core/gguf/stream-writer.js';
import { writeSyntheticLlama } from '../../src-main/core/gguf/synthetic.js';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import type { EngineClient } from '../../src-main/core/native/client.js';
import type { TokenLogprob } from '../../src-shared/domain/distill.js';
import { isAppError } from '../../src-shared/errors.js';
import { fixtureAdapter, fixtureModel, fixtureSpec, llamaCppSourceDir, vocabFile } from '../fixtures/models.js';
import { tempDir } from '../helpers/tmp.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';

/**
 * Divergence of the fixture student from the fixture teacher (they share the llama-spm vocabulary), on the
 * `scoreSequences` op: (a) on llama-perplexity's chunks against `llama-perplexity --kl-divergence` run here; (b) on
 * chat-rendered answers against a slow reference (each model alone, one sequence per request in 5-token decodes, its
 * whole log-distribution returned and the figures computed in plain JS); (c) soft labels (top-k + rest) against the
 * full KLD; (d) a model with another vocabulary refused; (e) cancel and bad input.
 */
const CTX = 128;
let engine: LlmEngine;
let client: EngineClient;
let student: string;
let teacher: string;
let binary: string;
let dir: string;
let textFile: string;
let nVocab: number;

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

const CHATS: { question: string; answer: string }[] = [
  { question: 'What is the capital of France?', answer: 'Paris is the capital of France.' },
  { question: 'Name two colours.', answer: 'Red and blue.' },
  { question: 'How does a student model learn from a teacher?', answer: 'It learns to answer the way the teacher answers, one token at a time.' },
];

let examples: DivergenceExample[];

beforeAll(async () => {
  binary = inject('llamaPerplexity');
  student = await fixtureModel('student');
  teacher = await fixtureModel('teacher');
  dir = tempDir('distillery-divergence-');
  textFile = path.join(dir, 'text.txt');
  fs.writeFileSync(textFile, perplexityText(7, 400));
  engine = new LlmEngine({ gpu: false });
  client = engine.native();
  // the student has no chat template: its answers are rendered through the teacher's (ChatML; the same vocabulary)
  const tokenizer = await engine.loadTokenizer(teacher);
  examples = CHATS.map((c) => teacherForcedTokens(tokenizer, [{ role: 'user', content: c.question }], c.answer));
  nVocab = (await client.request('vocabulary', { model: { path: student } })).pieces.length;
});

afterAll(async () => {
  await engine?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Each model alone, every log-probability of every answer position (5-token decodes, one sequence per request). */
async function fullLogprobs(model: string, e: DivergenceExample, adapters: { path: string; scale: number }[] = []): Promise<Float32Array[]> {
  const all = Array.from({ length: nVocab }, (_, i) => i);
  const r = await client.request('scoreSequences', {
    model: { path: model },
    adapters,
    sequences: [{ tokens: [...e.promptTokens, ...e.answerTokens], from: e.promptTokens.length, labels: e.answerTokens.map(() => all) }],
    threads: 1,
    batchSize: 5,
    parallel: 1,
  });
  const lp = r.sequences[0]!.labelLogprobs!;
  return e.answerTokens.map((_, j) => lp.subarray(j * nVocab, (j + 1) * nVocab));
}

const argmax = (row: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

function fullKld(t: Float32Array, s: Float32Array): number {
  let kld = 0;
  for (let i = 0; i < t.length; i++) kld += Math.exp(t[i]!) * (t[i]! - s[i]!);
  return kld;
}

describe('divergence on llama-perplexity chunks', () => {
  it('KLD(teacher‖student), PPL and same top equal llama-perplexity --kl-divergence', async () => {
    const base = path.join(dir, 'teacher.kld');
    const w = spawnSync(binary, ['-m', teacher, '-f', textFile, '-c', String(CTX), '-t', '1', '--kl-divergence-base', base], { encoding: 'utf8' });
    expect(w.status, w.stderr.slice(-2000)).toBe(0);
    const k = spawnSync(binary, ['-m', student, '-c', String(CTX), '-t', '1', '--kl-divergence-base', base, '--kl-divergence'], { encoding: 'utf8' });
    const out = `${k.stdout}\n${k.stderr}`;
    const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
    const ref = {
      ppl: num(/Mean PPL\(Q\)\s*:\s*([-\d.]+)/),
      pplBase: num(/Mean PPL\(base\)\s*:\s*([-\d.]+)/),
      kld: num(/Mean\s+KLD:\s*([-\d.]+)/),
      maxKld: num(/Maximum KLD:\s*([-\d.]+)/),
      sameTop: num(/Same top p:\s*([-\d.]+)/) / 100,
    };
    expect(Number.isFinite(ref.kld), out.slice(-2000)).toBe(true);
    // llama-perplexity's chunks: n_ctx tokens each, the first replaced by BOS, positions n_ctx/2 … n_ctx − 2 scored:
    // they predict tokens n_ctx/2 + 1 … n_ctx − 1, so from = n_ctx/2 + 1
    const text = fs.readFileSync(textFile, 'utf8');
    const tokens = (await client.request('tokenize', { model: { path: student }, text, addSpecial: true, parseSpecial: false })).tokens;
    const bos = tokens[0]!;
    const nChunk = Math.floor(tokens.length / CTX);
    const sequences = Array.from({ length: nChunk }, (_, c) => {
      const chunk = Array.from(tokens.subarray(c * CTX, (c + 1) * CTX));
      chunk[0] = bos;
      return { tokens: chunk, from: CTX / 2 + 1 };
    });
    const r = await client.request('scoreSequences', { model: { path: student }, base: { model: { path: teacher } }, sequences, threads: 1 });
    const kl = r.aggregate.kl!;
    console.log(
      `chunks ${nChunk}: app KLD ${kl.kld.toFixed(6)} (max ${kl.maxKld.toFixed(4)}) PPL ${r.aggregate.ppl.toFixed(3)} same top ${kl.sameTop.toFixed(4)}; ` +
        `llama-perplexity KLD ${ref.kld} (max ${ref.maxKld}) PPL ${ref.ppl} same top ${ref.sameTop}; KLD differs by ${(100 * relative(kl.kld, ref.kld)).toFixed(4)} %`,
    );
    expect(r.scoredTokens).toBe(nChunk * (CTX / 2 - 1));
    expect(kl.kld).toBeGreaterThan(0.1);
    expect(relative(kl.kld, ref.kld)).toBeLessThan(0.05);
    expect(relative(r.aggregate.ppl, ref.ppl)).toBeLessThan(1e-4);
    // the teacher's PPL: llama-perplexity stores its distribution in 16 bits per entry (log p ≤ −16 skipped), which
    // moves a random-weight teacher's huge PPL (~10⁶) by ~0.4 % here; its KLD is within 0.02 %
    expect(relative(kl.pplBase, ref.pplBase)).toBeLessThan(1e-2);
    expect(Math.abs(kl.sameTop - ref.sameTop)).toBeLessThan(0.01);
    // the per-sequence figures add up to the run's
    const perSeq = r.sequences.reduce((s, f) => s + f.kld! * f.scored, 0) / r.scoredTokens;
    expect(relative(perSeq, kl.kld)).toBeLessThan(1e-6); // per position in float32
  });
});

describe('divergence on chat-rendered answers', () => {
  it('teacher-forced tokens run through the end of the assistant turn', async () => {
    const t = await engine.loadTokenizer(teacher);
    const e = examples[0]!;
    // ChatML on a vocabulary without <|im_end|>: the turn ends with the tokens that complete that stop text
    expect(t.detokenize(e.answerTokens as never, true)).toMatch(/^Paris is the capital of France\. ?<\|im_end\|>$/);
    expect(t.detokenize(e.promptTokens as never, true)).toMatch(/<\|im_start\|>assistant\n$/);
    // the student has no template: node-llama-cpp's fallback ends a turn with neither, so its EOS follows the answer
    const s = await engine.loadTokenizer(student);
    const r = teacherForcedTokens(s, [{ role: 'user', content: 'Q?' }], 'Answer here.');
    expect(r.answerTokens.at(-1)).toBe(s.tokens.eos);
    expect(s.detokenize(r.answerTokens.slice(0, -1) as never, true)).toBe('Answer here.');
  });

  it('per example equals a slow reference (each model alone, full distributions, KLD in JS)', async () => {
    const seen: number[] = [];
    const r = await divergence(
      client,
      { student: { file: student, adapters: [] }, teacher: { file: teacher, adapters: [] }, examples, threads: 1 },
      { onExample: (i) => seen.push(i) },
    );
    expect(seen.sort()).toEqual([0, 1, 2]);
    for (const [i, e] of examples.entries()) {
      const t = await fullLogprobs(teacher, e);
      const s = await fullLogprobs(student, e);
      const kl = t.map((row, j) => fullKld(row, s[j]!));
      const nll = e.answerTokens.reduce((sum, tok, j) => sum - s[j]![tok]!, 0);
      const agree = t.filter((row, j) => argmax(row) === argmax(s[j]!)).length / t.length;
      const f = r.examples[i]!;
      expect(f.compared).toBe('lockstep');
      expect(f.tokens).toBe(e.answerTokens.length);
      expect(relative(f.kld!, kl.reduce((a, b) => a + b, 0) / kl.length)).toBeLessThan(1e-4);
      expect(relative(f.maxKld!, Math.max(...kl))).toBeLessThan(1e-4);
      expect(relative(f.nll, nll)).toBeLessThan(1e-5);
      expect(f.meanNll).toBeCloseTo(f.nll / f.tokens, 12);
      expect(f.top1).toBe(agree);
    }
    expect(r.summary.tokens).toBe(examples.reduce((n, e) => n + e.answerTokens.length, 0));
    expect(r.summary.ppl).toBeCloseTo(Math.exp(r.summary.meanNll), 10);
  });

  it("applies the student's adapters at their scales", async () => {
    const lora = await fixtureAdapter('student-lora');
    const e = examples[0]!;
    const r = await divergence(client, {
      student: { file: student, adapters: [{ file: lora, scale: 0.7 }] },
      teacher: { file: teacher, adapters: [] },
      examples: [e],
      threads: 1,
    });
    const t = await fullLogprobs(teacher, e);
    const s = await fullLogprobs(student, e, [{ path: lora, scale: 0.7 }]);
    const plain = await fullLogprobs(student, e);
    const mean = (rows: Float32Array[]) => t.reduce((sum, row, j) => sum + fullKld(row, rows[j]!), 0) / t.length;
    expect(relative(r.examples[0]!.kld!, mean(s))).toBeLessThan(1e-4);
    expect(relative(mean(plain), mean(s))).toBeGreaterThan(1e-3);
  });

  it('without a teacher: the student NLL, and top-1 against the answer tokens', async () => {
    const r = await divergence(client, { student: { file: student, adapters: [] }, teacher: null, examples, threads: 1 });
    const s = await fullLogprobs(student, examples[0]!);
    const hits = examples[0]!.answerTokens.filter((tok, j) => argmax(s[j]!) === tok).length;
    expect(r.examples[0]!.compared).toBe('none');
    expect(r.examples[0]!.kld).toBeNull();
    expect(r.examples[0]!.top1).toBe(hits / s.length);
    expect(r.summary.kld).toBeNull();
  });
});

describe('soft labels (top-k plus the rest as one bucket)', () => {
  it('equal the full KLD at k = the vocabulary, never exceed it at small k, and grow with k', async () => {
    const e = examples[2]!;
    const t = await fullLogprobs(teacher, e);
    const s = await fullLogprobs(student, e);
    for (let j = 0; j < t.length; j++) {
      const full = fullKld(t[j]!, s[j]!);
      // k = n_vocab: the rest buckets are only float rounding (1 − Σp of float32 log-probabilities)
      expect(relative(softLabelKld(t[j]!, s[j]!), full)).toBeLessThan(1e-5);
      const order = Array.from(t[j]!.keys()).sort((a, b) => t[j]![b]! - t[j]![a]!);
      let prev = 0;
      for (const k of [1, 5, 20, 200]) {
        const ids = order.slice(0, k);
        const soft = softLabelKld(
          ids.map((i) => t[j]![i]!),
          ids.map((i) => s[j]![i]!),
        );
        expect(soft).toBeLessThanOrEqual(full + 1e-9);
        expect(soft).toBeGreaterThanOrEqual(prev - 1e-9); // top-k+1 refines top-k's partition
        prev = soft;
      }
    }
  });

  it('map stored token texts onto the student, refuse answers that do not align, count unmatched alternatives', async () => {
    const vocab = await client.request('vocabulary', { model: { path: student } });
    const mapper = new SoftLabelMapper(vocab);
    // a server's soft labels: per answer token (not the end-of-turn), the teacher's top-5 as texts
    const stored = async (e: DivergenceExample): Promise<TokenLogprob[]> => {
      const t = await fullLogprobs(teacher, e);
      return e.answerTokens.slice(0, -1).map((tok, j) => {
        const order = Array.from(t[j]!.keys()).sort((a, b) => t[j]![b]! - t[j]![a]!);
        return {
          token: vocab.pieces[tok]!,
          logprob: t[j]![tok]!,
          top: order.slice(0, 5).map((id) => ({ token: vocab.pieces[id] ?? '?', logprob: t[j]![id]! })),
        };
      });
    };
    const labels = await Promise.all(examples.map(stored));
    labels[1]![0]!.top.push({ token: 'no such token \u0001', logprob: -9 });
    const misaligned = structuredClone(labels[2]!);
    misaligned[1]!.token = `${misaligned[1]!.token}x`;
    const input = examples.map((e, i) => ({ ...e, softLabels: i === 2 ? misaligned : labels[i]! }));
    const r = await divergence(client, { student: { file: student, adapters: [] }, teacher: null, examples: input, threads: 1 });
    expect(r.examples[2]!.compared).toBe('none');
    expect(r.examples[2]!.refused).toMatch(/answer token 1 is .* for the teacher but .* for the student/);
    expect(r.examples[1]!.unmatched).toBe(1);
    for (const i of [0, 1]) {
      const e = examples[i]!;
      const s = await fullLogprobs(student, e);
      const aligned = mapper.align(labels[i]!, e.answerTokens);
      if (!aligned.ok) throw new Error(aligned.reason);
      const klds = aligned.positions.map((p, j) =>
        softLabelKld(
          p.logprobs,
          p.ids.map((id) => s[j]![id]!),
        ),
      );
      const f = r.examples[i]!;
      expect(f.compared).toBe('soft-labels');
      expect(f.labelledTokens).toBe(e.answerTokens.length - 1);
      expect(relative(f.kld!, klds.reduce((a, b) => a + b, 0) / klds.length)).toBeLessThan(1e-5);
    }
    expect(r.summary.refused).toBe(1);
  });
});

describe('refusals', () => {
  it('a model with another vocabulary, naming both models and what differs', async () => {
    const other = path.join(dir, 'gpt2-student.gguf');
    writeSyntheticLlama(other, {
      ...fixtureSpec('student'),
      name: 'gpt2-student',
      vocabFile: path.join(llamaCppSourceDir(), 'models', 'ggml-vocab-gpt-2.gguf'),
    });
    const err = await divergence(client, {
      student: { file: student, adapters: [] },
      teacher: { file: other, adapters: [] },
      examples: examples.slice(0, 1),
      threads: 1,
    }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('invalid_input');
    expect((err as Error).message).toMatch(
      /gpt2-student\.gguf and student\.gguf do not share a vocabulary \(gpt2-student\.gguf has 50257 tokens, student\.gguf 32000\)/,
    );
  });

  it('a model whose vocabulary has as many tokens but one other text, naming the token', async () => {
    // llama-spm's vocabulary with "▁the" (token 278) renamed "▁tXe": same count, one text differs
    const raw = readRawMetadata(vocabFile());
    const tokens = raw.get('tokenizer.ggml.tokens')!;
    const needle = Buffer.concat([Buffer.from([6, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('\u2581the', 'utf8')]);
    const i = tokens.indexOf(needle);
    expect(i).toBeGreaterThan(0);
    const patched = Buffer.from(tokens);
    patched.write('X', i + 8 + 4, 'utf8'); // ▁ is 3 bytes, then t, then h → X
    const vocab = path.join(dir, 'patched-vocab.gguf');
    writeGguf(
      vocab,
      [...raw].filter(([k]) => k.startsWith('tokenizer.')).map(([k, v]) => [k, { raw: k === 'tokenizer.ggml.tokens' ? patched : v }]),
      [],
    );
    const other = path.join(dir, 'renamed.gguf');
    writeSyntheticLlama(other, { ...fixtureSpec('student'), name: 'renamed', vocabFile: vocab });
    const err = (await client
      .request('scoreSequences', { model: { path: student }, base: { model: { path: other } }, sequences: [{ tokens: [1, 2, 3], from: 1 }], threads: 1 })
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(
      /renamed\.gguf and student\.gguf do not share a vocabulary \(token 278 is "▁tXe" in renamed\.gguf but "▁the" in student\.gguf\)/,
    );
  });

  it('bad input gives AppErrors and the host lives on; a cancel stops between decodes', async () => {
    const starts = client.childStarts;
    const seq = [...examples[0]!.promptTokens, ...examples[0]!.answerTokens];
    const bad = async (args: object) =>
      client.request('scoreSequences', { model: { path: student }, sequences: [], threads: 1, ...args }).then(
        () => null,
        (e: unknown) => e as Error & { code: string },
      );
    const cases: [object, RegExp][] = [
      [{ sequences: [{ tokens: seq, from: seq.length }] }, /sequences\.0\.from = \d+ is past its last token/],
      [{ sequences: [{ tokens: seq, from: 0 }] }, /sequences\.0\.from must be a whole number of at least 1/],
      [{ sequences: [{ tokens: [...seq, 99_999], from: 3 }] }, /sequences\.0\.tokens\[\d+\] = 99999 is not a token of student\.gguf/],
      [{ sequences: [{ tokens: seq, from: seq.length - 1, labels: [[5, -1]] }] }, /sequences\.0\.labels\.0\[1\] = -1 is not a token/],
      [{ sequences: [{ tokens: seq, from: seq.length - 1, labels: [] }] }, /must list ids for each of its 1 scored positions/],
      [{ sequences: [{ tokens: seq, from: 1 }], contextSize: 8 }, /sequences\.0 is \d+ tokens long: more than the 8-token context/],
      [{ sequences: [{ tokens: Array(3000).fill(5), from: 1 }] }, /contextSize 3000 is more than the 2048 tokens the model was trained on/],
      [{ sequences: [] }, /sequences must be a non-empty list/],
    ];
    for (const [args, message] of cases) {
      const e = await bad(args);
      expect(e?.code, String(message)).toBe('invalid_input');
      expect(e?.message).toMatch(message);
    }
    const empty = (await divergence(client, {
      student: { file: student, adapters: [] },
      teacher: null,
      examples: [{ promptTokens: [1], answerTokens: [] }],
      threads: 1,
    }).catch((e: unknown) => e)) as Error;
    expect(empty.message).toMatch(/example 1 has an empty answer/);

    // cancel: 60 sequences in 8-token decodes (hundreds of decodes); abort when the first one is finished
    const abort = new AbortController();
    let heard = 0;
    const cancelled = await client
      .request(
        'scoreSequences',
        {
          model: { path: student },
          base: { model: { path: teacher } },
          sequences: Array(60).fill({ tokens: seq, from: 3 }),
          threads: 1,
          batchSize: 8,
          parallel: 1,
        },
        {
          signal: abort.signal,
          onProgress: () => {
            heard++;
            abort.abort();
          },
        },
      )
      .catch((e: unknown) => e as Error & { code: string });
    expect(cancelled).toMatchObject({ code: 'cancelled' });
    expect(heard).toBe(1);
    // the same host answers the next request
    const ok = await client.request('scoreSequences', { model: { path: student }, sequences: [{ tokens: seq, from: seq.length - 2 }], threads: 1 });
    expect(ok.sequences[0]!.scored).toBe(2);
    expect(client.childStarts).toBe(starts);
  });
});
