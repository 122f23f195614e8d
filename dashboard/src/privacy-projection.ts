/**
 * What a DP launch would spend, before it is launched: epsilon after all rounds with the accountant the hub uses,
 * how many rounds fit in a target epsilon, and the smallest noise multiplier that fits them all.
 */
import { epsilonFromRdp, noiseForEpsilon, rdpSampledGaussian } from '@fl/shared/privacy/index';
import { SETTING_LIMITS } from '@fl/shared/settings';
import { deltaText, epsilonText } from './format';
import type { LaunchFormValues } from './launch-rules';

export interface ProjectionInput {
  rounds: number;
  /** null: every eligible client takes part in each round. */
  clientsPerRound: number | null;
  /** Connected clients holding the task's data, the population the hub draws from. */
  eligible: number;
  /** null while the field is empty or half typed. */
  noiseMultiplier: number | null;
  delta: number;
  targetEpsilon: number | null;
}

export interface PrivacyProjection {
  samplingRate: number;
  /** Clients drawn per round and the population they are drawn from, as the projection takes them. */
  drawn: number | null;
  population: number | null;
  /** No client is connected yet, so clientsPerRound stands in for the population (q = 1, the most ε). */
  assumed: boolean;
  /** Epsilon after all rounds at delta; null without a noise multiplier. */
  epsilon: number | null;
  /** With a target and a noise multiplier: the rounds that fit in it (all of them, or where the run ends early). */
  roundsWithin: number | null;
  /** With a target: the smallest noise multiplier (rounded up to 3 digits) that fits every round; null if none up to the hub's limit does. */
  noiseForTarget: number | null;
}

/**
 * The hub's sampling rate for a round: drawn / eligible, 1 without clientsPerRound or when it draws everyone.
 * With no client connected, clientsPerRound is taken as the population.
 */
export function projectedSamplingRate(clientsPerRound: number | null, eligible: number): number {
  if (clientsPerRound === null || eligible <= 0) return 1;
  return Math.min(1, clientsPerRound / eligible);
}

/** Rounds `z` upwards to three significant digits, so the offered multiplier still meets the target. */
export function roundUp(z: number): number {
  if (!(z > 0)) return z;
  const unit = 10 ** (Math.floor(Math.log10(z)) - 2);
  return Number((Math.ceil(z / unit) * unit).toPrecision(12));
}

/** Epsilon after k identical rounds from one round's RDP: RDP composes by adding, so k rounds are k times one. */
function epsilonAfter(oneRound: Float64Array, rounds: number, delta: number): number {
  if (rounds === 0) return 0;
  return epsilonFromRdp(oneRound.map((r) => r * rounds), delta).epsilon;
}

/** The most rounds, up to `rounds`, whose epsilon is within the target: epsilon only grows with the rounds. */
function roundsWithinTarget(oneRound: Float64Array, rounds: number, delta: number, target: number): number {
  let lo = 0;
  let hi = rounds;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (epsilonAfter(oneRound, mid, delta) <= target) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function smallestNoise(samplingRate: number, rounds: number, delta: number, targetEpsilon: number): number | null {
  try {
    return roundUp(noiseForEpsilon({ samplingRate, rounds, delta, targetEpsilon }));
  } catch {
    // The accountant refuses when no multiplier up to its limit fits the rounds in the target.
    return null;
  }
}

/** A typed number above 0 (and an integer, or below 1, when asked), or null while empty or half typed. */
function positive(text: string, kind: 'integer' | 'share' | 'any' = 'any'): number | null {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) return null;
  if (kind === 'integer' && !Number.isInteger(n)) return null;
  if (kind === 'share' && n >= 1) return null;
  return n;
}

/**
 * The projection's inputs from the form as typed, or null while rounds or delta are not numbers the hub takes.
 * A noise multiplier or target that is not (yet) a number counts as absent; so does clients per round.
 */
