import { describe, expect, it } from 'vitest';
import { codeOf } from '../../secagg/__tests__/support/code-of';
import {
  RDP_ORDERS,
  composeRdp,
  epsilonFor,
  epsilonFromRdp,
  noiseForEpsilon,
  privacySpent,
  rdpSampledGaussian,
} from '../accountant';

const relErr = (value: number, expected: number) => Math.abs(value - expected) / Math.abs(expected);

/**
 * Published (q, σ, steps, δ) → ε points, all computed by TF Privacy's rdp_accountant with the classic RDP → DP
 * conversion (the one epsilonFromRdp implements).
 */
const PUBLISHED: { what: string; q: number; sigma: number; steps: number; delta: number; epsilon: number }[] = [
  // tensorflow/privacy tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py, the 2019 version whose
  // expected values predate the improved conversion: ('Test0', 60000, 150, 1.3, 15, 1e-5, 0.941870567, 19.0).
  // Steps = ceil(epochs * N / batch) as compute_dp_sgd_privacy_lib rounds: 15 * 60000 / 150 = 6000 exactly.
  { what: 'compute_dp_sgd_privacy_test Test0', q: 150 / 60000, sigma: 1.3, steps: 6000, delta: 1e-5, epsilon: 0.941870567 },
  // Same file: ('Test1', 100000, 100, 1.0, 30, 1e-7, 1.70928734, 13.0); 30 * 100000 / 100 = 30000 steps exactly.
  { what: 'compute_dp_sgd_privacy_test Test1', q: 100 / 100000, sigma: 1.0, steps: 30000, delta: 1e-7, epsilon: 1.70928734 },
  // tensorflow/privacy tutorials/README.md at d435fcbf9af0d1ffd41ebc15ae23595124f7aa73, "Select Parameters" table for
  // mnist_dpsgd_tutorial.py (q = 256/60000, δ = 1e-5). That tutorial counts steps as epochs * (60000 // 256), i.e.
  // 234 per epoch rounded down, and uses RDP_ORDERS' list [1 + x/10 for x in 1..99] + [12..63].
  { what: 'MNIST tutorial, noise 1.1, 60 epochs', q: 256 / 60000, sigma: 1.1, steps: 60 * 234, delta: 1e-5, epsilon: 3.01 },
  { what: 'MNIST tutorial, noise 1.3, 15 epochs', q: 256 / 60000, sigma: 1.3, steps: 15 * 234, delta: 1e-5, epsilon: 1.19 },
  { what: 'MNIST tutorial, noise 0.7, 45 epochs', q: 256 / 60000, sigma: 0.7, steps: 45 * 234, delta: 1e-5, epsilon: 7.1 },
  // tensorflow/privacy tutorials/README.md at 047e1eef0e446daf41a9adbb712c546ebbd38c12, the later table (same tutorial,
  // same 234 steps per epoch).
  { what: 'MNIST tutorial, noise 1.12, 60 epochs', q: 256 / 60000, sigma: 1.12, steps: 60 * 234, delta: 1e-5, epsilon: 2.92 },
  { what: 'MNIST tutorial, noise 0.6, 30 epochs', q: 256 / 60000, sigma: 0.6, steps: 30 * 234, delta: 1e-5, epsilon: 9.74 },
  { what: 'MNIST tutorial, noise 1.2, 10 epochs', q: 256 / 60000, sigma: 1.2, steps: 10 * 234, delta: 1e-5, epsilon: 1.2 },
  // tensorflow/privacy tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy.py docstring (a749ce4e):
  // --N=60000 --batch_size=256 --noise_multiplier=1.12 --epochs=60 --delta=1e-5 gives (2.92, 1e-5); its lib rounds
  // steps up: ceil(60 * 60000 / 256) = 14063.
  { what: 'compute_dp_sgd_privacy docstring', q: 256 / 60000, sigma: 1.12, steps: 14063, delta: 1e-5, epsilon: 2.92 },
];

