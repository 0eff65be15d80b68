/**
 * The child process one quantization runs in (forked by quantize-file.ts; argv[2] is the job as JSON). It opens the
 * libllama node-llama-cpp loaded in the app and calls `llama_model_quantize` once, as llama-quantize does: the same
 * parameters, the importance matrix as the library takes it (per weight, the mean of x² per column, the array ended by
 * a NULL name). llama.cpp logs each tensor to stderr (`[  i/  N] name - …`): the parent reads its progress there. Exit
 * code 0 when the file was written; llama.cpp's own refusal (its log says why) exits 1; an abort kills the process.
 */
import koffi from 'koffi';
import { openLibrary, type LibraryFiles } from '../native/ffi.js';
import { importanceOf, readImatrix } from './imatrix-file.js';

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

function main(): number {
  const job = JSON.parse(process.argv[2] ?? 'null') as QuantizeJob | null;
  if (!job) throw new Error('the quantize child was started without its job');
  const lib = openLibrary(job.libraries);
  const params = lib.llama_model_quantize_default_params() as Record<string, unknown>;
  params.ftype = job.ftype;
  params.nthread = job.threads;
  params.pure = job.pure;
  params.allow_requantize = job.allowRequantize;
  if (job.outputTensorType !== null) params.output_tensor_type = job.outputTensorType;
  if (job.tokenEmbeddingType !== null) params.token_embedding_type = job.tokenEmbeddingType;
  if (job.imatrixFile) params.imatrix = imatrixArray(job.imatrixFile);
  return lib.llama_model_quantize(job.input, job.output, params) === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (e) {
  process.stderr.write(`distillery-quantize: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
