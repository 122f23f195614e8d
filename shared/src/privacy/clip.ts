/**
 * L2 clipping of a model change to the sensitivity the DP noise is calibrated for. The bound is exact on the
 * float32 values that leave this function (their float64 norm <= clipNorm), not merely on the float64 scale:
 * rounding each scaled coordinate to float32 can push the norm up by as much as 2^-24 relative.
 */
import { CodedError } from '../errors';

/** L2 norm of the values, summed in float64 in index order (the order every caller measures it in). */
export function l2Norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum);
}

function scaled(delta: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) out[i] = delta[i]! * scale;
  return out;
}

/**
 * Scales `delta` down to L2 norm clipNorm when its norm is above it. `norm` is the input's norm; `values` is
 * a new array when clipped and the input itself (unchanged) when already within. Refuses NaN and infinite
 * coordinates with HUB_ERR_NON_FINITE.
 */
export function clipL2(delta: Float32Array, clipNorm: number): { values: Float32Array; norm: number; clipped: boolean } {
  if (!Number.isFinite(clipNorm) || clipNorm <= 0) {
    throw new CodedError('HUB_ERR_INVALID_SETTINGS', `clip norm must be a finite number above 0, got ${clipNorm}`);
  }
  for (let i = 0; i < delta.length; i++) {
    if (!Number.isFinite(delta[i]!)) throw new CodedError('HUB_ERR_NON_FINITE', `update coordinate ${i} is ${delta[i]}`);
  }
  const norm = l2Norm(delta);
  if (norm <= clipNorm) return { values: delta, norm, clipped: false };
  let scale = clipNorm / norm;
  let values = scaled(delta, scale);
  // A retry shrinks the scale by 2^-23 relative, more than float32 rounding (2^-24) can add, so one is the rule;
  // the step doubles on each further retry for subnormal coordinates, whose rounding error is not relative.
  for (let tries = 0; l2Norm(values) > clipNorm; tries++) {
    if (tries === 23) throw new CodedError('HUB_ERR_INTERNAL', `could not clip to norm ${clipNorm}`);
    scale *= 1 - 2 ** (tries - 23);
    values = scaled(delta, scale);
  }
  return { values, norm, clipped: true };
}
