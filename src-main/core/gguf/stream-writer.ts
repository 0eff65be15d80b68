import fs from 'node:fs';
import { GGML_TYPES } from './ggml-types.js';
import { GgmlType, GgufValueType, toHalf, type GgufTensorSpec, type GgufValue } from './writer.js';

/**
 * Writing GGUF files (gguf-py's gguf_writer.py layout). The header (with every tensor's offset, computable from shapes
 * and types alone) is written first, then each tensor's data is appended in as many pieces as the caller likes, in the
 * declared order: a merged multi-GB model is never held in memory. `writeGguf` is the all-at-once form for small files
 * (fixtures, converted adapters).
 */
export interface GgufTensorPlan {
  name: string;
  /** ggml order: ne[0] is the row length. */
  shape: number[];
  /**
   * F32 or F16 for tensors given as values (`write`); any ggml type (ggml-types.ts) for tensors given as bytes already
   * in that type (`writeEncoded`), e.g. a quantized tensor copied as is.
   */
  type: GgmlType | number;
}

const DEFAULT_ALIGNMENT = 32;

/** Bytes of a tensor of `type` with `n` elements. */
function byteSize(t: GgufTensorPlan): number {
  const traits = GGML_TYPES[t.type];
  if (!traits) throw new Error(`tensor ${t.name}: unknown ggml type ${t.type}`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n % traits.blockSize !== 0) throw new Error(`tensor ${t.name}: ${n} elements is not a whole number of ${traits.name} blocks`);
  return (n / traits.blockSize) * traits.typeSize;
}