describe('epsilonFor against published TF Privacy figures', () => {
  it.each(PUBLISHED)('$what: epsilon $epsilon within 2%', ({ q, sigma, steps, delta, epsilon }) => {
    const spent = epsilonFor({ samplingRate: q, noiseMultiplier: sigma, rounds: steps, delta });
    expect(relErr(spent.epsilon, epsilon)).toBeLessThan(0.02);
    expect(spent.delta).toBe(delta);
  });

  it('matches the two full-precision compute_dp_sgd_privacy_test values to 1e-8 and at their orders (19, 13)', () => {
    const [test0, test1] = PUBLISHED;
    const a = epsilonFor({ samplingRate: test0!.q, noiseMultiplier: test0!.sigma, rounds: test0!.steps, delta: test0!.delta });
    const b = epsilonFor({ samplingRate: test1!.q, noiseMultiplier: test1!.sigma, rounds: test1!.steps, delta: test1!.delta });
    expect(relErr(a.epsilon, 0.941870567)).toBeLessThan(1e-8);
    expect(a.order).toBe(19);
    expect(relErr(b.epsilon, 1.70928734)).toBeLessThan(1e-8);
    expect(b.order).toBe(13);
  });
});

describe('rdpSampledGaussian', () => {
  it('matches rdp_accountant_test.py: compute_rdp(0.1, 2, 10, 5) = 0.07737 and the (0.01, 2.5, 50) sequence to 1e-4', () => {
    // tensorflow/privacy tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (385fefc8), test_compute_rdp_scalar
    // and test_compute_rdp_sequence; both are T-step values, so one step is multiplied by T.
    expect(rdpSampledGaussian(0.1, 2, [5])[0]! * 10).toBeCloseTo(0.07737, 5);
    const orders = [1.5, 2.5, 5, 50, 100];
    const expected = [6.5007e-4, 1.0854e-3, 2.1808e-3, 2.3846e-2, 1.6742e2];
    const rdp = rdpSampledGaussian(0.01, 2.5, orders);
    orders.forEach((_, k) => expect(relErr(rdp[k]! * 50, expected[k]!)).toBeLessThan(1e-4));
  });

  it('matches log(A_α) from mpmath (exact binomial sums at integer orders, 30-digit quadrature at fractional ones)', () => {
    // [q, σ, α, log A_α]: computed with mpmath 1.3.0 and rounded to doubles, A_α = ∫ N(0,σ²)(z) ((1-q) + q e^((2z-1)/(2σ²)))^α dz.
    const points: [number, number, number, number][] = [
      [1e-6, 0.1, 256, 3260463.2292971606],
      [0.99, 0.1, 256, 3263997.427114021],
      [0.001, 1, 2, 1.7182803522127806e-06],
      [0.01, 10, 20, 0.00019129699912825616],
      [0.1, 100, 20.5, 0.00019991818458125194],
      [0.999, 100, 256.1, 3.260108037973113],
      [0.004, 1.1, 10.9, 0.0011923010276007127],
      [0.3, 0.5, 3.5, 13.286469276967148],
      [0.05, 0.3, 7.3, 233.63115440305586],
      [0.5, 5, 1.05, 0.00026393560021989465],
    ];
    for (const [q, sigma, alpha, logA] of points) {
      expect(relErr(rdpSampledGaussian(q, sigma, [alpha])[0]! * (alpha - 1), logA)).toBeLessThan(1e-6);
    }
  });

  it('is 0 at q = 0, Infinity at σ = 0, and α/(2σ²) at q = 1', () => {
    expect(Array.from(rdpSampledGaussian(0, 0.8))).toEqual(RDP_ORDERS.map(() => 0));
    expect(Array.from(rdpSampledGaussian(0.3, 0))).toEqual(RDP_ORDERS.map(() => Infinity));
    expect(Array.from(rdpSampledGaussian(1, 0.8))).toEqual(RDP_ORDERS.map((a) => a / (2 * 0.8 * 0.8)));
  });

  it('tends to the closed form α/(2σ²) as q → 1 through both the integer and the fractional series', () => {
    const orders = [1.5, 2, 2.5, 7, 10.9, 32];
    for (const sigma of [0.5, 1, 3]) {
      const rdp = rdpSampledGaussian(1 - 1e-9, sigma, orders);
      orders.forEach((a, k) => expect(relErr(rdp[k]!, a / (2 * sigma * sigma))).toBeLessThan(1e-8));
    }
  });

  it('gives fractional orders consistent with their integer neighbours: monotone, log A convex, continuous', () => {
    for (const [q, sigma] of [[0.01, 1.1], [0.1, 0.7], [0.5, 2], [1e-3, 0.5], [0.9, 1]] as const) {
      for (let k = 2; k <= 10; k++) {
        const [lo, mid, hi, below, above] = rdpSampledGaussian(q, sigma, [k, k + 0.5, k + 1, k - 1e-7, k + 1e-7]);
        // Rényi divergence does not decrease with the order, and (α-1)·RDP = log A_α is convex in α.
        expect(lo!).toBeLessThanOrEqual(mid!);
        expect(mid!).toBeLessThanOrEqual(hi!);
        expect(mid! * (k - 0.5)).toBeLessThanOrEqual((lo! * (k - 1) + hi! * k) / 2);
        // The fractional series just either side of k agree with the binomial sum at k.
        expect(relErr(below!, lo!)).toBeLessThan(1e-5);
        expect(relErr(above!, lo!)).toBeLessThan(1e-5);
      }
    }
  });

  it('refuses a sampling rate outside [0, 1], a negative or infinite noise multiplier and orders <= 1', () => {
    expect(codeOf(() => rdpSampledGaussian(1.5, 1))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => rdpSampledGaussian(-0.1, 1))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => rdpSampledGaussian(NaN, 1))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => rdpSampledGaussian(0.1, -1))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => rdpSampledGaussian(0.1, Infinity))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => rdpSampledGaussian(0.1, 1, [1]))).toBe('HUB_ERR_INVALID_SETTINGS');
  });
});

