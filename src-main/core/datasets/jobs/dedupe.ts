import type { JobKind } from '../../jobs/types.js';
import type { DatasetsStore } from '../store.js';
import type { DraftStore } from '../draft.js';
import { exactDuplicateGroups, exactKey, exampleText, nearDuplicateClusters } from '../curation/dedupe.js';
import { resolveClusters } from '../curation/resolve.js';
import { rowsOf } from './rows.js';

/**
 * "Find duplicates": exact (normalized text) or near (MinHash + LSH at a Jaccard threshold) clusters of a version,
 * stored for review and filtering; optionally resolved at once (keep one per cluster) and committed.
 */
export function dedupeJob(store: DatasetsStore, drafts: DraftStore): JobKind<'datasets.dedupe'> {
  return {
    kind: 'datasets.dedupe',
    title: (c) => `${c.near ? `Near-duplicates (≥ ${c.near})` : 'Exact duplicates'} in ${c.name}@${c.versionNumber}`,
    async run(ctx) {
      const c = ctx.config;
      ctx.lineage('input', 'dataset', c.name, `${c.name}@${c.versionNumber}`);
      const total = store.versionSize(c.versionId);
      let done = 0;
      let clusters: { positions: number[]; similarity: number }[];
      if (c.near === undefined) {
        const keys: { id: number; key: string }[] = [];
        for await (const rows of rowsOf(store, c.versionId, ctx)) {
          for (const r of rows) keys.push({ id: r.position, key: exactKey(r) });
          done += rows.length;
          ctx.progress(done, total, `${done} of ${total} examples hashed`);
        }
        clusters = exactDuplicateGroups(keys).map((positions) => ({ positions, similarity: 1 }));
      } else {
        const items: { id: number; text: string }[] = [];
        for await (const rows of rowsOf(store, c.versionId, ctx)) {
          for (const r of rows) items.push({ id: r.position, text: exampleText(r) });
          ctx.progress(items.length, total * 2, `${items.length} of ${total} examples read`);
        }
        const found = nearDuplicateClusters(items, {
          threshold: c.near,
          onProgress: (n: number) => ctx.progress(total + n, total * 2, `${n} of ${total} examples hashed`),
        });
        clusters = found.clusters.map((k) => ({ positions: k.ids, similarity: k.similarity }));
      }
      ctx.throwIfCancelled();
      const duplicates = clusters.reduce((n, k) => n + k.positions.length - 1, 0);
      ctx.db.transaction(() => store.saveClusters(c.versionId, clusters))();
      ctx.metric('clusters', clusters.length);
      ctx.metric('duplicates', duplicates);
      ctx.log('info', `${clusters.length} cluster(s), ${duplicates} example(s) beyond the first of each.`);
      if (c.apply && clusters.length > 0) {
        const r = resolveClusters(store, drafts, c.datasetId, new Map(), c.near);
        ctx.metric('removed', r.affected);
        ctx.log('info', `Removed ${r.affected} duplicate(s)${r.skipped ? `; ${r.skipped} left in the frozen test split` : ''}.`);
      }
      if (c.commitMessage !== undefined) {
        const draft = drafts.draftOf(c.datasetId);
        if (draft && drafts.summary(c.datasetId)!.operations.length > 0) {
          const v = drafts.commit(c.datasetId, c.commitMessage, ctx.runId);
          ctx.lineage('output', 'dataset', c.name, `${c.name}@${v.number}`);
          ctx.log('info', `Committed ${c.name}@${v.number} (${v.exampleCount} examples).`);
        } else ctx.log('info', 'No duplicates: no new version.');
      }
    },
  };
}
