import { describe, expect, it } from 'vitest';
import { CodedError } from '../../errors';
import { degreeFor, planSecAgg, thresholdFor } from '../graph';

const plan = (n: number, over: Partial<Parameters<typeof planSecAgg>[0]> = {}) =>
  planSecAgg({
    runId: 'r',
    round: 1,
    participants: Array.from({ length: n }, (_, i) => `c${i}`),
    weights: Array.from({ length: n }, () => 10),
    length: 100,
    clip: 1,
    seed: 42,
    ...over,
  });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as CodedError).code;
  }
}

describe('planSecAgg', () => {
  it('uses the complete graph and a majority threshold up to 16 participants', () => {
    const p = plan(5);
    expect(p.neighbours[2]).toEqual([0, 1, 3, 4]);
    expect(p.threshold).toBe(3);
    expect(plan(3).threshold).toBe(2);
    expect(plan(16).neighbours.every((l) => l.length === 15)).toBe(true);
  });

  it.each([17, 20, 100, 300])('gives n = %i a symmetric k-regular graph with k of order log n', (n) => {
    const p = plan(n);
    const k = degreeFor(n);
    expect(k % 2).toBe(0);
    expect(k).toBeGreaterThanOrEqual(3 * Math.log2(n));
    expect(k).toBeLessThan(n - 1);
    p.neighbours.forEach((l, i) => {
      expect(l).toHaveLength(k);
      expect(l).not.toContain(i);
      for (const j of l) expect(p.neighbours[j]).toContain(i);
    });
    expect(p.threshold).toBe(thresholdFor(k));
  });

  it('seeds the ring by run seed and round', () => {
    expect(plan(40).neighbours).toEqual(plan(40).neighbours);
    expect(plan(40, { round: 2 }).neighbours).not.toEqual(plan(40).neighbours);
    expect(plan(40, { seed: 43 }).neighbours).not.toEqual(plan(40).neighbours);
  });

  it('rounds weights to integers of at least 1', () => {
    expect(plan(3, { weights: [0.2, 2.6, 7] }).weights).toEqual([1, 3, 7]);
  });

  it('refuses fewer than 3 participants with HUB_ERR_SECAGG_TOO_FEW', () => {
    expect(codeOf(() => plan(2))).toBe('HUB_ERR_SECAGG_TOO_FEW');
  });

  it('refuses weights and clip that leave fewer than 8 fractional bits with HUB_ERR_SECAGG_RANGE', () => {
    expect(codeOf(() => plan(3, { weights: [1e6, 1e6, 1e6], clip: 10 }))).toBe('HUB_ERR_SECAGG_RANGE');
    expect(codeOf(() => plan(3, { clip: 0 }))).toBe('HUB_ERR_SECAGG_RANGE');
    expect(codeOf(() => plan(3, { participants: ['a', 'a', 'b'] }))).toBe('HUB_ERR_SECAGG_RANGE');
  });
});
