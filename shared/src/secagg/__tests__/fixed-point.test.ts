import { describe, expect, it } from 'vitest';
import { CodedError } from '../../errors';
import { createRng } from '../../random';
import { decodeFixed, encodeFixed, fracBitsFor } from '../fixed-point';
import { maskInput } from '../masking';

describe('fixed point', () => {
  it('decodes the masked sum of n random vectors to the plain weighted sum within n * 2^-(F+1)', async () => {
    const rng = createRng(2024);
    const n = 9;
    const length = 4000;
    const clip = 0.5;
    const weights = Array.from({ length: n }, (_, i) => 1 + i * 13);
    const F = fracBitsFor(weights.reduce((a, b) => a + b, 0), clip);
    const seeds = Array.from({ length: n }, (_, i) => new Uint8Array(32).fill(i + 1));
    const sum = new Uint32Array(length + 1);
    const plain = new Float64Array(length);
    for (let i = 0; i < n; i++) {
      const delta = Float32Array.from({ length }, () => (rng() * 2 - 1) * clip * 1.3);
      delta.forEach((v, k) => (plain[k] += weights[i]! * Math.max(-clip, Math.min(clip, v))));
      const x = encodeFixed(delta, weights[i]!, clip, F);
      // Ring masks: i adds PRG(seed_i) and removes PRG(seed_{i-1}), so they cancel over the sum.
      await maskInput(x, [
        { seed: seeds[i]!, sign: 1 },
        { seed: seeds[(i + n - 1) % n]!, sign: -1 },
      ]);
      for (let k = 0; k <= length; k++) sum[k] = sum[k]! + x[k]!;
    }
    const decoded = decodeFixed(sum, F);
    expect(decoded.weight).toBe(weights.reduce((a, b) => a + b, 0));
    let worst = 0;
    for (let k = 0; k < length; k++) worst = Math.max(worst, Math.abs(decoded.sum[k]! - plain[k]!));
    expect(worst).toBeLessThanOrEqual(n * 2 ** -(F + 1) * (1 + 1e-9));
    // The bound is not vacuous: the error is of its order, not zero.
    expect(worst).toBeGreaterThan(2 ** -(F + 3));
  });

  it('clips to [-B, B] and encodes negatives as two complement words', () => {
    const x = encodeFixed(Float32Array.of(-3, 3, -0.25, 0), 2, 1, 8);
    expect(Array.from(x)).toEqual([(-512 >>> 0), 512, (-128 >>> 0), 0, 2]);
  });

  it('refuses NaN', () => {
    expect(() => encodeFixed(Float32Array.of(0, NaN), 1, 1, 8)).toThrow(CodedError);
  });

  it('chooses F so the whole sum fits int32, and refuses ranges below 8 bits', () => {
    expect(fracBitsFor(1, 1e-9)).toBe(30);
    const F = fracBitsFor(1000, 2);
    expect(1000 * 2 * 2 ** F).toBeLessThanOrEqual(2 ** 30);
    expect(1000 * 2 * 2 ** (F + 1)).toBeGreaterThan(2 ** 30 / 2);
    try {
      fracBitsFor(1e6, 100);
      expect.unreachable();
    } catch (error) {
      expect((error as CodedError).code).toBe('HUB_ERR_SECAGG_RANGE');
    }
  });
});
