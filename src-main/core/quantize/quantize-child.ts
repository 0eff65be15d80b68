/**
 * The child process quantizations run in (forked by quantize-file.ts, one per ladder run; jobs arrive over IPC one
 * after another). It opens the libllama node-llama-cpp loaded in the app and calls `llama_model_quantize` per job, as
 * llama-quantize does: the same parameters, the importance matrix as the library takes it (per weight, the mean of x²
 * per column, the array ended by a NULL name). llama.cpp logs each tensor to stderr (`[  i/  N] name - …`): the
 * parent reads its progress there, and after each job a line `DONE_MARKER id code` (0 when the file was written, 1
 * when llama.cpp refused, its log saying why). An abort kills the process.
 */
import fs from 'node:fs';
import koffi from 'koffi';
import { openLibrary, type LibraryFiles } from '../native/ffi.js';
import { importanceOf, readImatrix } from './imatrix-file.js';
import { DONE_MARKER } from './quantize-file.js';

export interface QuantizeJob {
  libraries: LibraryFiles;
  input: string;
  output: string;
  ftype: number;
  threads: number;
  /** ggml_type of output.weight and of the token embeddings; null: the type's own choice. */
  outputTensorType: number | null;
  tokenEmbeddingType: number | null;
  /** Every tensor the same type (no k-quant mixture). */
  pure: boolean;
  allowRequantize: boolean;
  /** An importance-matrix file (GGUF or legacy .dat), checked against the model by the parent. */
  imatrixFile: string | null;
}

/** `llama_model_imatrix_data`: { const char *name; const float *data; size_t size; } */
const ENTRY_BYTES = 24;

/** Writes the NULL-terminated array of importance data into memory that lives until the process ends. */
function imatrixArray(file: string): bigint {
  const values = importanceOf(readImatrix(file));
  const array = koffi.alloc('uint8_t', (values.size + 1) * ENTRY_BYTES) as bigint;
  const view = new DataView(koffi.view(array, (values.size + 1) * ENTRY_BYTES));
  let i = 0;
  for (const [name, data] of values) {
    const nameBytes = Buffer.from(`${name}\0`, 'utf8');
    const namePtr = koffi.alloc('uint8_t', nameBytes.length) as bigint;
    new Uint8Array(koffi.view(namePtr, nameBytes.length)).set(nameBytes);
    const dataPtr = koffi.alloc('float', data.length) as bigint;
    new Float32Array(koffi.view(dataPtr, data.length * 4)).set(data);
    view.setBigUint64(i * ENTRY_BYTES, koffi.address(namePtr) as bigint, true);
    view.setBigUint64(i * ENTRY_BYTES + 8, koffi.address(dataPtr) as bigint, true);
    view.setBigUint64(i * ENTRY_BYTES + 16, BigInt(data.length), true);
    i++;
  }
  // the terminator: name NULL (koffi.alloc memory is zeroed only by us)
  for (let b = 0; b < ENTRY_BYTES; b++) view.setUint8(i * ENTRY_BYTES + b, 0);
  return koffi.address(array) as bigint;
}

let lib: ReturnType<typeof openLibrary> | null = null;
/** Each importance matrix is laid out in C memory once per process (a ladder's types share it). */
const imatrices = new Map<string, bigint>();

function quantize(job: QuantizeJob): number {
  lib ??= openLibrary(job.libraries);
  const params = lib.llama_model_quantize_default_params() as Record<string, unknown>;
  params.ftype = job.ftype;
  params.nthread = job.threads;
  params.pure = job.pure;
  params.allow_requantize = job.allowRequantize;
  if (job.outputTensorType !== null) params.output_tensor_type = job.outputTensorType;
  if (job.tokenEmbeddingType !== null) params.token_embedding_type = job.tokenEmbeddingType;
  if (job.imatrixFile) {
    if (!imatrices.has(job.imatrixFile)) imatrices.set(job.imatrixFile, imatrixArray(job.imatrixFile));
    params.imatrix = imatrices.get(job.imatrixFile)!;
  }
  return lib.llama_model_quantize(job.input, job.output, params) === 0 ? 0 : 1;
}

/** One job: its exit code written after its log lines (fd 2 written synchronously, as llama.cpp writes it). */
function runJob(id: number, job: QuantizeJob): void {
  let code: number;
  try {
    code = quantize(job);
  } catch (e) {
    fs.writeSync(2, `distillery-quantize: ${e instanceof Error ? e.message : String(e)}\n`);
    code = 1;
  }
  fs.writeSync(2, `\n${DONE_MARKER} ${id} ${code}\n`);
}

// Jobs arrive over IPC, one after another (a ladder's types in one process: one start-up per run); the parent
// disconnecting ends the process.
process.on('message', (m: { type: 'job'; id: number; job: QuantizeJob }) => {
  if (m?.type === 'job') runJob(m.id, m.job);
});
process.on('disconnect', () => process.exit(0));
