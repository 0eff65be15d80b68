// The ladder's gate settings resolved when a run is started (quantize.start's `gate`): its text checked and pinned (a
// file that exists, or a committed dataset version's split), before anything is queued.
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetsService } from '../datasets/service.js';
import type { OpParsed } from '../../../src-shared/contract/index.js';
import type { SourceConfig } from '../../../src-shared/contract/adapters.js';
import type { TextSource } from '../../../src-shared/domain/adapters.js';
import { AppError } from '../../../src-shared/errors.js';

export interface GateConfig {
  source: SourceConfig;
  render: 'chat' | 'plain';
  contextSize: number;
  maxChunks?: number;
  speed: boolean;
}

/**
 * A TextSource as a run's config holds it. THE ONE PLACE the gate resolves its source: the shared source module
 * (adapters/runs.ts `source()` moved by the imatrix work) replaces it at merge.
 */
export function resolveTextSource(datasets: DatasetsService, s: TextSource, field: string): SourceConfig {
  if ('textFile' in s) {
    const file = path.resolve(s.textFile);
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new AppError('file_missing', `there is no text file at ${file}`, `${field}.textFile`);
    return { kind: 'file', path: file };
  }
  const { version } = datasets.resolve(s.dataset, s.version, { committedOnly: true });
  return { kind: 'dataset', dataset: s.dataset, versionId: version.id, label: `${s.dataset}@${version.number}`, split: s.split };
}

/**
 * `gate` absent: the test split of the dataset the importance matrix is computed from, else none (the run says so);
 * null: none; given without a source: the same default, refused when there is none.
 */
export function resolveGate(datasets: DatasetsService, input: OpParsed<'quantize.start'>): GateConfig | null {
  if (input.gate === null) return null;
  const fromImatrix = input.imatrixFrom && 'dataset' in input.imatrixFrom.source ? input.imatrixFrom.source : null;
  const source: TextSource | null = input.gate?.source ?? (fromImatrix ? { ...fromImatrix, split: 'test' } : null);
  if (!source) {
    if (input.gate === undefined) return null;
    throw new AppError(
      'invalid_input',
      'the quality gate needs a text: give its source (a text file or a dataset split), or compute the importance matrix from a dataset (its test split is then the default)',
      'gate.source',
    );
  }
  return {
    source: resolveTextSource(datasets, source, 'gate.source'),
    render: 'plain',
    contextSize: input.gate?.contextSize ?? 512,
    ...(input.gate?.maxChunks ? { maxChunks: input.gate.maxChunks } : {}),
    speed: input.gate?.speed ?? true,
  };
}
