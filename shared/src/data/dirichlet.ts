/**
 * Seeded Gamma and Dirichlet draws on the shared mulberry32 stream (random.ts), for label-skewed partitions.
 * Gamma follows Marsaglia and Tsang (2000), "A simple method for generating gamma variables", with their
 * boost for shape < 1: Gamma(a) = Gamma(a + 1) * U^(1/a).
 */
import type { Rng } from '../random';

/** A standard normal draw (Box-Muller); 1 - rng() keeps the logarithm's argument in (0, 1]. */
export function sampleNormal(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** log of a Gamma(shape, 1) draw: shapes far below 1 give values under the smallest double, so the boost stays in logs. */
export function sampleLogGamma(shape: number, rng: Rng): number {
  if (!(Number.isFinite(shape) && shape > 0)) throw new Error(`gamma: shape must be > 0, got ${shape}`);
  if (shape < 1) return sampleLogGamma(shape + 1, rng) + Math.log(1 - rng()) / shape;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = sampleNormal(rng);
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = 1 - rng();
    // The cheap squeeze first; the exact log test only when it fails.
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return Math.log(d * v);
  }
}

/** A Gamma(shape, 1) draw (may be 0 for tiny shapes; use sampleLogGamma to keep the scale). */
export function sampleGamma(shape: number, rng: Rng): number {
  return Math.exp(sampleLogGamma(shape, rng));
}

/** A draw from the symmetric Dirichlet(alpha, ..., alpha) over `k` parts: k proportions that sum to 1. */
export function sampleDirichlet(alpha: number, k: number, rng: Rng): Float64Array {
  if (!Number.isInteger(k) || k < 1) throw new Error(`dirichlet: k must be an integer >= 1, got ${k}`);
  const logs = Float64Array.from({ length: k }, () => sampleLogGamma(alpha, rng));
  // Normalised in logs (log-sum-exp), so that alpha 0.01 does not divide zero by zero.
  let top = -Infinity;
  for (const l of logs) top = Math.max(top, l);
  let sum = 0;
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) sum += out[i] = Math.exp(logs[i]! - top);
  for (let i = 0; i < k; i++) out[i]! /= sum;
  return out;
}
