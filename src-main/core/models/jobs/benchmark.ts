import type { JobKind } from '../../jobs/types.js';
import type { ModelsService } from '../service.js';
import type { LlmEngine } from '../../llm/engine.js';
import { benchmarkModel } from '../../llm/benchmark.js';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * "Benchmark a model": loads it and measures prompt processing and generation speed, one committed item per
 * repetition (a resumed run measures only the repetitions it lacks).
 */
export function benchmarkJob(models: ModelsService, engine: LlmEngine, userThreads: () => number | null): JobKind<'models.benchmark'> {
  return {
    kind: 'models.benchmark',
    title: (c) => `Benchmark model ${c.id} (pp${c.promptTokens}, tg${c.generateTokens})`,
    async run(ctx) {
      const { id, promptTokens, generateTokens, repetitions } = ctx.config;
      const model = models.resolveForEngine(id);
      const threads = ctx.config.threads ?? userThreads() ?? engine.defaultThreads();
      ctx.lineage('input', 'model', String(id), model.name);
      ctx.log('info', `Model ${model.name}, ${threads} thread(s).`);
      const done = ctx.doneItems();
      let firstOfAttempt = true;
      for (let rep = 0; rep < repetitions; rep++) {
        ctx.progress(rep, repetitions, `repetition ${rep + 1} of ${repetitions}`);
        if (done.has(`rep-${rep}`)) continue;
        const r = await benchmarkModel(
          engine,
          model.path,
          { promptTokens, generateTokens, repetitions: 1, threads },
          { signal: ctx.signal, onProgress: () => undefined },
        );
        const pp = r.promptTokensPerSecond[0]!;
        const tg = r.generateTokensPerSecond[0]!;
        ctx.commitItem(`rep-${rep}`, () => {
          ctx.metric('prompt_tps', pp, rep);
          ctx.metric('generate_tps', tg, rep);
          // the first repetition of an attempt pays for loading the model (later ones find it cached)
          if (firstOfAttempt) ctx.metric('load_ms', r.loadMs);
        });
        firstOfAttempt = false;
        ctx.log('info', `Repetition ${rep + 1}: prompt ${pp.toFixed(1)} t/s, generation ${tg.toFixed(1)} t/s.`);
      }
      ctx.log('info', `Backend: ${engine.info().gpu ?? 'not started'}.`);
      ctx.metric('prompt_tps_mean', mean(ctx.series('prompt_tps')));
      ctx.metric('generate_tps_mean', mean(ctx.series('generate_tps')));
      ctx.metric('threads', threads);
      ctx.progress(repetitions, repetitions, 'done');
    },
  };
}
