import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaModel, Token } from 'node-llama-cpp';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import { NativeBatch } from '../../src-main/core/native/batch.js';
import { resolveSampling } from '../../src-main/core/native/sampler-chain.js';
import type { NativeGenerateSpec, NativeSampling } from '../../src-main/core/native/generate-types.js';
import { renderChat } from '../../src-main/core/distill/local-teacher.js';
import { fixtureModel } from '../fixtures/models.js';

/**
 * Batched generation on the native path (the engine host) against node-llama-cpp's own generation on the fixture
 * teacher, with the same prompt tokens (rendered through the model's chat template by node-llama-cpp).
 */
const QUESTIONS = [
  'How do I reset my password?',
  'The printer shows error E-42 after a firmware update.',
  'Which cable connects the scanner?',
  'My order arrived damaged, what now?',
  'Can I change the delivery address?',
  'Why is the page blank?',
];
const greedy = resolveSampling({ temperature: 0, repeatPenalty: 1 });

let engine: LlmEngine;
let file: string;
let vocab: LlamaModel;
let prompts: number[][];

/** The engine host runs one batch at a time: each test closes its batch (a failed test's batch is closed here). */
let open: NativeBatch | null = null;
async function openBatch(parallel: number, contextSize = 256): Promise<NativeBatch> {
  await open?.close();
  open = await NativeBatch.open(engine.native(), { modelPath: file, lora: [], parallel, contextSize, threads: 1 });
  return open;
}

const spec = (tokens: number[], o: Partial<NativeGenerateSpec> = {}): NativeGenerateSpec => ({
  tokens,
  maxTokens: 24,
  sampling: greedy,
  stops: [],
  logprobs: 0,
  ...o,
});

/** node-llama-cpp's path: its own sampler on a context sequence, until an end token or `n` tokens. */
async function nodeLlamaCpp(tokens: number[], n: number, s: NativeSampling) {
  const model = await engine.loadModel(file);
  const context = await engine.createContext(model, { contextSize: 256, threads: 1 });
  const out: Token[] = [];
  const probs: Map<Token, number>[] = [];
  try {
    const options = {
      temperature: s.temperature,
      topK: s.topK,
      topP: s.topP,
      minP: s.minP,
      seed: s.seed,
      ...(s.repeatPenalty === 1 ? {} : { repeatPenalty: { punishTokens: () => out.slice(-s.repeatLastN), penalty: s.repeatPenalty } }),
    };
    const sequence = context.getSequence();
    const it = sequence.evaluateWithMetadata(tokens as Token[], { probabilities: true }, options);
    for await (const { token, probabilities: p } of it) {
      if (model.isEogToken(token)) break;
      out.push(token);
      probs.push(p);
      if (out.length >= n) break;
    }
  } finally {
    await context.dispose();
  }
  return { tokens: out as number[], probs };
}

beforeAll(async () => {
  engine = new LlmEngine({ gpu: false });
  file = await fixtureModel('teacher');
  vocab = await engine.loadTokenizer(file);
  prompts = QUESTIONS.map((q) => renderChat(vocab, [{ role: 'user', content: q }]).tokens);
});

afterEach(async () => {
  await open?.close();
  open = null;
});

afterAll(async () => {
  await engine.dispose();
});

