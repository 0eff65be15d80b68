import type { JobContext } from '../../jobs/types.js';
import { toExampleRow, type DatasetsStore } from '../store.js';
import type { ExampleRow } from '../../../../src-shared/domain/datasets.js';

/** Rows read per page by the curation runs. */
export const PAGE = 5000;

/** Every live row of a version, a page at a time, yielding between pages so the app stays responsive and cancellable. */
export async function* rowsOf(store: DatasetsStore, versionId: number, ctx: Pick<JobContext, 'throwIfCancelled'>): AsyncGenerator<ExampleRow[]> {
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    ctx.throwIfCancelled();
    const rows = store.pageAfter(versionId, after, PAGE);
    if (rows.length === 0) return;
    after = rows.at(-1)!.position;
    yield rows.map(toExampleRow);
    await new Promise((r) => setImmediate(r));
  }
}
