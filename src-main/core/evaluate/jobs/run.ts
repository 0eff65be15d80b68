import type { LlamaModel } from 'node-llama-cpp';
import type { JobContext, JobKind } from '../../jobs/types.js';
import type { DatasetsService } from '../../datasets/service.js';
import type { DistillStore } from '../../distill/store.js';
import type { LlmEngine } from '../../llm/engine.js';
import type { SecretsStore } from '../../secrets/store.js';
import { answerSeed } from '../../distill/prompt.js';
import { openTeacher, teacherEndpoints } from '../../distill/teachers.js';
import { fleetFigures } from '../../distill/fleet.js';
import { JUDGE_SCHEMA, judgeMessages, readVerdict } from '../../distill/judge.js';
import { isAppError } from '../../../../src-shared/errors.js';
import { AppError } from '../../../../src-shared/errors.js';
import type { EvalMetric } from '../../../../src-shared/domain/evaluate.js';
import type { EvaluateStore } from '../store.js';
import { evalExample, openSource, variantLabel, type EvalConfig, type EvalExample, type SourceDeps } from '../sources.js';
import { PAIRWISE_SCHEMA, pairwiseMessages, pairwiseOutcome, readPreference } from '../pairwise.js';
import { readEnergy, joulesBetween } from '../energy.js';
import { scoreAnswers, compileMetrics } from '../score-answers.js';
import { divergencePhase } from './divergence-phase.js';
import { systemsPhase } from './systems-phase.js';
import { contaminationOf } from '../contamination.js';

export interface EvaluateJobDeps {
  datasets: DatasetsService;
  store: EvaluateStore;
  distill: DistillStore;
  engine: LlmEngine;
  threads: () => number | null;
  secrets: SecretsStore;
}

/** Examples of the run's split, in order (at most `limit`), a page at a time. */
export function loadExamples(datasets: DatasetsService, c: { versionId: number; split: EvalConfig['split']; limit?: number | undefined }): EvalExample[] {
  const total = Math.min(c.limit ?? Infinity, datasets.countIn(c.versionId, c.split));
  const out: EvalExample[] = [];
  let after = Number.MIN_SAFE_INTEGER;
  while (out.length < total) {
    const rows = datasets.examplesAfter(c.versionId, after, Math.min(500, total - out.length), c.split);
    if (rows.length === 0) break;
    after = rows.at(-1)!.position;
    out.push(...rows.map(evalExample));
  }
  return out;
}

/** Variants in the order they answer: the teacher first (metrics against the teacher need its answers). */
function answerOrder(c: EvalConfig): number[] {
  const all = c.variants.map((_, i) => i);
  return c.teacher === null ? all : [c.teacher, ...all.filter((i) => i !== c.teacher)];
}

function recordLineage(ctx: JobContext<'evaluate.run'>): void {
  const c = ctx.config;
  ctx.lineage('input', 'dataset', c.dataset, `${c.dataset}@${c.versionNumber}`);
  for (const v of c.variants) {
    if (v.kind === 'model') {
      ctx.lineage('input', 'model', String(v.model.modelId), v.model.modelName);
      for (const a of v.model.adapters) ctx.lineage('input', 'adapter', String(a.id), a.name);
    } else if (v.kind === 'server' && v.server.kind === 'fleet') {
      for (const e of teacherEndpoints(v.server)) ctx.lineage('input', 'endpoint', e.ref, `${v.label} (${e.label})`);
    } else if (v.kind === 'server') ctx.lineage('input', 'endpoint', `${v.server.kind === 'http' ? v.server.baseUrl : ''}#${v.server.name}`, v.label);
    else if (v.kind === 'predictions') ctx.lineage('input', 'file', v.file, v.label);
  }
  if (c.judge) {
    const j = c.judge.model;
    if (j.kind === 'local') ctx.lineage('input', 'model', String(j.modelId), `${j.name} (judge)`);
    for (const e of teacherEndpoints(j)) ctx.lineage('input', 'endpoint', e.ref, `${e.label} (judge)`);
  }
}

/**
 * "evaluate.run": every variant answers every example of the split (or brings its answers), each answer committed
 * with its metric values (item `a:<variant>:<position>`); then the judge (`j:`/`p:` items), teacher-forced divergence
 * of each local student from the teacher (`d:`), each local model's systems figures (`s:<variant>`) and the
 * contamination check (`contamination`). A resumed run does only what has no item. A server that stops answering
 * fails the run after its retries, with the reason: resume it when the server is back.
 */
