import fs from 'node:fs';
import path from 'node:path';
import { AppError, isAppError } from '../../../src-shared/errors.js';
import { GGML_TYPES } from '../gguf/ggml-types.js';
import { readGgufHeader, type GgufHeader, type TensorInfo } from '../gguf/header.js';
import { GgufStreamWriter, readRawMetadata, type GgufTensorPlan } from '../gguf/stream-writer.js';
import { GgmlType, GgufValueType, str, u32, type GgufValue } from '../gguf/writer.js';
import { checkCompatibility, inspectAdapter } from './inspect.js';

export interface MergeAdapter {
  filePath: string;
  /** The user's scale, as given to llama.cpp (`--lora-scaled FILE SCALE`); alpha / rank is applied on top. */
  scale: number;
}

export interface MergeOptions {
  /** The base model GGUF: F32, F16, BF16 or Q8_0 tensors (other quantizations are refused). */
  base: string;
  adapters: MergeAdapter[];
  /** The merged GGUF to write; written under a temporary name and renamed when complete. */
  output: string;
  /**
   * 'f32': every tensor F32 (general.file_type ALL_F32 = 0). 'f16': matrices F16, 1-D tensors (norms, biases) F32
   * as llama.cpp's converters write a "mostly F16" file (general.file_type MOSTLY_F16 = 1).
   */
  type: 'f32' | 'f16';
  signal?: AbortSignal;
  /**
   * Checks the output path (checkOutputPath's rule) when the merge starts and again right before the merged file takes
   * its name, so a file that appeared meanwhile is not replaced unless the user asked for it.
   */
  checkOutput?(file: string): void;
  /** Records the temporary file before it is created (a run's tempFile), and forgets it once renamed or removed. */
  tempFile?(file: string): void;
  releaseTemp?(file: string): void;
  /** Called after the last check, right before the merged file takes its name. */
  beforeRename?(): void;
  /** After each tensor is written: how many of how many, and which. */
  onTensor?(done: number, total: number, name: string): void;
}

export interface MergeResult {
  /** Tensors written (all of the base's). */
  tensors: number;
  /** Tensors at least one adapter changed. */
  mergedTensors: number;
  /** Size of the output file. */
  bytes: number;
}

/** ggml types the merge reads: the float formats and Q8_0, whose dequantization is exact and simple. */
const READABLE = new Set([0, 1, 8, 30]);
const QK8_0 = 32;
/** Values per row block: bounds the memory a tensor takes while it is converted, however large it is. */
const BLOCK_VALUES = 1 << 20;

let halfTable: Float32Array | null = null;
/** binary16 → float for all 65536 bit patterns (exact). */
function halfToFloat(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    halfTable[h] = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return halfTable;
}

/**
 * `n` values of ggml type `type` from `bytes` as floats (ggml's to_float for F32, F16, BF16 and Q8_0). Typed-array
 * views read the file's little-endian values directly (every platform llama.cpp runs on is little-endian); `bytes`
 * comes from Buffer.alloc, so its offset is aligned.
 */
