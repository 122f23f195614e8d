import { describe, expect, it } from 'vitest';
import { createRng } from '@fl/shared';
import { createFedAvg, fedAvg, finishFedAvg, foldUpdate } from '../fedavg';

const clients = [
  { values: Float32Array.of(1, 2, 3, 4), samples: 100 },
  { values: Float32Array.of(5, 6, 7, 8), samples: 300 },
  { values: Float32Array.of(-1, 0, 0.5, 10), samples: 600 },
];
// By hand, total weight 1000:
//  [0] (100*1  + 300*5 + 600*-1 ) / 1000 = (100 + 1500 - 600) / 1000 = 1.0
//  [1] (100*2  + 300*6 + 600*0  ) / 1000 = (200 + 1800)       / 1000 = 2.0
//  [2] (100*3  + 300*7 + 600*0.5) / 1000 = (300 + 2100 + 300) / 1000 = 2.7
//  [3] (100*4  + 300*8 + 600*10 ) / 1000 = (400 + 2400 + 6000)/ 1000 = 8.8
const expected = [1.0, 2.0, 2.7, 8.8];

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

function expectRelativelyClose(actual: Float32Array, reference: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(reference.length);
  for (let i = 0; i < actual.length; i++) {
    const ref = reference[i]!;
    const err = Math.abs(actual[i]! - ref) / Math.max(Math.abs(ref), 1e-30);
    expect(err, `index ${i}: ${actual[i]} vs ${ref}`).toBeLessThanOrEqual(tolerance);
  }
}

describe('fedAvg (batch)', () => {
  it('computes the sample-weighted mean of unequal clients, by hand', () => {
    const out = fedAvg(clients);
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual(expected.map(Math.fround));
  });

  it('differs from the unweighted mean when sample counts differ', () => {
    const out = fedAvg(clients);
    // Unweighted mean of [3] would be (4 + 8 + 10) / 3 = 7.333...
    expect(out[3]).not.toBeCloseTo(22 / 3, 3);
    expect(out[3]).toBeCloseTo(8.8, 5);
  });

  it('returns the update itself for a single client, whatever its weight', () => {
    const one = Float32Array.of(0.1, -3.25, 1e-20, 6e7);
    expect(Array.from(fedAvg([{ values: one, samples: 37 }]))).toEqual(Array.from(one));
  });

  it('equals the plain mean when every client has the same weight', () => {
    const out = fedAvg(clients.map((c) => ({ ...c, samples: 50 })));
    expect(Array.from(out)).toEqual([5 / 3, 8 / 3, 10.5 / 3, 22 / 3].map(Math.fround));
  });

  it('gives the hand-computed mean when every weight is scaled by the same factor', () => {
    const scaled = fedAvg(clients.map((c) => ({ ...c, samples: c.samples * 7 })));
    expectRelativelyClose(scaled, expected, 1e-7);
  });

  it('matches the exact weighted mean with many clients and very unequal large weights', () => {
    // 1000 clients of weight 10_000 at 1.0 plus one of weight 10^7 at 1 + 2^-10.
    const updates = Array.from({ length: 1000 }, () => ({ values: Float32Array.of(1), samples: 10_000 }));
    updates.push({ values: Float32Array.of(1 + 2 ** -10), samples: 10_000_000 });
    const out = fedAvg(updates);
    const exact = (1000 * 10_000 * 1 + 10_000_000 * (1 + 2 ** -10)) / (1000 * 10_000 + 10_000_000);
    expect(out[0]).toBe(Math.fround(exact));
  });

  it('throws when there are no updates', () => {
    expect(() => fedAvg([])).toThrow(/no updates/);
  });
});

