import fs from 'node:fs';
import type { OpParsed } from '../../../src-shared/contract/index.js';
import type { EvalVariantConfig } from '../../../src-shared/contract/evaluate.js';
import type { ContaminationSummary, EvalExampleRow, EvalExamplesPage, EvalMetric, EvalReport } from '../../../src-shared/domain/evaluate.js';
import { METRIC_INFO } from '../../../src-shared/domain/evaluate.js';
import { messageText, type CurationResult } from '../../../src-shared/domain/datasets.js';
import { AppError } from '../../../src-shared/errors.js';
import type { JobRunner } from '../jobs/runner.js';
import type { DatasetsService } from '../datasets/service.js';
import type { ModelsService } from '../models/service.js';
import type { AdaptersService } from '../adapters/service.js';
import type { SecretsStore } from '../secrets/store.js';
import type { DistillStore } from '../distill/store.js';
import { defaultParallel } from '../distill/service.js';
import { teacherConfig } from '../distill/teacher-config.js';
import { variantLabel as adapterVariantLabel } from '../adapters/jobs/variants.js';
import { withFileErrors } from '../files/errors.js';
import { compileMetrics } from './score-answers.js';
import { buildReport, type RoutingOptions } from './report.js';
import { exportReport } from './export.js';
import type { EvaluateStore } from './store.js';
import { loadExamples } from './jobs/run.js';
import { checkSameVocabulary } from './vocabulary.js';

export interface EvaluateDeps {
  datasets: DatasetsService;
  models: ModelsService;
  adapters: AdaptersService;
  secrets: SecretsStore;
  distill: DistillStore;
  store: EvaluateStore;
  runner: JobRunner;
  gpu: () => boolean;
}

/** The Evaluate room: starts evaluation runs (inputs checked before anything runs) and reads their reports. */
export class EvaluateService {
  constructor(private readonly d: EvaluateDeps) {}

  private variant(v: OpParsed<'evaluate.start'>['variants'][number], i: number, dataset: string): EvalVariantConfig {
    const field = `variants.${i}`;
    switch (v.kind) {
      case 'model': {
        const model = this.d.models.resolveForEngine(v.modelId);
        const adapters = this.d.adapters.resolveForEngine(v.modelId, v.adapters).map((a) => ({ id: a.id, name: a.name, filePath: a.filePath, scale: a.scale }));
        const resolved = { modelId: v.modelId, modelPath: model.path, modelName: model.name, adapters };
        return { kind: 'model', model: { ...resolved, label: v.label?.trim() || adapterVariantLabel(resolved) } };
      }
      case 'server':
      case 'fleet': {
        const server = teacherConfig(this.d.models, this.d.secrets, v.kind === 'fleet' ? { endpoints: v.endpoints } : v, field);
        return { kind: 'server', server, label: v.label?.trim() || server.name };
      }
      case 'distill': {
        const run = this.d.runner.store.detail(v.runId);
        if (run.kind !== 'distill.generate')
          throw new AppError('invalid_input', `run ${v.runId} is a ${run.kind} run, not a distillation run`, `${field}.runId`);
        // its answers are matched to the examples by position: they must be answers to this dataset's prompts
        const answered = this.d.runner.config(v.runId, 'distill.generate').dataset;
        if (answered !== dataset)
          throw new AppError('invalid_input', `distillation run ${v.runId} answered ${answered}'s prompts, not ${dataset}'s`, `${field}.runId`);
        return { kind: 'distill', runId: v.runId, label: v.label?.trim() || `distill run ${v.runId}` };
      }
      case 'predictions': {
        const stat = withFileErrors(v.file, () => fs.statSync(v.file), `${field}.file`);
        if (!stat.isFile()) throw new AppError('not_a_file', `${v.file} is not a file`, `${field}.file`);
        withFileErrors(v.file, () => fs.accessSync(v.file, fs.constants.R_OK), `${field}.file`);
        return { kind: 'predictions', file: v.file, label: v.label?.trim() || v.file.split(/[\\/]/).pop()! };
      }
    }
  }

