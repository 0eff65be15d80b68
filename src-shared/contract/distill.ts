import { z } from 'zod';
import { op } from './define.js';
import { DistillFilters, DistillGeneration, DistillTemplate, type DistillAnswersPage } from '../domain/distill.js';

const DatasetName = z.string().trim().min(1).max(200).regex(/^[^@/\\]+$/, 'a name cannot contain @, / or \\');

export const distillOps = {
  /**
   * Starts a distillation run: a teacher answers every prompt of a dataset version (and split); the answers become a
   * new dataset (the student's training set), linked to the run and the source version.
   */
  'distill.start': op<{ runId: number }>()(
    z.strictObject({
      dataset: DatasetName,
      /** A committed version (default: the latest). */
      version: z.number().int().positive().optional(),
      split: z.enum(['train', 'validation', 'test', 'all']).default('all'),
      teacher: z.strictObject({ modelId: z.number().int().positive() }),
      template: DistillTemplate.default(DistillTemplate.parse({})),
      generation: DistillGeneration.default(DistillGeneration.parse({})),
      filters: DistillFilters.default(DistillFilters.parse({})),
      /** Prompts answered at once (sequences of one context); default from the hardware. */
      parallel: z.number().int().min(1).max(64).optional(),
      outName: DatasetName,
      /** Stop after this many prompts (a trial run). */
      limit: z.number().int().positive().optional(),
    }),
  ),
  /** A page of a run's answers, in source order, with counts. */
  'distill.answers': op<DistillAnswersPage>()(
    z.strictObject({
      runId: z.number().int().positive(),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(500).default(50),
      only: z.enum(['included', 'rejected']).optional(),
    }),
  ),
};