describe('native batched generation', () => {
  it('greedy generations are token-for-token those of node-llama-cpp (with and without a repeat penalty)', async () => {
    const batch = await openBatch(3);
    const answers: number[][][] = [];
    for (const sampling of [greedy, resolveSampling({ temperature: 0, repeatPenalty: 1.1 }), resolveSampling({ temperature: 0, repeatPenalty: 1.5 })]) {
      const native = await Promise.all(prompts.slice(0, 3).map((p) => batch.generate(spec(p, { sampling }))));
      answers.push(native.map((r) => r.tokens));
      for (const [i, p] of prompts.slice(0, 3).entries()) {
        const ref = await nodeLlamaCpp(p, 24, sampling);
        expect(ref.tokens.length).toBeGreaterThan(0);
        expect(native[i]!.tokens).toEqual(ref.tokens);
        expect(native[i]!.text).toBe(vocab.detokenize(ref.tokens as Token[]));
      }
    }
    expect(answers[2]).not.toEqual(answers[0]); // the penalty changed some answer: both paths applied it alike
  });

  it('seeded sampling is reproducible and, one sequence at a time, draws what node-llama-cpp draws', async () => {
    const sampling = resolveSampling({ temperature: 0.9, topK: 40, topP: 0.95, minP: 0.05, seed: 7 });
    const alone = await openBatch(1);
    const a = await alone.generate(spec(prompts[0]!, { sampling }));
    expect((await alone.generate(spec(prompts[0]!, { sampling }))).tokens).toEqual(a.tokens);
    expect((await alone.generate(spec(prompts[0]!, { sampling: { ...sampling, seed: 8 } }))).tokens).not.toEqual(a.tokens);
    expect((await nodeLlamaCpp(prompts[0]!, 24, sampling)).tokens).toEqual(a.tokens);
    const penalized = { ...sampling, repeatPenalty: 1.3 };
    expect((await alone.generate(spec(prompts[0]!, { sampling: penalized }))).tokens).toEqual((await nodeLlamaCpp(prompts[0]!, 24, penalized)).tokens);
    // in a batch, each sequence's chain draws from its own seed: the same batch again draws the same (a batch's float
    // rounding differs from a lone sequence's, so a draw near a boundary may differ from the one above)
    const twice: number[][][] = [];
    for (let i = 0; i < 2; i++) {
      const two = await openBatch(2);
      const r = await Promise.all([two.generate(spec(prompts[0]!, { sampling })), two.generate(spec(prompts[1]!, { sampling: penalized }))]);
      twice.push(r.map((x) => x.tokens));
    }
    expect(twice[1]).toEqual(twice[0]);
  });

  it('parallel greedy answers equal sequential ones; more prompts than sequences join as others end', async () => {
    const parallel = await openBatch(4);
    const lengths = [24, 9, 17, 5, 30, 12]; // sequences end at different steps, so later ones join mid-batch
    const together = await Promise.all(prompts.map((p, i) => parallel.generate(spec(p, { maxTokens: lengths[i]! }))));
    // the batch decoded its sequences together: fewer steps than the sequences' own steps added up
    const summary = await parallel.close();
    const own = together.reduce((n, r) => n + r.steps, 0);
    expect(summary!.steps).toBeLessThan(own);
    expect(summary!.sequences).toBe(prompts.length);
    const one = await openBatch(1);
    for (const [i, p] of prompts.entries()) {
      const alone = await one.generate(spec(p, { maxTokens: lengths[i]! }));
      expect(together[i]!.tokens).toEqual(alone.tokens);
      expect(together[i]!.finishReason).toBe(alone.finishReason);
    }
  });

  it('a cancelled sequence stops within one decode step; the others go on; closing cancels the rest', async () => {
    const batch = await openBatch(3, 512);
    const long = (p: number[]) => spec(p, { maxTokens: 400, ignoreEog: true });
    const abort = new AbortController();
    let seen = 0;
    const cancelled = batch.generate(long(prompts[0]!), {
      signal: abort.signal,
      onText: (tokens) => {
        seen = tokens;
        abort.abort();
      },
    });
    const goesOn = batch.generate(spec(prompts[1]!, { maxTokens: 40, ignoreEog: true }));
    const r = await cancelled;
    expect(r.finishReason).toBe('cancelled');
    expect(seen).toBeGreaterThan(0);
    expect(r.stepsAfterCancel).toBeLessThanOrEqual(1);
    expect(r.tokens.length).toBeLessThan(400);
    expect((await goesOn).tokens).toHaveLength(40);
    // closing the batch ends what is still generating, within one step too
    let started!: () => void;
    const running = new Promise<void>((res) => (started = res));
    const rest = [2, 3].map((i) => batch.generate(long(prompts[i]!), { onText: () => started() }));
    await running;
    await batch.close();
    for (const x of await Promise.all(rest)) {
      expect(x.finishReason).toBe('cancelled');
      expect(x.stepsAfterCancel).toBeLessThanOrEqual(1);
    }
  });

  it('stops at a stop text that spans two tokens, and cuts it from the answer', async () => {
    const batch = await openBatch(1);
    const free = await batch.generate(spec(prompts[1]!, { maxTokens: 40, ignoreEog: true }));
    // the first boundary where both neighbouring tokens carry at least two characters
    const prefix = (k: number) => vocab.detokenize(free.tokens.slice(0, k) as Token[]);
    let k = 1;
    while (k < free.tokens.length - 1 && !(prefix(k).length - prefix(k - 1).length >= 2 && prefix(k + 1).length - prefix(k).length >= 2)) k++;
    expect(k).toBeLessThan(free.tokens.length - 1);
    const at = prefix(k).length;
    const stop = free.text.slice(at - 2, at + 2);
    const cut = free.text.indexOf(stop);
    const r = await batch.generate(spec(prompts[1]!, { maxTokens: 40, ignoreEog: true, stops: ['never appears \u0001', stop] }));
    expect(r.finishReason).toBe('stop');
    expect(r.text).toBe(free.text.slice(0, cut));
    expect(r.tokens).toEqual(free.tokens.slice(0, r.tokens.length));
    expect(vocab.detokenize(r.tokens as Token[])).toContain(stop);
    expect(vocab.detokenize(r.tokens.slice(0, -1) as Token[])).not.toContain(stop);
  });

  it("keeps top-k log-probabilities that sum to at most 1 and agree with node-llama-cpp's probabilities", async () => {
    const batch = await openBatch(1);
    const k = 5;
    const r = await batch.generate(spec(prompts[2]!, { maxTokens: 12, logprobs: k }));
    // a token's text is its piece as llama-server prints it: after another token, so a leading space is kept
    const anchor = vocab.tokenize('a');
    const piece = (id: number) => vocab.detokenize([id] as Token[], true, anchor);
    const ref = await nodeLlamaCpp(prompts[2]!, 12, greedy);
    expect(r.tokens).toEqual(ref.tokens);
    expect(r.logprobs).toHaveLength(r.tokens.length);
    for (const [i, t] of r.logprobs!.entries()) {
      expect(t.top).toHaveLength(k);
      const lp = t.top.map((x) => x.logprob);
      expect([...lp].sort((a, b) => b - a)).toEqual(lp);
      expect(lp.reduce((s, x) => s + Math.exp(x), 0)).toBeLessThanOrEqual(1 + 1e-9);
      expect(t.logprob).toBe(lp[0]); // greedy took the likeliest
      expect(t.token).toBe(piece(r.tokens[i]!));
      // node-llama-cpp's map (full softmax at temperature 0, highest first): the same tokens, the same values.
      // Tolerance 1e-4 in log-probability: both are float32 softmaxes of the same logits row; node-llama-cpp sums
      // 32k float32 terms (relative rounding ~ sqrt(32k) × 6e-8 ≈ 1e-5) where the child sums in float64.
      const theirs = [...ref.probs[i]!].slice(0, k);
      expect(t.top.map((x) => x.token)).toEqual(theirs.map(([id]) => piece(id)));
      for (const [j, [, p]] of theirs.entries()) expect(Math.abs(Math.log(p) - lp[j]!)).toBeLessThan(1e-4);
    }
  });

  it('refuses a bad sequence with the field named, and the batch keeps serving', async () => {
    const batch = await openBatch(1);
    await expect(batch.generate(spec([1, 999_999]))).rejects.toMatchObject({ code: 'invalid_input', field: 'tokens' });
    await expect(batch.generate(spec(prompts[0]!, { maxTokens: 0 }))).rejects.toMatchObject({ code: 'invalid_input', field: 'maxTokens' });
    await expect(batch.generate(spec(Array.from({ length: 300 }, () => 5)))).rejects.toMatchObject({ code: 'invalid_input', field: 'tokens' });
    expect((await batch.generate(spec(prompts[0]!, { maxTokens: 3 }))).tokens).toHaveLength(3);
  });
});
