import { z } from 'zod';
import { op, event } from './define.js';
import { RUN_STATUSES, type RunDetail, type RunLog, type RunSummary } from '../domain/runs.js';
import type { RunChain } from '../domain/chain.js';
import { JOB_KINDS } from './jobs.js';

const RunId = z.number().int().positive();

export const runsOps = {
  'runs.list': op<RunSummary[]>()(
    z.strictObject({
      status: z.enum(RUN_STATUSES).optional(),
      kind: z.enum(JOB_KINDS).optional(),
      limit: z.number().int().min(1).max(1000).default(200),
    }),
  ),
  'runs.get': op<RunDetail>()(z.strictObject({ id: RunId })),
  /**
   * The chain through a run: the dataset versions, models, runs, curation steps, adapters and folders that led to it
   * and those made from it (prompts → teacher → answers → curation → export → adapter → quantized → evaluation).
   */
  'runs.chain': op<RunChain>()(z.strictObject({ id: RunId })),
  'runs.cancel': op<RunSummary>()(z.strictObject({ id: RunId })),
  /** Queue an interrupted, failed or cancelled run again; it skips the items it already committed. */
  'runs.resume': op<RunSummary>()(z.strictObject({ id: RunId })),
};

export const runsEvents = {
  /** Status or progress of a run changed. */
  'runs.changed': event<RunSummary>(),
  'runs.log': event<{ runId: number; log: RunLog }>(),
};
