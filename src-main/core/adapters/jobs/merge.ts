import type { JobKind } from '../../jobs/types.js';
import { mergeAdapters } from '../merge.js';
import { checkOutputPath } from '../../files/output-path.js';
import { recordVariantLineage, type AdapterJobDeps } from './variants.js';

/** "adapters.merge": base + adapters (with scales) written as a new GGUF and added to the library with its lineage. */
export function mergeJob(d: AdapterJobDeps): JobKind<'adapters.merge'> {
  return {
    kind: 'adapters.merge',
    title: (c) => `Merge ${c.variant.label} → ${c.out.split(/[\\/]/).pop()} (${c.type.toUpperCase()})`,
    async run(ctx) {
      const c = ctx.config;
      recordVariantLineage(ctx, c.variant);
      if (!ctx.doneItems().has('merged')) {
        const r = await mergeAdapters({
          base: c.variant.modelPath,
          adapters: c.variant.adapters.map((a) => ({ filePath: a.filePath, scale: a.scale })),
          output: c.out,
          type: c.type,
          signal: ctx.signal,
          // Checked again when the run writes: a resumed merge must not replace a file that appeared since.
          checkOutput: (file) => checkOutputPath(file, { dataDir: d.dataDir, replace: c.replace || ctx.doneItems().has('renaming'), field: 'out' }),
          // Marked just before the rename: if the app dies right after it, the resumed run knows the file is its own.
          beforeRename: () => ctx.commitItem('renaming'),
          tempFile: (file) => ctx.tempFile(file),
          releaseTemp: (file) => ctx.releaseTemp(file),
          onTensor: (done, total, name) => ctx.progress(done, total, `tensor ${done} of ${total}: ${name}`),
        });
        ctx.commitItem('merged', undefined, r);
        ctx.metric('merged_tensors', r.mergedTensors);
      }
      const existing = d.models.list().find((m) => m.path === c.out);
      const model = existing ?? (await d.models.add(c.out, ['student'], `Merged from ${c.variant.label} by run ${ctx.runId}`));
      ctx.lineage('output', 'model', String(model.id), model.name);
      ctx.log('info', `${model.name} added to the library as model ${model.id}.`);
    },
  };
}
