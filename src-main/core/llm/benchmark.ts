import type { LlamaModel, Token } from 'node-llama-cpp';
import type { LlmEngine } from './engine.js';
import { AppError } from '../../../src-shared/errors.js';

export interface BenchmarkSettings {
  promptTokens: number;
  generateTokens: number;
  repetitions: number;
  /** null = the engine's default (see threads.ts). */
  threads: number | null;
}

export interface BenchmarkResult {
  loadMs: number;
  promptTokensPerSecond: number[];
  generateTokensPerSecond: number[];
}

export interface BenchmarkControl {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message: string) => void;
}

/** A deterministic prompt of exactly `n` tokens (real text, repeated), so runs are comparable. */
export function benchmarkPrompt(model: LlamaModel, n: number): Token[] {
  const unit = model.tokenize('Distillation trains a small student model to imitate a larger teacher on the tasks that matter. ');
  const out: Token[] = [];
  while (out.length < n) out.push(...unit);
  return out.slice(0, n);
}

/**
 * Loads a model (or finds it loaded) and measures, per repetition on a fresh sequence, prompt processing (one batch
 * of `promptTokens`) and generation (`generateTokens` greedy decodes of one token each, end-of-text ignored), as
 * llama.cpp's `llama-batched-bench -npl 1` measures its S_PP and S_TG figures.
 */
export async function benchmarkModel(
  engine: LlmEngine,
  file: string,
  settings: BenchmarkSettings,
  { signal, onProgress }: BenchmarkControl = {},
): Promise<BenchmarkResult> {
  const cancelled = () => new AppError('cancelled', 'the benchmark was cancelled');
  const loadStart = performance.now();
  const model = await engine.loadModel(file, { signal });
  const loadMs = performance.now() - loadStart;
  if (signal?.aborted) throw cancelled();
  const context = await engine.createContext(model, {
    contextSize: settings.promptTokens + settings.generateTokens + 8,
    threads: settings.threads,
    sequences: 1,
  });
  const result: BenchmarkResult = { loadMs, promptTokensPerSecond: [], generateTokensPerSecond: [] };
  try {
    const sequence = context.getSequence();
    const prompt = benchmarkPrompt(model, settings.promptTokens);
    for (let rep = 0; rep < settings.repetitions; rep++) {
      if (signal?.aborted) throw cancelled();
      onProgress?.(rep, settings.repetitions, `repetition ${rep + 1} of ${settings.repetitions}: prompt`);
      await sequence.clearHistory();
      const ppStart = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(prompt);
      result.promptTokensPerSecond.push((prompt.length * 1000) / (performance.now() - ppStart));

      onProgress?.(rep, settings.repetitions, `repetition ${rep + 1} of ${settings.repetitions}: generation`);
      let generated = 0;
      const tgStart = performance.now();
      // Feeding the last prompt token again starts generation; each loop turn is one decode of one token.
      for await (const _token of sequence.evaluate([prompt.at(-1)!], { temperature: 0 })) {
        generated++;
        if (generated >= settings.generateTokens || signal?.aborted) break;
      }
      if (signal?.aborted) throw cancelled();
      result.generateTokensPerSecond.push((generated * 1000) / (performance.now() - tgStart));
    }
    onProgress?.(settings.repetitions, settings.repetitions, 'done');
    return result;
  } finally {
    await context.dispose();
  }
}
