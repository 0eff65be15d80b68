// Importance-matrix files as llama.cpp writes and reads them (tools/imatrix/imatrix.cpp, common/imatrix-loader.cpp):
// the GGUF form (`general.type = imatrix`, `imatrix.datasets`, `imatrix.chunk_count`, `imatrix.chunk_size`, per weight
// `<name>.in_sum2` F32 [ne0, n_mat] and `<name>.counts` F32 [1, n_mat]) and the legacy `.dat` form (entries of
// sums/count·ncall). What quantization takes from either is importanceOf(): per weight, the mean of x² per column.
import fs from 'node:fs';
import path from 'node:path';
import { readGgufHeader, type TensorInfo } from '../gguf/header.js';
import { writeGguf } from '../gguf/stream-writer.js';
import { GgmlType, GgufValueType, str, u32, type GgufValue } from '../gguf/writer.js';
import { fileError } from '../files/errors.js';
import { AppError } from '../../../src-shared/errors.js';

export interface ImatrixEntry {
  /** Σ x² per input column, per matrix (experts of a MoE weight are matrices): n_mat × ne0 values, matrix-major. */
  sums: Float32Array;
  /** Activation rows summed, per matrix. Legacy files have one count: the ncall their sums were scaled by. */
  counts: number[];
}

export interface Imatrix {
  /** Keyed by weight name (`blk.0.attn_q.weight`). */
  entries: Map<string, ImatrixEntry>;
  /** The texts it was computed on (file names or, for the app's own, `dataset@version:split`). */
  datasets: string[];
  chunkCount: number;
  /** Tokens per chunk (the context size); 0 when the file does not say (legacy). */
  chunkSize: number;
  legacy: boolean;
}

const GGUF_MAGIC = Buffer.from('GGUF', 'latin1');
/** Limits for reading a legacy file: a name, and how many entries one may hold. */
const MAX_NAME = 4096;
const MAX_ENTRIES = 1_000_000;

/** Writes `m` in llama.cpp's GGUF imatrix form (sorted names, as llama-imatrix writes them), whole or not at all. */
export function writeImatrixGguf(file: string, m: Imatrix): void {
  const metadata: [string, GgufValue][] = [
    ['general.type', str('imatrix')],
    ['imatrix.datasets', { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, items: m.datasets }],
    ['imatrix.chunk_count', u32(m.chunkCount)],
    ['imatrix.chunk_size', u32(m.chunkSize)],
  ];
  const tensors = [...m.entries.keys()].sort().flatMap((name) => {
    const e = m.entries.get(name)!;
    const nMat = e.counts.length;
    if (nMat === 0 || e.sums.length === 0 || e.sums.length % nMat !== 0) {
      throw new AppError('invalid_input', `imatrix entry ${name}: ${e.sums.length} sums do not divide into ${nMat} matrices`);
    }
    return [
      { name: `${name}.in_sum2`, shape: [e.sums.length / nMat, nMat], type: GgmlType.F32, data: e.sums },
      { name: `${name}.counts`, shape: [1, nMat], type: GgmlType.F32, data: Float32Array.from(e.counts) },
    ];
  });
  writeGguf(file, metadata, tensors);
}

/** Reads a GGUF or legacy `.dat` importance matrix; a damaged or foreign file is refused with the reason. */
export function readImatrix(file: string): Imatrix {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      head = Buffer.alloc(4);
      fs.readSync(fd, head, 0, 4, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw fileError(e, file);
  }
  return head.equals(GGUF_MAGIC) ? readGgufImatrix(file) : readLegacyImatrix(file);
}

function refuse(file: string, why: string): never {
  throw new AppError('invalid_input', `${path.basename(file)} is not an importance matrix llama.cpp can read: ${why}`);
}

function readGgufImatrix(file: string): Imatrix {
  const h = readGgufHeader(file);
  const type = h.metadata.get('general.type');
  if (type !== undefined && type !== 'imatrix') refuse(file, `it is a GGUF ${String(type)} (general.type), not an imatrix`);
  const datasetsMeta = h.metadata.get('imatrix.datasets');
  const chunkCount = h.metadata.get('imatrix.chunk_count');
  const chunkSize = h.metadata.get('imatrix.chunk_size');
  if (datasetsMeta === undefined || chunkCount === undefined || chunkSize === undefined) {
    refuse(file, 'it lacks the imatrix.datasets, imatrix.chunk_count and imatrix.chunk_size keys (llama-quantize refuses it too)');
  }
  const pairs = new Map<string, { sums?: TensorInfo; counts?: TensorInfo }>();
  for (const t of h.tensors) {
    const m = /^(.+)\.(in_sum2|counts)$/.exec(t.name);
    if (!m) continue;
    const p = pairs.get(m[1]!) ?? {};
    p[m[2] === 'in_sum2' ? 'sums' : 'counts'] = t;
    pairs.set(m[1]!, p);
  }
  if (pairs.size === 0) refuse(file, 'it holds no <weight>.in_sum2 / <weight>.counts tensors');
  const entries = new Map<string, ImatrixEntry>();
  const fd = fs.openSync(file, 'r');
  try {
    const floats = (t: TensorInfo): Float32Array => {
      if (t.type !== GgmlType.F32) refuse(file, `tensor ${t.name} is not F32`);
      const buf = Buffer.alloc(t.byteSize);
      fs.readSync(fd, buf, 0, t.byteSize, t.offset);
      return new Float32Array(buf.buffer, buf.byteOffset, t.byteSize / 4).slice();
    };
    for (const [name, p] of pairs) {
      if (!p.sums || !p.counts) refuse(file, `${name} has ${p.sums ? 'sums but no counts' : 'counts but no sums'}`);
      const sums = floats(p.sums);
      const counts = [...floats(p.counts)].map((c) => Math.round(c));
      if (counts.length === 0 || sums.length % counts.length !== 0) refuse(file, `${name}: ${sums.length} sums for ${counts.length} matrices`);
      entries.set(name, { sums, counts });
    }
  } finally {
    fs.closeSync(fd);
  }
  const datasets = typeof datasetsMeta === 'object' ? datasetsMeta.head.map(String) : [String(datasetsMeta)];
  return { entries, datasets, chunkCount: Number(chunkCount), chunkSize: Number(chunkSize), legacy: false };
}