export function evaluateJob(d: EvaluateJobDeps): JobKind<'evaluate.run'> {
  return {
    kind: 'evaluate.run',
    title: (c) => `Evaluate ${c.variants.map(variantLabel).join(' | ')} on ${c.dataset}@${c.versionNumber}${c.split === 'all' ? '' : ` (${c.split})`}`,
    async run(ctx) {
      const c = ctx.config;
      recordLineage(ctx);
      const examples = loadExamples(d.datasets, c);
      if (examples.length === 0) throw new AppError('conflict', `${c.dataset}@${c.versionNumber} has no ${c.split === 'all' ? '' : `${c.split} `}examples`);
      const positions = examples.map((e) => e.position);
      const done = ctx.doneItems();
      const metrics = compileMetrics(c);
      const sourceDeps: SourceDeps = { engine: d.engine, threads: d.threads, secrets: d.secrets, log: (level, m) => ctx.log(level, m), distill: d.distill };
      // answers without a token count (stored answers, predictions) are measured with the first local model's tokenizer
      const firstModel = c.variants.find((v) => v.kind === 'model');
      let lengthTokenizer: LlamaModel | null = null;
      const tokensOf = async (text: string): Promise<number | null> => {
        if (!firstModel || firstModel.kind !== 'model') return null;
        lengthTokenizer ??= await d.engine.loadTokenizer(firstModel.model.modelPath, ctx.signal);
        return lengthTokenizer.tokenize(text, false).length;
      };
      const energy = new Map<number, { joules: number | null; reason: string | null; answers: number }>();
      const total = examples.length * c.variants.length;
      let answered = [...done].filter((k) => k.startsWith('a:')).length;
      if (answered > 0) ctx.log('info', `Resuming: ${answered} of ${total} answers were already committed.`);

      for (const v of answerOrder(c)) {
        const variant = c.variants[v]!;
        const pending = examples.filter((e) => !done.has(`a:${v}:${e.position}`));
        if (pending.length === 0) continue;
        ctx.throwIfCancelled();
        const label = variantLabel(variant);
        ctx.progress(answered, total, `${label}: opening`);
        const softLabels = c.divergence && v === c.teacher && variant.kind === 'server' ? 8 : 0;
        const before = readEnergy();
        const source = await openSource(variant, c, positions, sourceDeps, softLabels, ctx.signal, (m) => ctx.log('warn', m));
        let made = 0;
        try {
          let next = 0;
          const worker = async () => {
            for (let e = pending[next++]; e !== undefined; e = pending[next++]) {
              ctx.throwIfCancelled();
              const a = await source.answer(e, answerSeed(c.generation.seed, e.position, 0));
              ctx.throwIfCancelled();
              const target =
                c.against === 'teacher' ? (c.teacher === v ? null : (d.store.answerAt(ctx.runId, c.teacher!, e.position)?.text ?? null)) : e.reference;
              const values: Partial<Record<EvalMetric | 'length', number | null>> = a.text !== null ? scoreAnswers(metrics, a.text, target) : {};
              if (a.text !== null) values.length = a.tokens ?? (await tokensOf(a.text));
              const position = e.position;
              ctx.commitItem(`a:${v}:${position}`, () => {
                d.store.saveAnswer(ctx.runId, v, position, a);
                d.store.saveScores(ctx.runId, v, position, values);
              });
              if (a.error) ctx.log('warn', `${label}, example ${position}: ${a.error}`);
              made++;
              answered++;
              ctx.progress(answered, total, `${label}: ${made} of ${pending.length} answers`);
            }
          };
          await Promise.all(Array.from({ length: Math.min(source.parallel, pending.length) }, worker));
        } catch (e) {
          if (isAppError(e) && e.code === 'engine_error' && variant.kind === 'server')
            throw new AppError(
              'engine_error',
              `${label} stopped answering (${e.message}); ${answered} answers are kept: resume the run when the server is back`,
            );
          throw e;
        } finally {
          await source.close();
          if (source.endpoints) for (const f of fleetFigures(source.endpoints(), `${v}:`)) ctx.metric(f.name as `endpoint_tps:${string}`, f.value);
        }
        if (variant.kind === 'model') energy.set(v, { ...joulesBetween(before, readEnergy()), answers: made });
        const tps = d.store
          .answers(ctx.runId, v)
          .map((a) => a.tps)
          .filter((x): x is number => x !== null);
        if (tps.length) ctx.metric(`gen_tps:${v}`, tps.reduce((s, x) => s + x, 0) / tps.length);
      }
      const stored = d.store.answers(ctx.runId);
      const failedCount = stored.filter((a) => a.text === null).length;
      ctx.metric('answers', stored.length - failedCount);
      ctx.metric('failed', failedCount);
      if (failedCount === stored.length) {
        const reasons = [...new Set(stored.map((a) => a.error).filter(Boolean))].slice(0, 3).join('; ');
        throw new AppError('engine_error', `no variant answered any example (${reasons})`);
      }

      if (c.judge && (c.metrics.includes('judge') || c.metrics.includes('pairwise'))) await judgePhase(ctx, d, examples);
      if (c.divergence && c.teacher !== null) await divergencePhase(ctx, d, examples);
      if (c.systems) await systemsPhase(ctx, d, energy);
      if (c.contamination && !done.has('contamination')) {
        ctx.progress(answered, total, 'checking contamination');
        const flagged = await contaminationOf(d.datasets, examples, c.contamination, ctx.signal);
        ctx.commitItem('contamination', () => d.store.saveContamination(ctx.runId, flagged));
        ctx.metric('flagged', flagged.length);
        ctx.log('info', `Contamination: ${flagged.length} of ${examples.length} examples share ${c.contamination.n}-grams with the training data.`);
      }
      ctx.progress(total, total, `${stored.length - failedCount} answers scored`);
    },
  };
}

