/**
 * Rényi DP accountant for the sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy
 * of the Sampled Gaussian Mechanism", arXiv:1908.10530), computed as TF Privacy's rdp_accountant does: RDP at
 * order α is log(A_α)/(α-1), A_α by the binomial sum at integer orders (Section 3.2) and by the two series with
 * erfc at fractional orders (Section 3.3), all in log space. For user-level DP-FedAvg (McMahan et al. 2018) one
 * "step" is one round: q is the fraction of clients sampled, the noise multiplier z = noise std / clip norm.
 */
import { CodedError } from '../errors';
import { logErfc } from './erfc';

/**
 * The orders TF Privacy's tutorials use: 1 + x/10 for x = 1..99 (1.1 to 10.9), then 12..63, plus 128 and 256 so
 * that many rounds at large noise (optimal order beyond 63) are not overstated. There is no order 11 in the list.
 */
export const RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
  128,
  256,
]);

/** One round of the sampled Gaussian mechanism: clients sampled with probability q, noise z · clip norm. */
export interface PrivacyStep {
  samplingRate: number;
  noiseMultiplier: number;
}

/** An (epsilon, delta) guarantee and the RDP order that gave it. */
export interface PrivacySpent {
  epsilon: number;
  delta: number;
  order: number;
}

function invalid(message: string): CodedError {
  return new CodedError('HUB_ERR_INVALID_SETTINGS', message);
}

function checkStep(q: number, sigma: number): void {
  if (!Number.isFinite(q) || q < 0 || q > 1) throw invalid(`sampling rate must be a number from 0 to 1, got ${q}`);
  if (!Number.isFinite(sigma) || sigma < 0) throw invalid(`noise multiplier must be a finite number >= 0, got ${sigma}`);
}

function checkOrders(orders: readonly number[]): void {
  for (const a of orders) {
    if (!Number.isFinite(a) || a <= 1) throw invalid(`RDP orders must be finite and above 1, got ${a}`);
  }
}

function checkDelta(delta: number): void {
  if (!Number.isFinite(delta) || delta <= 0 || delta >= 1) throw invalid(`delta must be in (0, 1), got ${delta}`);
}

/** log(e^a + e^b). */
function logAdd(a: number, b: number): number {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (lo === -Infinity) return hi;
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** log(e^a - e^b) for a >= b; the alternating series never takes away more than it has, or the sum is unusable. */
function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (b >= a) {
    throw invalid('the fractional-order RDP series lost its precision for these parameters; use integer orders');
  }
  return a + Math.log(-Math.expm1(b - a));
}

/** log(A_α) at integer α: log Σ_i C(α,i) (1-q)^(α-i) q^i exp((i²-i)/(2σ²)). */
function logAInt(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const terms = new Float64Array(alpha + 1);
  let logComb = 0;
  let max = -Infinity;
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logComb += Math.log((alpha - i + 1) / i);
    terms[i] = logComb + i * logQ + (alpha - i) * log1mQ + (i * i - i) / (2 * sigma * sigma);
    if (terms[i]! > max) max = terms[i]!;
  }
  let sum = 0;
  for (let i = 0; i <= alpha; i++) sum += Math.exp(terms[i]! - max);
  return max + Math.log(sum);
}

/**
 * log(A_α) at fractional α: A_α = A0 + A1, the integrals over (-∞, z0] and [z0, ∞) with z0 = σ² log(1/q - 1) + 1/2,
 * each a series over i of C(α,i) (whose sign alternates once i > α) times a Gaussian tail ½ erfc(·).
 * Stops, as TF Privacy does, once both terms fall below e^-30, but never before i passes α.
 */
function logAFrac(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const twoSigma2 = 2 * sigma * sigma;
  const sqrt2Sigma = Math.SQRT2 * sigma;
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  let logCoef = 0;
  let positive = true;
  for (let i = 0; i < 1_000_000; i++) {
    if (i > 0) {
      const ratio = (alpha - i + 1) / i;
      logCoef += Math.log(Math.abs(ratio));
      if (ratio < 0) positive = !positive;
    }
    const j = alpha - i;
    const logS0 = logCoef + i * logQ + j * log1mQ + (i * i - i) / twoSigma2 + Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma);
    const logS1 = logCoef + j * logQ + i * log1mQ + (j * j - j) / twoSigma2 + Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma);
    if (positive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (i > alpha && Math.max(logS0, logS1) < -30) return logAdd(logA0, logA1);
  }
  throw invalid(`the fractional-order RDP series did not converge at order ${alpha}`);
}

function rdpAt(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  // A_α >= 1 exactly; a rounding error below it must not turn into a negative divergence.
  return Math.max(0, logA / (alpha - 1));
}

/**
 * RDP of ONE step of the sampled Gaussian mechanism at each order. q = 0 gives 0 (nobody's data is used),
 * σ = 0 gives Infinity (no noise), q = 1 the plain Gaussian α/(2σ²).
 */
export function rdpSampledGaussian(samplingRate: number, noiseMultiplier: number, orders: readonly number[] = RDP_ORDERS): Float64Array {
  checkStep(samplingRate, noiseMultiplier);
  checkOrders(orders);
  return Float64Array.from(orders, (alpha) => rdpAt(samplingRate, noiseMultiplier, alpha));
}

/**
 * (ε, δ) from RDP by the classic conversion ε = min over α of rdp(α) - log(δ)/(α - 1) (Mironov 2017, Prop. 3),
 * the one TF Privacy's published tutorial figures used. It is the conservative one: the later conversion of
 * Canonne-Kamath-Steinke / Asoodeh et al. that TF Privacy switched to gives smaller ε for the same RDP.
 * When every order is infinite, epsilon is Infinity and order NaN.
 */
