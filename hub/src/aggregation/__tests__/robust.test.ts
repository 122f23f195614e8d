import { describe, expect, it } from 'vitest';
import { clipToNorm, coordinateMedian, krumScores, multiKrum, trimmedMean } from '../robust';

const f32 = (...values: number[]) => Float32Array.from(values);

function expectClose(actual: Float32Array, expected: number[], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, i) => expect(actual[i], `index ${i}`).toBeCloseTo(value, digits));
}

function norm(values: ArrayLike<number>): number {
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += values[i]! * values[i]!;
  return Math.sqrt(sq);
}

// Four honest updates close to (1, 1) and one far outlier.
const honest = [f32(1, 1), f32(1.1, 1), f32(1, 1.1), f32(0.9, 1)];
const outlier = f32(100, -100);

describe('coordinateMedian', () => {
  it('takes the middle value of each coordinate for an odd count', () => {
    // col 0: 1, 3, 2 -> 2; col 1: 5, 0, 9 -> 5; col 2: -2, 4, 1 -> 1
    const result = coordinateMedian([f32(1, 5, -2), f32(3, 0, 4), f32(2, 9, 1)]);
    expect(Array.from(result)).toEqual([2, 5, 1]);
  });

  it('averages the middle two values for an even count', () => {
    // col 0: 1, 2, 3, 10 -> 2.5; col 1: -1, 0, 5, 9 -> 2.5; col 2: -2, 0, 1, 4 -> 0.5
    const result = coordinateMedian([f32(1, 5, -2), f32(3, 0, 4), f32(2, 9, 1), f32(10, -1, 0)]);
    expect(Array.from(result)).toEqual([2.5, 2.5, 0.5]);
  });

  it('returns the single update for one update, and leaves the inputs untouched', () => {
    const a = f32(3, 1, 2);
    const b = f32(0, 0, 0);
    expect(Array.from(coordinateMedian([a]))).toEqual([3, 1, 2]);
    coordinateMedian([a, b]);
    expect(Array.from(a)).toEqual([3, 1, 2]);
    expect(Array.from(b)).toEqual([0, 0, 0]);
  });

  it('sorts numerically, not as strings, and handles negatives', () => {
    // As strings 10 < 9 and -1 < -10; numerically the middle of -10, -1, 9 is -1 and of 2, 9, 10 is 9.
    expect(Array.from(coordinateMedian([f32(10, -10), f32(9, -1), f32(2, 9)]))).toEqual([9, -1]);
  });

  it('ignores one far outlier', () => {
    expectClose(coordinateMedian([...honest, outlier]), [1, 1]);
  });
});

describe('trimmedMean', () => {
  it('with trim 0.2 of 5 updates drops the largest and the smallest value of each coordinate', () => {
    // col 0: 1, 2, 3, 4, 100 -> mean(2, 3, 4) = 3; col 1: -50, 0, 10, 20, 30 -> mean(0, 10, 20) = 10
    const updates = [f32(4, 30), f32(100, 0), f32(1, 20), f32(3, -50), f32(2, 10)];
    expectClose(trimmedMean(updates, 0.2), [3, 10]);
  });

  it('with trim 0 is the plain (unweighted) mean', () => {
    // col 0: (1 + 2 + 3 + 4 + 100) / 5 = 22; col 1: (-50 + 0 + 10 + 20 + 30) / 5 = 2
    const updates = [f32(4, 30), f32(100, 0), f32(1, 20), f32(3, -50), f32(2, 10)];
    expectClose(trimmedMean(updates, 0), [22, 2]);
  });

  it('keeps at least one value: a large trim of few updates leaves the middle', () => {
    // trim 0.45 of 3: floor(1.35) = 1 each side -> the median; of 2: floor(0.9) = 0 -> the mean
    expectClose(trimmedMean([f32(1), f32(7), f32(2)], 0.45), [2]);
    expectClose(trimmedMean([f32(1), f32(7)], 0.45), [4]);
  });

  it.each([-0.1, 0.5, 0.7, Number.NaN])('throws for an invalid trim fraction %s', (fraction) => {
    expect(() => trimmedMean([f32(1), f32(2), f32(3)], fraction)).toThrow(/trim fraction/);
  });
});

describe('krumScores', () => {
  it('sums the squared distances to the n - f - 2 nearest neighbours (hand-computed)', () => {
    // Points 0, 1, 3, 10 with f = 0: 2 neighbours each.
    //   0: 1, 9, 100 -> 1 + 9 = 10;   1: 1, 4, 81 -> 1 + 4 = 5
    //   3: 9, 4, 49 -> 4 + 9 = 13;    10: 100, 81, 49 -> 49 + 81 = 130
    expect(krumScores([f32(0), f32(1), f32(3), f32(10)], 0)).toEqual([10, 5, 13, 130]);
  });

  it('uses at least one neighbour when n - f - 2 is below 1', () => {
    // 3 points with f = 1: max(1, 0) = 1 neighbour. 0: 1; 1: 1; 5: 16
    expect(krumScores([f32(0), f32(1), f32(5)], 1)).toEqual([1, 1, 16]);
  });

  it('gives a far outlier by far the highest score', () => {
    const scores = krumScores([...honest, outlier], 1);
    const honestMax = Math.max(...scores.slice(0, 4));
    expect(honestMax).toBeLessThan(0.05);
    expect(scores[4]).toBeGreaterThan(1000 * honestMax);
  });
});