function readLegacyImatrix(file: string): Imatrix {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw fileError(e, file);
  }
  let pos = 0;
  const need = (n: number, what: string) => {
    if (pos + n > buf.length) refuse(file, `it ends inside ${what} (byte ${pos} of ${buf.length}); not a GGUF and not a complete legacy .dat file`);
  };
  const i32 = (what: string) => {
    need(4, what);
    const v = buf.readInt32LE(pos);
    pos += 4;
    return v;
  };
  const nEntries = i32('the entry count');
  if (nEntries < 1 || nEntries > MAX_ENTRIES) refuse(file, `it claims ${nEntries} entries; not a GGUF and not a legacy .dat file`);
  const entries = new Map<string, ImatrixEntry>();
  for (let i = 0; i < nEntries; i++) {
    const len = i32(`entry ${i + 1}'s name length`);
    if (len < 1 || len > MAX_NAME) refuse(file, `entry ${i + 1} has a name of ${len} bytes`);
    need(len, `entry ${i + 1}'s name`);
    const name = buf.toString('utf8', pos, pos + len);
    pos += len;
    const ncall = i32(`${name}'s call count`);
    const nval = i32(`${name}'s value count`);
    if (nval < 1) refuse(file, `${name} has ${nval} values`);
    need(nval * 4, `${name}'s values`);
    const sums = new Float32Array(nval);
    for (let j = 0; j < nval; j++) sums[j] = buf.readFloatLE(pos + 4 * j);
    pos += nval * 4;
    entries.set(name, { sums, counts: [ncall] });
  }
  let chunkCount = 0;
  const datasets: string[] = [];
  if (pos + 4 <= buf.length) {
    chunkCount = i32('the chunk count');
    if (pos + 4 <= buf.length) {
      const len = buf.readInt32LE(pos);
      pos += 4;
      if (len > 0 && len <= MAX_NAME && pos + len <= buf.length) datasets.push(buf.toString('utf8', pos, pos + len));
    }
  }
  return { entries, datasets, chunkCount, chunkSize: 0, legacy: true };
}

/**
 * What llama-quantize passes to llama_model_quantize for each weight: the mean of x² per column (per matrix), i.e.
 * sums / count; a matrix never reached gets 1s. A legacy file stores sums/count·ncall, so it is divided by ncall.
 */
export function importanceOf(m: Imatrix): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, e] of m.entries) {
    const values = new Float32Array(e.sums.length);
    if (m.legacy) {
      const ncall = e.counts[0] ?? 0;
      for (let i = 0; i < values.length; i++) values[i] = ncall > 0 ? e.sums[i]! / ncall : e.sums[i]!;
    } else {
      const ne0 = e.sums.length / e.counts.length;
      for (let j = 0; j < e.counts.length; j++) {
        const count = e.counts[j]!;
        for (let i = 0; i < ne0; i++) values[j * ne0 + i] = count > 0 ? e.sums[j * ne0 + i]! / count : 1;
      }
    }
    out.set(name, values);
  }
  return out;
}

/**
 * Refuses an importance matrix made for another model: every entry must name a 2-D (or expert 3-D) weight of the model
 * whose input width (ne0) times matrix count equals the entry's values. The error names the first tensor that differs.
 */
export function checkImatrixFits(m: Imatrix, model: { file: string; tensors: TensorInfo[] }): void {
  const byName = new Map(model.tensors.map((t) => [t.name, t]));
  let matched = 0;
  for (const [name, e] of m.entries) {
    const t = byName.get(name);
    if (!t) {
      throw new AppError('invalid_input', `the importance matrix is for another model: ${path.basename(model.file)} has no tensor ${name}`, 'imatrix');
    }
    const ne0 = t.shape[0]!;
    const nMat = t.shape.length > 2 ? t.shape[2]! : 1;
    if (e.sums.length !== ne0 * nMat) {
      throw new AppError(
        'invalid_input',
        `the importance matrix is for another model: ${name} has ${e.sums.length} values there, but the model's tensor is ${ne0} wide${nMat > 1 ? ` × ${nMat} experts` : ''}`,
        'imatrix',
      );
    }
    matched++;
  }
  if (matched === 0) throw new AppError('invalid_input', 'the importance matrix has no entry', 'imatrix');
}
