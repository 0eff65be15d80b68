import os from 'node:os';
import type { Db } from '../store/db.js';
import type { JobRunner } from '../jobs/runner.js';
import type { DatasetsService } from '../datasets/service.js';
import type { ModelsService } from '../models/service.js';
import type { DistillStore } from './store.js';
import { checkFilters, checkTemplate } from './prompt.js';
import type { DistillConfig } from './job.js';
import type { OpParsed } from '../../../src-shared/contract/index.js';
import type { DistillAnswersPage, DistillEstimate } from '../../../src-shared/domain/distill.js';
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
  ) {}

  start(input: OpParsed<'distill.start'>): { runId: number } {
    checkTemplate(input.template);
    checkFilters(input.filters);
    const { version } = this.datasets.resolve(input.dataset, input.version, { committedOnly: true });
    const size = input.split === 'all' ? version.exampleCount : this.datasets.store.splitCounts(version.id)[input.split];
    if (size === 0) throw new AppError('conflict', `${input.dataset}@${version.number} has no ${input.split === 'all' ? '' : `${input.split} `}examples`, 'split');
    if (this.datasets.store.byName(input.outName)) throw new AppError('conflict', `a dataset named ${input.outName} already exists; choose another output name`, 'outName');
    const t = input.teacher;
    const teacher: DistillConfig['teacher'] =
      'modelId' in t
        ? { kind: 'local', modelId: t.modelId, ...this.models.resolveForEngine(t.modelId) }
        : { kind: 'http', baseUrl: t.baseUrl, model: t.model, name: `${t.model} at ${new URL(t.baseUrl).host}`, apiKeyEnv: t.apiKeyEnv, timeoutMs: t.timeoutMs, maxRetries: t.maxRetries };
    if (teacher.kind === 'http' && teacher.apiKeyEnv && !process.env[teacher.apiKeyEnv]) {
      throw new AppError('invalid_input', `the environment variable ${teacher.apiKeyEnv} (the API key) is not set in the app's environment`, 'teacher.apiKeyEnv');
    }
    const parallel = input.parallel ?? ('modelId' in t ? defaultParallel(this.gpu()) : 8);
    const run = this.runner.submit(
      'distill',
      {
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
        ...(input.limit ? { limit: input.limit } : {}),
        ...(input.jsonSchema ? { jsonSchema: input.jsonSchema } : {}),
        ...(input.logprobs ? { logprobs: input.logprobs } : {}),
      },
    );
    return { runId: run.id };
  }

  /** Answers and tokens a run would make, and the time at the teacher's last measured speed (a benchmark or a run). */
  estimate(input: Omit<OpParsed<'distill.estimate'>, 'outName'>): DistillEstimate {
    const { version } = this.datasets.resolve(input.dataset, input.version, { committedOnly: true });
    const size = input.split === 'all' ? version.exampleCount : this.datasets.store.splitCounts(version.id)[input.split];
    const prompts = Math.min(size, input.limit ?? Infinity);
    const answers = prompts * input.generation.samples;
    const maxTokens = answers * input.generation.maxTokens;
    const speed = this.store.measuredSpeed('modelId' in input.teacher ? { modelId: input.teacher.modelId } : { endpoint: `${input.teacher.baseUrl}#${input.teacher.model}` });
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
    const out = this.datasets.store.byName(config.outName);
    const written = out !== null && out.state === 'ready';
    const example = this.store.include(runId, position, sample);
    if (!example) throw new AppError('not_found', `run ${runId} has no answer for example ${position}${sample ? ` (sample ${sample})` : ''}`);
    if (example.wasIncluded) throw new AppError('conflict', `that answer is already in ${config.outName}`);
    if (written) {
      const last = example.messages.at(-1)!;
      this.datasets.drafts.addExamples(out.id, [{ messages: example.messages, reference: last.content }], label);
    }
    return { label, outName: config.outName, addedToWorkingCopy: written };
  }

  private runConfig(runId: number): { outName: string } {
    const raw = this.db.prepare(`SELECT config FROM runs WHERE id = ? AND kind = 'distill'`).pluck().get(runId) as string | undefined;
    if (!raw) throw new AppError('not_found', `run ${runId} is not a distillation`);
    return JSON.parse(raw) as { outName: string };
  }

  logprobs(runId: number, position: number, sample: number) {
    return this.store.logprobs(runId, position, sample);
  }

  answers(runId: number, offset: number, limit: number, only?: 'included' | 'rejected'): DistillAnswersPage {
    return this.store.page(runId, offset, limit, only);
  }
}
