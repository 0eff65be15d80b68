import fs from 'node:fs';
import path from 'node:path';
import type { JobKind } from '../../jobs/types.js';
import type { ModelsService } from '../../models/service.js';
import type { LlmEngine } from '../../llm/engine.js';
import type { DatasetsService } from '../../datasets/service.js';
import type { JobContext } from '../../jobs/types.js';
import { computeImatrix } from '../imatrix-run.js';
import { readGgufHeader } from '../../gguf/header.js';
import { weightFigures } from '../../gguf/inspect.js';
import { checkOutputPath } from '../../files/output-path.js';
import { QuantizeSession } from '../quantize-file.js';
import { quantizedName } from '../service.js';
import { AppError, isAppError } from '../../../../src-shared/errors.js';
import { humanBytes } from '../../../../src-shared/format.js';
import { prepareGate } from './gate-step.js';

export interface LadderDeps {
  models: ModelsService;
  engine: LlmEngine;
  threads: () => number | null;
  /** The data folder: a quantized file may never be written over its files. */
  dataDir: string;
  /** For `imatrixFrom` and the gate: the dataset splits the importance matrix and the gate read. */
  datasets: DatasetsService;
}

/**
 * The ladder's own importance matrix (`imatrixFrom`), computed first as item `imatrix` and kept under the data folder;
 * a resumed run reuses the one it committed. Returns the file the types are quantized with (null: none).
 */
async function ladderImatrix(d: LadderDeps, ctx: JobContext<'quantize.ladder'>): Promise<string | null> {
  const c = ctx.config;
  if (!c.imatrixFrom) return c.imatrix?.file ?? null;
  const from = c.imatrixFrom;
  if (ctx.doneItems().has('imatrix')) return from.file;
  ctx.progress(0, null, 'importance matrix: reading the text');
  const made = await computeImatrix(d, ctx, { model: c.model, ...from }, from.file, {
    replace: c.replace,
    onChunk: (done, total) => ctx.progress(0, null, `importance matrix: chunk ${done} of ${total}`),
  });
  ctx.commitItem('imatrix', undefined, { imatrix: made.file, entries: made.entries, chunks: made.chunks });
  ctx.lineage('output', 'file', made.file, path.basename(made.file));
  ctx.log('info', `Importance matrix: ${path.basename(made.file)}, ${made.entries} weights, ${made.chunks} chunks of ${from.contextSize} tokens.`);
  return made.file;
}

/** Bits per weight of a GGUF: its tensors' bytes × 8 over their element count. */
export function bitsPerWeight(file: string): number {
  return weightFigures(file).bitsPerWeight;
}

/**
 * Runs one quantization; when llama.cpp fails and the output's disk has less room than the source takes (its partial
 * file not counted), says that: llama.cpp itself only reports a C++ stream error.
 */
async function quantizeOrExplain(outDir: string, partial: string, sourceBytes: number, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (isAppError(e) && e.code === 'engine_error') {
      const st = fs.statfsSync(outDir);
      // what is free once the partial file is gone (the runner removes it)
      const free = st.bavail * st.bsize + (fs.statSync(partial, { throwIfNoEntry: false })?.size ?? 0);
      if (free < sourceBytes) {
        throw new AppError(
          'file_access',
          `${outDir}: the disk is full (${humanBytes(free)} free); quantized files of this model take up to ${humanBytes(sourceBytes)}`,
          'outDir',
        );
      }
    }
    throw e;
  }
}

/**
 * "quantize.ladder": one item per type, in the ladder's order. Each type is written by the run's quantize child (one
 * process for the run, ended when idle) under a temporary name (recorded, so a failure, cancel or crash leaves nothing), renamed when whole, added to the library
 * and committed with its size, bits per weight and time. A resumed run skips the types it committed.
 */
export function ladderJob(d: LadderDeps): JobKind<'quantize.ladder'> {
  return {
    kind: 'quantize.ladder',
    title: (c) => `Quantize ${c.model.name} → ${c.types.map((t) => t.name).join(', ')}${c.imatrix || c.imatrixFrom ? ' (imatrix)' : ''}`,
    async run(ctx) {
      const c = ctx.config;
      const done = ctx.doneItems();
      const libraries = await d.engine.nativeLibraries();
      const threads = d.engine.resolveThreads(d.threads());
      const imatrixFile = await ladderImatrix(d, ctx);
      const sourceBytes = fs.statSync(c.model.path).size;
      ctx.metric('source_bytes', sourceBytes);
      // progress counts tensors over the whole ladder
      const tensors = readGgufHeader(c.model.path).tensors.length;
      const total = tensors * c.types.length;
      // before any type is quantized: a gate text too short fails the run here
      const gate = await prepareGate(d, ctx, threads);
      const session = new QuantizeSession();
      for (const [i, type] of c.types.entries()) {
        const file = path.join(c.outDir, quantizedName(c.model.path, type.name));
        if (done.has(type.name)) {
          await gate?.step(type.name, file, (m) => ctx.progress((i + 1) * tensors, total, m));
          continue;
        }
        ctx.throwIfCancelled();
        // checked again now: a file may have appeared since the run was started
        checkOutputPath(file, { dataDir: d.dataDir, replace: c.replace, field: 'outDir' });
        const tmp = ctx.tempFile(`${file}.partial-${ctx.runId}`);
        const started = performance.now();
        ctx.progress(i * tensors, total, `${type.name}: starting`);
        await quantizeOrExplain(c.outDir, tmp, sourceBytes, () =>
          session.run(
            {
              libraries,
              input: c.model.path,
              output: tmp,
              ftype: type.ftype,
              threads,
              outputTensorType: c.outputTensorType,
              tokenEmbeddingType: c.tokenEmbeddingType,
              pure: c.pure,
              allowRequantize: c.allowRequantize,
              imatrixFile,
            },
            {
              signal: ctx.signal,
              onTensor: (n, of, name) => ctx.progress(i * tensors + Math.min(n, tensors), total, `${type.name}: tensor ${n} of ${of} (${name})`),
            },
          ),
        );
        const seconds = (performance.now() - started) / 1000;
        fs.renameSync(tmp, file);
        ctx.releaseTemp(tmp);
        const bytes = fs.statSync(file).size;
        const bpw = bitsPerWeight(file);
        const how = `${type.name}${imatrixFile ? ` with the importance matrix ${path.basename(imatrixFile)}` : ''}${c.pure ? ', pure' : ''}`;
        const modelId = d.models.findByFile(file) ?? (await d.models.add(file, ['student'], `Quantized from ${c.model.name} (${how}) by run ${ctx.runId}.`)).id;
        ctx.commitItem(
          type.name,
          () => {
            ctx.metric(`bytes:${type.name}`, bytes);
            ctx.metric(`bpw:${type.name}`, bpw);
            ctx.metric(`seconds:${type.name}`, seconds);
          },
          { type: type.name, file, bytes, bpw, seconds, modelId },
        );
        ctx.lineage('output', 'model', String(modelId), path.basename(file));
        ctx.log('info', `${type.name}: ${path.basename(file)}, ${(bytes / 1e6).toFixed(1)} MB, ${bpw.toFixed(2)} bits/weight, ${seconds.toFixed(1)} s.`);
        if (i === c.types.length - 1) session.close();
        await gate?.step(type.name, file, (m) => ctx.progress((i + 1) * tensors, total, m));
      }
      session.close();
      ctx.progress(total, total, 'done');
    },
  };
}