  start(input: OpParsed<'evaluate.start'>): { runId: number } {
    const { version } = this.d.datasets.resolve(input.dataset, input.version, { committedOnly: true });
    const size = this.d.datasets.splitSize(version, input.split);
    if (size === 0)
      throw new AppError(
        'conflict',
        `${input.dataset}@${version.number} has no ${input.split === 'all' ? '' : `${input.split} `}examples to evaluate`,
        'split',
      );
    const teacher = input.teacher;
    if (teacher !== null && teacher >= input.variants.length)
      throw new AppError('invalid_input', `teacher: there is no variant ${teacher + 1} (${input.variants.length} given)`, 'teacher');
    const needsTeacher = (what: string, field: string) => {
      if (teacher === null) throw new AppError('invalid_input', `${what} needs a teacher: mark one variant as the teacher`, field);
    };
    if (input.against === 'teacher') needsTeacher('scoring against the teacher', 'against');
    if (input.metrics.includes('pairwise')) needsTeacher('the pairwise judge', 'metrics');
    if ((input.metrics.includes('judge') || input.metrics.includes('pairwise')) && !input.judge)
      throw new AppError('invalid_input', 'the judge metrics need a judge model (judge.model)', 'judge');
    if (input.metrics.includes('regex') && !input.regex) throw new AppError('invalid_input', 'the regex metric needs a pattern', 'regex');
    if (input.metrics.includes('schema') && !input.jsonSchema) throw new AppError('invalid_input', 'the schema metric needs a JSON schema', 'jsonSchema');
    compileMetrics({ metrics: input.metrics, regex: input.regex, jsonSchema: input.jsonSchema });
    const variants = input.variants.map((v, i) => this.variant(v, i, input.dataset));
    const labels = new Set<string>();
    for (const [i, v] of variants.entries()) {
      const label = v.kind === 'model' ? v.model.label : v.label;
      if (labels.has(label)) throw new AppError('invalid_input', `two variants are labelled "${label}": give one another label`, `variants.${i}.label`);
      labels.add(label);
    }
    // divergence compares distributions token by token: a local student must share the teacher's vocabulary
    const t = teacher === null ? null : variants[teacher]!;
    if (input.divergence && t?.kind === 'model') {
      for (const [i, v] of variants.entries())
        if (i !== teacher && v.kind === 'model') checkSameVocabulary(t.model.modelPath, v.model.modelPath, `variants.${i}`, t.model.label, v.model.label);
    }
    const judge = input.judge
      ? { model: teacherConfig(this.d.models, this.d.secrets, input.judge.model, 'judge.model'), rubric: input.judge.rubric, maxTokens: input.judge.maxTokens }
      : undefined;
    const contamination = input.contamination
      ? {
          n: input.contamination.n,
          against: input.contamination.against.map((a) => {
            const r = this.d.datasets.resolve(a.dataset, a.version, { committedOnly: true });
            return { dataset: a.dataset, versionId: r.version.id, versionNumber: r.version.number, split: a.split };
          }),
        }
      : undefined;
    const anyLocal = variants.some((v) => v.kind === 'model');
    const parallel = input.parallel ?? (anyLocal ? defaultParallel(this.d.gpu()) : 8);
    const run = this.d.runner.submit('evaluate.run', {
      dataset: input.dataset,
      versionId: version.id,
      versionNumber: version.number,
      split: input.split,
      variants,
      teacher,
      against: input.against,
      metrics: input.metrics,
      ...(input.regex ? { regex: input.regex } : {}),
      ...(input.jsonSchema ? { jsonSchema: input.jsonSchema } : {}),
      ...(judge ? { judge } : {}),
      generation: input.generation,
      parallel,
      ...(input.limit ? { limit: input.limit } : {}),
      divergence: input.divergence,
      systems: input.systems,
      ...(contamination ? { contamination } : {}),
    });
    return { runId: run.id };
  }

  private config(runId: number) {
    return this.d.runner.config(runId, 'evaluate.run');
  }

  report(runId: number, routing: RoutingOptions): EvalReport {
    const c = this.config(runId);
    return buildReport(c, runId, this.d.runner.store.detail(runId).status, this.d.store, routing);
  }

