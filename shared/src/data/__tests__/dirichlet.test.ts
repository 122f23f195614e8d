import { describe, expect, it } from 'vitest';
import { createRng } from '../../random';
import { sampleDirichlet, sampleGamma } from '../dirichlet';

describe('sampleGamma (Marsaglia-Tsang)', () => {
  it.each([0.1, 0.3, 1, 2.5, 10])('has mean and variance equal to the shape %f over 20,000 draws', (shape) => {
    const rng = createRng(2);
    const n = 20_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const g = sampleGamma(shape, rng);
      expect(g).toBeGreaterThanOrEqual(0);
      sum += g;
      sq += g * g;
    }
    const mean = sum / n;
    // Gamma(a, 1): mean a, variance a; the mean's standard error is sqrt(a / n).
    expect(Math.abs(mean - shape)).toBeLessThan(4 * Math.sqrt(shape / n));
    expect(sq / n - mean * mean).toBeGreaterThan(shape * 0.9);
    expect(sq / n - mean * mean).toBeLessThan(shape * 1.1);
  });

  it('refuses a shape that is not positive', () => {
    expect(() => sampleGamma(0, createRng(1))).toThrow(/shape/);
  });
});

describe('sampleDirichlet', () => {
  it.each([
    [0.1, 10],
    [0.3, 4],
    [1, 4],
    [100, 10],
  ])('with alpha %f over %i parts: proportions sum to 1, mean 1/k and variance (1/k)(1-1/k)/(k alpha + 1) over 4,000 draws', (alpha, k) => {
    const rng = createRng(1);
    const draws = 4000;
    const mean = new Float64Array(k);
    const meanSq = new Float64Array(k);
    for (let d = 0; d < draws; d++) {
      const p = sampleDirichlet(alpha, k, rng);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      for (let j = 0; j < k; j++) {
        mean[j]! += p[j]! / draws;
        meanSq[j]! += p[j]! ** 2 / draws;
      }
    }
    const variance = ((1 / k) * (1 - 1 / k)) / (k * alpha + 1);
    const standardError = Math.sqrt(variance / draws);
    let pooled = 0;
    for (let j = 0; j < k; j++) {
      expect(Math.abs(mean[j]! - 1 / k)).toBeLessThan(4 * standardError);
      pooled += (meanSq[j]! - mean[j]! ** 2) / k;
    }
    // The mean is 1/k for every alpha; the variance is what shows that alpha was honoured.
    expect(pooled / variance).toBeGreaterThan(0.95);
    expect(pooled / variance).toBeLessThan(1.05);
  });

  it('stays finite for alpha 0.01, where the gamma draws themselves underflow', () => {
    const rng = createRng(5);
    for (let d = 0; d < 200; d++) {
      const p = sampleDirichlet(0.01, 10, rng);
      expect(p.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });
});
