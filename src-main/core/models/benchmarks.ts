import type { JobKindName } from '../../../src-shared/contract/jobs.js';
import type { Db } from '../store/db.js';
import type { BenchmarkRecord } from '../../../src-shared/domain/models.js';

/**
 * A model's finished benchmarks (`models benchmark` runs), oldest first: the mean prompt and generation speeds, the
 * threads, the sizes measured, and when. Read from the runs and their metrics; nothing is stored twice.
 */
/** Named through the contract, so a rename cannot miss this query. */
const BENCHMARK_KIND: JobKindName = 'models.benchmark';

export function benchmarkHistory(db: Db, modelId: number): BenchmarkRecord[] {
  const rows = db
    .prepare(
      `SELECT r.id, r.config, r.ended_at,
              max(CASE WHEN m.name = 'prompt_tps_mean' THEN m.value END) AS prompt_tps,
              max(CASE WHEN m.name = 'generate_tps_mean' THEN m.value END) AS generate_tps,
              max(CASE WHEN m.name = 'threads' THEN m.value END) AS threads
         FROM runs r JOIN run_metrics m ON m.run_id = r.id AND m.step IS NULL
        WHERE r.kind = ? AND r.status = 'succeeded' AND json_extract(r.config, '$.id') = ?
        GROUP BY r.id
        ORDER BY r.ended_at, r.id`,
    )
    .all(BENCHMARK_KIND, modelId) as {
    id: number;
    config: string;
    ended_at: string;
    prompt_tps: number | null;
    generate_tps: number | null;
    threads: number | null;
  }[];
  return rows
    .filter((r) => r.prompt_tps !== null && r.generate_tps !== null)
    .map((r) => {
      const c = JSON.parse(r.config) as { promptTokens: number; generateTokens: number; repetitions: number };
      return {
        runId: r.id,
        at: r.ended_at,
        promptTokensPerSecond: r.prompt_tps!,
        generateTokensPerSecond: r.generate_tps!,
        threads: r.threads,
        promptTokens: c.promptTokens,
        generateTokens: c.generateTokens,
        repetitions: c.repetitions,
      };
    });
}
