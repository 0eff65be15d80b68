import path from 'node:path';
import type { JobKind } from '../../jobs/types.js';
import { sourceLabel } from '../../scoring/source-text.js';
import { computeImatrix, type ImatrixRunDeps } from '../imatrix-run.js';

/**
 * "quantize.imatrix": a model's importance matrix on a text (llama-imatrix's Σ x² per weight matrix), computed in the
 * engine host and written to one GGUF file. No items: a resumed run simply computes it again (nothing partial is kept).
 */
export function imatrixJob(d: ImatrixRunDeps): JobKind<'quantize.imatrix'> {
  return {
    kind: 'quantize.imatrix',
    title: (c) => `Importance matrix of ${c.model.name} on ${sourceLabel(c.source)} (ctx ${c.contextSize})`,
    async run(ctx) {
      const c = ctx.config;
      ctx.lineage('input', 'model', String(c.model.id), c.model.name);
      ctx.progress(0, null, 'reading the text');
      const made = await computeImatrix(
        d,
        ctx,
        { model: c.model, source: c.source, render: c.render, contextSize: c.contextSize, maxChunks: c.maxChunks },
        c.out,
        { replace: c.replace, onChunk: (done, total) => ctx.progress(done, total, `chunk ${done} of ${total}`) },
      );
      ctx.metric('chunks', made.chunks);
      ctx.metric('tokens', made.tokens);
      ctx.metric('tokens_per_second', made.tokensPerSecond);
      ctx.metric('entries', made.entries);
      ctx.lineage('output', 'file', made.file, path.basename(made.file));
      ctx.log(
        'info',
        `${path.basename(made.file)}: ${made.entries} weights, ${made.chunks} chunks of ${c.contextSize} tokens (${made.tokensPerSecond.toFixed(0)} tokens/s).`,
      );
    },
  };
}
