import { describe, expect, it } from 'vitest';
import { createRng, shuffleInPlace } from '../../random';
import { partitionByLabel, partitionDirichlet, partitionIid } from '../partition';

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

/** Each shard's label shares, largest first. */
function sortedShares(shard: Uint16Array, labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const i of shard) counts[labels[i]!]!++;
  return counts.map((c) => c / shard.length).sort((a, b) => b - a);
}

/** Over seeds 0..seeds-1 of 10 clients on 8,000 balanced digits: the mean largest label share and mean top-two share. */
function skew(alpha: number, seeds: number): { meanMax: number; meanTopTwo: number; worstFromUniform: number } {
  const labels = balancedLabels(800);
  let max = 0;
  let two = 0;
  let worst = 0;
  let n = 0;
  for (let seed = 0; seed < seeds; seed++) {
    for (const shard of partitionDirichlet(labels, 10, alpha, seed)) {
      const shares = sortedShares(shard, labels);
      max += shares[0]!;
      two += shares[0]! + shares[1]!;
      worst = Math.max(worst, ...shares.map((s) => Math.abs(s - 0.1)));
      n++;
    }
  }
  return { meanMax: max / n, meanTopTwo: two / n, worstFromUniform: worst };
}

describe('partitionDirichlet', () => {
  it.each([
    [8000, 4, 0.3],
    [8000, 10, 0.1],
    [8000, 10, 100],
    [500, 50, 0.05],
    [20, 20, 0.1],
    [1, 1, 1],
  ])('puts each of %i indices in exactly one of %i shards, none empty (alpha %f)', (count, clients, alpha) => {
    const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
    for (const seed of [0, 1, 2]) {
      const shards = partitionDirichlet(labels, clients, alpha, seed);
      expect(shards).toHaveLength(clients);
      checkCover(shards, count);
      expect(Math.min(...shards.map((s) => s.length))).toBeGreaterThan(0);
    }
  });

  it('is deterministic per seed and changes with the seed', () => {
    const labels = balancedLabels(100);
    expect(partitionDirichlet(labels, 5, 0.5, 42)).toEqual(partitionDirichlet(labels, 5, 0.5, 42));
    expect(partitionDirichlet(labels, 5, 0.5, 42)).not.toEqual(partitionDirichlet(labels, 5, 0.5, 43));
  });

  it('with alpha 100 gives every client a nearly uniform label histogram', () => {
    const { meanMax, worstFromUniform } = skew(100, 20);
    // Measured over 100 seeds: mean largest share 0.115, worst share 0.034 from 0.1.
    expect(meanMax).toBeLessThan(0.13);
    expect(worstFromUniform).toBeLessThan(0.06);
  });

  it('with alpha 0.1 lets one or two labels dominate most clients', () => {
    const { meanMax, meanTopTwo } = skew(0.1, 20);
    // Measured over 100 seeds: mean largest share 0.61, mean top-two share 0.85 (0.1 and 0.2 if IID).
    expect(meanMax).toBeGreaterThan(0.5);
    expect(meanTopTwo).toBeGreaterThan(0.75);
  });

  it('skews more as alpha falls', () => {
    const means = [100, 1, 0.3, 0.1].map((alpha) => skew(alpha, 10).meanMax);
    for (let i = 1; i < means.length; i++) expect(means[i]).toBeGreaterThan(means[i - 1]!);
  });

  it('fills an empty client with one digit of the largest client', () => {
    // Two labels over 30 clients: most Dirichlet cuts leave clients empty, the rule fills each with one digit.
    const labels = Uint8Array.from({ length: 60 }, (_, i) => i % 2);
    const shards = partitionDirichlet(labels, 30, 0.05, 3);
    checkCover(shards, 60);
    expect(shards.filter((s) => s.length === 1).length).toBeGreaterThan(10);
  });

  it('rejects a non-positive alpha and more clients than digits', () => {
    expect(() => partitionDirichlet(new Uint8Array(10), 2, 0, 1)).toThrow(/alpha/);
    expect(() => partitionDirichlet(new Uint8Array(3), 4, 1, 1)).toThrow(/clients > count/);
  });
});
