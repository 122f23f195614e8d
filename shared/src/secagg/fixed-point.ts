import { CodedError } from '../errors';

export const MIN_FRAC_BITS = 8;
export const MAX_FRAC_BITS = 30;

/**
 * Fractional bits F so that the sum of every participant's w * clip * 2^F stays below 2^30 (half of int32, so the
 * rounding of n terms cannot overflow either). Refuses (HUB_ERR_SECAGG_RANGE) when F would fall below 8.
 */
export function fracBitsFor(totalWeight: number, clip: number): number {
  const f = Math.floor(Math.log2((2 ** 31 - 1) / (totalWeight * clip))) - 1;
  if (!Number.isFinite(f) || f < MIN_FRAC_BITS) {
    throw new CodedError(
      'HUB_ERR_SECAGG_RANGE',
      `total weight ${totalWeight} with clip ${clip} leaves ${f} fractional bits; at least ${MIN_FRAC_BITS} are needed`,
    );
  }
  return Math.min(f, MAX_FRAC_BITS);
}

/**
 * The client's plain input x: round(w * clip(v) * 2^F) per coordinate as two's-complement uint32, then w itself.
 * Per-term error is at most 2^-(F+1) (in units of w * v), so a decoded sum of n terms is within n * 2^-(F+1).
 */
export function encodeFixed(delta: Float32Array, weight: number, clip: number, fracBits: number): Uint32Array {
  const n = delta.length;
  const out = new Uint32Array(n + 1);
  const scale = weight * 2 ** fracBits;
  for (let i = 0; i < n; i++) {
    const v = delta[i]!;
    if (v !== v) throw new CodedError('HUB_ERR_NON_FINITE', `update coordinate ${i} is NaN`);
    const c = v > clip ? clip : v < -clip ? -clip : v;
    // Storing a negative int into a Uint32Array wraps it to its two's complement.
    out[i] = Math.round(c * scale);
  }
  out[n] = weight;
  return out;
}

/** Reads the unmasked sum: int32 coordinates over 2^F, and the weight total from the last word. */
export function decodeFixed(sum: Uint32Array, fracBits: number): { sum: Float64Array; weight: number } {
  const n = sum.length - 1;
  const out = new Float64Array(n);
  const inv = 2 ** -fracBits;
  for (let i = 0; i < n; i++) out[i] = (sum[i]! | 0) * inv;
  return { sum: out, weight: sum[n]! | 0 };
}
