import path from 'node:path';
import { z } from 'zod';
import type { JobKind } from '../jobs/types.js';
import { nowIso } from '../store/db.js';
import type { JsonlItem } from './jsonl.js';
import { readRecords } from './formats/index.js';
import type { DatasetsStore } from './store.js';
import { IMPORT_CONTAINERS, JSON_FORMATS } from '../../../src-shared/domain/datasets.js';
import { AppError } from '../../../src-shared/errors.js';

const Mapping = z.strictObject({ prompt: z.string(), response: z.string().optional(), system: z.string().optional() });
export const ImportConfig = z
  .strictObject({
    file: z.string().min(1),
    name: z.string().min(1),
    /** Add to the existing dataset `name` as its next version. */
    append: z.boolean().default(false),
    spec: z.strictObject({ container: z.enum(IMPORT_CONTAINERS), record: z.enum(JSON_FORMATS).optional(), mapping: Mapping.optional() }).optional(),
    /** Runs made before other containers existed: a JSONL record format. */
    format: z.enum(JSON_FORMATS).optional(),
  })
  .transform(({ file, name, append, spec, format }) => ({ file, name, append, spec: spec ?? { container: 'jsonl' as const, record: format ?? 'openai' } }));
export type ImportConfig = z.output<typeof ImportConfig>;

const BATCH = 2000;

/**
 * "Import a dataset": streams a JSONL file into version 1 of a new dataset, committing a batch of lines at a time with
 * the lines it rejected. The dataset stays hidden ('importing') until the end; a resumed run continues after the last
 * committed line, and a cancelled one is removed whole, so no partial dataset is ever visible.
 */
export function importJob(store: DatasetsStore): JobKind<ImportConfig> {
  return {
    kind: 'datasets.import',
    schema: ImportConfig,
    title: (c) => `Import ${path.basename(c.file)} as ${c.name}`,
    async run(ctx) {
      const { file, name, spec, append } = ctx.config;
      const how = spec.record ?? (spec.mapping ? `columns ${spec.mapping.prompt}${spec.mapping.response ? ` → ${spec.mapping.response}` : ''}` : 'prompts');
      const message = `${append ? 'Added' : 'Imported from'} ${path.basename(file)} (${spec.container}, ${how})`;
      const target =
        store.importTarget(ctx.runId) ??
        ctx.db.transaction(() => {
          if (!append) return store.createImporting(name, message, ctx.runId, nowIso(), file);
          const d = store.byName(name);
          if (!d || d.state !== 'ready') throw new AppError('not_found', `there is no dataset named ${name} to add to`);
          return store.createAppending(d.id, message, ctx.runId, nowIso(), file);
        })();
      const after = store.lastImportedLine(ctx.runId, target);
      if (after > 0) ctx.log('info', `Resuming after line ${after}.`);
      ctx.lineage('input', 'file', file, path.basename(file));
      try {
        let batch: JsonlItem[] = [];
        let lines = after;
        let imported = 0;
        let rejected = 0;
        const flush = () => {
          if (batch.length === 0) return;
          const items = batch;
          batch = [];
          const [from, to] = [items[0]!.line, items.at(-1)!.line];
          ctx.commitItem(`lines-${from}-${to}`, () => {
            store.insertBatch(target, ctx.runId, items);
            store.indexLines(target, from, to);
          });
          ctx.progress(lines, null, `${imported} examples, ${rejected} rejected`);
        };
        for await (const item of readRecords(file, spec, { signal: ctx.signal })) {
          if (item.line <= after) continue;
          lines = item.line;
          if ('example' in item) imported++;
          else rejected++;
          batch.push(item);
          if (batch.length >= BATCH) flush();
        }
        flush();
        ctx.throwIfCancelled();
        const count = ctx.db.transaction(() => store.finishImport(target))();
        const totalRejected = store.rejects(ctx.runId, 1_000_000).length;
        ctx.metric('examples', count, 'examples');
        ctx.metric('rejected', totalRejected, 'lines');
        ctx.lineage('output', 'dataset', name, `${name}@${store.versions(target.datasetId).find((v) => v.id === target.versionId)!.number}`);
        ctx.progress(lines, lines, `${count} examples, ${totalRejected} rejected`);
        ctx.log(totalRejected ? 'warn' : 'info', `Imported ${count} examples; ${totalRejected} line(s) rejected.`);
      } catch (e) {
        // A user's cancel leaves no partial dataset; a shutdown leaves it to resume.
        if (ctx.cancelledByUser()) store.discardImport(ctx.runId);
        throw e;
      }
    },
  };
}
