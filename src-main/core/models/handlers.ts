// The models room's operations (src-shared/contract/models.ts) mapped onto its service and jobs.
import type { modelsOps } from '../../../src-shared/contract/index.js';
import type { Handlers } from '../dispatch.js';
import type { JobRunner } from '../jobs/runner.js';
import { benchmarkHistory } from './benchmarks.js';
import type { ModelsService } from './service.js';

export function modelsHandlers(deps: { models: ModelsService; runner: JobRunner }): Handlers<typeof modelsOps> {
  const { models, runner } = deps;
  return {
    'models.list': () => models.list(),
    'models.get': ({ id }) => models.get(id),
    'models.inspect': ({ path }) => models.inspect(path),
    'models.add': ({ path, roles, note }) => models.add(path, roles, note),
    'models.update': ({ id, ...patch }) => models.update(id, patch),
    'models.remove': ({ id }) => models.remove(id),
    'models.scan': (config) => ({ runId: runner.submit('models.scan', config).id }),
    'models.benchmark': (config) => {
      const model = models.get(config.id);
      const title = `Benchmark ${model.name} (pp${config.promptTokens}, tg${config.generateTokens}, ${config.repetitions}×)`;
      return { runId: runner.submit('models.benchmark', config, [{ kind: 'model', ref: String(model.id), label: model.name }], title).id };
    },
    'models.benchmarks': ({ id }) => {
      models.get(id); // an unknown id is refused, not an empty history
      return benchmarkHistory(runner.store, id);
    },
  };
}
