import { fleetCapacity, teacherConfig } from './teacher-config.js';
import os from 'node:os';
import type { Db } from '../store/db.js';
import type { JobRunner } from '../jobs/runner.js';
import type { DatasetsService } from '../datasets/service.js';
import type { ModelsService } from '../models/service.js';
import type { DistillStore } from './store.js';
import { checkFilters, checkTemplate, compileSchema } from './prompt.js';
import type { TeacherConfig } from '../../../src-shared/contract/distill.js';
import type { SecretsStore } from '../secrets/store.js';
import type { OpParsed } from '../../../src-shared/contract/index.js';
import type { DistillAnswersPage, DistillEstimate } from '../../../src-shared/domain/distill.js';
import { referenceOf } from '../../../src-shared/domain/datasets.js';
import { AppError } from '../../../src-shared/errors.js';

/**
 * Prompts a local teacher answers at once by default: parallel sequences are where a teacher's throughput comes from
 * (llama.cpp's batched bench on these 2-core machines: ×1.7 at 4 sequences, ×1.8 at 8; more with a GPU).
 */
export function defaultParallel(gpu: boolean): number {
  return gpu ? 8 : Math.min(8, Math.max(4, os.availableParallelism() * 2));
}

export class DistillService {
  constructor(
    private readonly db: Db,
    private readonly datasets: DatasetsService,
    private readonly models: ModelsService,
    private readonly store: DistillStore,
    private readonly runner: JobRunner,
    private readonly gpu: () => boolean,
    private readonly secrets: SecretsStore,
  ) {}

  /** A teacher (or judge) as a run's config holds it: resolved, with where its API key is, never the key. */
  private teacherConfig(t: OpParsed<'distill.start'>['teacher'], field: string): TeacherConfig {
    return teacherConfig(this.models, this.secrets, t, field);
  }

  start(input: OpParsed<'distill.start'>): { runId: number } {
    checkTemplate(input.template);
    checkFilters(input.filters);
    const { version } = this.datasets.resolve(input.dataset, input.version, { committedOnly: true });
    const size = this.datasets.splitSize(version, input.split);
    if (size === 0)
      throw new AppError('conflict', `${input.dataset}@${version.number} has no ${input.split === 'all' ? '' : `${input.split} `}examples`, 'split');
    if (this.datasets.nameTaken(input.outName))
      throw new AppError('conflict', `a dataset named ${input.outName} already exists; choose another output name`, 'outName');
    const t = input.teacher;
    const teacher = this.teacherConfig(t, 'teacher');
    if (input.jsonSchema) compileSchema(input.jsonSchema);
    const judge = input.judge
      ? {
          teacher: this.teacherConfig(input.judge.teacher, 'judge.teacher'),
          rubric: input.judge.rubric,
          threshold: input.judge.threshold,
          maxTokens: input.judge.maxTokens,
        }
      : undefined;
    const parallel = input.parallel ?? ('modelId' in t ? defaultParallel(this.gpu()) : 'endpoints' in t ? fleetCapacity(t.endpoints) : 8);
    const run = this.runner.submit('distill.generate', {
      dataset: input.dataset,
      versionId: version.id,
      versionNumber: version.number,
      split: input.split,
      teacher,
      template: input.template,
      generation: input.generation,
      filters: input.filters,
      parallel,
      outName: input.outName,
      maxRejectRate: input.maxRejectRate,
      ...(input.limit ? { limit: input.limit } : {}),
      ...(input.jsonSchema ? { jsonSchema: input.jsonSchema } : {}),
      ...(input.logprobs ? { logprobs: input.logprobs } : {}),
      ...(judge ? { judge } : {}),
    });
    return { runId: run.id };
  }

