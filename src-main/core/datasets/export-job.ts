import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { JobKind } from '../jobs/types.js';
import type { DatasetsStore } from './store.js';
import { EXPORT_FORMATS, toRecord } from './denormalize.js';
import type { NormalizedExample } from '../../../src-shared/domain/datasets.js';

export const ExportConfig = z.strictObject({
  name: z.string().min(1),
  version: z.number().int().positive(),
  versionId: z.number().int().positive(),
  format: z.enum(EXPORT_FORMATS),
  out: z.string().min(1),
});
export type ExportConfig = z.infer<typeof ExportConfig>;

const PAGE = 5000;

/**
 * "Export a dataset version" as JSONL in a training format, with a manifest beside it (source dataset and version,
 * count, content hash). Written under a temporary name and renamed at the end, so the file at `out` is always whole;
 * a resumed export simply writes it again.
 */
export function exportJob(store: DatasetsStore): JobKind<ExportConfig> {
  return {
    kind: 'datasets.export',
    schema: ExportConfig,
    title: (c) => `Export ${c.name}@${c.version} as ${c.format}`,
    async run(ctx) {
      const { name, version, versionId, format, out } = ctx.config;
      ctx.lineage('input', 'dataset', name, `${name}@${version}`);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const tmp = `${out}.partial`;
      const fd = fs.openSync(tmp, 'w');
      const hash = createHash('sha256');
      let count = 0;
      let bytes = 0;
      try {
        const total = store.versionSize(versionId);
        let after = 0;
        for (;;) {
          ctx.throwIfCancelled();
          const rows = store.pageAfter(versionId, after, PAGE);
          if (rows.length === 0) break;
          const text =
            rows
              .map((r) => JSON.stringify(toRecord(format, { messages: JSON.parse(r.messages) as NormalizedExample['messages'], reference: r.reference })))
              .join('\n') + '\n';
          const buf = Buffer.from(text);
          fs.writeSync(fd, buf);
          hash.update(buf);
          bytes += buf.length;
          count += rows.length;
          after = rows.at(-1)!.position;
          ctx.progress(count, total, `${count} of ${total} examples`);
          await new Promise((r) => setImmediate(r)); // keep the app responsive between pages
        }
      } finally {
        fs.closeSync(fd);
      }
      if (ctx.signal.aborted) {
        fs.rmSync(tmp, { force: true });
        ctx.throwIfCancelled();
      }
      fs.renameSync(tmp, out);
      const manifest = {
        dataset: name,
        version,
        format,
        examples: count,
        bytes,
        sha256: hash.digest('hex'),
        exportedAt: new Date().toISOString(),
        run: ctx.runId,
        tool: 'distillery',
      };
      fs.writeFileSync(`${out}.manifest.json`, JSON.stringify(manifest, null, 2) + '\n');
      ctx.lineage('output', 'file', out, path.basename(out));
      ctx.metric('examples', count, 'examples');
      ctx.metric('bytes', bytes, 'bytes');
      ctx.log('info', `Wrote ${count} examples to ${out} (sha256 ${manifest.sha256.slice(0, 12)}…).`);
    },
  };
}
