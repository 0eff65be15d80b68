import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LlamaModel } from 'node-llama-cpp';
import { perplexity, tokenizeForPerplexity, type PerplexityAdapter, type PerplexityResult } from '../../../src-main/core/adapters/perplexity.js';
import { writeSyntheticLora } from '../../../src-main/core/gguf/synthetic.js';
import { LlmEngine } from '../../../src-main/core/llm/engine.js';
import type { EngineClient } from '../../../src-main/core/native/client.js';
import { fixtureAdapter, fixtureModel, fixtureSpec } from '../../fixtures/models.js';
import { tempDir } from '../../helpers/tmp.js';
import { llamaPerplexity, perplexityText } from '../../tools/build-llama-perplexity.js';

/**
 * The app's perplexity against llama.cpp's own `llama-perplexity` on the fixture student (a random 2-layer llama with a
 * 32k vocabulary: perplexities are huge, ~4e5, but the arithmetic is the same as on a real model).
 */
const CTX = 128;
let engine: LlmEngine;
let client: EngineClient;
let model: LlamaModel;
let studentFile: string;
let lora: string;
/** A second adapter on other projections, for two adapters at once. */
let lora2: string;
let binary: string;
let dir: string;
let text: string;
let textFile: string;
let base: PerplexityResult;

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  binary = inject('llamaPerplexity'); // built once by test/fixtures/llama-tools-setup.ts
  studentFile = await fixtureModel('student');
  lora = await fixtureAdapter('student-lora');
  dir = tempDir('distillery-ppl-');
  lora2 = path.join(dir, 'student-lora-2.gguf');
  writeSyntheticLora(lora2, { base: fixtureSpec('student'), rank: 4, alpha: 4, targets: ['attn_k', 'attn_output'], seed: 11, scale: 0.25 });
  text = perplexityText(7, 400);
  textFile = path.join(dir, 'text.txt');
  fs.writeFileSync(textFile, text);
  engine = new LlmEngine({ gpu: false });
  model = await engine.loadModel(studentFile);
  client = engine.native();
  base = await perplexity(client, studentFile, text, { contextSize: CTX, threads: 1 });
});

