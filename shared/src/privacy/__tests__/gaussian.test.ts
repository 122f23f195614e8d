import { afterEach, describe, expect, it, vi } from 'vitest';
import { codeOf } from '../../secagg/__tests__/support/code-of';
import { addGaussianNoise, gaussianNoise } from '../gaussian';

/**
 * WebCrypto cannot be seeded, so every statistical bound below sits at >= 6 standard errors of its estimator:
 * a correct sampler fails one of them about once in 10^8 runs, a wrong one (variance for std, a bad transform)
 * fails every time.
 */
const N = 200_000;

function moments(x: Float64Array): { mean: number; sd: number } {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  let ss = 0;
  for (const v of x) ss += (v - mean) ** 2;
  return { mean, sd: Math.sqrt(ss / (x.length - 1)) };
}

afterEach(() => vi.restoreAllMocks());

describe('gaussianNoise', () => {
  it('has mean 0 within 5 std/√n (5.5 standard errors with the sd bound) and sd 2.5 within 1% (6.3 standard errors)', () => {
    const { mean, sd } = moments(gaussianNoise(N, 2.5));
    expect(Math.abs(mean)).toBeLessThan((5 * 2.5) / Math.sqrt(N));
    expect(Math.abs(sd / 2.5 - 1)).toBeLessThan(0.01);
  });

  it('takes the standard deviation, not the variance: std 2 and std 4 give sd 2 and 4, not √2 and 2', () => {
    expect(Math.abs(moments(gaussianNoise(N, 2)).sd / 2 - 1)).toBeLessThan(0.01);
    expect(Math.abs(moments(gaussianNoise(N, 4)).sd / 4 - 1)).toBeLessThan(0.01);
  });

  it('is normal: 68.27% within one sd and 95.45% within two (±6 standard errors), consecutive draws uncorrelated', () => {
    const x = gaussianNoise(N, 1);
    const within = (k: number) => x.filter((v) => Math.abs(v) < k).length / N;
    for (const [k, p] of [[1, 0.682689492137], [2, 0.954499736104]] as const) {
      expect(Math.abs(within(k) - p)).toBeLessThan(6 * Math.sqrt((p * (1 - p)) / N));
    }
    // Box–Muller's cos/sin outputs of one pair land side by side; they must be independent.
    let pairs = 0;
    for (let i = 0; i + 1 < N; i += 2) pairs += x[i]! * x[i + 1]!;
    expect(Math.abs(pairs / (N / 2))).toBeLessThan(6 / Math.sqrt(N / 2));
  });

  it('draws from crypto.getRandomValues only, at most 65,536 bytes per call', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const random = vi.spyOn(Math, 'random');
    gaussianNoise(50_001, 1);
    expect(spy.mock.calls.length).toBeGreaterThan(1);
    for (const [array] of spy.mock.calls) expect((array as ArrayBufferView).byteLength).toBeLessThanOrEqual(65_536);
    expect(random).not.toHaveBeenCalled();
  });

  it('returns the requested odd length, zeros for std 0, and refuses a negative or NaN std', () => {
    expect(gaussianNoise(3, 1)).toHaveLength(3);
    expect(Array.from(gaussianNoise(5, 0))).toEqual([0, 0, 0, 0, 0]);
    expect(codeOf(() => gaussianNoise(5, -1))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => gaussianNoise(5, NaN))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => gaussianNoise(-1, 1))).toBe('HUB_ERR_INVALID_SETTINGS');
  });
});

describe('addGaussianNoise', () => {
  it('adds noise of the given std in place to float32 and float64 arrays', () => {
    const a = new Float32Array(N).fill(3);
    addGaussianNoise(a, 0.5);
    const { mean, sd } = moments(Float64Array.from(a));
    expect(Math.abs(mean - 3)).toBeLessThan((6 * 0.5) / Math.sqrt(N));
    expect(Math.abs(sd / 0.5 - 1)).toBeLessThan(0.01);
    const b = new Float64Array([1, 2, 3]);
    addGaussianNoise(b, 0);
    expect(Array.from(b)).toEqual([1, 2, 3]);
    expect(codeOf(() => addGaussianNoise(b, -2))).toBe('HUB_ERR_INVALID_SETTINGS');
  });
});
