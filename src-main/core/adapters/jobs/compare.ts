import type { JobKind } from '../../jobs/types.js';
import { runGeneration } from '../../llm/generation.js';
import { recordVariantLineage, type AdapterJobDeps } from './variants.js';

/**
 * "adapters.compare": every variant answers every prompt with the same seed and settings. Variants run one after the
 * other (one context each on the shared base), and each answer is committed as it completes.
 */
export function compareJob(d: AdapterJobDeps): JobKind<'adapters.compare'> {
  return {
    kind: 'adapters.compare',
    title: (c) => `Compare ${c.variants.map((v) => v.label).join(' | ')} on ${c.source}`,
    async run(ctx) {
      const c = ctx.config;
      for (const v of c.variants) recordVariantLineage(ctx, v);
      const total = c.variants.length * c.prompts.length;
      const insert = ctx.db.prepare(`INSERT OR REPLACE INTO compare_answers (run_id, prompt, variant, text, tokens, tps, ms) VALUES (?, ?, ?, ?, ?, ?, ?)`);
      const committed = ctx.doneItems();
      let done = committed.size;
      for (const [vi, v] of c.variants.entries()) {
        const pending = c.prompts.map((_, pi) => pi).filter((pi) => !committed.has(`${vi}:${pi}`));
        if (pending.length === 0) continue;
        ctx.throwIfCancelled();
        const model = await d.engine.loadModel(v.modelPath, { signal: ctx.signal });
        const context = await d.engine.createContext(model, { threads: d.threads(), lora: v.adapters.map((a) => ({ filePath: a.filePath, scale: a.scale })) });
        try {
          for (const pi of pending) {
            ctx.throwIfCancelled();
            const sequence = context.getSequence();
            let text = '';
            let tokens = 0;
            let first: number | null = null;
            const t0 = performance.now();
            try {
              await runGeneration(model, sequence, { mode: c.mode, prompt: c.prompts[pi]!, systemPrompt: '', sampling: c.generation }, ctx.signal, {
                onStart: () => {},
                onTokens: (n) => {
                  first ??= performance.now();
                  tokens += n;
                },
                onText: (chunk) => (text += chunk),
              });
            } finally {
              await sequence.dispose();
            }
            ctx.throwIfCancelled();
            const ms = performance.now() - t0;
            const tps = first !== null && tokens > 1 ? (tokens - 1) / ((performance.now() - first) / 1000) : null;
            ctx.commitItem(`${vi}:${pi}`, () => insert.run(ctx.runId, pi, vi, text, tokens, tps, Math.round(ms)));
            done++;
            ctx.progress(done, total, `${v.label}: prompt ${pi + 1} of ${c.prompts.length}`);
          }
        } finally {
          await context.dispose();
        }
      }
    },
  };
}
