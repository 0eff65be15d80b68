// The quantize room: starting a ladder run (every check made before it is queued) and reading what it made.
import fs from 'node:fs';
import path from 'node:path';
import type { JobRunner } from '../jobs/runner.js';
import type { ModelsService } from '../models/service.js';
import type { DatasetsService } from '../datasets/service.js';
import { resolveSource } from '../scoring/source-text.js';
import { defaultImatrixFile } from './imatrix-run.js';
import { readGgufHeader } from '../gguf/header.js';
import { GGML_TYPES } from '../gguf/ggml-types.js';
import { checkOutputPath } from '../files/output-path.js';
import { fileError } from '../files/errors.js';
import { checkImatrixFits, readImatrix } from './imatrix-file.js';
import { resolveGate } from './gate-source.js';
import type { Db } from '../store/db.js';
import { gateOf, ladderResults } from './results.js';
import type { LadderResults, ModelGate, OpParsed, QuantizedFile } from '../../../src-shared/contract/index.js';
import { quantType, QUANT_TYPES } from '../../../src-shared/domain/quantize.js';
import { AppError } from '../../../src-shared/errors.js';
import type { LineageLink } from '../../../src-shared/domain/runs.js';

/** Source file types a ladder starts from without `allowRequantize`. */
const FLOAT_SOURCES = new Set(['F32', 'F16', 'BF16']);

/** `model-f16.gguf` + Q4_K_M → `model-Q4_K_M.gguf` (a float suffix of the source's name is replaced). */
export function quantizedName(source: string, type: string): string {
  const base = path.basename(source).replace(/\.gguf$/i, '');
  return `${base.replace(/[-_.](f32|f16|bf16|fp16|fp32)$/i, '')}-${type}.gguf`;
}

const ggmlTypeId = (name: string | undefined): number | null => {
  if (name === undefined) return null;
  const found = Object.entries(GGML_TYPES).find(([, t]) => t.name === name);
  if (!found) throw new AppError('invalid_input', `${name} is not a tensor type`, 'outputTensorType');
  return Number(found[0]);
};

export class QuantizeService {
  constructor(
    private readonly models: ModelsService,
    private readonly runner: JobRunner,
    private readonly dataDir: string,
    private readonly datasets: DatasetsService,
    private readonly db: Db,
  ) {}

  /** A library model that is a model (not an adapter), with its file. */
  private sourceModel(modelId: number, what: string) {
    const model = this.models.get(modelId);
    const source = this.models.resolveForEngine(modelId);
    if (model.summary.fileKind !== 'model') {
      throw new AppError('invalid_input', `${model.name} is a GGUF ${model.summary.fileKind}, not a model: only models ${what}`, 'modelId');
    }
    return { model, source };
  }

  /** Starts an importance-matrix run: the text resolved and the output checked before it is queued. */
  imatrix(input: OpParsed<'quantize.imatrix'>): { runId: number } {
    const { model, source } = this.sourceModel(input.modelId, 'have an importance matrix');
    const text = resolveSource(this.datasets, input.source);
    let out: string;
    if (input.out === undefined) {
      out = defaultImatrixFile(this.dataDir, source.path, text);
      fs.mkdirSync(path.dirname(out), { recursive: true });
    } else {
      out = path.resolve(input.out);
    }
    out = checkOutputPath(out, { dataDir: this.dataDir, replace: input.replace, field: 'out' });
    const config = {
      model: { id: model.id, path: source.path, name: model.name },
      source: text,
      // the model's own chat template for a dataset's conversations; a file is taken as it is
      render: text.kind === 'dataset' ? ('chat' as const) : ('plain' as const),
      contextSize: input.contextSize,
      ...(input.maxChunks ? { maxChunks: input.maxChunks } : {}),
      out,
      replace: input.replace,
    };
    return { runId: this.runner.submit('quantize.imatrix', config, [{ kind: 'model', ref: String(model.id), label: model.name }]).id };
  }

  /** Where a ladder's own importance matrix goes: `imatrix/<model>-<source>.gguf`, numbered when that name is taken. */
  private ladderImatrixFile(modelPath: string, text: ReturnType<typeof resolveSource>): string {
    const first = defaultImatrixFile(this.dataDir, modelPath, text);
    fs.mkdirSync(path.dirname(first), { recursive: true });
    let file = first;
    for (let n = 2; fs.existsSync(file); n++) file = first.replace(/\.gguf$/, `-${n}.gguf`);
    return file;
  }