describe('epsilonFromRdp, composeRdp, privacySpent', () => {
  it('uses the classic conversion min over α of rdp - log(δ)/(α-1)', () => {
    const orders = [2, 4, 8, 16, 32];
    const rdp = [0.5, 0.6, 1.1, 2, 4];
    const expected = orders.map((a, k) => rdp[k]! - Math.log(1e-5) / (a - 1));
    const best = Math.min(...expected);
    expect(epsilonFromRdp(rdp, 1e-5, orders)).toEqual({ epsilon: best, order: orders[expected.indexOf(best)] });
  });

  it('composes identical steps as T times one step and mixed steps as the sum', () => {
    const one = rdpSampledGaussian(0.02, 1.3);
    const other = rdpSampledGaussian(0.05, 2);
    const steps = [...Array.from({ length: 7 }, () => ({ samplingRate: 0.02, noiseMultiplier: 1.3 })), { samplingRate: 0.05, noiseMultiplier: 2 }];
    const total = composeRdp(steps);
    RDP_ORDERS.forEach((_, k) => expect(total[k]).toBeCloseTo(7 * one[k]! + other[k]!, 14));
    expect(privacySpent(steps, 1e-5).epsilon).toBe(epsilonFromRdp(total, 1e-5).epsilon);
  });

  it('spends nothing for no steps and agrees with epsilonFor for identical ones', () => {
    expect(privacySpent([], 1e-5).epsilon).toBe(0);
    expect(epsilonFor({ samplingRate: 0.01, noiseMultiplier: 1, rounds: 0, delta: 1e-5 }).epsilon).toBe(0);
    const steps = Array.from({ length: 50 }, () => ({ samplingRate: 0.01, noiseMultiplier: 1 }));
    const a = privacySpent(steps, 1e-6);
    const b = epsilonFor({ samplingRate: 0.01, noiseMultiplier: 1, rounds: 50, delta: 1e-6 });
    expect(relErr(a.epsilon, b.epsilon)).toBeLessThan(1e-12);
    expect(a.order).toBe(b.order);
  });

  it('rises with the number of rounds and falls as the noise grows', () => {
    const eps = (rounds: number, z: number) => epsilonFor({ samplingRate: 0.01, noiseMultiplier: z, rounds, delta: 1e-5 }).epsilon;
    const byRounds = [1, 10, 100, 1000, 10000].map((t) => eps(t, 1.1));
    const byNoise = [0.5, 0.8, 1, 1.5, 2, 4, 10].map((z) => eps(1000, z));
    byRounds.slice(1).forEach((e, i) => expect(e).toBeGreaterThan(byRounds[i]!));
    byNoise.slice(1).forEach((e, i) => expect(e).toBeLessThan(byNoise[i]!));
  });

  it('refuses delta outside (0, 1) and fractional or negative rounds', () => {
    expect(codeOf(() => epsilonFromRdp([1], 0, [2]))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => epsilonFromRdp([1], 1, [2]))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => epsilonFromRdp([1, 2], 1e-5, [2]))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => epsilonFor({ samplingRate: 0.1, noiseMultiplier: 1, rounds: 2.5, delta: 1e-5 }))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => epsilonFor({ samplingRate: 0.1, noiseMultiplier: 1, rounds: -1, delta: 1e-5 }))).toBe('HUB_ERR_INVALID_SETTINGS');
  });
});