function decode(type: number, bytes: Buffer, n: number): Float32Array {
  switch (type) {
    case 0:
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 4));
    case 1: {
      const table = halfToFloat();
      const half = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[half[i]!]!;
      return out;
    }
    case 30: {
      const half = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = half[i]! << 16;
      return out;
    }
    case 8: {
      // block_q8_0: an f16 scale d, then 32 int8 quants; x = q * d.
      const table = halfToFloat();
      const out = new Float32Array(n);
      const quants = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
      for (let b = 0; b < n / QK8_0; b++) {
        const at = b * (2 + QK8_0);
        const d = table[bytes.readUInt16LE(at)]!;
        for (let j = 0; j < QK8_0; j++) out[b * QK8_0 + j] = quants[at + 2 + j]! * d;
      }
      return out;
    }
    default:
      throw new Error(`ggml type ${type} cannot be decoded`);
  }
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${offset + done}`);
    done += n;
  }
  return buf;
}

const typeName = (type: number) => GGML_TYPES[type]?.name ?? `ggml type ${type}`;
const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** One adapter's contribution to one base tensor, as row-major factors: ΔW[o][i] = scale · Σ_k P[o][k] · Q[k][i]. */
interface Delta {
  /** rows × rank. */
  p: Float32Array;
  /** rank × n_in. */
  q: Float32Array;
  rank: number;
  scale: number;
}

interface OpenAdapter {
  file: string;
  fd: number;
  header: GgufHeader;
  tensors: Map<string, TensorInfo>;
  /** adapter.lora.alpha, or 0 when absent (llama.cpp's reading of a missing key). */
  alpha: number;
  scale: number;
}

/**
 * Reads one LoRA pair and lays it out as `Delta` factors. For W with ne [n_in, n_out], lora_a is [n_in, r] and lora_b
 * [r, n_out], so ΔW[o][i] = Σ_k B[o][k] · A[k][i]: P = B and Q = A as stored. token_embd is stored flipped (lora_a
 * [r, n_vocab], lora_b [r, n_embd]; llama.cpp gathers rows of lora_a): ΔW[v][e] = Σ_k A[v][k] · B[e][k], so P = A and
 * Q = Bᵀ. The scale is llama.cpp's, in float: alpha ? scale · alpha / rank : scale (export-lora and the runtime agree).
 */
function readDelta(adapter: OpenAdapter, name: string): Delta {
  const a = adapter.tensors.get(`${name}.lora_a`)!;
  const b = adapter.tensors.get(`${name}.lora_b`)!;
  const av = decode(a.type, readAt(adapter.fd, a.offset, a.byteSize), elements(a.shape));
  const bv = decode(b.type, readAt(adapter.fd, b.offset, b.byteSize), elements(b.shape));
  const rank = b.shape[0]!;
  const scale = adapter.alpha ? Math.fround(Math.fround(adapter.scale * adapter.alpha) / rank) : Math.fround(adapter.scale);
  if (name === 'token_embd.weight') {
    const nEmbd = b.shape[1]!;
    const q = new Float32Array(rank * nEmbd);
    for (let e = 0; e < nEmbd; e++) for (let k = 0; k < rank; k++) q[k * nEmbd + e] = bv[e * rank + k]!;
    return { p: av, q, rank, scale };
  }
  return { p: bv, q: av, rank, scale };
}

function cancelled(): AppError {
  return new AppError('cancelled', 'merging the adapter into the base model was cancelled');
}

/**
 * Merges LoRA adapters into their base model and writes a standalone GGUF, as llama.cpp's `llama-export-lora` does:
 * for every base matrix W an adapter has a pair for, W' = W + Σ scale · (alpha / rank) · B·A (scale alone when the
 * adapter has no alpha), computed in double and rounded once to the output type. Unlike export-lora, which always
 * writes merged tensors as F16 unless the base is F32 and copies the others byte for byte (quantized included), the
 * output here is uniformly F32 or "mostly F16" (see `MergeOptions.type`), and adapters need not share a tensor list.
 *
 * Metadata is copied unchanged except `general.file_type` (0 or 1) and `general.name` (+"+lora"). Base tensors must be
 * F32, F16, BF16 or Q8_0 (Q8_0 is dequantized exactly); any other quantization is refused before anything is written,
 * naming the first such tensor. Adapters are checked against the base first (architecture, tensor names and shapes:
 * `checkCompatibility`). The file is streamed tensor by tensor, a row block at a time, so memory stays at one block plus
 * the LoRA factors of one tensor whatever the model's size; it is written under a temporary name and renamed at the
 * end, so a cancelled or failed merge leaves nothing behind.
 */
export async function mergeAdapters(opts: MergeOptions): Promise<MergeResult> {
  const { base, output, signal } = opts;
  const baseName = path.basename(base);
  if (opts.adapters.length === 0) throw new AppError('invalid_input', 'there is no adapter to merge', 'adapters');
  if (opts.type !== 'f32' && opts.type !== 'f16') throw new AppError('invalid_input', `the output type must be f32 or f16, not ${String(opts.type)}`, 'type');
  for (const [i, a] of opts.adapters.entries()) {
    if (!Number.isFinite(a.scale)) throw new AppError('invalid_input', `${path.basename(a.filePath)}: the scale must be a number`, `adapters.${i}.scale`);
  }
  const resolvedOut = path.resolve(output);
  const outDir = path.dirname(resolvedOut);
  if (!fs.statSync(outDir, { throwIfNoEntry: false })?.isDirectory()) throw new AppError('file_missing', `the output folder ${outDir} does not exist`);
  const realOut = path.join(fs.realpathSync(outDir), path.basename(resolvedOut));
  for (const f of [base, ...opts.adapters.map((a) => a.filePath)]) {
    if (path.resolve(f) === resolvedOut || realOrSelf(f) === realOut || realOrSelf(f) === realOrSelf(resolvedOut)) {
      throw new AppError('invalid_input', `the output cannot overwrite one of the inputs (${path.basename(f)})`, 'output');
    }
  }
  opts.checkOutput?.(resolvedOut);
  if (signal?.aborted) throw cancelled();

  const header = readGgufHeader(base);
  if (header.metadata.has('split.count')) {
    throw new AppError('invalid_input', `${baseName} is one part of a split model; merge into a single-file model (llama-gguf-split --merge)`);
  }
  for (const a of opts.adapters) checkCompatibility(a.filePath, base);
  for (const t of header.tensors) {
    if (!READABLE.has(t.type)) {
      throw new AppError(
        'invalid_input',
        `${baseName} is quantized (tensor ${t.name} is ${typeName(t.type)}): merging needs an F32, F16, BF16 or Q8_0 base, ` +
          'since adding the adapter to a quantized weight and quantizing it again loses most of what the adapter changes',
      );
    }
  }

  const adapters: OpenAdapter[] = [];
  const fds: number[] = [];
  const tmp = `${resolvedOut}.tmp-${process.pid}`;
  let writer: GgufStreamWriter | null = null;
  opts.tempFile?.(tmp);
  try {
    for (const a of opts.adapters) {
      const h = readGgufHeader(a.filePath);
      const fd = fs.openSync(a.filePath, 'r');
      fds.push(fd);
      adapters.push({
        file: a.filePath,
        fd,
        header: h,
        tensors: new Map(h.tensors.map((t) => [t.name, t])),
        alpha: inspectAdapter(a.filePath).alpha ?? 0,
        scale: a.scale,
      });
    }
    const baseFd = fs.openSync(base, 'r');
    fds.push(baseFd);

    const outType = (t: TensorInfo): GgmlType => (opts.type === 'f32' || t.shape.length < 2 ? GgmlType.F32 : GgmlType.F16);
    const plans: GgufTensorPlan[] = header.tensors.map((t) => ({ name: t.name, shape: t.shape, type: outType(t) }));
    writer = GgufStreamWriter.open(tmp, mergedMetadata(base, opts.type), plans);

    let merged = 0;
    for (const [index, t] of header.tensors.entries()) {
      if (signal?.aborted) throw cancelled();
      const deltas = adapters.filter((a) => a.tensors.has(`${t.name}.lora_a`)).map((a) => readDelta(a, t.name));
      if (deltas.length > 0) merged++;
      copyTensor(baseFd, t, outType(t), deltas, writer, signal);
      opts.onTensor?.(index + 1, header.tensors.length, t.name);
      // Let the event loop run between tensors: progress reaches the UI and a cancel can arrive.
      await new Promise((resolve) => setImmediate(resolve));
    }
    writer.close();
    writer = null;
    if (signal?.aborted) throw cancelled();
    opts.checkOutput?.(resolvedOut);
    opts.beforeRename?.();
    fs.renameSync(tmp, resolvedOut);
    opts.releaseTemp?.(tmp);
    return { tensors: header.tensors.length, mergedTensors: merged, bytes: fs.statSync(resolvedOut).size };
  } catch (e) {
    writer?.abandon();
    fs.rmSync(tmp, { force: true });
    opts.releaseTemp?.(tmp);
    if (isAppError(e)) throw e;
    throw new AppError('internal', `merging into ${baseName} failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

