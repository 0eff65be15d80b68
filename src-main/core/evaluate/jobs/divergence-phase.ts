import type { JobContext } from '../../jobs/types.js';
import { divergence, type DivergenceExample, type DivergenceModel } from '../divergence.js';
import { teacherForcedTokens } from '../teacher-forcing.js';
import type { EvalExample } from '../sources.js';
import type { TokenLogprob } from '../../../../src-shared/domain/distill.js';
import { isAppError } from '../../../../src-shared/errors.js';
import type { EvaluateJobDeps } from './run.js';

/**
 * Teacher-forced divergence of every local student from the teacher, on the teacher's answers (`d:<variant>:<pos>`
 * items): with a local teacher both models decode the same batches and their whole distributions are compared; with
 * a server teacher (or a distillation run's answers kept with their top-k), the stored soft labels are (top-k plus the
 * rest as one bucket). Adapters of both sides are applied. A student the teacher's vocabulary does not match is
 * skipped with the reason in the run's log (its metrics stand).
 */
export async function divergencePhase(ctx: JobContext<'evaluate.run'>, d: EvaluateJobDeps, examples: EvalExample[]): Promise<void> {
  const c = ctx.config;
  const t = c.variants[c.teacher!]!;
  const teacherModel: DivergenceModel | null =
    t.kind === 'model' ? { file: t.model.modelPath, adapters: t.model.adapters.map((a) => ({ file: a.filePath, scale: a.scale })) } : null;
  const softLabelsAt = (position: number): TokenLogprob[] | null => {
    if (t.kind === 'server') return d.store.logprobsAt(ctx.runId, c.teacher!, position);
    if (t.kind === 'distill') return d.distill.logprobs(t.runId, position, 0)?.tokens ?? null;
    return null;
  };
  if (!teacherModel && t.kind === 'predictions') {
    ctx.log('info', 'Divergence: the teacher is a predictions file, which has no distributions to compare with; skipped.');
    return;
  }
  const done = ctx.doneItems();
  const threads = await d.engine.resolveNativeThreads(d.threads());
  for (const [v, variant] of c.variants.entries()) {
    if (v === c.teacher || variant.kind !== 'model') continue;
    const m = variant.model;
    const tokenizer = await d.engine.loadTokenizer(m.modelPath, ctx.signal);
    const picked: { position: number; example: DivergenceExample }[] = [];
    let labelled = 0;
    for (const e of examples) {
      if (done.has(`d:${v}:${e.position}`)) continue;
      const answer = d.store.answerAt(ctx.runId, c.teacher!, e.position)?.text;
      if (!answer) continue;
      let tokens;
      try {
        tokens = teacherForcedTokens(tokenizer, e.prompt, answer);
      } catch (err) {
        ctx.log('warn', `Divergence of ${m.label}, example ${e.position}: ${(err as Error).message}`);
        continue;
      }
      const softLabels = teacherModel ? null : softLabelsAt(e.position);
      if (softLabels?.length) labelled++;
      picked.push({ position: e.position, example: { ...tokens, ...(softLabels ? { softLabels } : {}) } });
    }
    if (picked.length === 0) continue;
    if (!teacherModel && labelled === 0) {
      ctx.log('info', `Divergence of ${m.label}: the teacher's answers have no soft labels (the server gave no log-probabilities); skipped.`);
      continue;
    }
    ctx.progress(0, picked.length, `${m.label}: divergence from the teacher`);
    let scored = 0;
    try {
      const r = await divergence(
        d.engine.native(),
        {
          student: { file: m.modelPath, adapters: m.adapters.map((a) => ({ file: a.filePath, scale: a.scale })) },
          teacher: teacherModel,
          examples: picked.map((p) => p.example),
          threads,
        },
        {
          signal: ctx.signal,
          onExample: (i, f) => {
            const position = picked[i]!.position;
            if (f.kld === null) return;
            const figures = { tokens: f.tokens, kld: f.kld, maxKld: f.maxKld ?? f.kld, top1: f.top1, nll: f.meanNll };
            ctx.commitItem(`d:${v}:${position}`, () => d.store.saveDivergence(ctx.runId, v, position, figures, f.compared === 'lockstep' ? 'full' : 'topk'));
            ctx.progress(++scored, picked.length, `${m.label}: divergence from the teacher`);
          },
        },
      );
      if (r.summary.kld !== null) ctx.metric(`kld:${v}`, r.summary.kld);
      if (r.summary.refused > 0)
        ctx.log('warn', `Divergence of ${m.label}: the soft labels of ${r.summary.refused} answer(s) do not align with its tokens; skipped.`);
    } catch (err) {
      // a student with another vocabulary cannot be compared: said, and the run goes on
      if (isAppError(err) && err.code === 'invalid_input' && /vocabular/i.test(err.message)) {
        ctx.log('warn', `Divergence of ${m.label}: ${err.message}`);
        continue;
      }
      throw err;
    }
  }
}
