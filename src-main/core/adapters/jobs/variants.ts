// What the adapters room's runs share: their dependencies, a variant's label and lineage.
import type { JobContext } from '../../jobs/types.js';
import type { LlmEngine } from '../../llm/engine.js';
import type { ModelsService } from '../../models/service.js';
import type { DatasetsService } from '../../datasets/service.js';
import { MIN_MEANINGFUL_CHUNKS } from '../../../../src-shared/domain/adapters.js';
import type { VariantConfig } from '../../../../src-shared/contract/adapters.js';

/** "base", "base + A", "base + A×0.5 + B": what a variant is called unless the user names it. */
export function variantLabel(v: Pick<VariantConfig, 'modelName' | 'adapters'>): string {
  return [v.modelName, ...v.adapters.map((a) => (a.scale === 1 ? a.name : `${a.name}×${a.scale}`))].join(' + ');
}

export function recordVariantLineage(ctx: JobContext, v: VariantConfig): void {
  ctx.lineage('input', 'model', String(v.modelId), v.modelName);
  for (const a of v.adapters) ctx.lineage('input', 'adapter', String(a.id), `${a.name} ×${a.scale}`);
}

// The text a source stands for lives with the quantize room's in scoring/source-text.ts.
export { sourceText } from '../../scoring/source-text.js';

export function warnFewChunks(ctx: JobContext, chunks: number, contextSize: number): void {
  if (chunks >= MIN_MEANINGFUL_CHUNKS) return;
  ctx.log(
    'warn',
    `Only ${chunks} chunk(s) of ${contextSize} tokens were scored: too little text for a meaningful perplexity (aim for ${MIN_MEANINGFUL_CHUNKS} or more: a longer text or a smaller context).`,
  );
}

export interface AdapterJobDeps {
  engine: LlmEngine;
  datasets: DatasetsService;
  models: ModelsService;
  threads: () => number | null;
  /** The data folder: a merge may never write over its files. */
  dataDir: string;
}