describe('multiKrum', () => {
  const samples = [100, 200, 300, 400];
  // The outlier carries the most samples: it would dominate any weighted mean it took part in.
  const updates = [...honest.map((values, i) => ({ values, samples: samples[i]! })), { values: outlier, samples: 10_000 }];

  it('with select = 1 (Krum) picks one honest update and returns it', () => {
    const result = multiKrum(updates, 1, 1);
    expect(result.selected).toHaveLength(1);
    const chosen = result.selected[0]!;
    expect(chosen).toBeLessThan(4);
    // (1, 1) is the most central: its two nearest neighbours are at squared distance 0.01 each.
    expect(chosen).toBe(0);
    expect(Array.from(result.values)).toEqual(Array.from(honest[chosen]!));
  });

  it('with select = n - f keeps the honest updates, excludes the outlier and takes their sample-weighted mean', () => {
    const result = multiKrum(updates, 1, updates.length - 1);
    expect(result.selected).toEqual([0, 1, 2, 3]);
    // col 0: (100*1 + 200*1.1 + 300*1 + 400*0.9) / 1000 = 980 / 1000 = 0.98
    // col 1: (100*1 + 200*1 + 300*1.1 + 400*1) / 1000 = 1030 / 1000 = 1.03
    expectClose(result.values, [0.98, 1.03]);
  });

  it('returns the selected indices in ascending order whatever the input order', () => {
    const shuffled = [updates[4]!, updates[2]!, updates[0]!, updates[3]!, updates[1]!];
    const result = multiKrum(shuffled, 1, 4);
    expect(result.selected).toEqual([1, 2, 3, 4]);
    expectClose(result.values, [0.98, 1.03]);
  });

  it('clamps select to the number of updates and to at least one', () => {
    expect(multiKrum(updates, 1, 99).selected).toEqual([0, 1, 2, 3, 4]);
    expect(multiKrum(updates, 1, 0).selected).toEqual([0]);
  });
});

describe('clipToNorm', () => {
  it('returns the same object when the change is within the norm, with that norm', () => {
    const update = f32(4, 5);
    const result = clipToNorm(update, f32(1, 1), 10); // delta (3, 4): norm 5
    expect(result.values).toBe(update);
    expect(result.norm).toBeCloseTo(5, 6);
  });

  it('returns the same object when the change is exactly at the norm', () => {
    const update = f32(3, 4);
    expect(clipToNorm(update, f32(0, 0), 5).values).toBe(update);
  });

  it('scales a larger change down to exactly maxNorm, keeping its direction', () => {
    const global = f32(1, 1, 1);
    const update = f32(7, 1, 9); // delta (6, 0, 8): norm 10
    const result = clipToNorm(update, global, 5);
    expect(result.values).not.toBe(update);
    expect(result.norm).toBeCloseTo(10, 6);
    expectClose(result.values, [4, 1, 5]); // global + delta / 2
    const delta = Array.from(result.values, (v, i) => v - global[i]!);
    expect(norm(delta)).toBeCloseTo(5, 5);
    // Same direction: the unit vectors agree.
    expect(delta.map((d) => d / norm(delta))).toEqual([expect.closeTo(0.6, 5), expect.closeTo(0, 5), expect.closeTo(0.8, 5)]);
    expect(Array.from(update)).toEqual([7, 1, 9]); // input untouched
  });
});

describe('length checks', () => {
  const mismatched = [f32(1, 2), f32(1, 2, 3)];

  it('throws when the updates differ in length', () => {
    expect(() => coordinateMedian(mismatched)).toThrow(/differ in length/);
    expect(() => trimmedMean(mismatched, 0.2)).toThrow(/differ in length/);
    expect(() => krumScores(mismatched, 0)).toThrow(/differ in length/);
    expect(() => multiKrum(mismatched.map((values) => ({ values, samples: 1 })), 0, 1)).toThrow(/differ in length/);
  });

  it('throws when the update and the global model differ in length', () => {
    expect(() => clipToNorm(f32(1, 2), f32(1, 2, 3), 1)).toThrow(/differ in length/);
  });

  it('throws when there are no updates', () => {
    expect(() => coordinateMedian([])).toThrow(/no updates/);
    expect(() => trimmedMean([], 0.2)).toThrow(/no updates/);
    expect(() => krumScores([], 0)).toThrow(/no updates/);
    expect(() => multiKrum([], 0, 1)).toThrow(/no updates/);
  });
});
