/** Lossy encodings of float32 values for the wire: IEEE half floats and 8-bit affine quantisation. */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE 754 binary16 bits, round to nearest even; overflow goes to infinity, NaN stays NaN. */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: shift the implicit-1 mantissa into place, rounding to nearest even.
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let out = m >>> shift;
    if (rest > half || (rest === half && out & 1)) out += 1;
    return sign | out;
  }
  let out = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && out & 1)) out += 1;
  return out;
}

/** IEEE 754 binary16 bits -> number. */
export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function encodeHalf(values: Float32Array, out: Uint16Array): void {
  for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]!);
}

/** A decode table for all 65,536 halves makes decoding a lookup. */
let halfTable: Float32Array | null = null;
export function decodeHalf(bits: Uint16Array, out: Float32Array): void {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = fromHalf(i);
  }
  const table = halfTable;
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
}

/** Per-tensor affine int8: value ~ offset + (q + 128) * scale, with q in -128..127. */
export interface Int8Params {
  scale: number;
  offset: number;
}

/** Quantises one tensor; the error is at most scale / 2 = (max - min) / 510. */
export function quantizeInt8(values: Float32Array, out: Int8Array): Int8Params {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new Error(`cannot quantise non-finite value ${v} at ${i}`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) return { scale: 0, offset: 0 };
  const scale = max > min ? (max - min) / 255 : 0;
  const inv = scale > 0 ? 1 / scale : 0;
  for (let i = 0; i < values.length; i++) {
    const q = Math.round((values[i]! - min) * inv);
    out[i] = Math.min(255, Math.max(0, q)) - 128;
  }
  return { scale, offset: min };
}

export function dequantizeInt8(q: Int8Array, params: Int8Params, out: Float32Array): void {
  const { scale, offset } = params;
  for (let i = 0; i < q.length; i++) out[i] = offset + (q[i]! + 128) * scale;
}