  start(input: OpParsed<'quantize.start'>): { runId: number } {
    const { model, source } = this.sourceModel(input.modelId, 'are quantized');
    if (input.imatrix && input.imatrixFrom) {
      throw new AppError('invalid_input', 'give an importance matrix file or a text to compute one from, not both', 'imatrixFrom');
    }
    if (!FLOAT_SOURCES.has(model.summary.fileType) && !input.allowRequantize) {
      throw new AppError(
        'invalid_input',
        `${model.name} is already quantized (${model.summary.fileType}); quantizing it again loses more quality than quantizing its F16/F32 original. Start from the original, or allow requantizing`,
        'modelId',
      );
    }
    // the ladder's order, each type once
    const types = QUANT_TYPES.filter((t) => input.types.includes(t.name));
    const needing = types.filter((t) => t.needsImatrix);
    if (needing.length && !input.imatrix && !input.imatrixFrom) {
      throw new AppError(
        'invalid_input',
        `${needing.map((t) => t.name).join(', ')} need${needing.length === 1 ? 's' : ''} an importance matrix (llama.cpp refuses ${needing.length === 1 ? 'it' : 'them'} without one): give one, or leave ${needing.length === 1 ? 'it' : 'them'} out`,
        'types',
      );
    }
    let imatrix: { file: string; entries: number; chunks: number; datasets: string[] } | null = null;
    if (input.imatrix) {
      const file = path.resolve(input.imatrix);
      const m = readImatrix(file);
      checkImatrixFits(m, { file: source.path, tensors: readGgufHeader(source.path).tensors });
      imatrix = { file, entries: m.entries.size, chunks: m.chunkCount, datasets: m.datasets };
    }
    const outDir = path.resolve(input.outDir ?? path.join(this.dataDir, 'quantized', path.basename(source.path).replace(/\.gguf$/i, '')));
    if (input.outDir === undefined) fs.mkdirSync(outDir, { recursive: true });
    try {
      if (!fs.statSync(outDir).isDirectory()) throw new AppError('not_a_file', `${outDir} is not a folder`, 'outDir');
      // refused now, not after the first type's minutes of work (EACCES, or EROFS on a read-only file system)
      fs.accessSync(outDir, fs.constants.W_OK);
    } catch (e) {
      throw fileError(e, outDir, 'outDir');
    }
    for (const t of types)
      checkOutputPath(path.join(outDir, quantizedName(source.path, t.name)), { dataDir: this.dataDir, replace: input.replace, field: 'outDir' });
    let imatrixFrom = null;
    if (input.imatrixFrom) {
      const text = resolveSource(this.datasets, input.imatrixFrom.source);
      imatrixFrom = {
        source: text,
        render: text.kind === 'dataset' ? ('chat' as const) : ('plain' as const),
        contextSize: input.imatrixFrom.contextSize,
        ...(input.imatrixFrom.maxChunks ? { maxChunks: input.imatrixFrom.maxChunks } : {}),
        file: this.ladderImatrixFile(source.path, text),
      };
    }
    const gate = resolveGate(this.datasets, input);
    const config = {
      model: { id: model.id, path: source.path, name: model.name },
      types: types.map((t) => ({ name: t.name, ftype: quantType(t.name)!.ftype })),
      outDir,
      imatrix,
      imatrixFrom,
      gate,
      outputTensorType: ggmlTypeId(input.outputTensorType),
      tokenEmbeddingType: ggmlTypeId(input.tokenEmbeddingType),
      pure: input.pure,
      allowRequantize: input.allowRequantize,
      replace: input.replace,
    };
    const inputs: Omit<LineageLink, 'direction'>[] = [{ kind: 'model', ref: String(model.id), label: model.name }];
    if (imatrix) inputs.push({ kind: 'file', ref: imatrix.file, label: path.basename(imatrix.file) });
    return { runId: this.runner.submit('quantize.ladder', config, inputs).id };
  }

  /** The files a ladder run made, in the ladder's order (largest type first). */
  files(runId: number): QuantizedFile[] {
    const order = this.runner.config(runId, 'quantize.ladder').types.map((t) => t.name);
    return this.runner
      .itemResults(runId, 'quantize.ladder')
      .filter((x): x is QuantizedFile => 'type' in x)
      .sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  }

  /** The files with their gate figures and speeds, and the source's (quantize.results). */
  results(runId: number): LadderResults {
    return ladderResults(this.runner, runId);
  }

  /** A quantized model's gate, through the ladder run that made it (quantize.gateOf). */
  gateOf(modelId: number): ModelGate | null {
    this.models.get(modelId);
    return gateOf(this.db, this.runner, modelId);
  }
}
