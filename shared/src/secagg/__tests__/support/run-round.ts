import { createRng } from '../../../random';
import { SecAggClient } from '../../client-role';
import { planSecAgg } from '../../graph';
import { SecAggHub } from '../../hub-role';
import type { SecAggParams } from '../../params';
import { decodeSetup, encodeSetup } from '../../setup-frame';

/** Where a client vanishes. 'during-unmask' gets its unmask request and builds its reveal, which never arrives. */
export type DropPoint = 'before-keys' | 'after-keys' | 'after-shares' | 'after-masked' | 'during-unmask';

const LAST_SENT: Record<DropPoint, number> = {
  'before-keys': 0,
  'after-keys': 1,
  'after-shares': 2,
  'after-masked': 3,
  'during-unmask': 3,
};
const STAGE = { keys: 1, shares: 2, masked: 3, reveal: 4 } as const;

export interface RoundOptions {
  n: number;
  length: number;
  seed?: number;
  clip?: number;
  weights?: number[];
  drops?: Record<number, DropPoint>;
  /**
   * Masked inputs of these indices go to another hub node (a relay), which sums them modulo 2^32 and hands the hub
   * its sum; `lost`: that node goes before it does.
   */
  elsewhere?: { indices: number[]; lost?: boolean; claims?: number[] };
}

export interface RoundResult {
  params: SecAggParams;
  hub: SecAggHub;
  deltas: Float32Array[];
  survivors: number[];
  result: { sum: Float64Array; weight: number };
}

/** Seeded deltas spread over [-1.5 clip, 1.5 clip], so some coordinates are clipped. */
export function randomDeltas(n: number, length: number, clip: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length }, () => (rng() * 3 - 1.5) * clip));
}

/** The plain weighted sum the secure round must reproduce: sum of w_i * clip(delta_i) in float64. */
export function plainWeightedSum(params: SecAggParams, deltas: Float32Array[], who: number[]): Float64Array {
  const out = new Float64Array(params.length);
  for (const i of who) {
    const w = params.weights[i]!;
    deltas[i]!.forEach((v, k) => (out[k] += w * Math.max(-params.clip, Math.min(params.clip, v))));
  }
  return out;
}

export function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}

/** Drives every role in one process, stage by stage, as the hub engine and the tabs would. */
export async function runRound(opts: RoundOptions): Promise<RoundResult> {
  const seed = opts.seed ?? 7;
  const clip = opts.clip ?? 1;
  const participants = Array.from({ length: opts.n }, (_, i) => `client-${i}`);
  const weights = opts.weights ?? participants.map((_, i) => 1 + ((i * 7) % 5));
  const params = planSecAgg({ runId: 'run-a', round: 3, participants, weights, length: opts.length, clip, seed });
  const drops = opts.drops ?? {};
  const sends = (i: number, stage: keyof typeof STAGE): boolean => {
    const drop = drops[i];
    return drop === undefined || STAGE[stage] <= LAST_SENT[drop];
  };
  const hub = new SecAggHub(params);
  const clients = await Promise.all(
    participants.map((_, i) => {
      const setup = decodeSetup(encodeSetup(params, i));
      return SecAggClient.create(setup.params, setup.index);
    }),
  );
  const all = participants.map((_, i) => i);
  for (const i of all) if (sends(i, 'keys')) hub.addKeys(i, clients[i]!.keysMessage());
  const { out: outKeys } = hub.closeKeys();
  const afterKeys = all.filter((i) => !outKeys.includes(i));
  for (const i of afterKeys) {
    const frame = await clients[i]!.sharesMessage(hub.keysetFor(i));
    if (sends(i, 'shares')) hub.addShares(i, frame);
  }
  const { out: outShares } = hub.closeShares();
  const afterShares = afterKeys.filter((i) => !outShares.includes(i));
  const deltas = randomDeltas(opts.n, opts.length, clip, seed + 1);
  const relay = opts.elsewhere ? { indices: [] as number[], words: new Uint32Array(opts.length + 1) } : null;
  for (const i of afterShares) {
    await clients[i]!.receiveShares(hub.sharesFor(i));
    const frame = await clients[i]!.maskedInput(deltas[i]!);
    if (!sends(i, 'masked')) continue;
    if (relay && opts.elsewhere!.indices.includes(i)) {
      hub.acceptMaskedElsewhere(i);
      const words = new Uint32Array(frame.slice(8).buffer);
      for (let k = 0; k < words.length; k++) relay.words[k] = relay.words[k]! + words[k]!;
      relay.indices.push(i);
    } else hub.addMasked(i, frame);
  }
  // `claims`: the indices the relay's sum says it holds, when not the ones it was given (a faulty or lying node).
  if (relay && !opts.elsewhere!.lost) hub.addMaskedSum(opts.elsewhere!.claims ?? relay.indices, relay.words);
  const { survivors } = hub.closeMasked();
  for (const i of survivors) {
    if (drops[i] === 'after-masked') continue;
    const reveal = clients[i]!.reveal(hub.unmaskRequestFor(i));
    if (sends(i, 'reveal')) hub.addReveal(i, reveal);
  }
  const result = await hub.finish();
  return { params, hub, deltas, survivors, result };
}
