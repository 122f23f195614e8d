import { CodedError } from '../errors';
import { createRng, seedFromString, shuffleInPlace } from '../random';
import { fracBitsFor } from './fixed-point';
import { checkParams, MAX_LENGTH, MAX_PARTICIPANTS, type SecAggParams } from './params';

/** Rounds up to this size use the complete graph (plain SecAgg); larger ones a k-regular ring (SecAgg+). */
export const COMPLETE_GRAPH_MAX = 16;

/** Degree k for n participants: complete up to 16, else the even 2 * ceil(1.5 * log2 n), capped at n - 1. */
export function degreeFor(n: number): number {
  if (n <= COMPLETE_GRAPH_MAX) return n - 1;
  return Math.min(2 * Math.ceil(1.5 * Math.log2(n)), n - 1);
}

/** t = a majority of the k + 1 holders, at least 2. */
export function thresholdFor(k: number): number {
  return Math.max(2, Math.floor((k + 1) / 2) + 1);
}

/** Neighbour lists: complete, or a Harary ring of k/2 each side over a permutation seeded by run seed and round. */
export function neighbourGraph(n: number, k: number, seed: number, round: number): number[][] {
  if (k >= n - 1) return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => j).filter((j) => j !== i));
  const ring = shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    createRng(seedFromString(`secagg:${seed}:${round}`)),
  );
  const lists: number[][] = Array.from({ length: n }, () => []);
  ring.forEach((node, pos) => {
    for (let d = 1; d <= k / 2; d++) {
      lists[node]!.push(ring[(pos + d) % n]!, ring[(pos - d + n) % n]!);
    }
  });
  return lists.map((l) => l.sort((a, b) => a - b));
}

/**
 * Plans a secure round: graph, threshold, weights (rounded, at least 1) and fixed point.
 * Refuses fewer than 3 participants (HUB_ERR_SECAGG_TOO_FEW) and ranges that cannot be encoded (HUB_ERR_SECAGG_RANGE).
 */
export function planSecAgg(input: {
  runId: string;
  round: number;
  participants: string[];
  weights: number[];
  length: number;
  clip: number;
  seed: number;
}): SecAggParams {
  const n = input.participants.length;
  if (n < 3) throw new CodedError('HUB_ERR_SECAGG_TOO_FEW', `a secure round needs at least 3 participants, got ${n}`);
  const range = (message: string): never => {
    throw new CodedError('HUB_ERR_SECAGG_RANGE', message);
  };
  if (n > MAX_PARTICIPANTS) range(`at most ${MAX_PARTICIPANTS} participants, got ${n}`);
  if (new Set(input.participants).size !== n) range('participant ids must be distinct');
  if (input.weights.length !== n) range('one weight per participant is needed');
  if (input.weights.some((w) => !Number.isFinite(w))) range('weights must be finite');
  if (!(input.clip > 0) || !Number.isFinite(input.clip)) range(`clip must be a positive number, got ${input.clip}`);
  if (!Number.isInteger(input.length) || input.length < 1 || input.length > MAX_LENGTH) range(`length ${input.length}`);
  const weights = input.weights.map((w) => Math.max(1, Math.round(w)));
  const k = degreeFor(n);
  const params: SecAggParams = {
    runId: input.runId,
    round: input.round,
    participants: [...input.participants],
    neighbours: neighbourGraph(n, k, input.seed, input.round),
    threshold: thresholdFor(k),
    weights,
    fracBits: fracBitsFor(
      weights.reduce((a, b) => a + b, 0),
      input.clip,
    ),
    clip: input.clip,
    length: input.length,
  };
  checkParams(params);
  return params;
}
