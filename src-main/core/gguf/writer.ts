import fs from 'node:fs';

/** GGUF metadata value types (gguf-py's GGUFValueType). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

/** ggml tensor types this writer can store. */
export const GgmlType = { F32: 0, F16: 1 } as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

export type GgufScalar = { type: Exclude<GgufValueType, 9>; value: number | bigint | boolean | string };
export type GgufValue = GgufScalar | { type: 9; itemType: Exclude<GgufValueType, 9>; items: (number | bigint | boolean | string)[] } | { raw: Buffer };

export interface GgufTensorSpec {
  name: string;
  /** ggml order: ne[0] is the row length (fastest-varying). */
  shape: number[];
  type: GgmlType;
  /** Row-major values, ne[0] fastest; converted to `type` on write. */
  data: Float32Array;
}

export const u32 = (value: number): GgufScalar => ({ type: GgufValueType.UINT32, value });
export const f32 = (value: number): GgufScalar => ({ type: GgufValueType.FLOAT32, value });
export const str = (value: string): GgufScalar => ({ type: GgufValueType.STRING, value });

const ALIGNMENT = 32;

/** Growable little-endian byte sink. */
class Sink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number) { this.ensure(1); this.buf.writeUInt8(v, this.length); this.length += 1; }
  i8(v: number) { this.ensure(1); this.buf.writeInt8(v, this.length); this.length += 1; }
  u16(v: number) { this.ensure(2); this.buf.writeUInt16LE(v, this.length); this.length += 2; }
  i16(v: number) { this.ensure(2); this.buf.writeInt16LE(v, this.length); this.length += 2; }
  u32(v: number) { this.ensure(4); this.buf.writeUInt32LE(v, this.length); this.length += 4; }
  i32(v: number) { this.ensure(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
  f32(v: number) { this.ensure(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
  f64(v: number) { this.ensure(8); this.buf.writeDoubleLE(v, this.length); this.length += 8; }
  u64(v: number | bigint) { this.ensure(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  i64(v: number | bigint) { this.ensure(8); this.buf.writeBigInt64LE(BigInt(v), this.length); this.length += 8; }
  bytes(b: Buffer) { this.ensure(b.length); b.copy(this.buf, this.length); this.length += b.length; }
  str(s: string) { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.bytes(b); }
  pad(to: number) { const n = (to - (this.length % to)) % to; this.ensure(n); this.buf.fill(0, this.length, this.length + n); this.length += n; }
  out(): Buffer { return this.buf.subarray(0, this.length); }
}

function writeScalar(s: Sink, type: Exclude<GgufValueType, 9>, v: number | bigint | boolean | string): void {
  switch (type) {
    case 0: return s.u8(Number(v));
    case 1: return s.i8(Number(v));
    case 2: return s.u16(Number(v));
    case 3: return s.i16(Number(v));
    case 4: return s.u32(Number(v));
    case 5: return s.i32(Number(v));
    case 6: return s.f32(Number(v));
    case 7: return s.u8(v ? 1 : 0);
    case 8: return s.str(String(v));
    case 10: return s.u64(typeof v === 'bigint' ? v : Number(v));
    case 11: return s.i64(typeof v === 'bigint' ? v : Number(v));
    case 12: return s.f64(Number(v));
  }
}

/** IEEE 754 binary16 from a float, round to nearest even. */
const halfScratch = new Float32Array(1);
const halfBits = new Uint32Array(halfScratch.buffer);
export function toHalf(value: number): number {
  halfScratch[0] = value;
  const x = halfBits[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant = (mant | 0x800000) >>> (1 - e);
    if (mant & 0x1000 && mant & 0x2fff) mant += 0x2000;
    return sign | (mant >>> 13);
  }
  if (mant & 0x1000 && mant & 0x2fff) {
    mant += 0x2000;
    if (mant & 0x800000) {
      mant = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | (mant >>> 13);
}

function tensorBytes(t: GgufTensorSpec): Buffer {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new Error(`tensor ${t.name}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  if (t.type === GgmlType.F32) return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const half = new Uint16Array(n);
  for (let i = 0; i < n; i++) half[i] = toHalf(t.data[i]!);
  return Buffer.from(half.buffer);
}

/**
 * Writes a GGUF v3 file (gguf-py's gguf_writer.py layout): header, metadata, tensor infos, then tensor data, each
 * aligned to `general.alignment` (32). Enough for test fixtures, demo models and (later) merged adapters.
 */
export function writeGguf(file: string, metadata: [string, GgufValue][], tensors: GgufTensorSpec[]): void {
  const head = new Sink();
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
      for (const item of value.items) writeScalar(head, value.itemType, item);
    } else {
      head.u32(value.type);
      writeScalar(head, value.type, value.value);
    }
  }
  const datas = tensors.map(tensorBytes);
  let offset = 0;
  tensors.forEach((t, i) => {
    head.str(t.name);
    head.u32(t.shape.length);
    for (const d of t.shape) head.u64(d);
    head.u32(t.type);
    head.u64(offset);
    offset += datas[i]!.length;
    offset += (ALIGNMENT - (offset % ALIGNMENT)) % ALIGNMENT;
  });
  head.pad(ALIGNMENT);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head.out());
    for (const d of datas) {
      fs.writeSync(fd, d);
      const pad = (ALIGNMENT - (d.length % ALIGNMENT)) % ALIGNMENT;
      if (pad) fs.writeSync(fd, Buffer.alloc(pad));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads a GGUF file's metadata as raw, re-writable entries (key → type tag + value bytes), so keys such as
 * `tokenizer.ggml.*` can be copied into another file byte for byte.
 */
export function readRawMetadata(file: string): Map<string, Buffer> {
  const buf = fs.readFileSync(file);
  let p = 0;
  const u32r = () => { const v = buf.readUInt32LE(p); p += 4; return v; };
  const u64r = () => { const v = Number(buf.readBigUInt64LE(p)); p += 8; return v; };
  const skipValue = (type: number): void => {
    const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    if (type === GgufValueType.STRING) {
      const len = u64r(); // (not `p += u64r()`: that adds to p's value from before the read)
      p += len;
    }
    else if (type === GgufValueType.ARRAY) {
      const itemType = u32r();
      const count = u64r();
      for (let i = 0; i < count; i++) skipValue(itemType);
    } else if (sizes[type] !== undefined) p += sizes[type]!;
    else throw new Error(`${file}: unknown GGUF value type ${type} at byte ${p}`);
  };
  if (u32r() !== 0x46554747) throw new Error(`${file} is not a GGUF file`);
  u32r();
  u64r();
  const kvCount = u64r();
  const out = new Map<string, Buffer>();
  for (let i = 0; i < kvCount; i++) {
    const keyLen = u64r();
    const key = buf.toString('utf8', p, p + keyLen);
    p += keyLen;
    const start = p;
    skipValue(u32r());
    out.set(key, Buffer.from(buf.subarray(start, p)));
  }
  return out;
}
