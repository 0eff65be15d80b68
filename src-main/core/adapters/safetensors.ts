import fs from 'node:fs';
import path from 'node:path';
import { fileError, withFileErrors } from '../files/errors.js';
import { AppError } from '../../../src-shared/errors.js';
import { toHalf } from '../gguf/writer.js';
import { jsonTextDepth, MAX_JSON_DEPTH, TOO_DEEP } from '../json-depth.js';

/**
 * The safetensors format (huggingface/safetensors, "Format" in its README): an 8-byte little-endian u64 N, N bytes of
 * UTF-8 JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } }`, then the
 * data buffer; offsets are relative to the start of the data buffer (byte 8 + N). PEFT trainers save adapters this
 * way. Only the float types adapters use are read; everything else is refused before any tensor is touched.
 */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

const DTYPE_SIZE: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
/** safetensors' own reader refuses headers above 100 MB: a larger one is a damaged length, not a real header. */
const MAX_HEADER = 100 * 1024 * 1024;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  /** torch order: the last dimension is the fastest-varying. */
  shape: number[];
  /** Absolute byte range in the file (data start + data_offsets). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** In header order. */
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
  /** Absolute offset of the data buffer (8 + N). */
  dataStart: number;
  fileSize: number;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
/** A value for a message: at most 100 characters (the header's depth is checked before, so stringify cannot overflow). */
const shown = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 100 ? `${s.slice(0, 100)}…` : s;
};

/**
 * Reads and validates a safetensors header without reading tensor data: every tensor must have a supported dtype, a
 * shape of non-negative integers, and a byte range inside the data buffer whose size matches the shape and which
 * overlaps no other tensor. Refusals are `invalid_input` AppErrors naming the file and the tensor.
 */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const label = path.basename(file);
  const refuse = (why: string): never => {
    throw new AppError('invalid_input', `${label}: ${why}`);
  };
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw fileError(e, file);
  }
  if (!st.isFile()) throw new AppError('not_a_file', `${label} is not a regular file`);
  if (st.size < 8) refuse(`the file has ${st.size} bytes, too short for a safetensors header length (8 bytes)`);

  const fd = withFileErrors(file, () => fs.openSync(file, 'r'));
  let json: string;
  let headerLength: number;
  try {
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER)) refuse(`the header length is ${n} bytes, above the 100 MB limit: not a safetensors file, or a damaged one`);
    if (n > BigInt(st.size - 8))
      refuse(`the header length is ${n} bytes but the file has only ${st.size - 8} bytes after the length: the file is truncated or not safetensors`);
    headerLength = Number(n);
    const headerBuf = Buffer.alloc(headerLength);
    fs.readSync(fd, headerBuf, 0, headerBuf.length, 8);
    json = headerBuf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
  const dataStart = 8 + headerLength;
  const dataSize = st.size - dataStart;

  if (jsonTextDepth(json) > MAX_JSON_DEPTH) refuse(`the header ${TOO_DEEP}: not a safetensors header, or a damaged one`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    return refuse(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(parsed)) return refuse('the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry)) refuse('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') refuse(`__metadata__ "${k}" is ${shown(v)}, not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const bad = (why: string): never => refuse(`tensor "${name}": ${why}`);
    if (!isPlainObject(entry)) bad(`its entry is ${shown(entry)}, not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZE)) bad(`dtype ${shown(dtype)} is not supported (only F32, F16 and BF16)`);
    if (!Array.isArray(shape) || !shape.every(isCount)) bad(`shape ${shown(shape)} is not an array of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
      bad(`data_offsets ${shown(offsets)} is not a pair of non-negative integers`);
    const [begin, end] = offsets as [number, number];
    if (begin > end) bad(`data_offsets [${begin}, ${end}] begin after they end`);
    if (end > dataSize) bad(`data_offsets [${begin}, ${end}] run past the end of the data (${dataSize} bytes)`);
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    const want = elements * DTYPE_SIZE[dtype as SafetensorsDtype];
    if (end - begin !== want)
      bad(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} shape [${(shape as number[]).join(', ')}] needs ${want}`);
    tensors.set(name, { dtype: dtype as SafetensorsDtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end });
  }

  const sorted = [...tensors.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  for (let i = 1; i < sorted.length; i++) {
    const [prevName, prev] = sorted[i - 1]!;
    const [name, t] = sorted[i]!;
    if (t.begin < prev.end) {
      refuse(
        `tensor "${name}": data_offsets [${t.begin - dataStart}, ${t.end - dataStart}] overlap tensor "${prevName}" ` +
          `[${prev.begin - dataStart}, ${prev.end - dataStart}]`,
      );
    }
  }
  return { tensors, metadata, dataStart, fileSize: st.size };
}

let halfTable: Float32Array | null = null;
/** All 65536 binary16 values as floats (exact: every half is a float). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) t[h] = mant ? NaN : sign * Infinity;
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  halfTable = t;
  return t;
}

/** Reads one tensor's data (only its bytes) as floats, in torch (row-major) order. */
export function readTensor(file: string, header: SafetensorsHeader, name: string): Float32Array {
  const t = header.tensors.get(name);
  if (!t) throw new AppError('invalid_input', `${path.basename(file)}: there is no tensor "${name}"`);
  const buf = Buffer.alloc(t.end - t.begin);
  const fd = fs.openSync(file, 'r');
  try {
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(fd, buf, done, buf.length - done, t.begin + done);
      if (n === 0) throw new AppError('invalid_input', `${path.basename(file)}: tensor "${name}" is cut short: the file changed while reading`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  const n = buf.length / DTYPE_SIZE[t.dtype];
  // Buffer.alloc owns a fresh, zero-offset ArrayBuffer, so typed views are aligned. Little-endian hosts only (as the
  // GGUF writer).
  if (t.dtype === 'F32') return new Float32Array(buf.buffer, buf.byteOffset, n);
  const halves = new Uint16Array(buf.buffer, buf.byteOffset, n);
  const out = new Float32Array(n);
  if (t.dtype === 'F16') {
    const table = halfToFloatTable();
    for (let i = 0; i < n; i++) out[i] = table[halves[i]!]!;
  } else {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = halves[i]! << 16;
  }
  return out;
}

export interface SafetensorsTensorSpec {
  name: string;
  dtype: SafetensorsDtype;
  /** torch order. */
  shape: number[];
  /** Row-major values; converted to `dtype` on write. */
  data: Float32Array;
}

const bf16Scratch = new Float32Array(1);
const bf16Bits = new Uint32Array(bf16Scratch.buffer);
/** bfloat16 from a float, round to nearest even (NaN stays NaN). */
function toBf16(value: number): number {
  bf16Scratch[0] = value;
  const x = bf16Bits[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Writes a safetensors file (tensors in the given order, header padded with spaces to 8 bytes as the reference
 * implementation does). Tests use it to build PEFT adapter folders; an exporter could too.
 */
export function writeSafetensors(file: string, tensors: SafetensorsTensorSpec[], metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const datas: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`tensor ${t.name}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    let bytes: Buffer;
    if (t.dtype === 'F32') {
      bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    } else {
      const halves = new Uint16Array(n);
      const convert = t.dtype === 'F16' ? toHalf : toBf16;
      for (let i = 0; i < n; i++) halves[i] = convert(t.data[i]!);
      bytes = Buffer.from(halves.buffer);
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    datas.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, len);
    fs.writeSync(fd, Buffer.from(json, 'utf8'));
    for (const d of datas) fs.writeSync(fd, d);
  } finally {
    fs.closeSync(fd);
  }
}
