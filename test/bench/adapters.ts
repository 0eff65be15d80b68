import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { LlamaModel } from 'node-llama-cpp';
import { createApp } from '../../src-main/core/app.js';
import { createClient } from '../../src-shared/client.js';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import { cpuCores, defaultThreadsFor } from '../../src-main/core/llm/threads.js';
import { perplexity } from '../../src-main/core/adapters/perplexity.js';
import { mulberry32 } from '../../src-main/core/random.js';
import { fixtureAdapter, fixtureModel, fixtureSpec } from '../fixtures/models.js';
import { writeSyntheticLora } from '../../src-main/core/gguf/synthetic.js';
import { llamaTool } from './llama-tools.js';
import { llamaPerplexitySeconds } from './engine-score.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * `npm run bench -- adapters [--ctx N] [--chunks N] [--model FILE.gguf --lora FILE.gguf]`:
 * - perplexity tokens/s of the app (a `perplexity` run: service, runner, SQLite) vs the scoring function on a model
 *   loaded with node-llama-cpp directly, with and without an adapter (target ratio ≥ 0.9), and llama-perplexity's
 *   figure when it is built (`node --import tsx test/tools/build-llama-perplexity.ts`);
 * - time to switch adapters on a loaded base (a new context) vs loading base + adapter from scratch.
 */
export async function adaptersBench(args: string[]): Promise<void> {
  const value = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
  const ctx = value('--ctx', 256);
  const chunks = value('--chunks', 16);
  const modelFile = args.includes('--model') ? args[args.indexOf('--model') + 1]! : await fixtureModel('student');
  const loraFile = args.includes('--lora') ? args[args.indexOf('--lora') + 1]! : await fixtureAdapter('student-lora');
  const threads = defaultThreadsFor({ cpuCores: cpuCores(), mathCores: cpuCores(), gpu: false, openMp: false });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-adapters-'));
  const text = path.join(dir, 'text.txt');
  const words = 'the printer paper tray error toner page driver cable network update firmware jam fix check replace restart color scan'.split(' ');
  const next = mulberry32(1);
  // about 1.6 tokens per word on the llama-spm vocabulary: comfortably more than `chunks` chunks
  fs.writeFileSync(text, Array.from({ length: Math.ceil((chunks + 2) * ctx) }, () => words[Math.floor(next() * words.length)]).join(' '));

  // The app: perplexity runs through the contract (the model is loaded by a first, untimed run).
  const app = createApp({ dataDir: path.join(dir, 'data'), host: 'http', gpu: false });
  const client = createClient({ call: app.call, subscribe: app.subscribe });
  const model = await client.call('models.add', { path: modelFile });
  const lora = await client.call('adapters.import', { path: loraFile, baseModelId: model.id });
  const appRun = async (adapters: { id: number; scale: number }[]) => {
    const t0 = performance.now();
    const { runId } = await client.call('adapters.perplexity', {
      variant: { modelId: model.id, adapters },
      source: { textFile: text },
      contextSize: ctx,
      maxChunks: chunks,
    });
    const end = await app.runner.waitFor(runId);
    if (end.status !== 'succeeded') throw new Error(`perplexity run ${runId} ${end.status}: ${end.error}`);
    const seconds = (performance.now() - t0) / 1000;
    const run = await client.call('runs.get', { id: runId });
    return { tps: (chunks * ctx) / seconds, ppl: run.metrics.find((m) => m.name === 'perplexity')!.value };
  };
  await appRun([]);

  // The scoring function directly: its own engine host, no runner, no database.
  const directEngine = new LlmEngine({ gpu: false });
  const source = fs.readFileSync(text, 'utf8');
  const directRun = async (adapters: { filePath: string; scale: number }[]) => {
    const t0 = performance.now();
    const r = await perplexity(directEngine.native(), modelFile, source, { contextSize: ctx, maxChunks: chunks, threads, adapters });
    return { tps: (chunks * ctx) / ((performance.now() - t0) / 1000), ppl: r.ppl };
  };
  const llamaPerplexity = (withLora: boolean): number | null => {
    const bin = llamaTool('llama-perplexity');
    if (!bin) return null;
    const r = spawnSync(
      bin,
      ['-m', modelFile, '-f', text, '-c', String(ctx), '--chunks', String(chunks), '-t', String(threads), ...(withLora ? ['--lora', loraFile] : [])],
      {
        encoding: 'utf8',
        env: { ...process.env, LD_LIBRARY_PATH: path.dirname(bin) },
      },
    );
    // its scoring time from its own log timestamps (this llama.cpp prints no prompt-eval timing)
    const seconds = llamaPerplexitySeconds(r.stderr);
    return seconds ? (chunks * ctx) / seconds : null;
  };
  for (const [label, appAdapters, directAdapters] of [
    ['base', [], []],
    ['base+lora', [{ id: lora.id, scale: 1 }], [{ filePath: loraFile, scale: 1 }]],
  ] as const) {
    const a = await appRun([...appAdapters]);
    const d = await directRun([...directAdapters]);
    print({
      bench: 'adapters',
      figure: 'perplexity',
      variant: label,
      ctx,
      chunks,
      threads,
      app_tps: round(a.tps),
      direct_tps: round(d.tps),
      ratio: round(a.tps / d.tps, 3),
      ...(() => {
        const ref = llamaPerplexity(label !== 'base');
        return { llama_perplexity_tps: ref ? round(ref) : null, ratio_vs_llama_cpp: ref ? round(a.tps / ref, 3) : null };
      })(),
      same_ppl: a.ppl === d.ppl,
    });
  }
  await directEngine.dispose();
  await app.close();

  // Switching adapters: a new context on the loaded base vs base + adapter loaded from nothing.
  const other = path.join(dir, 'other-lora.gguf');
  if (!args.includes('--model'))
    writeSyntheticLora(other, { base: fixtureSpec('student'), rank: 8, alpha: 16, targets: ['attn_k', 'attn_output'], seed: 4, scale: 0.2 });
  const firstToken = async (m: LlamaModel, context: Awaited<ReturnType<LlmEngine['createContext']>>) => {
    const seq = context.getSequence();
    for await (const t of seq.evaluate(m.tokenize('The printer'), { temperature: 0 })) {
      void t;
      break;
    }
  };
  const reps = 5;
  let scratchMs = 0;
  let switchMs = 0;
  const engine = new LlmEngine({ gpu: false });
  await engine.llama(); // the backend itself is loaded once per process, in both cases
  for (let i = 0; i < reps; i++) {
    let t0 = performance.now();
    const m = await engine.loadModel(modelFile);
    const c1 = await engine.createContext(m, { threads, contextSize: 512, lora: [{ filePath: loraFile, scale: 1 }] });
    await firstToken(m, c1);
    scratchMs += performance.now() - t0;
    await c1.dispose();
    t0 = performance.now();
    const c2 = await engine.createContext(m, { threads, contextSize: 512, lora: [{ filePath: args.includes('--model') ? loraFile : other, scale: 0.5 }] });
    await firstToken(m, c2);
    switchMs += performance.now() - t0;
    await c2.dispose();
    await engine.unloadAll();
  }
  await engine.dispose();
  print({
    bench: 'adapters',
    figure: 'switch',
    model: path.basename(modelFile),
    switch_ms: round(switchMs / reps),
    load_from_scratch_ms: round(scratchMs / reps),
    speedup: round(scratchMs / switchMs, 2),
  });
  fs.rmSync(dir, { recursive: true, force: true });
}
