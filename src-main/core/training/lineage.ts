import type { Db } from '../store/db.js';

/**
 * The distillation run whose output a dataset is: the succeeded `distill.generate` run with the dataset as its output
 * (a distillation creates its output dataset, version 1; later versions are curations of it, so they come from the
 * same run). Null for a dataset that was imported.
 */
export function distillRunOf(db: Db, dataset: string): number | null {
  const id = db
    .prepare(
      `SELECT r.id FROM runs r
         JOIN run_lineage l ON l.run_id = r.id AND l.direction = 'output' AND l.kind = 'dataset' AND l.ref = ?
        WHERE r.kind = 'distill.generate' AND r.status = 'succeeded'
        ORDER BY r.id DESC LIMIT 1`,
    )
    .pluck()
    .get(dataset) as number | undefined;
  return id ?? null;
}
