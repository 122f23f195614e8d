import { CodedError } from '../errors';
import { MAX_FRAC_BITS, MIN_FRAC_BITS } from './fixed-point';

/** One secure round's public parameters, as the hub plans them and sends each participant in `secagg:setup`. */
export interface SecAggParams {
  runId: string;
  round: number;
  /** Ordered client ids; index i = position; Shamir x = i + 1. */
  participants: string[];
  /** neighbours[i] = sorted indices of N(i), excluding i; symmetric. */
  neighbours: number[][];
  /** Shamir threshold t over the holders N(i) plus i. */
  threshold: number;
  /** Integer FedAvg weight per index (>= 1). */
  weights: number[];
  /** Fixed-point fractional bits F. */
  fracBits: number;
  /** Each coordinate of a delta is clipped to [-clip, clip]. */
  clip: number;
  /** L, the number of model parameters (the masked vector has L + 1 words: the weight comes last). */
  length: number;
}

/** Largest participant count a u16 index can carry. */
export const MAX_PARTICIPANTS = 65_535;
/** Largest L: keeps one masked frame under 1 GiB. */
export const MAX_LENGTH = 2 ** 28;

function bad(message: string): never {
  throw new CodedError('HUB_ERR_SECAGG_BAD_FRAME', message);
}

/** Checks everything the roles rely on; a frame that decodes to anything else is refused with HUB_ERR_SECAGG_BAD_FRAME. */
export function checkParams(p: SecAggParams): void {
  const n = p.participants.length;
  if (n < 3 || n > MAX_PARTICIPANTS) bad(`${n} participants`);
  if (new Set(p.participants).size !== n) bad('duplicate participant ids');
  if (!Number.isInteger(p.round) || p.round < 0 || p.round > 0xffffffff) bad(`round ${p.round}`);
  if (p.neighbours.length !== n || p.weights.length !== n) bad('neighbours or weights do not match the participants');
  if (!Number.isInteger(p.fracBits) || p.fracBits < MIN_FRAC_BITS || p.fracBits > MAX_FRAC_BITS) bad(`fracBits ${p.fracBits}`);
  if (!(p.clip > 0) || !Number.isFinite(p.clip)) bad(`clip ${p.clip}`);
  if (!Number.isInteger(p.length) || p.length < 1 || p.length > MAX_LENGTH) bad(`length ${p.length}`);
  let total = 0;
  for (const w of p.weights) {
    if (!Number.isInteger(w) || w < 1) bad(`weight ${w}`);
    total += w;
  }
  if (total * p.clip * 2 ** p.fracBits > 2 ** 30) bad('weights, clip and fracBits could overflow the sum');
  const edges = new Set<number>();
  p.neighbours.forEach((list, i) => {
    list.forEach((j, at) => {
      if (!Number.isInteger(j) || j < 0 || j >= n || j === i) bad(`neighbour ${j} of ${i}`);
      if (at > 0 && j <= list[at - 1]!) bad(`neighbours of ${i} are not strictly increasing`);
      edges.add(i * n + j);
    });
  });
  for (const e of edges) if (!edges.has((e % n) * n + Math.floor(e / n))) bad('the neighbour graph is not symmetric');
  const minHolders = Math.min(...p.neighbours.map((l) => l.length + 1));
  if (!Number.isInteger(p.threshold) || p.threshold < 2 || p.threshold > minHolders) bad(`threshold ${p.threshold}`);
}

/** Holders of i's shares: N(i) and i itself, sorted. */
export function holdersOf(p: SecAggParams, i: number): number[] {
  return [...p.neighbours[i]!, i].sort((a, b) => a - b);
}

/** Every client in `clients` needs t of its holders (N(i) and itself) in `holders`, or the round fails TOO_FEW. */
export function requireHolders(p: SecAggParams, clients: Iterable<number>, holders: ReadonlySet<number>, when: string): void {
  for (const i of clients) {
    const left = holdersOf(p, i).filter((j) => holders.has(j)).length;
    if (left < p.threshold) {
      throw new CodedError('HUB_ERR_SECAGG_TOO_FEW', `${when}: ${left} holders of ${i}'s shares left, threshold ${p.threshold}`);
    }
  }
}
