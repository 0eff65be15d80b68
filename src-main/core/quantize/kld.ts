// `distillery kld` in-process: a model (with adapters) scored against a base (with adapters) in lockstep on a text or
// a dataset split, every figure of `llama-perplexity --kl-divergence` (native/kld-report.ts). No run is recorded: it
// is a reading, like the gate of one type.
import type { LlmEngine } from '../llm/engine.js';
import type { ModelsService } from '../models/service.js';
import type { AdaptersService } from '../adapters/service.js';
import type { DatasetsService } from '../datasets/service.js';
import type { JobContext } from '../jobs/types.js';
import { perplexity } from '../adapters/perplexity.js';
import { sourceText } from '../adapters/jobs/variants.js';
import { kldReport } from '../native/kld-report.js';
import { resolveTextSource } from './gate-source.js';
import { gateSourceLabel } from './jobs/gate-step.js';
import type { AttachedAdapter, TextSource } from '../../../src-shared/domain/adapters.js';
import type { GateFigures } from '../../../src-shared/domain/quantize.js';

export interface KldDeps {
  models: ModelsService;
  adapters: AdaptersService;
  datasets: DatasetsService;
  engine: LlmEngine;
  threads: () => number | null;
}

export interface KldInput {
  base: { modelId: number; adapters: AttachedAdapter[] };
  model: { modelId: number; adapters: AttachedAdapter[] };
  source: TextSource;
  contextSize: number;
  maxChunks?: number;
}

export async function kldOf(
  d: KldDeps,
  input: KldInput,
  opts: { signal?: AbortSignal; onChunk?(done: number, total: number): void } = {},
): Promise<GateFigures> {
  const variant = (v: KldInput['base']) => ({
    file: d.models.resolveForEngine(v.modelId).path,
    adapters: d.adapters.resolveForEngine(v.modelId, v.adapters).map((a) => ({ filePath: a.filePath, scale: a.scale })),
  });
  const base = variant(input.base);
  const model = variant(input.model);
  const source = resolveTextSource(d.datasets, input.source, 'source');
  // no run: the source's lineage has nowhere to go
  const text = sourceText(d.datasets, source, { lineage: () => undefined } as unknown as JobContext);
  const r = await perplexity(d.engine.native(), model.file, text, {
    contextSize: input.contextSize,
    ...(input.maxChunks ? { maxChunks: input.maxChunks } : {}),
    adapters: model.adapters,
    threads: d.engine.resolveThreads(d.threads()),
    base: { modelFile: base.file, adapters: base.adapters },
    perPosition: true,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onChunk: (done, total) => opts.onChunk?.(done, total),
  });
  return kldReport(r, { sourceLabel: gateSourceLabel(source), contextSize: input.contextSize });
}
