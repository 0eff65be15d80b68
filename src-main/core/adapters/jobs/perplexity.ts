import type { JobKind } from '../../jobs/types.js';
import { perplexity } from '../perplexity.js';
import { recordVariantLineage, warnFewChunks, type AdapterJobDeps } from './variants.js';
import { sourceText } from '../../scoring/source-text.js';

/** "adapters.perplexity": a variant's perplexity on a text, chunked and scored like llama.cpp's perplexity tool. */
export function perplexityJob(d: AdapterJobDeps): JobKind<'adapters.perplexity'> {
  return {
    kind: 'adapters.perplexity',
    title: (c) =>
      `Perplexity of ${c.variant.label} on ${c.source.kind === 'file' ? c.source.path.split(/[\\/]/).pop() : `${c.source.label}${c.source.split === 'all' ? '' : ` (${c.source.split})`}`} (ctx ${c.contextSize})`,
    async run(ctx) {
      const c = ctx.config;
      recordVariantLineage(ctx, c.variant);
      const text = sourceText(d.datasets, c.source, ctx);
      await d.engine.checkModelFile(c.variant.modelPath, ctx.signal);
      const r = await perplexity(d.engine.native(), c.variant.modelPath, text, {
        contextSize: c.contextSize,
        adapters: c.variant.adapters.map((a) => ({ filePath: a.filePath, scale: a.scale })),
        threads: await d.engine.resolveNativeThreads(d.threads()),
        ...(c.maxChunks ? { maxChunks: c.maxChunks } : {}),
        signal: ctx.signal,
        onChunk: (done, total, ppl) => ctx.progress(done, total, `chunk ${done} of ${total} · perplexity ${ppl.toFixed(4)}`),
      });
      ctx.metric('perplexity', r.ppl);
      ctx.metric('perplexity_stderr', r.stderr);
      ctx.metric('scored_tokens', r.scoredTokens);
      ctx.metric('tokens_per_second', r.tokensPerSecond);
      ctx.metric('chunks', r.chunks);
      warnFewChunks(ctx, r.chunks, c.contextSize);
      ctx.log(
        'info',
        `Final estimate: PPL = ${r.ppl.toFixed(4)} +/- ${r.stderr.toFixed(5)} (${r.chunks} chunks of ${c.contextSize} tokens, ${r.tokensPerSecond.toFixed(0)} tokens/s)`,
      );
    },
  };
}
