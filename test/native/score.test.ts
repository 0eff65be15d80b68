import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { perplexity } from '../../src-main/core/adapters/perplexity.js';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import type { EngineClient } from '../../src-main/core/native/client.js';
import { fixtureAdapter, fixtureModel } from '../fixtures/models.js';
import { tempDir } from '../helpers/tmp.js';
import { perplexityText } from '../tools/build-llama-perplexity.js';

/**
 * Lockstep scoring (two contexts, the same chunks, no logits file) against `llama-perplexity --kl-divergence-base
 * FILE` + `--kl-divergence` on the fixture student. llama-perplexity keeps the base distribution in 16 bits per entry
 * (and skips log p ≤ −16), so its base figures carry that rounding: ~1e-3 relative on PPL(base) here; the model's
 * own PPL is exact on both sides.
 */
const CTX = 128;
let engine: LlmEngine;
let client: EngineClient;
let student: string;
let lora: string;
let binary: string;
let dir: string;
let text: string;
let baseLogits: string;

interface KlRef {
  ppl: number;
  pplBase: number;
  kld: number;
  sameTop: number;
  rmsDp: number;
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

function llamaKl(args: string[]): KlRef {
  const r = spawnSync(binary, ['-m', student, '-c', String(CTX), '-t', '1', '--kl-divergence-base', baseLogits, '--kl-divergence', ...args], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  const num = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) throw new Error(`llama-perplexity printed no ${re.source} (exit ${r.status}):\n${out.slice(-2000)}`);
    return Number(m[1]);
  };
  return {
    ppl: num(/Mean PPL\(Q\)\s*:\s*([-\d.]+)/),
    pplBase: num(/Mean PPL\(base\)\s*:\s*([-\d.]+)/),
    kld: num(/Mean\s+KLD:\s*([-\d.]+)/),
    sameTop: num(/Same top p:\s*([-\d.]+)/) / 100,
    rmsDp: num(/RMS Δp\s*:\s*([-\d.]+)/) / 100,
  };
}

beforeAll(async () => {
  binary = inject('llamaPerplexity');
  student = await fixtureModel('student');
  lora = await fixtureAdapter('student-lora');
  dir = tempDir('distillery-kld-');
  text = perplexityText(7, 400);
  const textFile = path.join(dir, 'text.txt');
  fs.writeFileSync(textFile, text);
  baseLogits = path.join(dir, 'base.kld');
  const r = spawnSync(binary, ['-m', student, '-f', textFile, '-c', String(CTX), '-t', '1', '--kl-divergence-base', baseLogits], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`llama-perplexity could not write the base logits: ${r.stderr.slice(-2000)}`);
  engine = new LlmEngine({ gpu: false });
  client = engine.native();
});

afterAll(async () => {
  await engine?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('lockstep scoring (KLD against a base, no logits file)', () => {
  it('a model against itself: KLD 0, the same top token everywhere, as llama-perplexity says', async () => {
    const app = await perplexity(client, student, text, { contextSize: CTX, threads: 1, base: { modelFile: student } });
    const ref = llamaKl([]);
    console.log(`self: app KLD ${app.kl!.kld}, same top ${app.kl!.sameTop}; llama-perplexity KLD ${ref.kld}, same top ${ref.sameTop}`);
    expect(app.kl!.kld).toBe(0);
    expect(app.kl!.sameTop).toBe(1);
    expect(app.kl!.pplBase).toBe(app.ppl);
    expect(ref.sameTop).toBe(1);
    expect(Math.abs(ref.kld)).toBeLessThan(1e-5);
    expect(relative(app.ppl, ref.ppl)).toBeLessThan(2e-5);
    expect(relative(app.kl!.pplBase, ref.pplBase)).toBeLessThan(2e-3);
  });

  it('the model with an adapter against the base: KLD > 0 and fewer same tops, matching llama-perplexity', async () => {
    const app = await perplexity(client, student, text, {
      contextSize: CTX,
      threads: 1,
      adapters: [{ filePath: lora, scale: 1 }],
      base: { modelFile: student },
    });
    const ref = llamaKl(['--lora-scaled', `${lora}:1`]);
    const kl = app.kl!;
    console.log(
      `lora: app KLD ${kl.kld.toFixed(6)} same top ${kl.sameTop.toFixed(5)} RMS Δp ${kl.rmsDp.toExponential(3)}; ` +
        `llama-perplexity KLD ${ref.kld} same top ${ref.sameTop} RMS Δp ${ref.rmsDp}`,
    );
    expect(kl.kld).toBeGreaterThan(0.01);
    expect(kl.sameTop).toBeLessThan(1);
    expect(relative(app.ppl, ref.ppl)).toBeLessThan(2e-5);
    expect(relative(kl.kld, ref.kld)).toBeLessThan(5e-3);
    expect(Math.abs(kl.sameTop - ref.sameTop)).toBeLessThan(0.005);
    expect(relative(kl.pplBase, ref.pplBase)).toBeLessThan(2e-3);
    expect(kl.logPplRatio).toBeCloseTo(Math.log(app.ppl / kl.pplBase), 10);
  });

  it('returns per-position NLL, KLD and top-k without a JS object per vocabulary entry', async () => {
    const r = await client.request('score', {
      model: { path: student },
      adapters: [{ path: lora, scale: 1 }],
      base: { model: { path: student } },
      text,
      contextSize: CTX,
      threads: 1,
      maxChunks: 3,
      perPosition: true,
      topK: 5,
    });
    const n = 3 * (CTX - 1 - CTX / 2);
    expect(r.scoredTokens).toBe(n);
    expect(r.nll).toBeInstanceOf(Float32Array);
    expect(r.nll!.length).toBe(n);
    expect(r.kld!.length).toBe(n);
    expect(r.topIds!.length).toBe(5 * n);
    const meanNll = r.nll!.reduce((a, b) => a + b, 0) / n;
    expect(relative(Math.exp(meanNll), r.ppl)).toBeLessThan(1e-5);
    expect(relative(r.kld!.reduce((a, b) => a + b, 0) / n, r.kl!.kld)).toBeLessThan(1e-5);
    for (let p = 0; p < n; p++) {
      const lp = r.topLogprobs!.subarray(p * 5, p * 5 + 5);
      for (let j = 1; j < 5; j++) expect(lp[j]).toBeLessThanOrEqual(lp[j - 1]!);
      expect(lp[0]).toBeLessThanOrEqual(0);
    }
  });
});
