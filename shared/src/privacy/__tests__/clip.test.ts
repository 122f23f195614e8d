import { describe, expect, it } from 'vitest';
import { createRng } from '../../random';
import { codeOf } from '../../secagg/__tests__/support/code-of';
import { clipL2, l2Norm } from '../clip';

const CLIP_NORMS = [0.1, 1 / 3, 1, 2.5, 1e-3, 7.77, 0.7];

/** What clipping without the ulp correction gives: float32(v · C/‖v‖), which can overshoot C. */
function naiveClip(delta: Float32Array, clipNorm: number): Float32Array {
  const scale = clipNorm / l2Norm(delta);
  return Float32Array.from(delta, (v) => v * scale);
}

/** Vectors whose scaled coordinates all round up or sit on one coordinate: where float32 rounding overshoots. */
function adversarial(): Float32Array[] {
  const out: Float32Array[] = [];
  for (let n = 1; n <= 64; n++) out.push(new Float32Array(n).fill(1));
  for (const n of [3, 7, 100, 1000, 10_007]) out.push(new Float32Array(n).fill(123.456));
  for (const v of [1, 3, 1e-20, 1e20, 0.30000001]) out.push(Float32Array.from([v]), Float32Array.from([v, 0, 0, 0]));
  return out;
}

function random(seed: number): Float32Array[] {
  const rng = createRng(seed);
  const out: Float32Array[] = [];
  for (let k = 0; k < 300; k++) {
    const n = 1 + Math.floor(rng() * (k % 10 === 0 ? 20_000 : 200));
    const magnitude = 10 ** (rng() * 40 - 20);
    out.push(Float32Array.from({ length: n }, () => (rng() * 2 - 1) * magnitude));
  }
  return out;
}

describe('clipL2', () => {
  it('bounds the float32 result exactly on adversarial vectors where plain scaling overshoots', () => {
    let naiveOvershoots = 0;
    for (const delta of adversarial()) {
      for (const clipNorm of CLIP_NORMS) {
        if (l2Norm(delta) <= clipNorm) continue;
        if (l2Norm(naiveClip(delta, clipNorm)) > clipNorm) naiveOvershoots++;
        const { values, clipped } = clipL2(delta, clipNorm);
        expect(clipped).toBe(true);
        expect(l2Norm(values)).toBeLessThanOrEqual(clipNorm);
        expect(l2Norm(values)).toBeGreaterThan(clipNorm * (1 - 1e-6));
      }
    }
    // Without the correction these vectors do break the bound, so the assertion above can fail.
    expect(naiveOvershoots).toBeGreaterThan(50);
  });

  it('bounds the norm exactly and keeps the direction on 300 random vectors of magnitudes 1e-20 to 1e20', () => {
    let naiveOvershoots = 0;
    for (const delta of random(7)) {
      for (const clipNorm of CLIP_NORMS) {
        const norm = l2Norm(delta);
        const { values, clipped, norm: reported } = clipL2(delta, clipNorm);
        expect(reported).toBe(norm);
        expect(clipped).toBe(norm > clipNorm);
        expect(l2Norm(values)).toBeLessThanOrEqual(clipNorm);
        if (!clipped) continue;
        if (l2Norm(naiveClip(delta, clipNorm)) > clipNorm) naiveOvershoots++;
        const scale = clipNorm / norm;
        // Direction: every coordinate is the input's times (almost) the same scale, to float32 precision.
        for (let i = 0; i < delta.length; i += 17) {
          expect(Math.abs(values[i]! - delta[i]! * scale)).toBeLessThanOrEqual(Math.abs(delta[i]! * scale) * 2 ** -21 + 1e-45);
        }
      }
    }
    // About half of these overshoot when scaled without the correction.
    expect(naiveOvershoots).toBeGreaterThan(100);
  });

  it('returns the input itself, unchanged, when it is already within the norm', () => {
    const delta = Float32Array.from([0.3, -0.4]);
    const result = clipL2(delta, 0.5000001);
    expect(result.values).toBe(delta);
    expect(result.clipped).toBe(false);
    expect(Array.from(delta)).toEqual([Math.fround(0.3), Math.fround(-0.4)]);
    expect(clipL2(new Float32Array(4), 1).values).toHaveLength(4);
  });

  it('does not modify the input when it clips', () => {
    const delta = Float32Array.from([3, 4]);
    const { values } = clipL2(delta, 1);
    expect(values).not.toBe(delta);
    expect(Array.from(delta)).toEqual([3, 4]);
    expect(l2Norm(values)).toBeLessThanOrEqual(1);
  });

  it('refuses NaN or infinite coordinates with HUB_ERR_NON_FINITE and a clip norm <= 0 with HUB_ERR_INVALID_SETTINGS', () => {
    expect(codeOf(() => clipL2(Float32Array.from([1, NaN]), 1))).toBe('HUB_ERR_NON_FINITE');
    expect(codeOf(() => clipL2(Float32Array.from([Infinity]), 1))).toBe('HUB_ERR_NON_FINITE');
    expect(codeOf(() => clipL2(Float32Array.from([1]), 0))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => clipL2(Float32Array.from([1]), NaN))).toBe('HUB_ERR_INVALID_SETTINGS');
  });
});
