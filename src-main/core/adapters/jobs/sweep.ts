import type { JobKind } from '../../jobs/types.js';
import { perplexity } from '../perplexity.js';
import { recordVariantLineage, warnFewChunks, type AdapterJobDeps } from './variants.js';
import { sourceText } from '../../scoring/source-text.js';

/** "adapters.sweep": one adapter at several scales, a perplexity per scale, each committed as it completes. */
export function sweepJob(d: AdapterJobDeps): JobKind<'adapters.sweep'> {
  return {
    kind: 'adapters.sweep',
    title: (c) => `Scale sweep of ${c.variant.adapters[c.swept]!.name} on ${c.variant.modelName} (${c.scales.join(', ')})`,
    async run(ctx) {
      const c = ctx.config;
      recordVariantLineage(ctx, c.variant);
      const text = sourceText(d.datasets, c.source, ctx);
      await d.engine.checkModelFile(c.variant.modelPath, ctx.signal);
      const done = ctx.doneItems();
      for (const [i, scale] of c.scales.entries()) {
        const key = `scale-${i}`;
        if (done.has(key)) continue;
        ctx.throwIfCancelled();
        const adapters = c.variant.adapters.map((a, j) => ({ filePath: a.filePath, scale: j === c.swept ? scale : a.scale }));
        const r = await perplexity(d.engine.native(), c.variant.modelPath, text, {
          contextSize: c.contextSize,
          adapters,
          threads: await d.engine.resolveNativeThreads(d.threads()),
          ...(c.maxChunks ? { maxChunks: c.maxChunks } : {}),
          signal: ctx.signal,
          onChunk: (done, total) => ctx.progress(i * total + done, c.scales.length * total, `scale ${scale}: chunk ${done} of ${total}`),
        });
        ctx.commitItem(
          key,
          () => {
            ctx.metric('perplexity', r.ppl, i);
            ctx.metric('chunks', r.chunks); // the same text at every scale
          },
          { scale, ppl: r.ppl, stderr: r.stderr },
        );
        if (i === 0) warnFewChunks(ctx, r.chunks, c.contextSize);
        ctx.log('info', `scale ${scale}: PPL = ${r.ppl.toFixed(4)} +/- ${r.stderr.toFixed(5)}`);
      }
    },
  };
}
