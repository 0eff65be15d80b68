/**
 * The contamination check: n-gram overlap (metrics/contamination.ts) between the evaluation examples (prompt and
 * reference) and other dataset versions' examples, streamed a page at a time so a large training set is never held
 * whole. Returns the flagged examples.
 */
import type { DatasetsService } from '../datasets/service.js';
import { messageText, type ChatMessage } from '../../../src-shared/domain/datasets.js';
import { ContaminationIndex } from './metrics/index.js';
import type { EvalExample } from './sources.js';

export interface ContaminationSource {
  dataset: string;
  versionId: number;
  split: 'train' | 'validation' | 'test' | 'all';
}

const textOf = (messages: ChatMessage[]) => messages.map(messageText).join('\n');

export async function contaminationOf(
  datasets: DatasetsService,
  examples: EvalExample[],
  c: { against: ContaminationSource[]; n: number },
  signal?: AbortSignal,
): Promise<{ position: number; matched: number; total: number }[]> {
  const index = new ContaminationIndex(
    examples.map((e) => [textOf(e.prompt), e.reference ?? ''].join('\n')),
    { n: c.n },
  );
  for (const src of c.against) {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      signal?.throwIfAborted();
      const rows = datasets.examplesAfter(src.versionId, after, 500, src.split);
      if (rows.length === 0) break;
      after = rows.at(-1)!.position;
      for (const r of rows) index.add(textOf(r.messages));
      // let the app answer between pages
      await new Promise((r) => setImmediate(r));
    }
  }
  return index
    .rows()
    .map((r, i) => ({ position: examples[i]!.position, matched: r.found, total: r.ngrams, flagged: r.flagged }))
    .filter((r) => r.flagged)
    .map(({ position, matched, total }) => ({ position, matched, total }));
}
