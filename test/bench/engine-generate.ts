import path from 'node:path';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import { EngineClient } from '../../src-main/core/native/client.js';
import { NativeBatch } from '../../src-main/core/native/batch.js';
import { resolveSampling } from '../../src-main/core/native/sampler-chain.js';
import { mulberry32 } from '../../src-main/core/random.js';
import { fixtureModel } from '../fixtures/models.js';
import { ensureLlamaBatchedBench } from '../tools/build-llama-batched-bench.js';
import { batchedBenchParallel, llamaToolsBinDir } from './llama-tools.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

export interface GenerateBenchOptions {
  models: string[];
  parallel: number[];
  promptTokens: number;
  tokens: number;
  threads: number;
  reps: number;
  /** Also run the app's engine on llama.cpp's source build (the libraries llama-batched-bench uses). */
  sourceBuild: boolean;
}

/**
 * Generated tokens/s of the app's batched generation (the engine host, P sequences of random prompts decoded
 * together, greedy, run to the token limit) against `llama-batched-bench -npl P` on the same model file, threads and
 * context. Both count only the decode steps after the prompts: batched-bench's S_TG is P × tokens / the time of its
 * token steps; the app's figure is P × (tokens − 1) / (last token − first token), the first token coming from the
 * prompt's step. The app's figure includes what batched-bench skips: sampling, stop checks, detokenizing.
 */
export async function generateBench(o: GenerateBenchOptions): Promise<void> {
  const binary = ensureLlamaBatchedBench();
  const engine = new LlmEngine({ gpu: false });
  const contextSize = o.promptTokens + o.tokens + 8;
  try {
    for (const model of o.models) {
      const name = path.basename(model);
      const bestLlama = new Map<number, number>();
      const bestApp = new Map<number, number>();
      const bestSource = new Map<number, number>();
      const keep = (m: Map<number, number>, p: number, v: number) => m.set(p, Math.max(m.get(p) ?? 0, v));
      // interleaved, P by P, and the best of `reps` kept on each side: the machine is shared, and a figure taken a
      // minute apart from its reference would compare two different loads
      const source = o.sourceBuild ? new EngineClient(async () => sourceBuildLibraries()) : null;
      try {
        for (let rep = 0; rep < o.reps; rep++) {
          for (const p of o.parallel) {
            const [row] = batchedBenchParallel(binary, model, {
              promptTokens: o.promptTokens,
              generateTokens: o.tokens,
              parallel: [p],
              threads: o.threads,
              contextSize: p * (o.promptTokens + o.tokens),
            });
            keep(bestLlama, p, row!.tgTps);
            keep(bestApp, p, await appTps(engine.native(), model, p, contextSize, o));
            if (source) keep(bestSource, p, await appTps(source, model, p, contextSize, o));
          }
        }
      } finally {
        await source?.dispose();
      }
      const app1 = bestApp.get(1);
      for (const p of o.parallel) {
        const app = bestApp.get(p)!;
        const llama = bestLlama.get(p)!;
        print({
          bench: 'engine',
          case: 'generate',
          model: name,
          parallel: p,
          app_tps: round(app),
          llama_cpp_tps: round(llama),
          ratio_vs_llama_cpp: round(app / llama, 3),
          ...(app1 ? { app_gain_vs_p1: round(app / app1, 2), llama_cpp_gain_vs_p1: round(llama / bestLlama.get(1)!, 2) } : {}),
          ...(o.sourceBuild ? { app_tps_source_build: round(bestSource.get(p)!), ratio_source_build: round(bestSource.get(p)! / llama, 3) } : {}),
          threads: o.threads,
          prompt_tokens: o.promptTokens,
          tokens: o.tokens,
          reps: o.reps,
        });
      }
    }
  } finally {
    await engine.dispose();
  }
}

/** One batch of P sequences with random prompts, greedy to the token limit; tokens/s after each one's first token. */
async function appTps(client: EngineClient, model: string, parallel: number, contextSize: number, o: GenerateBenchOptions): Promise<number> {
  const batch = await NativeBatch.open(client, { modelPath: model, lora: [], parallel, contextSize, threads: o.threads });
  try {
    const next = mulberry32(parallel);
    const prompts = Array.from({ length: parallel }, () => Array.from({ length: o.promptTokens }, () => 100 + Math.floor(next() * 30_000)));
    const sampling = resolveSampling({ temperature: 0, repeatPenalty: 1 });
    const results = await Promise.all(
      prompts.map((tokens) => batch.generate({ tokens, maxTokens: o.tokens, sampling, stops: [], logprobs: 0, ignoreEog: true })),
    );
    const first = Math.min(...results.map((r) => r.firstTokenAt!));
    const last = Math.max(...results.map((r) => r.endedAt));
    return results.reduce((n, r) => n + r.tokens.length - 1, 0) / ((last - first) / 1000);
  } finally {
    await batch.close();
  }
}

/** The libraries of llama.cpp's own CPU build (the one llama-batched-bench links): CPU backend built in, OpenMP. */
function sourceBuildLibraries() {
  const dir = llamaToolsBinDir();
  return { llama: path.join(dir, 'libllama.so'), ggml: path.join(dir, 'libggml.so'), ggmlBase: path.join(dir, 'libggml-base.so'), backends: [] };
}

export async function defaultGenerateModels(): Promise<string[]> {
  return [await fixtureModel('teacher'), await fixtureModel('large')];
}