export function epsilonFromRdp(rdp: ArrayLike<number>, delta: number, orders: readonly number[] = RDP_ORDERS): { epsilon: number; order: number } {
  checkDelta(delta);
  checkOrders(orders);
  if (rdp.length !== orders.length) throw invalid(`${rdp.length} RDP values for ${orders.length} orders`);
  let epsilon = Infinity;
  let order = NaN;
  const logDelta = Math.log(delta);
  for (let k = 0; k < orders.length; k++) {
    const r = rdp[k]!;
    if (!(r >= 0)) throw invalid(`RDP values must be >= 0, got ${r} at order ${orders[k]}`);
    const eps = r - logDelta / (orders[k]! - 1);
    if (eps < epsilon) {
      epsilon = eps;
      order = orders[k]!;
    }
  }
  return { epsilon, order };
}

/** RDP of running the steps one after another: the per-order sum. Identical steps are computed once. */
export function composeRdp(steps: readonly PrivacyStep[], orders: readonly number[] = RDP_ORDERS): Float64Array {
  checkOrders(orders);
  const counts = new Map<string, { step: PrivacyStep; count: number }>();
  for (const step of steps) {
    checkStep(step.samplingRate, step.noiseMultiplier);
    const key = `${step.samplingRate}/${step.noiseMultiplier}`;
    const seen = counts.get(key);
    if (seen) seen.count++;
    else counts.set(key, { step, count: 1 });
  }
  const total = new Float64Array(orders.length);
  for (const { step, count } of counts.values()) {
    const one = rdpSampledGaussian(step.samplingRate, step.noiseMultiplier, orders);
    for (let k = 0; k < orders.length; k++) total[k] += count * one[k]!;
  }
  return total;
}

/**
 * (ε, δ) spent by the steps so far. With no steps nothing is spent: epsilon 0, at the largest order (where the
 * conversion's own term -log(δ)/(α-1) is smallest).
 */
export function privacySpent(steps: readonly PrivacyStep[], delta: number): PrivacySpent {
  checkDelta(delta);
  if (steps.length === 0) return { epsilon: 0, delta, order: Math.max(...RDP_ORDERS) };
  const { epsilon, order } = epsilonFromRdp(composeRdp(steps), delta);
  return { epsilon, delta, order };
}

function checkRounds(rounds: number): void {
  if (!Number.isInteger(rounds) || rounds < 0) throw invalid(`rounds must be a whole number >= 0, got ${rounds}`);
}

/**
 * (ε, δ) after `rounds` identical rounds.
 * @example epsilonFor({ samplingRate: 0.01, noiseMultiplier: 1.1, rounds: 1000, delta: 1e-5 })
 */
export function epsilonFor(p: { samplingRate: number; noiseMultiplier: number; rounds: number; delta: number }): PrivacySpent {
  checkStep(p.samplingRate, p.noiseMultiplier);
  checkRounds(p.rounds);
  checkDelta(p.delta);
  if (p.rounds === 0) return { epsilon: 0, delta: p.delta, order: Math.max(...RDP_ORDERS) };
  const rdp = rdpSampledGaussian(p.samplingRate, p.noiseMultiplier);
  for (let k = 0; k < rdp.length; k++) rdp[k] = rdp[k]! * p.rounds;
  const { epsilon, order } = epsilonFromRdp(rdp, p.delta);
  return { epsilon, delta: p.delta, order };
}

export const MAX_NOISE_MULTIPLIER = 1000;
const NOISE_RELATIVE_TOLERANCE = 1e-4;

/**
 * The smallest noise multiplier (to 1e-4 relative, on the safe side: its epsilon is <= the target) for which
 * `rounds` rounds at sampling rate q stay within targetEpsilon at delta. Refuses with HUB_ERR_INVALID_SETTINGS
 * when even a multiplier of 1000 does not reach the target. 0 when nothing is spent (no rounds, or q = 0).
 */
export function noiseForEpsilon(p: { samplingRate: number; rounds: number; delta: number; targetEpsilon: number }): number {
  checkStep(p.samplingRate, 0);
  checkRounds(p.rounds);
  checkDelta(p.delta);
  if (!Number.isFinite(p.targetEpsilon) || p.targetEpsilon <= 0) {
    throw invalid(`target epsilon must be a finite number above 0, got ${p.targetEpsilon}`);
  }
  if (p.rounds === 0 || p.samplingRate === 0) return 0;
  const meets = (z: number) => epsilonFor({ samplingRate: p.samplingRate, noiseMultiplier: z, rounds: p.rounds, delta: p.delta }).epsilon <= p.targetEpsilon;
  if (!meets(MAX_NOISE_MULTIPLIER)) {
    throw invalid(
      `no noise multiplier up to ${MAX_NOISE_MULTIPLIER} keeps ${p.rounds} rounds at sampling rate ${p.samplingRate} within epsilon ${p.targetEpsilon} (delta ${p.delta})`,
    );
  }
  // Bracket geometrically from 1 (epsilon falls as the noise rises), then bisect; hi always meets the target.
  let hi = 1;
  let lo: number;
  if (meets(hi)) {
    lo = hi / 2;
    while (lo > 1e-6 && meets(lo)) {
      hi = lo;
      lo /= 2;
    }
    if (lo <= 1e-6) return hi;
  } else {
    lo = hi;
    hi = Math.min(2 * hi, MAX_NOISE_MULTIPLIER);
    while (!meets(hi)) {
      lo = hi;
      hi = Math.min(2 * hi, MAX_NOISE_MULTIPLIER);
    }
  }
  while (hi - lo > NOISE_RELATIVE_TOLERANCE * hi) {
    const mid = (lo + hi) / 2;
    if (meets(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
