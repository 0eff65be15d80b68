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