  examples(input: OpParsed<'evaluate.examples'>): EvalExamplesPage {
    const c = this.config(input.runId);
    const examples = loadExamples(this.d.datasets, c);
    const answers = this.d.store.answers(input.runId);
    const scores = this.d.store.scores(input.runId);
    const reasons = this.d.store.notes(input.runId, 'judge');
    const divergence = new Map(this.d.store.divergence(input.runId).map((r) => [`${r.variant}:${r.position}`, r.figures]));
    const flagged = new Set(this.d.store.contamination(input.runId).map((f) => f.position));
    const student = input.variant ?? c.variants.findIndex((_, i) => i !== c.teacher);
    const metric: EvalMetric | undefined = input.metric ?? c.metrics.find((m) => m !== 'pairwise' && m !== 'judge') ?? c.metrics[0];
    const value = (m: string, v: number, p: number) => scores.get(m)?.get(v)?.get(p);
    const right = (v: number, p: number) => {
      const x = metric ? value(metric, v, p) : undefined;
      return x === undefined ? null : x >= METRIC_INFO[metric!].max / 2;
    };
    let picked = examples;
    switch (input.filter) {
      case 'student-wrong-teacher-right':
      case 'student-right-teacher-wrong': {
        if (c.teacher === null) throw new AppError('invalid_input', 'this run has no teacher to compare with', 'filter');
        const want = input.filter === 'student-right-teacher-wrong';
        picked = examples.filter((e) => right(student, e.position) === want && right(c.teacher!, e.position) === !want);
        break;
      }
      case 'judge-disagrees-exact':
        picked = examples.filter((e) => {
          const j = value('judge', student, e.position);
          const x = value('exact', student, e.position);
          return j !== undefined && x !== undefined && j >= 6 !== (x === 1);
        });
        break;
      case 'contaminated':
        picked = examples.filter((e) => flagged.has(e.position));
        break;
      case 'most-divergent':
        picked = examples
          .filter((e) => divergence.has(`${student}:${e.position}`))
          .sort((a, b) => divergence.get(`${student}:${b.position}`)!.kld - divergence.get(`${student}:${a.position}`)!.kld);
        break;
      case 'all':
        break;
    }
    const byKey = new Map(answers.map((a) => [`${a.variant}:${a.position}`, a]));
    const rows: EvalExampleRow[] = picked.slice(input.offset, input.offset + input.limit).map((e) => ({
      position: e.position,
      prompt: e.prompt.map((m) => `${m.role}: ${messageText(m)}`).join('\n'),
      reference: e.reference,
      contaminated: flagged.has(e.position),
      answers: c.variants.map((_, v) => {
        const a = byKey.get(`${v}:${e.position}`);
        const metrics: Partial<Record<EvalMetric, number>> = {};
        for (const m of c.metrics) {
          const x = value(m, v, e.position);
          if (x !== undefined) metrics[m] = x;
        }
        return {
          variant: v,
          text: a?.text ?? null,
          error: a?.error ?? null,
          tokens: value('length', v, e.position) ?? a?.tokens ?? null,
          metrics,
          judgeReason: reasons.get(`${v}:${e.position}`) ?? null,
          divergence: divergence.get(`${v}:${e.position}`) ?? null,
        };
      }),
    }));
    return { total: picked.length, rows };
  }

  exportReport(runId: number, format: 'md' | 'csv' | 'json', table: 'systems' | 'leaderboard' | 'all'): { text: string; fileName: string } {
    return exportReport(this.report(runId, { confidence: 'meanLogprob', share: 0.5, target: 0.95 }), format, table);
  }

  sendToCuration(input: OpParsed<'evaluate.sendToCuration'>): CurationResult {
    const c = this.config(input.runId);
    if (!input.top && !input.positions)
      throw new AppError('invalid_input', 'say how many of the most divergent examples (top) or which positions to tag', 'top');
    let positions = input.positions;
    if (!positions) {
      const rows = this.d.store
        .divergence(input.runId)
        .filter((r) => r.variant === input.variant)
        .sort((a, b) => b.figures.kld - a.figures.kld);
      if (rows.length === 0) throw new AppError('conflict', `run ${input.runId} has no divergence figures for variant ${input.variant + 1}`, 'variant');
      positions = rows.slice(0, input.top).map((r) => r.position);
    }
    return this.d.datasets.curate(c.dataset, { positions }, { kind: 'tag', tag: input.tag });
  }

  startContamination(input: OpParsed<'evaluate.contamination'>): { runId: number } {
    const ref = (a: { dataset: string; version?: number | undefined; split: 'train' | 'validation' | 'test' | 'all' }) => {
      const r = this.d.datasets.resolve(a.dataset, a.version, { committedOnly: true });
      return { dataset: a.dataset, versionId: r.version.id, versionNumber: r.version.number, split: a.split };
    };
    const evalRef = ref(input.eval);
    if (this.d.datasets.countIn(evalRef.versionId, evalRef.split) === 0)
      throw new AppError('conflict', `${evalRef.dataset}@${evalRef.versionNumber} has no ${evalRef.split} examples`, 'eval.split');
    return { runId: this.d.runner.submit('evaluate.contamination', { eval: evalRef, against: input.against.map(ref), n: input.n }).id };
  }

  contaminationOf(runId: number): ContaminationSummary | null {
    const run = this.d.runner.store.detail(runId);
    const flagged = this.d.store.contamination(runId);
    if (run.kind === 'evaluate.contamination') {
      const c = this.d.runner.config(runId, 'evaluate.contamination');
      const checked = run.metrics.find((m) => m.name === 'checked')?.value ?? 0;
      return {
        n: c.n,
        against: c.against.map((a) => `${a.dataset}@${a.versionNumber}`),
        checked,
        flagged: flagged.length,
        positions: flagged.slice(0, 1000).map((f) => f.position),
      };
    }
    if (run.kind === 'evaluate.run') return this.report(runId, { confidence: 'meanLogprob', share: 0.5, target: 0.95 }).contamination;
    throw new AppError('invalid_input', `run ${runId} is a ${run.kind} run, not an evaluation`, 'runId');
  }
}
