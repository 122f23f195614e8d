import { describe, expect, it } from 'vitest';
import { capShares } from '../client-weights';

const shares = (weights: number[]) => {
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
};

describe('capShares', () => {
  it('leaves weights alone when no client is above the cap', () => {
    expect(capShares([300, 200, 100], 0.5)).toEqual([300, 200, 100]);
  });

  it('lowers a client declaring 10,000,000 samples to the weight of the other two together', () => {
    expect(capShares([100, 10_000_000, 100], 0.5)).toEqual([100, 200, 100]);
  });

  it('caps several large clients at one common value, keeping the small ones', () => {
    const capped = capShares([1000, 1000, 10, 10, 10], 0.3);
    for (const share of shares(capped)) expect(share).toBeLessThanOrEqual(0.3 + 1e-12);
    expect(capped[0]).toBe(capped[1]);
    expect(capped.slice(2)).toEqual([10, 10, 10]);
    // c = 0.3 (2c + 30) => c = 22.5
    expect(capped[0]).toBeCloseTo(22.5, 9);
  });

  it('weighs everyone equally when the cap is below 1/n', () => {
    expect(capShares([10, 500], 0.5)).toEqual([10, 10]);
    expect(capShares([10, 20, 30], 0.2)).toEqual([10, 10, 10]);
  });

  it('is off at a share of 1, and for a single client', () => {
    expect(capShares([1, 1_000_000], 1)).toEqual([1, 1_000_000]);
    expect(capShares([42], 0.1)).toEqual([42]);
    expect(capShares([], 0.5)).toEqual([]);
  });

  it('never lets one client exceed the cap on random inputs (seeded)', () => {
    let x = 12345;
    const next = () => ((x = (x * 1103515245 + 12345) >>> 0), x / 2 ** 32);
    for (let trial = 0; trial < 500; trial++) {
      const n = 3 + Math.floor(next() * 10);
      const declared = Array.from({ length: n }, () => 1 + Math.floor(next() ** 4 * 1e6));
      const cap = 1 / n + next() * (1 - 1 / n);
      const capped = capShares(declared, cap);
      for (const share of shares(capped)) expect(share).toBeLessThanOrEqual(cap + 1e-9);
      capped.forEach((w, i) => expect(w).toBeLessThanOrEqual(declared[i]!));
    }
  });
});