describe('noiseForEpsilon', () => {
  it('round-trips with epsilonFor: meets the target, and 2e-4 less noise would not', () => {
    for (const [q, rounds, target] of [[0.01, 1000, 2], [0.1, 100, 0.5], [256 / 60000, 14040, 8], [1, 10, 3]] as const) {
      const z = noiseForEpsilon({ samplingRate: q, rounds, delta: 1e-5, targetEpsilon: target });
      expect(epsilonFor({ samplingRate: q, noiseMultiplier: z, rounds, delta: 1e-5 }).epsilon).toBeLessThanOrEqual(target);
      expect(epsilonFor({ samplingRate: q, noiseMultiplier: z * (1 - 2e-4), rounds, delta: 1e-5 }).epsilon).toBeGreaterThan(target);
    }
  });

  it('recovers noise 1.3 from the published (0.941870567, 1e-5) after 6000 steps at q = 0.0025', () => {
    // The inverse of compute_dp_sgd_privacy_test's Test0 (cited above).
    const z = noiseForEpsilon({ samplingRate: 150 / 60000, rounds: 6000, delta: 1e-5, targetEpsilon: 0.941870567 });
    expect(relErr(z, 1.3)).toBeLessThan(2e-4);
  });

  it('needs no noise when nothing is spent, and refuses a target no multiplier up to 1000 reaches', () => {
    expect(noiseForEpsilon({ samplingRate: 0, rounds: 100, delta: 1e-5, targetEpsilon: 1 })).toBe(0);
    expect(noiseForEpsilon({ samplingRate: 0.5, rounds: 0, delta: 1e-5, targetEpsilon: 1 })).toBe(0);
    expect(codeOf(() => noiseForEpsilon({ samplingRate: 1, rounds: 100000, delta: 1e-5, targetEpsilon: 1e-3 }))).toBe('HUB_ERR_INVALID_SETTINGS');
    expect(codeOf(() => noiseForEpsilon({ samplingRate: 0.1, rounds: 10, delta: 1e-5, targetEpsilon: 0 }))).toBe('HUB_ERR_INVALID_SETTINGS');
  });
});
