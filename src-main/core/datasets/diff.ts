import type { Db } from '../store/db.js';
import { toExampleRow, type DatasetsStore } from './store.js';
import type { VersionDiff, VersionDiffRow } from '../../../src-shared/domain/datasets.js';

type Change = VersionDiffRow['change'];

/**
 * Differences between two versions of a dataset, matched by position (an example keeps its position across versions):
 * added, removed, changed (other content) and relabeled (same content, other split, tags or flags). Counts over the
 * whole versions; rows paged in position order.
 */
export function diffVersions(
  db: Db,
  store: DatasetsStore,
  a: { id: number; number: number },
  b: { id: number; number: number },
  offset: number,
  limit: number,
  only?: Change,
): VersionDiff {
  const live = (alias: string) => `${alias}.deleted_op IS NULL`;
  const classified = `
    SELECT b.position, CASE WHEN a.example_id <> b.example_id THEN 'changed' ELSE 'relabeled' END AS change
      FROM version_examples b JOIN version_examples a ON a.version_id = @a AND a.position = b.position AND ${live('a')}
      WHERE b.version_id = @b AND ${live('b')}
        AND (a.example_id <> b.example_id OR a.split IS NOT b.split OR a.tags <> b.tags OR a.flags <> b.flags)
    UNION ALL
    SELECT b.position, 'added' FROM version_examples b
      WHERE b.version_id = @b AND ${live('b')}
        AND NOT EXISTS (SELECT 1 FROM version_examples a WHERE a.version_id = @a AND a.position = b.position AND ${live('a')})
    UNION ALL
    SELECT a.position, 'removed' FROM version_examples a
      WHERE a.version_id = @a AND ${live('a')}
        AND NOT EXISTS (SELECT 1 FROM version_examples b WHERE b.version_id = @b AND b.position = a.position AND ${live('b')})`;
  const params = { a: a.id, b: b.id };
  const counts = Object.fromEntries(
    (db.prepare(`SELECT change, count(*) AS n FROM (${classified}) GROUP BY change`).all(params) as { change: Change; n: number }[]).map((r) => [
      r.change,
      r.n,
    ]),
  ) as Partial<Record<Change, number>>;
  const page = db
    .prepare(`SELECT position, change FROM (${classified}) ${only ? 'WHERE change = @only' : ''} ORDER BY position LIMIT @limit OFFSET @offset`)
    .all({ ...params, only: only ?? null, limit, offset }) as { position: number; change: Change }[];
  const positions = page.map((r) => r.position);
  const before = new Map(store.rowsAt(a.id, positions).map((r) => [r.position, toExampleRow(r)]));
  const after = new Map(store.rowsAt(b.id, positions).map((r) => [r.position, toExampleRow(r)]));
  return {
    from: a.number,
    to: b.number,
    added: counts.added ?? 0,
    removed: counts.removed ?? 0,
    changed: counts.changed ?? 0,
    relabeled: counts.relabeled ?? 0,
    rows: page.map((r) => ({ position: r.position, change: r.change, before: before.get(r.position) ?? null, after: after.get(r.position) ?? null })),
  };
}
