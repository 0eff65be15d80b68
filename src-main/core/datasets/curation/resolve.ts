import type { DatasetsStore } from '../store.js';
import type { DraftStore } from '../draft.js';

/**
 * Keeps one example per duplicate cluster of the working copy and deletes the others (one undoable operation). The
 * kept one is the user's choice (`keep`: cluster → position), else a test-split member (a frozen test keeps its own),
 * else the first.
 */
export function resolveClusters(store: DatasetsStore, drafts: DraftStore, datasetId: number, keep: Map<number, number>, near?: number) {
  const draft = drafts.ensureDraft(datasetId);
  const remove: number[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = store.clusters(draft.id, offset, 1000);
    for (const k of page.clusters) {
      const rows = store.rowsAt(draft.id, k.positions);
      const keeper = keep.get(k.cluster) ?? rows.find((r) => r.split === 'test')?.position ?? k.positions[0]!;
      for (const p of k.positions) if (p !== keeper) remove.push(p);
    }
    if (page.clusters.length < 1000) break;
  }
  const label = `Removed ${remove.length} ${near === undefined ? 'duplicate' : `near-duplicate (≥ ${near})`} example${remove.length === 1 ? '' : 's'}, one kept per cluster`;
  return drafts.delete(datasetId, { positions: remove }, label);
}