afterAll(async () => {
  await engine?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('perplexity (llama-perplexity method)', () => {
  it('tokenizes like llama-perplexity: BOS first, then the text', () => {
    const tokens = tokenizeForPerplexity(model, text);
    expect(tokens[0]).toBe(model.tokens.bos);
    expect(tokens.length).toBeGreaterThan(3000);
    expect(base.tokens).toBe(tokens.length);
    expect(base.chunks).toBe(Math.floor(tokens.length / CTX));
    expect(base.scoredTokens).toBe(base.chunks * (CTX - 1 - CTX / 2));
  });

  it('equals llama-perplexity on the base model within 2e-5 relative, and its ± too', () => {
    const ref = llamaPerplexity(binary, { model: studentFile, textFile, contextSize: CTX, threads: 1 });
    console.log(
      `base: app ${base.ppl.toFixed(2)} ± ${base.stderr.toFixed(2)} (${base.tokensPerSecond.toFixed(0)} tok/s), ` +
        `llama-perplexity ${ref.ppl.toFixed(2)} ± ${ref.stderr.toFixed(2)} (${((base.chunks * CTX) / ref.seconds).toFixed(0)} tok/s wall, load included)`,
    );
    expect(ref.chunks).toBe(base.chunks);
    expect(relative(base.ppl, ref.ppl)).toBeLessThan(2e-5);
    expect(relative(base.stderr, ref.stderr)).toBeLessThan(2e-5);
  });

  it('equals llama-perplexity with the adapter attached (--lora-scaled FILE:SCALE), at 1 and 0.7, and with --chunks', async () => {
    for (const [scale, chunks] of [
      [1, undefined],
      [0.7, 5],
    ] as const) {
      const adapters = [{ filePath: lora, scale }];
      const app = await perplexity(client, studentFile, text, { contextSize: CTX, threads: 1, adapters, ...(chunks ? { maxChunks: chunks } : {}) });
      const ref = llamaPerplexity(binary, { model: studentFile, textFile, contextSize: CTX, threads: 1, adapters, ...(chunks ? { chunks } : {}) });
      console.log(`lora ×${scale}${chunks ? `, ${chunks} chunks` : ''}: app ${app.ppl.toFixed(2)}, llama-perplexity ${ref.ppl.toFixed(2)}`);
      expect(app.chunks).toBe(chunks ?? base.chunks);
      expect(ref.chunks).toBe(app.chunks);
      expect(relative(app.ppl, ref.ppl)).toBeLessThan(2e-5);
      expect(relative(app.ppl, base.ppl)).toBeGreaterThan(1e-3); // the adapter does change the figure
    }
  });

  it('scale 0 gives exactly the base perplexity', async () => {
    const zero = await perplexity(client, studentFile, text, { contextSize: CTX, threads: 1, adapters: [{ filePath: lora, scale: 0 }] });
    expect(zero.ppl).toBe(base.ppl);
    expect(zero.stderr).toBe(base.stderr);
  });

  it('a negative scale and two adapters at once give other figures (and still match llama-perplexity)', async () => {
    const run = (adapters: PerplexityAdapter[]) => perplexity(client, studentFile, text, { contextSize: CTX, threads: 1, adapters, maxChunks: 8 });
    const positive = await run([{ filePath: lora, scale: 0.8 }]);
    const negative = await run([{ filePath: lora, scale: -0.8 }]);
    const two: PerplexityAdapter[] = [
      { filePath: lora, scale: 0.8 },
      { filePath: lora2, scale: -0.5 },
    ];
    const both = await run(two);
    const figures = [positive.ppl, negative.ppl, both.ppl];
    console.log(`lora ×0.8 ${positive.ppl.toFixed(2)}, ×-0.8 ${negative.ppl.toFixed(2)}, two adapters ${both.ppl.toFixed(2)}`);
    expect(new Set(figures).size).toBe(3);
    for (const f of figures) expect(Number.isFinite(f)).toBe(true);
    const ref = llamaPerplexity(binary, { model: studentFile, textFile, contextSize: CTX, threads: 1, adapters: two, chunks: 8 });
    expect(relative(both.ppl, ref.ppl)).toBeLessThan(2e-5);
  });

  it('refuses a text too short for llama-perplexity, saying how many tokens it needs', async () => {
    const short = perplexityText(3, 10);
    const n = tokenizeForPerplexity(model, short).length;
    const e = await rejection(perplexity(client, studentFile, short, { contextSize: CTX, threads: 1 }));
    expect(e.code).toBe('invalid_input');
    expect(e.message).toContain(`only ${n} tokens`);
    expect(e.message).toContain(`needs at least ${2 * CTX} tokens`);
    // llama-perplexity refuses the same text with the same figure.
    const shortFile = path.join(dir, 'short.txt');
    fs.writeFileSync(shortFile, short);
    expect(() => llamaPerplexity(binary, { model: studentFile, textFile: shortFile, contextSize: CTX, threads: 1 })).toThrow(`at least ${2 * CTX} tokens`);
  });

  it('stops between chunks when cancelled, and reports progress per chunk', async () => {
    const controller = new AbortController();
    const seen: [number, number, number][] = [];
    const e = await rejection(
      perplexity(client, studentFile, text, {
        contextSize: CTX,
        threads: 1,
        batchSize: CTX, // one chunk per batch: the cancel lands right after the first
        signal: controller.signal,
        onChunk: (done, total, ppl) => {
          seen.push([done, total, ppl]);
          controller.abort();
        },
      }),
    );
    expect(e.code).toBe('cancelled');
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toBe(1);
    expect(seen[0]![1]).toBe(base.chunks);

    const aborted = AbortSignal.abort();
    expect((await rejection(perplexity(client, studentFile, text, { contextSize: CTX, threads: 1, signal: aborted }))).code).toBe('cancelled');

    const progress: number[] = [];
    let last = NaN;
    const full = await perplexity(client, studentFile, text, {
      contextSize: CTX,
      threads: 1,
      maxChunks: 6,
      onChunk: (done, _total, ppl) => (progress.push(done), (last = ppl)),
    });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    expect(last).toBe(full.ppl);
  });

  it('refuses an adapter that does not fit the model, before llama.cpp sees it', async () => {
    const teacherLora = path.join(dir, 'teacher-lora.gguf');
    writeSyntheticLora(teacherLora, { base: fixtureSpec('teacher'), rank: 4, alpha: 8, targets: ['attn_q'], seed: 5, scale: 0.1 });
    const e = await rejection(perplexity(client, studentFile, text, { contextSize: CTX, threads: 1, adapters: [{ filePath: teacherLora, scale: 1 }] }));
    expect(e.code).toBe('invalid_input');
    expect(e.message).toContain('does not fit');
  });
});