function realOrSelf(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** The base's metadata, byte for byte, with general.file_type set for the output and "+lora" appended to general.name. */
function mergedMetadata(base: string, type: 'f32' | 'f16'): [string, GgufValue][] {
  const raw = readRawMetadata(base);
  const entries: [string, GgufValue][] = [];
  let sawFileType = false;
  let sawName = false;
  for (const [key, bytes] of raw) {
    if (key === 'general.file_type') {
      entries.push([key, u32(type === 'f32' ? 0 : 1)]); // llama_ftype: ALL_F32 = 0, MOSTLY_F16 = 1
      sawFileType = true;
    } else if (key === 'general.name' && bytes.readUInt32LE(0) === GgufValueType.STRING) {
      const len = Number(bytes.readBigUInt64LE(4));
      entries.push([key, str(`${bytes.toString('utf8', 12, 12 + len)}+lora`)]);
      sawName = true;
    } else {
      entries.push([key, { raw: bytes }]);
    }
  }
  if (!sawName) entries.push(['general.name', str(`${path.basename(base).replace(/\.gguf$/i, '')}+lora`)]);
  if (!sawFileType) entries.push(['general.file_type', u32(type === 'f32' ? 0 : 1)]);
  return entries;
}

/** Writes one base tensor, a row block at a time: converted to `out`, plus the adapters' deltas when there are any. */
function copyTensor(fd: number, t: TensorInfo, out: GgmlType, deltas: Delta[], writer: GgufStreamWriter, signal: AbortSignal | undefined): void {
  const traits = GGML_TYPES[t.type]!;
  const nIn = t.shape[0] ?? 1;
  const rows = elements(t.shape) / nIn;
  const rowBytes = (nIn / traits.blockSize) * traits.typeSize;
  const blockRows = Math.max(1, Math.floor(BLOCK_VALUES / nIn));
  const straight = deltas.length === 0 && t.type === out;
  const acc = new Float64Array(deltas.length > 0 ? nIn : 0);
  for (let r0 = 0; r0 < rows; r0 += blockRows) {
    if (signal?.aborted) throw cancelled();
    const n = Math.min(blockRows, rows - r0);
    const bytes = readAt(fd, t.offset + r0 * rowBytes, n * rowBytes);
    if (straight) {
      writer.writeEncoded(bytes);
      continue;
    }
    const values = decode(t.type, bytes, n * nIn);
    for (let r = 0; r < n && deltas.length > 0; r++) {
      const o = r0 + r;
      const row = values.subarray(r * nIn, (r + 1) * nIn);
      for (let i = 0; i < nIn; i++) acc[i] = row[i]!;
      for (const d of deltas) {
        for (let k = 0; k < d.rank; k++) {
          const c = d.scale * d.p[o * d.rank + k]!;
          if (c === 0) continue;
          const q = k * nIn;
          for (let i = 0; i < nIn; i++) acc[i]! += c * d.q[q + i]!;
        }
      }
      row.set(acc); // rounds to float once
    }
    writer.write(values);
  }
}