/** Little-endian encoder for the header, grown as needed. */
class HeaderBytes {
  private parts: Buffer[] = [];
  length = 0;
  private push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  bytes(b: Buffer): void {
    this.push(b);
  }
  scalar(type: Exclude<GgufValueType, 9>, v: number | bigint | boolean | string): void {
    const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    if (type === GgufValueType.STRING) return this.str(String(v));
    const b = Buffer.alloc(sizes[type]!);
    switch (type) {
      case 0:
        b.writeUInt8(Number(v));
        break;
      case 1:
        b.writeInt8(Number(v));
        break;
      case 2:
        b.writeUInt16LE(Number(v));
        break;
      case 3:
        b.writeInt16LE(Number(v));
        break;
      case 4:
        b.writeUInt32LE(Number(v));
        break;
      case 5:
        b.writeInt32LE(Number(v));
        break;
      case 6:
        b.writeFloatLE(Number(v));
        break;
      case 7:
        b.writeUInt8(v ? 1 : 0);
        break;
      case 10:
        b.writeBigUInt64LE(BigInt(v));
        break;
      case 11:
        b.writeBigInt64LE(BigInt(v));
        break;
      case 12:
        b.writeDoubleLE(Number(v));
        break;
    }
    this.push(b);
  }
  out(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

const pad = (n: number, to: number) => (to - (n % to)) % to;

/** The alignment a metadata list asks for (general.alignment, a u32), else GGUF's default of 32. */
function alignmentOf(metadata: [string, GgufValue][]): number {
  const entry = metadata.find(([k]) => k === 'general.alignment');
  if (!entry) return DEFAULT_ALIGNMENT;
  const v = entry[1];
  // Raw entries (copied byte for byte) start with their u32 value type.
  if ('raw' in v) return v.raw.readUInt32LE(0) === GgufValueType.UINT32 ? v.raw.readUInt32LE(4) : DEFAULT_ALIGNMENT;
  return v.type === GgufValueType.UINT32 && Number(v.value) > 0 ? Number(v.value) : DEFAULT_ALIGNMENT;
}

/**
 * Writes one GGUF v3 file front to back: `open` writes the header, then `write` (values, converted to the tensor's type)
 * or `writeEncoded` (bytes already in its type) append to the current tensor, in as many pieces as the caller likes
 * (e.g. row blocks), moving on to the next tensor once the current one is complete. `close` checks that every tensor
 * got all its bytes. Memory use is one piece at a time.
 */
export class GgufStreamWriter {
  private current = 0;
  /** Bytes already written into the current tensor. */
  private filled = 0;
  private closed = false;
  private readonly sizes: number[];
  bytesWritten = 0;

  private constructor(
    private readonly fd: number,
    private readonly tensors: GgufTensorPlan[],
    private readonly alignment: number,
  ) {
    this.sizes = tensors.map(byteSize);
    this.skipEmpty();
  }

  /** Creates (truncates) `file` and writes the header: metadata in the given order, then the tensor infos. */
  static open(file: string, metadata: [string, GgufValue][], tensors: GgufTensorPlan[]): GgufStreamWriter {
    const alignment = alignmentOf(metadata);
    const head = new HeaderBytes();
    head.u32(0x46554747); // "GGUF"
    head.u32(3);
    head.u64(tensors.length);
    head.u64(metadata.length);
    for (const [key, value] of metadata) {
      head.str(key);
      if ('raw' in value) {
        head.bytes(value.raw);
      } else if (value.type === GgufValueType.ARRAY) {
        head.u32(GgufValueType.ARRAY);
        head.u32(value.itemType);
        head.u64(value.items.length);
        for (const item of value.items) head.scalar(value.itemType, item);
      } else {
        head.u32(value.type);
        head.scalar(value.type, value.value);
      }
    }
    let offset = 0;
    for (const t of tensors) {
      head.str(t.name);
      head.u32(t.shape.length);
      for (const d of t.shape) head.u64(d);
      head.u32(t.type);
      head.u64(offset);
      const size = byteSize(t);
      offset += size + pad(size, alignment);
    }
    const bytes = head.out();
    const fd = fs.openSync(file, 'w');
    try {
      const writer = new GgufStreamWriter(fd, tensors, alignment);
      writer.raw(bytes);
      writer.raw(Buffer.alloc(pad(bytes.length, alignment)));
      return writer;
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** The tensor the next write goes to, or null once all are complete. */
  get currentTensor(): GgufTensorPlan | null {
    return this.tensors[this.current] ?? null;
  }

  /** Appends `values` to the current tensor, which must be F32 or F16, converted to its type. */
  write(values: Float32Array): void {
    const t = this.expect();
    if (t.type === GgmlType.F32) {
      this.append(t, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    } else if (t.type === GgmlType.F16) {
      const half = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) half[i] = toHalf(values[i]!);
      this.append(t, Buffer.from(half.buffer));
    } else {
      throw new Error(`tensor ${t.name} is ${GGML_TYPES[t.type]?.name ?? t.type}: only F32 and F16 tensors take values; give its bytes to writeEncoded`);
    }
  }

  /** Appends bytes already in the current tensor's type (a straight copy; quantized data in whole blocks). */
  writeEncoded(bytes: Buffer): void {
    const t = this.expect();
    const unit = GGML_TYPES[t.type]!.typeSize;
    if (bytes.length % unit !== 0) throw new Error(`tensor ${t.name}: ${bytes.length} bytes is not a whole number of ${GGML_TYPES[t.type]!.name} blocks`);
    this.append(t, bytes);
  }

  /** Closes the file; throws if a tensor is incomplete (the file would be unreadable). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
    const t = this.tensors[this.current];
    if (t) throw new Error(`the file was closed before tensor ${t.name} (${this.current + 1} of ${this.tensors.length}) was complete`);
  }

  /** Closes the file without checks (after a failure; the caller deletes it). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }

  private expect(): GgufTensorPlan {
    if (this.closed) throw new Error('the file is closed');
    const t = this.tensors[this.current];
    if (!t) throw new Error(`all ${this.tensors.length} tensors are already written`);
    return t;
  }

  private append(t: GgufTensorPlan, bytes: Buffer): void {
    const left = this.sizes[this.current]! - this.filled;
    if (bytes.length > left) throw new Error(`tensor ${t.name}: ${bytes.length} bytes given but only ${left} remain`);
    this.raw(bytes);
    this.filled += bytes.length;
    if (this.filled < this.sizes[this.current]!) return;
    const p = pad(this.filled, this.alignment);
    if (p) this.raw(Buffer.alloc(p));
    this.current++;
    this.filled = 0;
    this.skipEmpty();
  }

  private raw(b: Buffer): void {
    let done = 0;
    while (done < b.length) done += fs.writeSync(this.fd, b, done, b.length - done);
    this.bytesWritten += b.length;
  }

  /** Zero-element tensors take no bytes (and get no padding: their size is 0). */
  private skipEmpty(): void {
    while (this.current < this.tensors.length && this.sizes[this.current] === 0) this.current++;
  }
}

/** Writes a whole GGUF v3 file: metadata in the given order, then every tensor (F32 or F16), aligned as asked (32). */
export function writeGguf(file: string, metadata: [string, GgufValue][], tensors: GgufTensorSpec[]): void {
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`tensor ${t.name}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
  const writer = GgufStreamWriter.open(
    file,
    metadata,
    tensors.map((t) => ({ name: t.name, shape: t.shape, type: t.type })),
  );
  try {
    for (const t of tensors) if (t.data.length) writer.write(t.data);
    writer.close();
  } catch (e) {
    writer.abandon();
    throw e;
  }
}

const HEADER_CHUNK = 1 << 20;

/**
 * A GGUF file's metadata as raw, re-writable entries (key → value type tag + value bytes, in file order), so keys such
 * as `tokenizer.ggml.*` can be copied into another file byte for byte. Reads only the header, chunk by chunk: a real
 * model's gigabytes never enter memory.
 */
export function readRawMetadata(file: string): Map<string, Buffer> {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let buf = Buffer.alloc(0);
    let bufStart = 0;
    let p = 0;
    /** Makes bytes [p, p + n) available in buf and returns their index in it. */
    const need = (n: number): number => {
      if (p + n > size) throw new Error(`${file}: the GGUF header ends early (at byte ${p} of ${size})`);
      if (p < bufStart || p + n > bufStart + buf.length) {
        const len = Math.min(Math.max(n, HEADER_CHUNK), size - p);
        buf = Buffer.alloc(len);
        fs.readSync(fd, buf, 0, len, p);
        bufStart = p;
      }
      return p - bufStart;
    };
    // (need() before touching buf: it may load another chunk into a new buffer)
    const u32 = () => {
      const at = need(4);
      p += 4;
      return buf.readUInt32LE(at);
    };
    const u64 = () => {
      const at = need(8);
      p += 8;
      return Number(buf.readBigUInt64LE(at));
    };
    const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    const skipValue = (type: number): void => {
      if (type === GgufValueType.STRING) {
        const len = u64(); // (not `p += u64()`: that adds to p's value from before the read)
        p += len;
      } else if (type === GgufValueType.ARRAY) {
        const itemType = u32();
        const count = u64();
        if (sizes[itemType] !== undefined) p += count * sizes[itemType]!;
        else for (let i = 0; i < count; i++) skipValue(itemType);
      } else if (sizes[type] !== undefined) p += sizes[type]!;
      else throw new Error(`${file}: unknown GGUF value type ${type} at byte ${p}`);
    };
    /** Bytes [start, end) of the file, which may span several chunks. */
    const slice = (start: number, end: number): Buffer => {
      if (start >= bufStart && end <= bufStart + buf.length) return Buffer.from(buf.subarray(start - bufStart, end - bufStart));
      const out = Buffer.alloc(end - start);
      fs.readSync(fd, out, 0, out.length, start);
      return out;
    };
    if (u32() !== 0x46554747) throw new Error(`${file} is not a GGUF file`);
    u32(); // version
    u64(); // tensor count
    const kvCount = u64();
    const out = new Map<string, Buffer>();
    for (let i = 0; i < kvCount; i++) {
      const keyLen = u64();
      const at = need(keyLen);
      const key = buf.toString('utf8', at, at + keyLen);
      p += keyLen;
      const start = p;
      skipValue(u32());
      if (p > size) throw new Error(`${file}: the GGUF header ends early (in key ${key})`);
      out.set(key, slice(start, p));
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
