// The ladder's gate settings resolved when a run is started (quantize.start's `gate`): its text checked and pinned (a
// file that exists, or a committed dataset version's split), before anything is queued.
import type { DatasetsService } from '../datasets/service.js';
import { resolveSource } from '../scoring/source-text.js';
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
    source: resolveSource(datasets, source, 'gate.source'),
    // a dataset's examples as the model sees them in use, like the importance matrix's
    render: source && 'dataset' in source ? 'chat' : 'plain',
    contextSize: input.gate?.contextSize ?? 512,
    ...(input.gate?.maxChunks ? { maxChunks: input.gate.maxChunks } : {}),
    speed: input.gate?.speed ?? true,
  };
}
