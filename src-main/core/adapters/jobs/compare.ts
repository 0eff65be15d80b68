import type { LlamaModel } from 'node-llama-cpp';
import type { JobKind } from '../../jobs/types.js';
import { renderChat } from '../../distill/local-teacher.js';
import { NativeBatch } from '../../native/batch.js';
import { resolveSampling } from '../../native/sampler-chain.js';
import type { GenerationMode } from '../../../../src-shared/domain/playground.js';
import { recordVariantLineage, type AdapterJobDeps } from './variants.js';

/** Prompts of one variant decoded together. */
const MAX_PARALLEL = 8;

/** A prompt as tokens: chat through the model's template (a user turn), completion as LlamaCompletion tokenizes it. */
function promptTokens(model: LlamaModel, mode: GenerationMode, prompt: string): { tokens: number[]; stops: string[] } {
  if (mode === 'chat') return renderChat(model, [{ role: 'user', content: prompt }]);
  const bos = model.tokens.bos !== null && model.tokens.shouldPrependBosToken ? [model.tokens.bos] : [];
  return { tokens: [...bos, ...model.tokenize(prompt, false, bos.length ? 'trimLeadingSpace' : undefined)], stops: [] };
}

/**
 * "adapters.compare": every variant answers every prompt with the same seed and settings (a run without a seed gets
 * one from its id, so a resumed run draws the same). Variants run one after the other, each a native batch on the
 * shared base with its adapters, its prompts decoded together; each answer is committed as it completes.
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
      const sampling = resolveSampling({ ...c.generation, seed: c.generation.seed ?? Math.imul(ctx.runId, 0x9e3779b1) >>> 0 });
      let done = committed.size;
      for (const [vi, v] of c.variants.entries()) {
        const pending = c.prompts.map((_, pi) => pi).filter((pi) => !committed.has(`${vi}:${pi}`));
        if (pending.length === 0) continue;
        ctx.throwIfCancelled();
        await d.engine.checkModelFile(v.modelPath, ctx.signal);
        const tokenizer = await d.engine.loadTokenizer(v.modelPath, ctx.signal);
        const prompts = new Map(pending.map((pi) => [pi, promptTokens(tokenizer, c.mode, c.prompts[pi]!)]));
        const longest = Math.max(...[...prompts.values()].map((p) => p.tokens.length));
        const batch = await NativeBatch.open(
          d.engine.native(),
          {
            modelPath: v.modelPath,
            lora: v.adapters.map((a) => ({ filePath: a.filePath, scale: a.scale })),
            parallel: Math.min(MAX_PARALLEL, pending.length),
            contextSize: Math.max(64, longest + c.generation.maxTokens + 1),
            threads: await d.engine.resolveNativeThreads(d.threads()),
          },
          ctx.signal,
        );
        try {
          let next = 0;
          const worker = async () => {
            for (let pi = pending[next++]; pi !== undefined; pi = pending[next++]) {
              ctx.throwIfCancelled();
              const p = prompts.get(pi)!;
              const t0 = performance.now();
              const r = await batch.generate(
                { tokens: p.tokens, maxTokens: c.generation.maxTokens, sampling, stops: p.stops, logprobs: 0 },
                { signal: ctx.signal },
              );
              ctx.throwIfCancelled();
              const ms = performance.now() - t0;
              const n = r.tokens.length;
              const tps = r.firstTokenAt !== null && n > 1 && r.endedAt > r.firstTokenAt ? (n - 1) / ((r.endedAt - r.firstTokenAt) / 1000) : null;
              const text = r.text;
              ctx.commitItem(`${vi}:${pi}`, () => insert.run(ctx.runId, pi, vi, text, n, tps, Math.round(ms)));
              done++;
              ctx.progress(done, total, `${v.label}: prompt ${pi + 1} of ${c.prompts.length}`);
            }
          };
          await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL, pending.length) }, worker));
        } finally {
          await batch.close();
        }
      }
    },
  };
}
