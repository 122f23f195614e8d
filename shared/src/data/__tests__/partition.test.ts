import { describe, expect, it } from 'vitest';
import { createRng, shuffleInPlace } from '../../random';
import { partitionByLabel, partitionIid } from '../partition';

function checkCover(shards: Uint16Array[], count: number): void {
  const seen = new Uint8Array(count);
  let outOfRange = 0;
  let repeated = 0;
  for (const shard of shards) {
    for (const i of shard) {
      if (i >= count) outOfRange++;
      else if (seen[i]) repeated++; // shards must be disjoint
      else seen[i] = 1;
    }
  }
  expect(outOfRange).toBe(0);
  expect(repeated).toBe(0);
  expect(seen.every((v) => v === 1)).toBe(true); // union = all indices
}

function sizeSpread(shards: Uint16Array[]): number {
  const sizes = shards.map((s) => s.length);
  return Math.max(...sizes) - Math.min(...sizes);
}

/** Labels 0..9, `perClass` of each, in a seeded random order. */
function balancedLabels(perClass: number, seed = 3): Uint8Array {
  const labels = Uint8Array.from({ length: perClass * 10 }, (_, i) => i % 10);
  return shuffleInPlace(labels, createRng(seed));
}

function topTwoShare(shard: Uint16Array, labels: Uint8Array): number {
  const counts = new Array<number>(256).fill(0);
  for (const i of shard) counts[labels[i]!]!++;
  counts.sort((a, b) => b - a);
  return (counts[0]! + counts[1]!) / shard.length;
}

describe('partitionIid', () => {
  it.each([
    [8000, 10],
    [8000, 7],
    [101, 10],
    [5, 5],
    [1, 1],
  ])('covers %i samples across %i clients, disjoint, near-equal', (count, clients) => {
    const shards = partitionIid(count, clients, 1);
    expect(shards).toHaveLength(clients);
    checkCover(shards, count);
    expect(sizeSpread(shards)).toBeLessThanOrEqual(1);
  });

  it('is deterministic per seed and changes with the seed', () => {
    const a = partitionIid(1000, 4, 123);
    const b = partitionIid(1000, 4, 123);
    const c = partitionIid(1000, 4, 124);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('mixes labels (not a contiguous cut)', () => {
    const [first] = partitionIid(1000, 4, 9);
    const contiguous = Array.from(first!).every((v, i, arr) => i === 0 || v === arr[i - 1]! + 1);
    expect(contiguous).toBe(false);
  });

  it('rejects bad client counts', () => {
    expect(() => partitionIid(10, 0, 1)).toThrow(/clients/);
    expect(() => partitionIid(10, -2, 1)).toThrow(/clients/);
    expect(() => partitionIid(10, 1.5, 1)).toThrow(/clients/);
    expect(() => partitionIid(10, 11, 1)).toThrow(/clients > count/);
    expect(() => partitionIid(0, 1, 1)).toThrow(/count/);
    expect(() => partitionIid(70_000, 2, 1)).toThrow(/Uint16/);
  });
});

describe('partitionByLabel', () => {
  it('is a disjoint cover with near-equal sizes', () => {
    const labels = balancedLabels(100);
    for (const clients of [1, 3, 10, 50]) {
      const shards = partitionByLabel(labels, clients, 2);
      expect(shards).toHaveLength(clients);
      checkCover(shards, labels.length);
      expect(sizeSpread(shards)).toBeLessThanOrEqual(2);
    }
  });

  it('gives each client mostly two labels', () => {
    const labels = balancedLabels(800);
    for (const clients of [5, 10, 20, 40]) {
      const shards = partitionByLabel(labels, clients, 11);
      for (const shard of shards) expect(topTwoShare(shard, labels)).toBeGreaterThanOrEqual(0.8);
    }
  });

  it('is clearly non-IID compared with partitionIid', () => {
    const labels = balancedLabels(200);
    const nonIid = partitionByLabel(labels, 10, 4).map((s) => topTwoShare(s, labels));
    const iid = partitionIid(labels.length, 10, 4).map((s) => topTwoShare(s, labels));
    expect(Math.min(...nonIid)).toBeGreaterThan(0.8);
    expect(Math.max(...iid)).toBeLessThan(0.5);
  });

  it('is deterministic per seed and changes with the seed', () => {
    const labels = balancedLabels(50);
    expect(partitionByLabel(labels, 5, 1)).toEqual(partitionByLabel(labels, 5, 1));
    expect(partitionByLabel(labels, 5, 1)).not.toEqual(partitionByLabel(labels, 5, 2));
  });

  it('still gives every client samples when there are fewer than 2 per client', () => {
    const labels = balancedLabels(1).subarray(0, 7);
    const shards = partitionByLabel(labels, 5, 3);
    checkCover(shards, 7);
    for (const s of shards) expect(s.length).toBeGreaterThan(0);
  });

  it('rejects bad client counts', () => {
    const labels = balancedLabels(1);
    expect(() => partitionByLabel(labels, 0, 1)).toThrow(/clients/);
    expect(() => partitionByLabel(labels, 11, 1)).toThrow(/clients > count/);
    expect(() => partitionByLabel(new Uint8Array(0), 1, 1)).toThrow(/count/);
  });
});
