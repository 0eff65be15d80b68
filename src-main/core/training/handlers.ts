// The training room's operations (src-shared/contract/training.ts) mapped onto its service.
import type { trainingOps } from '../../../src-shared/contract/index.js';
import type { Handlers } from '../dispatch.js';
import type { TrainingService } from './service.js';

export function trainingHandlers(deps: { training: TrainingService }): Handlers<typeof trainingOps> {
  const { training } = deps;
  return {
    'training.export': (input) => training.start(input),
    'training.plan': ({ dataset, version }) => training.plan(dataset, version),
    'training.manifest': ({ runId }) => training.manifest(runId),
  };
}
