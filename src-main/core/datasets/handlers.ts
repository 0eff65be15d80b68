// The datasets room's operations (src-shared/contract/datasets.ts): import, versions, curation, splits, export.
import type { datasetsOps } from '../../../src-shared/contract/index.js';
import type { ToolDefinition } from '../../../src-shared/domain/datasets.js';
import type { Handlers } from '../dispatch.js';
import type { ModelsService } from '../models/service.js';
import type { DatasetsService } from './service.js';

export function datasetsHandlers(deps: { datasets: DatasetsService; models: ModelsService }): Handlers<typeof datasetsOps> {
  const { datasets, models } = deps;
  return {
    'datasets.list': () => datasets.list(),
    'datasets.get': ({ name, version, previewLimit }) => datasets.get(name, version, previewLimit),
    'datasets.import': ({ path, name, format, container, mapping, append }) => datasets.startImport(path, name, { format, container, mapping }, append),
    'datasets.rejects': ({ runId, limit }) => datasets.rejects(runId, limit),
    'datasets.rejectedLines': ({ runId }) => datasets.rejectedLines(runId),
    'datasets.previewImport': ({ path, format, container, mapping, limit }) => datasets.previewImport(path, { format, container, mapping }, limit),
    'datasets.examples': ({ name, version, offset, limit, filter }) => datasets.examples(name, version, offset, limit, filter),
    'datasets.curate': ({ name, selection, action }) => datasets.curate(name, selection, action),
    'datasets.edit': ({ name, position, messages, tools }) => datasets.edit(name, position, messages, tools as ToolDefinition[] | undefined),
    'datasets.undo': ({ name }) => datasets.undo(name),
    'datasets.commit': ({ name, message }) => datasets.commit(name, message),
    'datasets.discard': ({ name }) => ({ discarded: datasets.discard(name) }),
    'datasets.split': ({ name, ratios, counts, seed, stratify, freezeTest }) => datasets.split(name, { ratios, counts, seed, stratify, freezeTest }),
    'datasets.freezeTest': ({ name, frozen }) => {
      datasets.setTestFrozen(name, frozen);
      return { testFrozen: frozen };
    },
    'datasets.diff': ({ name, from, to, offset, limit, only }) => datasets.diff(name, from, to, offset, limit, only),
    'datasets.clusters': ({ name, version, offset, limit }) => datasets.clusters(name, version, offset, limit),
    'datasets.dedupe': ({ name, near, apply, commitMessage }) => datasets.startDedupe(name, near, apply, commitMessage),
    'datasets.resolveDuplicates': ({ name, keep }) => datasets.resolveDuplicates(name, keep),
    'datasets.scan': ({ name, quality, pii }) => datasets.startScan(name, quality, pii),
    'datasets.countTokens': ({ name, modelId }) => {
      const m = models.get(modelId);
      return datasets.startTokenCount(name, { id: m.id, path: m.path, name: m.name });
    },
    'datasets.export': ({ name, version, format, container, split, out, replace }) =>
      datasets.startExport(name, version, format, out, container, split, replace),
  };
}