/**
 * The judge's pass: a rubric score (1–10) for every answer (`j:` items) and, against the teacher, the pairwise verdict
 * in both orders (`p:` items). Greedy, so a resumed pass judges the same.
 */
async function judgePhase(ctx: JobContext<'evaluate.run'>, d: EvaluateJobDeps, examples: EvalExample[]): Promise<void> {
  const c = ctx.config;
  const j = c.judge!;
  const done = ctx.doneItems();
  const byPosition = new Map(examples.map((e) => [e.position, e]));
  const tasks: { key: string; run: () => Promise<() => void> }[] = [];
  const answers = d.store.answers(ctx.runId);
  const text = (v: number, p: number) => answers.find((a) => a.variant === v && a.position === p)?.text ?? null;
  const judge = await openTeacher(
    j.model,
    c.parallel,
    j.maxTokens,
    { engine: d.engine, threads: d.threads, secrets: d.secrets, log: (l, m) => ctx.log(l, m) },
    ctx.signal,
  );
  const generation = { ...c.generation, temperature: 0, maxTokens: j.maxTokens, samples: 1 };
  for (const a of answers) {
    const e = byPosition.get(a.position);
    if (!e || a.text === null) continue;
    const seed = answerSeed(c.generation.seed ^ 0x5bd1e995, a.position, a.variant);
    if (c.metrics.includes('judge') && !done.has(`j:${a.variant}:${a.position}`)) {
      tasks.push({
        key: `j:${a.variant}:${a.position}`,
        run: async () => {
          const r = await judge.answer(judgeMessages(j.rubric, e.prompt, a.text!), seed, { generation, jsonSchema: JUDGE_SCHEMA });
          const v = readVerdict(r.text);
          return () => {
            if (v.score !== null) d.store.saveScores(ctx.runId, a.variant, a.position, { judge: v.score }, v.reason);
          };
        },
      });
    }
    const teacherText = c.teacher !== null && a.variant !== c.teacher ? text(c.teacher, a.position) : null;
    if (c.metrics.includes('pairwise') && teacherText !== null && !done.has(`p:${a.variant}:${a.position}`)) {
      tasks.push({
        key: `p:${a.variant}:${a.position}`,
        run: async () => {
          const first = await judge.answer(pairwiseMessages(j.rubric, e.prompt, a.text!, teacherText), seed, { generation, jsonSchema: PAIRWISE_SCHEMA });
          const second = await judge.answer(pairwiseMessages(j.rubric, e.prompt, teacherText, a.text!), seed, { generation, jsonSchema: PAIRWISE_SCHEMA });
          const outcome = pairwiseOutcome(readPreference(first.text), readPreference(second.text));
          return () => d.store.saveScores(ctx.runId, a.variant, a.position, { pairwise: outcome });
        },
      });
    }
  }
  let finished = 0;
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(c.parallel, tasks.length) }, async () => {
        for (let t = tasks[next++]; t !== undefined; t = tasks[next++]) {
          ctx.throwIfCancelled();
          const write = await t.run();
          ctx.throwIfCancelled();
          ctx.commitItem(t.key, write);
          ctx.progress(++finished, tasks.length, `judging: ${finished} of ${tasks.length}`);
        }
      }),
    );
  } finally {
    await judge.close();
  }
}
