import fs from 'node:fs';
import path from 'node:path';
import type { JobKind } from '../../jobs/types.js';
import type { ModelsService } from '../../models/service.js';
import type { LlmEngine } from '../../llm/engine.js';
import { readGgufHeader } from '../../gguf/header.js';
import { checkOutputPath } from '../../files/output-path.js';
import { QuantizeSession } from '../quantize-file.js';
import { quantizedName } from '../service.js';
import { AppError, isAppError } from '../../../../src-shared/errors.js';
import { humanBytes } from '../../../../src-shared/format.js';
import type { DatasetsService } from '../../datasets/service.js';
import { prepareGate } from './gate-step.js';

export interface LadderDeps {
  models: ModelsService;
  engine: LlmEngine;
  datasets: DatasetsService;
  threads: () => number | null;
  /** The data folder: a quantized file may never be written over its files. */
  dataDir: string;
}

/** Bits per weight of a GGUF: its tensors' bytes × 8 over their element count. */
export function bitsPerWeight(file: string): number {
  const h = readGgufHeader(file);
  let bytes = 0;
  let weights = 0;
  for (const t of h.tensors) {
    bytes += t.byteSize;
    weights += t.shape.reduce((a, b) => a * b, 1);
  }
  return weights ? (bytes * 8) / weights : 0;
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
    title: (c) => `Quantize ${c.model.name} → ${c.types.map((t) => t.name).join(', ')}${c.imatrix ? ' (imatrix)' : ''}`,
    async run(ctx) {
      const c = ctx.config;
      const done = ctx.doneItems();
      const libraries = await d.engine.nativeLibraries();
      const threads = d.engine.resolveThreads(d.threads());
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
              imatrixFile: c.imatrix?.file ?? null,
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
        const how = `${type.name}${c.imatrix ? ` with the importance matrix ${path.basename(c.imatrix.file)}` : ''}${c.pure ? ', pure' : ''}`;
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
