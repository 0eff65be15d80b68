import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getLlama, LlamaChatSession, LlamaLogLevel, type LlamaContextSequence, type Token } from 'node-llama-cpp';
import { createApp } from '../../src-main/core/app.js';
import { createClient } from '../../src-shared/client.js';
import { cpuCores, defaultThreadsFor } from '../../src-main/core/llm/threads.js';
import { fixtureModel } from '../fixtures/models.js';
import { batchedBenchParallel } from './llama-tools.js';
import { ensureLlamaBatchedBench } from '../tools/build-llama-batched-bench.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const round = (x: number) => Math.round(x * 10) / 10;

/**
 * `npm run bench -- distill [--prompts N] [--tokens N] [--model FILE.gguf]`: generated tokens/s of a distillation
 * run on the fixture teacher at parallel 1, 4 and 8; the same generation through node-llama-cpp called directly
 * (one context, P sequences, P chat sessions); the ratios; and the run against llama-batched-bench -npl P (built on first use).
 */
export async function distillBench(args: string[]): Promise<void> {
  const value = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
  const prompts = value('--prompts', 16);
  const tokens = value('--tokens', 64);
  const model = args.includes('--model') ? args[args.indexOf('--model') + 1]! : await fixtureModel('teacher');
  // the app's default on this machine's CPU (prebuilt binaries, no GPU), used for both variants
  const threads = defaultThreadsFor({ cpuCores: cpuCores(), mathCores: cpuCores(), gpu: false, openMp: false });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-distill-'));
  const file = path.join(dir, 'prompts.jsonl');
  const texts = Array.from({ length: prompts }, (_, i) => `Ticket ${i + 1}: my printer shows error E-${i} after a firmware update. What should I do?`);
  fs.writeFileSync(file, texts.map((t) => JSON.stringify({ prompt: t })).join('\n'));

  const app = createApp({ dataDir: path.join(dir, 'data'), host: 'http', gpu: false });
  const client = createClient({ call: app.call, subscribe: app.subscribe });
  await app.runner.waitFor((await client.call('datasets.import', { path: file, name: 'bench' })).runId);
  const teacher = await client.call('models.add', { path: model, roles: ['teacher'] });
  // every answer runs to the token limit (random weights rarely stop): the same work for every variant
  const generation = { temperature: 0, maxTokens: tokens, seed: 1 };
  // one answer first, untimed: it starts the engine host and loads the teacher there, as node-llama-cpp's path has
  // the model loaded after its first run
  const warm = await client.call('distill.start', {
    dataset: 'bench',
    teacher: { modelId: teacher.id },
    generation,
    limit: 1,
    parallel: 1,
    outName: 'warm-up',
  });
  await app.runner.waitFor(warm.runId);
  const app_tps: Record<number, number> = {};
  for (const parallel of [1, 4, 8]) {
    const { runId } = await client.call('distill.start', {
      dataset: 'bench',
      teacher: { modelId: teacher.id },
      generation,
      filters: { truncated: false, refusals: false },
      parallel,
      outName: `out-${parallel}`,
    });
    const end = await app.runner.waitFor(runId);
    const run = await client.call('runs.get', { id: runId });
    app_tps[parallel] = run.metrics.find((m) => m.name === 'tokens_per_second')?.value ?? 0;
    print({ bench: 'distill.app', status: end.status, parallel, prompts, max_tokens: tokens, threads, tokens_per_s: round(app_tps[parallel]!) });
  }
  await app.close();

  // node-llama-cpp directly, as the app uses it: one context with P sequences, each generating with evaluate()
  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error, maxThreads: 0 });
  const m = await llama.loadModel({ modelPath: model });
  /** Generated tokens/s with P sequences of one context, each answering prompts in turn with `answer` (tokens out). */
  const rate = async (parallel: number, answer: (sequence: LlamaContextSequence, text: string) => Promise<number>) => {
    const context = await m.createContext({ sequences: parallel, contextSize: Math.min(m.trainContextSize, tokens + 2048), threads });
    let generated = 0;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        const sequence = context.getSequence();
        for (let i = next++; i < prompts; i = next++) {
          await sequence.clearHistory();
          const n = await answer(sequence, texts[i]!); // (not `generated += await …`: that reads generated before the await)
          generated += n;
        }
        await sequence.dispose();
      }),
    );
    const tps = generated / ((performance.now() - t0) / 1000);
    await context.dispose();
    return tps;
  };
  const direct: Record<number, number> = {};
  for (const parallel of [1, 4, 8]) {
    direct[parallel] = await rate(parallel, async (sequence, text) => {
      let n = 0;
      for await (const token of sequence.evaluate(m.tokenize(text), { temperature: 0 })) {
        if (m.isEogToken(token) || n >= tokens) break;
        n++;
      }
      return n;
    });
    print({ bench: 'distill.direct', method: 'sequence.evaluate', parallel, prompts, max_tokens: tokens, threads, tokens_per_s: round(direct[parallel]!) });
  }
  // and through a LlamaChatSession per answer (what the app did at first)
  for (const parallel of [1, 8]) {
    const tps = await rate(parallel, async (sequence, text) => {
      let n = 0;
      const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
      await session.prompt(text, { maxTokens: tokens, temperature: 0, seed: 1, onToken: (t: Token[]) => (n += t.length) });
      session.dispose({ disposeSequence: false });
      return n;
    });
    print({ bench: 'distill.direct', method: 'LlamaChatSession', parallel, prompts, max_tokens: tokens, threads, tokens_per_s: round(tps) });
  }
  await m.dispose();
  await llama.dispose();

  print({
    bench: 'distill.ratios',
    app_vs_direct_at_8: Math.round((app_tps[8]! / direct[8]!) * 100) / 100,
    app_8_vs_1: Math.round((app_tps[8]! / app_tps[1]!) * 100) / 100,
    target: 'app_vs_direct_at_8 >= 0.85, app_8_vs_1 >= 2.5',
  });

  // llama.cpp on the same file and threads: its token steps alone (S_TG), P prompts of 32 tokens decoded in lockstep
  const rows = batchedBenchParallel(ensureLlamaBatchedBench(), model, {
    promptTokens: 32,
    generateTokens: tokens,
    parallel: [1, 4, 8],
    threads,
    contextSize: 8 * (tokens + 64),
  });
  for (const row of rows) {
    const app = app_tps[row.parallel] ?? 0;
    print({
      bench: 'distill.ratio_vs_llama_cpp',
      parallel: row.parallel,
      app_tps: round(app),
      llama_cpp_tps: row.tgTps,
      ratio_vs_llama_cpp: Math.round((app / row.tgTps) * 1000) / 1000,
    });
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
