import { describe, expect, it } from 'vitest';
import { createRng } from '@fl/shared';
import { FoldSum, foldScalar, simdAvailable } from '../simd-fold';

describe('SIMD fold kernel', () => {
  it('is available in Node 20', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('gives bit-identical sums to the scalar loop, for lengths that are and are not multiples of four', () => {
    const rng = createRng(3);
    for (const length of [1, 3, 4, 5, 17, 1000, 4099]) {
      const kernel = new FoldSum(length);
      const reference = new Float64Array(length);
      for (let u = 0; u < 25; u++) {
        const values = Float32Array.from({ length }, () => (rng() - 0.5) * 10 ** Math.floor(rng() * 8 - 4));
        const weight = 1 + Math.floor(rng() * 5000);
        kernel.fold(values, weight);
        foldScalar(reference, values, weight);
      }
      expect(Array.from(kernel.sum)).toEqual(Array.from(reference));
    }
  });

  it('folds what was decoded into its staging slot, and leaves the padding past the length alone', () => {
    const kernel = new FoldSum(5);
    kernel.staging.set([1, 2, 3, 4, 5]);
    kernel.foldStaged(2);
    kernel.staging.set([0.5, 0, 0, 0, -1]);
    kernel.foldStaged(4);
    expect(Array.from(kernel.sum)).toEqual([4, 4, 6, 8, 6]);
  });

  it('refuses an update of the wrong length', () => {
    expect(() => new FoldSum(8).fold(new Float32Array(7), 1)).toThrow(/7 values, the sum 8/);
  });
});