export function projectionInputOf(values: LaunchFormValues, eligible: number): ProjectionInput | null {
  const rounds = positive(values.rounds, 'integer');
  const delta = positive(values.delta, 'share');
  if (rounds === null || rounds > SETTING_LIMITS.rounds.maximum || delta === null) return null;
  const z = positive(values.noiseMultiplier);
  const target = positive(values.targetEpsilon);
  return {
    rounds,
    clientsPerRound: positive(values.clientsPerRound, 'integer'),
    eligible,
    noiseMultiplier: z !== null && z <= SETTING_LIMITS.noiseMultiplier.maximum ? z : null,
    delta,
    targetEpsilon: target,
  };
}

/** Everything but the noise offer: cheap (one round's RDP, computed once), so it may follow every keystroke. */
export function projectSpend(input: ProjectionInput): Omit<PrivacyProjection, 'noiseForTarget'> {
  const { rounds, clientsPerRound, eligible, noiseMultiplier: z, delta, targetEpsilon } = input;
  const samplingRate = projectedSamplingRate(clientsPerRound, eligible);
  const assumed = clientsPerRound !== null && eligible <= 0;
  const population = eligible > 0 ? eligible : clientsPerRound;
  const drawn = population === null ? null : clientsPerRound === null ? population : Math.min(clientsPerRound, population);
  const oneRound = z === null ? null : rdpSampledGaussian(samplingRate, z);
  const epsilon = oneRound === null ? null : epsilonAfter(oneRound, rounds, delta);
  const roundsWithin = oneRound === null || targetEpsilon === null ? null : roundsWithinTarget(oneRound, rounds, delta, targetEpsilon);
  return { samplingRate, drawn, population, assumed, epsilon, roundsWithin };
}

/** The smallest noise multiplier that fits every round in the target (a search: up to a few hundred ms), or null. */
export function projectNoise(input: Pick<ProjectionInput, 'rounds' | 'clientsPerRound' | 'eligible' | 'delta' | 'targetEpsilon'>): number | null {
  if (input.targetEpsilon === null) return null;
  return smallestNoise(projectedSamplingRate(input.clientsPerRound, input.eligible), input.rounds, input.delta, input.targetEpsilon);
}

/** The projection for the form's settings; the caller passes numbers the schema accepts (rounds >= 1, 0 < delta < 1). */
export function projectPrivacy(input: ProjectionInput): PrivacyProjection {
  return { ...projectSpend(input), noiseForTarget: projectNoise(input) };
}

/** The projection in the form's words: what q is and why, then what the run spends, then what the target allows. */
export function projectionLines(p: PrivacyProjection, input: ProjectionInput): { spend: string; sampling: string; target: string | null } {
  const q = p.samplingRate === 1 ? '1' : p.samplingRate.toPrecision(2);
  const rounds = `${input.rounds} round${input.rounds === 1 ? '' : 's'}`;
  const spend =
    p.epsilon === null
      ? 'Enter a noise multiplier to see the projected ε.'
      : `Projected ε ${epsilonText(p.epsilon)} after ${rounds} (δ ${deltaText(input.delta)}).`;
  let sampling: string;
  if (p.assumed) {
    sampling = `No client is connected yet: the projection takes the ${input.clientsPerRound} drawn as all there are (q = 1); more connected clients lower ε.`;
  } else if (input.clientsPerRound === null || p.samplingRate === 1) {
    sampling = `q = 1: every eligible client${p.population ? ` (${p.population})` : ''} takes part in each round, so sampling does not lower ε.`;
  } else {
    sampling = `q = ${q}: ${p.drawn} of ${p.population} eligible clients drawn per round.`;
  }
  let target: string | null = null;
  if (input.targetEpsilon !== null) {
    const goal = `target ε ${epsilonText(input.targetEpsilon)}`;
    const within =
      p.roundsWithin === null
        ? ''
        : p.roundsWithin >= input.rounds
          ? `All ${rounds} fit in the ${goal}. `
          : p.roundsWithin === 0
            ? `Even round 1 would pass the ${goal}: the run would end before it trains. `
            : `The ${goal} allows ${p.roundsWithin} of ${rounds}: the run will end early, after round ${p.roundsWithin}. `;
    const noise =
      p.noiseForTarget === null
        ? `No noise multiplier up to 1000 fits ${rounds} in it.`
        : `The smallest noise multiplier that fits all ${rounds}: z = ${p.noiseForTarget}.`;
    target = within + noise;
  }
  return { spend, sampling, target };
}
