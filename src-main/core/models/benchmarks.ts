import type { RunsStore } from '../runs/store.js';
import type { BenchmarkRecord } from '../../../src-shared/domain/models.js';

/**
 * A model's finished benchmarks (`models.benchmark` runs), oldest first: the mean prompt and generation speeds, the
 * threads, the sizes measured, and when. Read from the runs and their figures; nothing is stored twice.
 */
export function benchmarkHistory(runs: RunsStore, modelId: number): BenchmarkRecord[] {
  return runs
    .succeededWithFigures('models.benchmark', (c) => c.id === modelId)
    .flatMap(({ runId, endedAt, config, figures }) => {
      const prompt = figures.get('prompt_tps_mean');
      const generate = figures.get('generate_tps_mean');
      if (prompt === undefined || generate === undefined) return [];
      return [
        {
          runId,
          at: endedAt,
          promptTokensPerSecond: prompt,
          generateTokensPerSecond: generate,
          threads: figures.get('threads') ?? null,
          promptTokens: config.promptTokens,
          generateTokens: config.generateTokens,
          repetitions: config.repetitions,
        },
      ];
    });
}
