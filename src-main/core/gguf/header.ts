import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.js';
import { fileError } from '../files/errors.js';
import { GGML_TYPES } from './ggml-types.js';

export type MetaValue = number | bigint | boolean | string | { arrayType: number; length: number; head: (number | string | bigint | boolean)[] };

export interface TensorInfo {
  name: string;
  /** ggml order (ne[0] first). */
  shape: number[];
  type: number;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  byteSize: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, MetaValue>;
  tensors: TensorInfo[];
  dataOffset: number;
  fileSize: number;
}

const MAGIC = 0x46554747; // "GGUF" little-endian
const CHUNK = 1 << 20;
/** Array items kept for inspection; counts are always kept. */
const ARRAY_HEAD = 8;
const MAX_STRING = 64 * 1024 * 1024;
/** Smallest size in bytes of an array item of each GGUF value type (a string: its 8-byte length). */
const ITEM_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 10: 8, 11: 8, 12: 8 };

/** Reads a file front to back in chunks, never past the header. */
class Reader {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly onEof: (at: number) => never,
  ) {}
  private ensure(n: number): void {
    const end = this.pos + n;
    if (end <= this.bufStart + this.buf.length) return;
    if (end > this.size) this.onEof(this.pos);
    const want = Math.max(n, CHUNK);
    const len = Math.min(want, this.size - this.pos);
    const b = Buffer.alloc(len);
    fs.readSync(this.fd, b, 0, len, this.pos);
    this.buf = b;
    this.bufStart = this.pos;
  }
  private at(n: number): number {
    this.ensure(n);
    const o = this.pos - this.bufStart;
    this.pos += n;
    return o;
  }
  u8() {
    const o = this.at(1); // before touching this.buf: at() may load a new chunk
    return this.buf.readUInt8(o);
  }
  i8() {
    const o = this.at(1); // before touching this.buf: at() may load a new chunk
    return this.buf.readInt8(o);
  }
  u16() {
    const o = this.at(2); // before touching this.buf: at() may load a new chunk
    return this.buf.readUInt16LE(o);
  }
  i16() {
    const o = this.at(2); // before touching this.buf: at() may load a new chunk
    return this.buf.readInt16LE(o);
  }
  u32() {
    const o = this.at(4); // before touching this.buf: at() may load a new chunk
    return this.buf.readUInt32LE(o);
  }
  i32() {
    const o = this.at(4); // before touching this.buf: at() may load a new chunk
    return this.buf.readInt32LE(o);
  }
  f32() {
    const o = this.at(4); // before touching this.buf: at() may load a new chunk
    return this.buf.readFloatLE(o);
  }
  f64() {
    const o = this.at(8); // before touching this.buf: at() may load a new chunk
    return this.buf.readDoubleLE(o);
  }
  u64() {
    const o = this.at(8); // before touching this.buf: at() may load a new chunk
    return this.buf.readBigUInt64LE(o);
  }
  i64() {
    const o = this.at(8); // before touching this.buf: at() may load a new chunk
    return this.buf.readBigInt64LE(o);
  }
  str(what: string): string {
    const len = Number(this.u64());
    if (len > MAX_STRING) throw new RangeError(`${what} claims a string of ${len} bytes`);
    const o = this.at(len);
    return this.buf.toString('utf8', o, o + len);
  }
}

/**
 * Reads a GGUF header (metadata and tensor infos) without touching tensor data, and checks that it describes a file
 * that is really there: every tensor's data must lie inside the file. Refusals are AppErrors naming the file.
 */
