import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getLlama, LlamaCompletion, LlamaLogLevel, type LlamaContext } from 'node-llama-cpp';
import { createApp } from '../../src-main/core/app.js';
import { startHttpHost } from '../../src-main/server/http-host.js';
import { createClient, type Client } from '../../src-shared/client.js';
import { createHttpTransport } from '../../src-shared/http-transport.js';
import type { GenerationEvent, Sampling } from '../../src-shared/domain/playground.js';
import { toLlamaSampling } from '../../src-main/core/llm/generation.js';
import { fixtureModel } from '../fixtures/models.js';
import { batchedBench, buildLlamaTools, llamaTool } from './llama-tools.js';

interface Options {
  buildLlamaTools: boolean;
  threads: number | null;
  tokens: number;
  repetitions: number;
  /** Any GGUF model; default: the fixture teacher. */
  model: string | null;
}

function parseArgs(args: string[]): Options {
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : null;
  };
  return {
    buildLlamaTools: args.includes('--build-llama-tools'),
    threads: value('--threads'),
    tokens: value('--tokens') ?? 256,
    repetitions: value('--reps') ?? 5,
    model: args.includes('--model') ? (args[args.indexOf('--model') + 1] ?? null) : null,
  };
}

const PROMPT = 'Once upon a time, in a workshop full of small machines,';
const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 10) / 10;

/** Tokens per second between the first and the last streamed token, from timestamps taken as they arrived. */
function rate(tokensAfterFirst: number, firstAt: number, lastAt: number): number {
  return lastAt > firstAt ? (tokensAfterFirst * 1000) / (lastAt - firstAt) : 0;
}

/** One generation through the contract over HTTP: client-side timing of the streamed events. */
async function appRun(client: Client, modelId: number, sampling: Sampling): Promise<{ tps: number; tokens: number; promptTokens: number }> {
  const seen: Array<{ at: number; event: GenerationEvent }> = [];
  let wake: () => void = () => undefined;
  const off = client.on('playground.event', (event) => {
    seen.push({ at: performance.now(), event });
    wake();
  });
  try {
    const { generationId } = await client.call('playground.generate', { modelId, mode: 'completion', prompt: PROMPT, sampling });
    const mine = () => seen.filter((s) => s.event.generationId === generationId);
    while (!mine().some((s) => s.event.type === 'done' || s.event.type === 'error')) {
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const events = mine();
    const end = events.at(-1)!.event;
    if (end.type !== 'done') throw new Error(`generation failed: ${JSON.stringify(end)}`);
    const tokenEvents = events.filter((s) => s.event.type === 'token');
    const first = tokenEvents[0]!;
    const last = tokenEvents.at(-1)!;
    const afterFirst = tokenEvents.slice(1).reduce((n, s) => n + (s.event.type === 'token' ? s.event.tokens : 0), 0);
    return { tps: rate(afterFirst, first.at, last.at), tokens: end.stats.generatedTokens, promptTokens: end.stats.promptTokens };
  } finally {
    off();
  }
}

/** The same generation through node-llama-cpp directly: same file, thread count, context size and sampling. */
async function rawRun(context: LlamaContext, sampling: Sampling): Promise<{ tps: number; tokens: number }> {
  const sequence = context.getSequence();
  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
  let count = 0;
  let firstAt = 0;
  let lastAt = 0;
  try {
    await completion.generateCompletion(PROMPT, {
      ...toLlamaSampling(sampling),
      onToken: (tokens) => {
        const now = performance.now();
        if (count === 0) firstAt = now;
        lastAt = now;
        count += tokens.length;
      },
    });
  } finally {
    completion.dispose({ disposeSequence: false });
    await sequence.dispose();
  }
  return { tps: rate(count - 1, firstAt, lastAt), tokens: count };
}

export async function playgroundBench(args: string[]): Promise<void> {
  const options = parseArgs(args);
  const model = options.model ?? (await fixtureModel('teacher'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-'));
  const app = createApp({ dataDir, host: 'http', gpu: false, runJobs: false });
  const host = await startHttpHost({ app, port: 0, host: '127.0.0.1' });
  // the renderer's own transport: the same fetch + server-sent events path a browser window takes
  const transport = createHttpTransport(host.url);
  await transport.ready;
  const client = createClient(transport);
  const llama = await getLlama({ gpu: false, maxThreads: 0, logLevel: LlamaLogLevel.error });
  try {
    const entry = await client.call('models.add', { path: model });
    const info = await client.call('system.info', {});
    const threads = options.threads ?? info.engine.defaultThreads;
    await client.call('settings.update', { inferenceThreads: threads });
    // Greedy and without repeat penalty: the closest node-llama-cpp gets to llama-batched-bench's bare decodes.
    const sampling: Sampling = { temperature: 0, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, maxTokens: options.tokens, seed: 1 };

    const rawModel = await llama.loadModel({ modelPath: model });
    const rawContext = await rawModel.createContext({ contextSize: Math.min(4096, rawModel.trainContextSize), threads, sequences: 1 });

    // warm-up: loads the app's model and context, and pages both in
    await appRun(client, entry.id, { ...sampling, maxTokens: 8 });
    await rawRun(rawContext, { ...sampling, maxTokens: 8 });

    const app: number[] = [];
    const raw: number[] = [];
    let appTokens = 0;
    let rawTokens = 0;
    let promptTokens = 0;
    for (let rep = 0; rep < options.repetitions; rep++) {
      const a = await appRun(client, entry.id, sampling);
      const r = await rawRun(rawContext, sampling);
      app.push(a.tps);
      raw.push(r.tps);
      appTokens = a.tokens;
      rawTokens = r.tokens;
      promptTokens = a.promptTokens;
    }
    await rawContext.dispose();
    await rawModel.dispose();

    let llamaCppTps: number | null = null;
    let binary = llamaTool('llama-batched-bench');
    if (!binary && options.buildLlamaTools) {
      buildLlamaTools(['llama-batched-bench']);
      binary = llamaTool('llama-batched-bench');
    }
    if (binary) {
      const runs = Array.from(
        { length: options.repetitions },
        () => batchedBench(binary!, model, { promptTokens, generateTokens: options.tokens, threads }).tgTps,
      );
      llamaCppTps = median(runs);
    } else {
      print({ bench: 'playground', note: 'llama-batched-bench is not built; run `npm run bench -- playground --build-llama-tools`' });
    }

    const appTps = median(app);
    const rawTps = median(raw);
    if (appTokens < options.tokens || rawTokens < options.tokens) {
      print({ bench: 'playground', note: `the model ended early: app ${appTokens}, raw ${rawTokens} of ${options.tokens} tokens` });
    }
    print({
      bench: 'playground',
      app_tps: round(appTps),
      raw_tps: round(rawTps),
      llama_cpp_tps: llamaCppTps === null ? null : round(llamaCppTps),
      ratio: Math.round((appTps / rawTps) * 1000) / 1000,
      ratio_vs_llama_cpp: llamaCppTps === null ? null : Math.round((appTps / llamaCppTps) * 1000) / 1000,
      threads,
      tokens: options.tokens,
      prompt_tokens: promptTokens,
      app_runs: app.map(round),
      raw_runs: raw.map(round),
    });
  } finally {
    transport.close();
    await host.close();
    await app.close();
    await llama.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
