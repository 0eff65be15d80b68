// The runs room's operations (src-shared/contract/runs.ts): reading runs from their store, cancel and resume through
// the job runner.
import type { runsOps } from '../../../src-shared/contract/index.js';
import type { Handlers } from '../dispatch.js';
import type { JobRunner } from '../jobs/runner.js';
import type { RunsStore } from './store.js';
import { runChain, type VersionSource } from './chain.js';

export function runsHandlers(deps: { runs: RunsStore; runner: JobRunner; datasets: VersionSource }): Handlers<typeof runsOps> {
  const { runs, runner, datasets } = deps;
  return {
    'runs.list': (filter) => runs.list(filter),
    'runs.get': ({ id }) => runs.detail(id),
    'runs.chain': ({ id }) => runChain(id, { runs, datasets }),
    'runs.cancel': ({ id }) => runner.requestCancel(id),
    'runs.resume': ({ id }) => runner.resume(id),
  };
}