export function readGgufHeader(file: string): GgufHeader {
  const name = path.basename(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw fileError(e, file);
  }
  if (st.isDirectory()) throw new AppError('not_a_file', `${name} is a folder, not a GGUF file`);
  if (!st.isFile()) throw new AppError('not_a_file', `${name} is not a regular file`);
  if (st.size === 0) throw new AppError('not_gguf', `${name} is empty (0 bytes), not a GGUF file`);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw fileError(e, file);
  }
  const notGguf = (why: string): never => {
    throw new AppError('not_gguf', `${name} ${why}`);
  };
  try {
    const first = Buffer.alloc(Math.min(4, st.size));
    fs.readSync(fd, first, 0, first.length, 0);
    if (first.length < 4 || first.readUInt32LE(0) !== MAGIC) {
      const shown = first.toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
      notGguf(`is not a GGUF file: it starts with bytes '${shown}'`);
    }
    const r = new Reader(fd, st.size, (at) => notGguf(`is truncated: its header ends early (at byte ${at} of ${st.size})`));
    r.u32();
    const version = r.u32();
    if (version < 2 || version > 3) notGguf(`is GGUF version ${version}; only versions 2 and 3 are supported`);
    const tensorCount = Number(r.u64());
    const kvCount = Number(r.u64());
    if (tensorCount > 1_000_000 || kvCount > 1_000_000) notGguf(`has an implausible header (${tensorCount} tensors, ${kvCount} keys): the file is damaged`);

    const metadata = new Map<string, MetaValue>();
    const scalar = (type: number, key: string): number | bigint | boolean | string => {
      switch (type) {
        case 0:
          return r.u8();
        case 1:
          return r.i8();
        case 2:
          return r.u16();
        case 3:
          return r.i16();
        case 4:
          return r.u32();
        case 5:
          return r.i32();
        case 6:
          return r.f32();
        case 7:
          return r.u8() !== 0;
        case 8:
          return r.str(key);
        case 10:
          return r.u64();
        case 11:
          return r.i64();
        case 12:
          return r.f64();
        default:
          return notGguf(`has an unknown value type ${type} for key '${key}' at byte ${r.pos}: the file is damaged`);
      }
    };
    for (let i = 0; i < kvCount; i++) {
      const key = r.str('a metadata key');
      const type = r.u32();
      if (type === 9) {
        const arrayType = r.u32();
        const length = Number(r.u64());
        // every item takes at least its type's size (a string its 8-byte length): a count the file cannot hold is
        // damage, refused now rather than read item by item up to the end of a multi-gigabyte file
        const itemBytes = ITEM_BYTES[arrayType];
        if (itemBytes !== undefined && length * itemBytes > st.size - r.pos) {
          notGguf(`is truncated: its header ends early (array '${key}' claims ${length} items, more than the ${st.size - r.pos} bytes left can hold)`);
        }
        const head: (number | string | bigint | boolean)[] = [];
        for (let j = 0; j < length; j++) {
          const v = scalar(arrayType, key);
          if (j < ARRAY_HEAD) head.push(v);
        }
        metadata.set(key, { arrayType, length, head });
      } else {
        metadata.set(key, scalar(type, key));
      }
    }
    if (metadata.size === 0 && tensorCount === 0) notGguf('has no metadata and no tensors');

    const rawTensors: { name: string; shape: number[]; type: number; rel: number }[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const tname = r.str('a tensor name');
      if (tname.length === 0) notGguf(`is damaged: tensor ${i} has an empty name`);
      const dims = r.u32();
      if (dims > 8) notGguf(`is damaged: tensor '${tname}' has ${dims} dimensions`);
      const shape: number[] = [];
      for (let d = 0; d < dims; d++) shape.push(Number(r.u64()));
      const type = r.u32();
      const rel = Number(r.u64());
      rawTensors.push({ name: tname, shape, type, rel });
    }
    const alignmentValue = metadata.get('general.alignment');
    const alignment = typeof alignmentValue === 'number' && alignmentValue > 0 ? alignmentValue : 32;
    const dataOffset = Math.ceil(r.pos / alignment) * alignment;

    const tensors = rawTensors.map((t): TensorInfo => {
      const traits = GGML_TYPES[t.type];
      if (!traits) notGguf(`has tensor '${t.name}' of unknown ggml type ${t.type}`);
      // As llama.cpp's GGUF reader (gguf.cpp): a row is whole blocks of its type, or the file is refused at load.
      if ((t.shape[0] ?? 1) % traits!.blockSize !== 0) {
        notGguf(`has tensor '${t.name}' of type ${traits!.name} with ${t.shape[0]} values per row, not a multiple of its block size ${traits!.blockSize}`);
      }
      const elements = t.shape.reduce((a, b) => a * b, 1);
      const byteSize = (elements / traits!.blockSize) * traits!.typeSize;
      const offset = dataOffset + t.rel;
      if (offset + byteSize > st.size) {
        notGguf(`is truncated: tensor '${t.name}' ends at byte ${offset + byteSize} but the file has ${st.size} bytes`);
      }
      return { name: t.name, shape: t.shape, type: t.type, offset, byteSize };
    });
    return { version, metadata, tensors, dataOffset, fileSize: st.size };
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('not_gguf', `${name} is damaged: ${(e as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
}