describe('streaming FedAvg', () => {
  it('folds unequal clients into the hand-computed weighted mean', () => {
    const acc = createFedAvg(4);
    for (const c of clients) foldUpdate(acc, c.values, c.samples);
    expect(acc.count).toBe(3);
    expect(acc.totalWeight).toBe(1000);
    expect(Array.from(finishFedAvg(acc))).toEqual(expected.map(Math.fround));
  });

  it('gives the hand-computed mean in every one of the 6 arrival orders', () => {
    for (const order of permutations(clients)) {
      const acc = createFedAvg(4);
      for (const c of order) foldUpdate(acc, c.values, c.samples);
      expect(Array.from(finishFedAvg(acc))).toEqual(expected.map(Math.fround));
    }
  });

  it('matches a float64 reference within 1e-7 relative for seeded random updates, batch and streaming, in any order', () => {
    const rnd = createRng(99);
    const size = 257;
    const updates = Array.from({ length: 9 }, () => ({
      values: Float32Array.from({ length: size }, () => (rnd() - 0.5) * 10 ** Math.floor(rnd() * 6 - 3)),
      samples: 1 + Math.floor(rnd() * 5000),
    }));
    // The straightforward weighted mean in float64, written here rather than taken from the module.
    const total = updates.reduce((n, u) => n + u.samples, 0);
    const reference = Array.from({ length: size }, (_, i) => updates.reduce((s, u) => s + u.values[i]! * u.samples, 0) / total);
    expectRelativelyClose(fedAvg(updates), reference, 1e-7);
    for (const order of [updates, [...updates].reverse(), [4, 0, 8, 2, 6, 1, 7, 3, 5].map((i) => updates[i]!)]) {
      const acc = createFedAvg(size);
      for (const u of order) foldUpdate(acc, u.values, u.samples);
      expectRelativelyClose(finishFedAvg(acc), reference, 1e-7);
    }
  });

  it('does not keep a reference to folded updates: changing one afterwards leaves the result alone', () => {
    const acc = createFedAvg(2);
    const a = Float32Array.of(2, 4);
    foldUpdate(acc, a, 1);
    a.fill(1000);
    foldUpdate(acc, Float32Array.of(4, 8), 1);
    expect(Array.from(finishFedAvg(acc))).toEqual([3, 6]);
  });

  it('can be finished twice with the same answer (finishing does not consume the sum)', () => {
    const acc = createFedAvg(4);
    for (const c of clients) foldUpdate(acc, c.values, c.samples);
    expect(Array.from(finishFedAvg(acc))).toEqual(Array.from(finishFedAvg(acc)));
  });

  it.each([3, 5, 0])('refuses an update of %i values into a 4-value model, leaving the sum untouched', (length) => {
    const acc = createFedAvg(4);
    foldUpdate(acc, Float32Array.of(1, 1, 1, 1), 10);
    expect(() => foldUpdate(acc, new Float32Array(length).fill(9), 10)).toThrow(/values/);
    expect(acc.count).toBe(1);
    expect(acc.totalWeight).toBe(10);
    expect(Array.from(finishFedAvg(acc))).toEqual([1, 1, 1, 1]);
  });

  it.each([0, -5, NaN])('refuses a sample weight of %s, leaving the sum untouched', (samples) => {
    const acc = createFedAvg(2);
    foldUpdate(acc, Float32Array.of(2, 2), 3);
    expect(() => foldUpdate(acc, Float32Array.of(100, 100), samples)).toThrow(/positive/);
    expect(acc.count).toBe(1);
    expect(acc.totalWeight).toBe(3);
    expect(Array.from(finishFedAvg(acc))).toEqual([2, 2]);
  });

  it('accepts a fractional positive weight', () => {
    const acc = createFedAvg(1);
    foldUpdate(acc, Float32Array.of(0), 0.5);
    foldUpdate(acc, Float32Array.of(3), 1);
    expect(finishFedAvg(acc)[0]).toBe(2);
  });

  it('throws when finishing with no updates folded in', () => {
    expect(() => finishFedAvg(createFedAvg(4))).toThrow(/no updates/);
  });

  it('throws when finishing after only refused updates', () => {
    const acc = createFedAvg(2);
    expect(() => foldUpdate(acc, Float32Array.of(1), 1)).toThrow();
    expect(() => foldUpdate(acc, Float32Array.of(1, 1), 0)).toThrow();
    expect(() => finishFedAvg(acc)).toThrow(/no updates/);
  });

  it('fedAvg refuses a batch whose updates differ in length', () => {
    expect(() =>
      fedAvg([
        { values: Float32Array.of(1, 2), samples: 1 },
        { values: Float32Array.of(1, 2, 3), samples: 1 },
      ]),
    ).toThrow(/values/);
  });

  it('averages an empty model to an empty model', () => {
    const acc = createFedAvg(0);
    foldUpdate(acc, new Float32Array(0), 5);
    expect(finishFedAvg(acc).length).toBe(0);
  });
});
