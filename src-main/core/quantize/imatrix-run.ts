// An importance matrix computed in a run (the `quantize.imatrix` job, and a ladder's `imatrixFrom` item): the source
// read (a chat-rendered dataset split or a text), llama-imatrix's statistics gathered in the engine host
// (native/imatrix-op.ts), the GGUF written under a temporary name and renamed when whole.
import fs from 'node:fs';
import path from 'node:path';
import type { JobContext } from '../jobs/types.js';
import type { LlmEngine } from '../llm/engine.js';
import type { DatasetsService } from '../datasets/service.js';
import { checkOutputPath } from '../files/output-path.js';
import { readSource, sourceLabel } from '../scoring/source-text.js';
import { writeImatrixGguf, type ImatrixEntry } from './imatrix-file.js';
import type { SourceConfig } from '../../../src-shared/contract/adapters.js';
import { AppError, isAppError } from '../../../src-shared/errors.js';

export interface ImatrixRunDeps {
  engine: LlmEngine;
  datasets: DatasetsService;
  threads: () => number | null;
  dataDir: string;
}

export interface ImatrixSpec {
  model: { path: string; name: string };
  source: SourceConfig;
  render: 'chat' | 'plain';
  contextSize: number;
  maxChunks?: number | undefined;
}

export interface ImatrixMade {
  file: string;
  entries: number;
  chunks: number;
  tokens: number;
  tokensPerSecond: number;
  datasets: string[];
}

/** What `imatrix.datasets` says the matrix was computed on: the text file's path (as llama-imatrix writes `-f`), or `dataset@v:split`. */
export function imatrixDatasetName(s: SourceConfig): string {
  return s.kind === 'file' ? s.path : `${s.label}:${s.split}`;
}

/** `imatrix/<model>-<source>.gguf` in the data folder, for a source as sourceLabel names it. */
export function defaultImatrixFile(dataDir: string, modelPath: string, s: SourceConfig): string {
  const model = path.basename(modelPath).replace(/\.gguf$/i, '');
  const source = s.kind === 'file' ? path.basename(s.path).replace(/\.[^.]+$/, '') : `${s.label}-${s.split}`;
  return path.join(dataDir, 'imatrix', `${model}-${source}`.replace(/[^\w.@-]+/g, '_') + '.gguf');
}

/**
 * Computes the matrix and writes it to `out` (checked again: a file may have appeared since the run was queued). A text
 * that gives no chunk fails with the reason; a cancel or a crash leaves no file (the temporary one is the run's).
 */
export async function computeImatrix(
  d: ImatrixRunDeps,
  ctx: JobContext,
  spec: ImatrixSpec,
  out: string,
  opts: { replace: boolean; onChunk?: (done: number, total: number) => void },
): Promise<ImatrixMade> {
  const input = await readSource(d.datasets, spec.source, spec.render, () => d.engine.loadTokenizer(spec.model.path, ctx.signal), ctx);
  if ('tokens' in input && input.tokens.length === 0) throw new AppError('invalid_input', `${sourceLabel(spec.source)} has no examples`, 'source');
  await d.engine.checkModelFile(spec.model.path, ctx.signal);
  const threads = await d.engine.resolveNativeThreads(d.threads());
  let r;
  try {
    r = await d.engine.native().request(
      'imatrix',
      {
        model: { path: spec.model.path },
        ...input,
        contextSize: spec.contextSize,
        threads,
        ...(spec.maxChunks ? { maxChunks: spec.maxChunks } : {}),
      },
      { signal: ctx.signal, onProgress: (p) => opts.onChunk?.(p.done, p.total) },
    );
  } catch (e) {
    if (isAppError(e) && e.code === 'invalid_input' && e.field === 'text') {
      throw new AppError('invalid_input', `${spec.model.name} on ${sourceLabel(spec.source)}: ${e.message}`, 'source');
    }
    throw e;
  }
  if (r.entries.length === 0) {
    throw new AppError('engine_error', `no weight of ${spec.model.name} was reached on this text (no chunk of ${spec.contextSize} tokens had 16 rows or more)`);
  }
  const entries = new Map<string, ImatrixEntry>(r.entries.map((e) => [e.name, { sums: e.sums, counts: e.counts }]));
  const datasets = [imatrixDatasetName(spec.source)];
  checkOutputPath(out, { dataDir: d.dataDir, replace: opts.replace, field: 'out' });
  const tmp = ctx.tempFile(`${out}.partial-${ctx.runId}`);
  writeImatrixGguf(tmp, { entries, datasets, chunkCount: r.chunks, chunkSize: r.chunkSize, legacy: false });
  fs.renameSync(tmp, out);
  ctx.releaseTemp(tmp);
  return { file: out, entries: entries.size, chunks: r.chunks, tokens: r.processedTokens, tokensPerSecond: r.tokensPerSecond, datasets };
}
