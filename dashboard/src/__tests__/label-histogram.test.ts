import { describe, expect, it } from 'vitest';
import { labelBars, labelWords } from '../label-histogram';

describe('labelBars', () => {
  it('scales each digit to the tallest, keeping the counts', () => {
    const bars = labelBars([10, 0, 5, 0, 0, 0, 0, 0, 0, 20]);
    expect(bars?.map((b) => b.height)).toEqual([0.5, 0, 0.25, 0, 0, 0, 0, 0, 0, 1]);
    expect(bars?.[9]).toEqual({ digit: 9, count: 20, height: 1 });
  });

  it('draws nothing without counts and flat bars for an empty shard', () => {
    expect(labelBars(undefined)).toBeNull();
    expect(labelBars([])).toBeNull();
    expect(labelBars(new Array<number>(10).fill(0))?.every((b) => b.height === 0)).toBe(true);
  });
});

describe('labelWords', () => {
  it('lists every digit with its count', () => {
    expect(labelWords(labelBars([1200, 3, 0, 0, 0, 0, 0, 0, 0, 7])!)).toBe("Digits in this client's shard: 0: 1,200, 1: 3, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 7");
  });
});