  /** Answers and tokens a run would make, and the time at the teacher's last measured speed (a benchmark or a run). */
  estimate(input: Omit<OpParsed<'distill.estimate'>, 'outName'>): DistillEstimate {
    const { version } = this.datasets.resolve(input.dataset, input.version, { committedOnly: true });
    const size = this.datasets.splitSize(version, input.split);
    const prompts = Math.min(size, input.limit ?? Infinity);
    const answers = prompts * input.generation.samples;
    const maxTokens = answers * input.generation.maxTokens;
    const t = input.teacher;
    // a fleet's speed depends on which of its endpoints are up: no estimate from past runs
    const speed =
      'endpoints' in t
        ? null
        : this.measuredSpeed('modelId' in t ? { kind: 'model', ref: String(t.modelId) } : { kind: 'endpoint', ref: `${t.baseUrl}#${t.model}` });
    return {
      prompts,
      answers,
      maxTokens,
      tokensPerSecond: speed?.tokensPerSecond ?? null,
      measuredBy: speed?.by ?? null,
      maxSeconds: speed ? maxTokens / speed.tokensPerSecond : null,
    };
  }

  include(runId: number, position: number, sample: number): { label: string; outName: string; addedToWorkingCopy: boolean } {
    const config = this.runConfig(runId);
    const label = `Re-included answer ${position}${sample ? `.${sample}` : ''} of run ${runId}`;
    const state = this.store.answerState(runId, position, sample);
    if (!state) throw new AppError('not_found', `run ${runId} has no answer for example ${position}${sample ? ` (sample ${sample})` : ''}`);
    if (state.included) throw new AppError('conflict', `that answer is already in ${config.outName}`);
    const outId = this.datasets.readyId(config.outName);
    const written = outId !== null;
    this.db.transaction(() => {
      let outPosition: number | null = null;
      if (outId !== null) {
        const tools = this.datasets.toolsAt(config.versionId, position);
        const example = { messages: state.messages, reference: referenceOf(state.messages), ...(tools ? { tools } : {}) };
        outPosition = this.datasets.addToWorkingCopy(outId, [example], label)[0]!;
      }
      this.store.include(runId, position, sample, outPosition);
    })();
    return { label, outName: config.outName, addedToWorkingCopy: written };
  }

  exclude(runId: number, position: number, sample: number): { label: string; outName: string; removedFromWorkingCopy: boolean } {
    const config = this.runConfig(runId);
    const label = `Excluded answer ${position}${sample ? `.${sample}` : ''} of run ${runId}`;
    const state = this.store.answerState(runId, position, sample);
    if (!state) throw new AppError('not_found', `run ${runId} has no answer for example ${position}${sample ? ` (sample ${sample})` : ''}`);
    if (!state.included) throw new AppError('conflict', `that answer is not in ${config.outName}`);
    const outId = this.datasets.readyId(config.outName);
    const written = outId !== null;
    if (written && state.outPosition === null) {
      throw new AppError('conflict', `${config.outName} was written before answers were tracked there: delete the example in its working copy instead`);
    }
    this.db.transaction(() => {
      if (outId !== null) this.datasets.deleteFromWorkingCopy(outId, [state.outPosition!], label);
      this.store.exclude(runId, position, sample);
    })();
    return { label, outName: config.outName, removedFromWorkingCopy: written };
  }

  private runConfig(runId: number) {
    return this.runner.config(runId, 'distill.generate');
  }

  /**
   * A teacher's latest measured generation speed: its last distillation run (tokens/s over the whole run, parallel
   * sequences included), else for a local model its last benchmark (mean generate tokens/s).
   */
  private measuredSpeed(teacher: { kind: 'model' | 'endpoint'; ref: string }): { tokensPerSecond: number; by: string } | null {
    const runs = this.runner.store;
    const distilled = runs.lastFigure('distill.generate', 'tokens_per_second', teacher);
    if (distilled) return { tokensPerSecond: distilled.value, by: `distillation run ${distilled.runId}` };
    if (teacher.kind !== 'model') return null;
    const bench = runs.lastFigure('models.benchmark', 'generate_tps_mean', teacher, true);
    return bench ? { tokensPerSecond: bench.value, by: `benchmark run ${bench.runId}` } : null;
  }

  logprobs(runId: number, position: number, sample: number) {
    return this.store.logprobs(runId, position, sample);
  }

  counts(runIds: number[]) {
    return this.store.runCounts(runIds);
  }

  answers(runId: number, offset: number, limit: number, only?: 'included' | 'rejected'): DistillAnswersPage {
    return this.store.page(runId, offset, limit, only);
  }
}
