// The adapters room's operations (src-shared/contract/adapters.ts): the library of LoRA adapters (AdaptersService) and
// the runs made with them (AdapterRuns: perplexity, sweeps, comparisons, merges).
import type { adaptersOps } from '../../../src-shared/contract/index.js';
import type { Handlers } from '../dispatch.js';
import type { AdapterRuns } from './runs.js';
import type { AdaptersService } from './service.js';

export function adaptersHandlers(deps: { adapters: AdaptersService; adapterRuns: AdapterRuns }): Handlers<typeof adaptersOps> {
  const { adapters, adapterRuns } = deps;
  return {
    'adapters.list': () => adapters.list(),
    'adapters.get': ({ id }) => adapters.get(id),
    'adapters.import': (input) => adapters.import(input),
    'adapters.check': ({ id, modelId }) => adapters.check(id, modelId),
    'adapters.compatibility': ({ modelId }) => adapters.compatibility(modelId),
    'adapters.remove': ({ id }) => adapters.remove(id),
    'adapters.perplexity': (input) => adapterRuns.perplexity(input),
    'adapters.sweep': (input) => adapterRuns.sweep(input),
    'adapters.sweepPoints': ({ runId }) => adapterRuns.sweepPoints(runId),
    'adapters.compare': (input) => adapterRuns.compare(input),
    'adapters.compareResults': ({ runId }) => adapterRuns.compareResults(runId),
    'adapters.vote': ({ runId, prompt, winner }) => adapterRuns.vote(runId, prompt, winner),
    'adapters.merge': (input) => adapterRuns.merge(input),
    'adapters.watch': (input) => adapterRuns.watch(input),
  };
}
