import type { JobKind } from '../../jobs/types.js';
import type { DatasetsService } from '../../datasets/service.js';
import { AppError } from '../../../../src-shared/errors.js';
import type { EvaluateStore } from '../store.js';
import { contaminationOf } from '../contamination.js';
import { loadExamples } from './run.js';

/** "evaluate.contamination": an evaluation split's n-gram overlap with other dataset versions, on its own (one item). */
export function contaminationJob(d: { datasets: DatasetsService; store: EvaluateStore }): JobKind<'evaluate.contamination'> {
  return {
    kind: 'evaluate.contamination',
    title: (c) =>
      `Contamination of ${c.eval.dataset}@${c.eval.versionNumber} (${c.eval.split}) against ${c.against.map((a) => `${a.dataset}@${a.versionNumber}`).join(', ')}`,
    async run(ctx) {
      const c = ctx.config;
      ctx.lineage('input', 'dataset', c.eval.dataset, `${c.eval.dataset}@${c.eval.versionNumber}`);
      for (const a of c.against) ctx.lineage('input', 'dataset', a.dataset, `${a.dataset}@${a.versionNumber}`);
      if (ctx.doneItems().has('contamination')) return;
      const examples = loadExamples(d.datasets, c.eval);
      if (examples.length === 0) throw new AppError('conflict', `${c.eval.dataset}@${c.eval.versionNumber} has no ${c.eval.split} examples`);
      ctx.progress(0, 1, `checking ${examples.length} examples for ${c.n}-grams`);
      const flagged = await contaminationOf(d.datasets, examples, c, ctx.signal);
      ctx.commitItem('contamination', () => d.store.saveContamination(ctx.runId, flagged));
      ctx.progress(1, 1, `${flagged.length} of ${examples.length} flagged`);
      ctx.metric('checked', examples.length);
      ctx.metric('flagged', flagged.length);
      ctx.log('info', `${flagged.length} of ${examples.length} examples share ${c.n}-grams with the data checked against.`);
    },
  };
}
