/**
 * Per-round DP arithmetic the hub and the tabs must agree on. The mechanism adds N(0, (zC)²) to the sum of
 * clipped changes (z the noise multiplier, C the clip norm). With `central` noise the hub adds it all after
 * aggregation; with `distributed` noise each of the n participants adds N(0, (zC)²/n) to its own change, so that
 * the hub (which under secure aggregation sees only the sum) never holds an un-noised sum.
 */
import { CodedError } from '../errors';
import { erfc } from './erfc';

/** The DP fields of a run's settings that the per-round arithmetic reads. */
export interface DpRoundSettings {
  noiseMultiplier: number;
  clipNorm: number;
  noise: 'central' | 'distributed';
}

/** Noise standard deviations of headroom above the clip norm that secure aggregation's fixed point covers. */
export const FIXED_POINT_NOISE_SIGMAS = 7;

/**
 * Probability that one coordinate of a clipped, noised change leaves ±fixedPointRange: a clipped coordinate is
 * within ±C, so it takes noise beyond 7 standard deviations, P(|N(0,1)| > 7) = erfc(7/√2), about 2.6e-12.
 */
export const FIXED_POINT_EXCEED_PROBABILITY = erfc(FIXED_POINT_NOISE_SIGMAS / Math.SQRT2);

function check(dp: DpRoundSettings): void {
  if (!Number.isFinite(dp.noiseMultiplier) || dp.noiseMultiplier < 0) {
    throw new CodedError('HUB_ERR_INVALID_SETTINGS', `noise multiplier must be a finite number >= 0, got ${dp.noiseMultiplier}`);
  }
  if (!Number.isFinite(dp.clipNorm) || dp.clipNorm <= 0) {
    throw new CodedError('HUB_ERR_INVALID_SETTINGS', `clip norm must be a finite number above 0, got ${dp.clipNorm}`);
  }
  if (dp.noise !== 'central' && dp.noise !== 'distributed') {
    throw new CodedError('HUB_ERR_INVALID_SETTINGS', `noise must be 'central' or 'distributed', got ${String(dp.noise)}`);
  }
}

function checkCount(name: string, n: number, min: number): void {
  if (!Number.isInteger(n) || n < min) throw new CodedError('HUB_ERR_INVALID_SETTINGS', `${name} must be a whole number >= ${min}, got ${n}`);
}

/** Std of the noise each client adds to its clipped change: zC/√n when distributed (n shares sum to (zC)²), else 0. */
export function clientNoiseStd(dp: DpRoundSettings, participants: number): number {
  check(dp);
  checkCount('participants', participants, 1);
  return dp.noise === 'distributed' ? (dp.noiseMultiplier * dp.clipNorm) / Math.sqrt(participants) : 0;
}

/** Std of the noise the hub adds to the sum: zC when central, else 0. */
export function centralNoiseStd(dp: DpRoundSettings): number {
  check(dp);
  return dp.noise === 'central' ? dp.noiseMultiplier * dp.clipNorm : 0;
}

/**
 * The noise multiplier the round actually had, for the accountant. Central: z, whoever survives (the hub adds
 * the full noise to whatever sum it gets). Distributed: z·√(survivors/participants), since only the survivors'
 * shares of the noise reach the sum.
 */
export function effectiveNoiseMultiplier(dp: DpRoundSettings, participants: number, survivors: number): number {
  check(dp);
  checkCount('participants', participants, 1);
  checkCount('survivors', survivors, 0);
  if (survivors > participants) {
    throw new CodedError('HUB_ERR_INVALID_SETTINGS', `${survivors} survivors out of ${participants} participants`);
  }
  return dp.noise === 'central' ? dp.noiseMultiplier : dp.noiseMultiplier * Math.sqrt(survivors / participants);
}

/**
 * Per-coordinate bound secure aggregation's fixed point must cover for one clipped, noised change:
 * C + 7 · clientNoiseStd. A coordinate exceeds it with probability FIXED_POINT_EXCEED_PROBABILITY.
 */
export function fixedPointRange(dp: DpRoundSettings, participants: number): number {
  return dp.clipNorm + FIXED_POINT_NOISE_SIGMAS * clientNoiseStd(dp, participants);
}
