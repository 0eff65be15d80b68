// The distill room's operations (src-shared/contract/distill.ts): runs, their answers, and keeping or dropping them.
import type { distillOps } from '../../../src-shared/contract/index.js';
import type { Handlers } from '../dispatch.js';
import type { DistillService } from './service.js';

export function distillHandlers(deps: { distill: DistillService }): Handlers<typeof distillOps> {
  const { distill } = deps;
  return {
    'distill.start': (input) => distill.start(input),
    'distill.estimate': (input) => distill.estimate(input),
    'distill.include': ({ runId, position, sample }) => distill.include(runId, position, sample),
    'distill.exclude': ({ runId, position, sample }) => distill.exclude(runId, position, sample),
    'distill.answers': ({ runId, offset, limit, only }) => distill.answers(runId, offset, limit, only),
    'distill.counts': ({ runIds }) => distill.counts(runIds),
    'distill.logprobs': ({ runId, position, sample }) => distill.logprobs(runId, position, sample),
  };
}
