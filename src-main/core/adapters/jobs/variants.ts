// What the adapters room's runs share: their dependencies, a variant's label and lineage, the text a source stands for.
import fs from 'node:fs';
import type { JobContext } from '../../jobs/types.js';
import type { LlmEngine } from '../../llm/engine.js';
import type { ModelsService } from '../../models/service.js';
import type { DatasetsService } from '../../datasets/service.js';
import { fileError } from '../../files/errors.js';
import { MIN_MEANINGFUL_CHUNKS } from '../../../../src-shared/domain/adapters.js';
import type { SourceConfig, VariantConfig } from '../../../../src-shared/contract/adapters.js';

/** "base", "base + A", "base + A×0.5 + B": what a variant is called unless the user names it. */
export function variantLabel(v: Pick<VariantConfig, 'modelName' | 'adapters'>): string {
  return [v.modelName, ...v.adapters.map((a) => (a.scale === 1 ? a.name : `${a.name}×${a.scale}`))].join(' + ');
}

export function recordVariantLineage(ctx: JobContext, v: VariantConfig): void {
  ctx.lineage('input', 'model', String(v.modelId), v.modelName);
  for (const a of v.adapters) ctx.lineage('input', 'adapter', String(a.id), `${a.name} ×${a.scale}`);
}

/** The text a source stands for: the file, or the examples of a dataset split, their messages joined in order. */
export function sourceText(datasets: DatasetsService, s: SourceConfig, ctx: JobContext): string {
  if (s.kind === 'file') {
    ctx.lineage('input', 'file', s.path, s.path);
    try {
      const text = fs.readFileSync(s.path, 'utf8');
      // as llama-perplexity -f reads it (one trailing newline dropped), so the two figures agree on the same file
      return text.endsWith('\n') ? text.slice(0, -1) : text;
    } catch (e) {
      throw fileError(e, s.path);
    }
  }
  ctx.lineage('input', 'dataset', s.dataset, s.label);
  const parts: string[] = [];
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = datasets.examplesAfter(s.versionId, after, 1000, s.split);
    if (rows.length === 0) break;
    after = rows.at(-1)!.position;
    for (const r of rows) parts.push(r.messages.map((m) => m.content).join('\n'));
  }
  return parts.join('\n\n');
}

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
